"""Null models: the hindcast with one mechanism switched off, scored beside the full model.

Each null model is the same scenario with some behavioural parameters set to zero, so it
runs through the same code and the same random draws (common random numbers). Each is
refitted like the full model (``csto-sim posterior --null NAME``: the same method, record
and budget, over the dimensions it keeps) and shipped as ``csto_sim/data/posterior_null_
NAME.csv``; ``validate`` draws a null model's runs from that file when the full model's come
from the shipped validation posterior, and never refits. What each switches off is said in
its description; ``docs/calibration.md`` reports by how much the full model beats each on
the held-out period.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from csto_sim.core.scenario import Scenario


@dataclass(frozen=True)
class NullModel:
    """A mechanism switched off: a name, what it means, and the parameters that do it."""

    name: str
    description: str
    parameters: dict[str, Any]

    def scenario(self, scenario: Scenario) -> Scenario:
        """``scenario`` with this mechanism switched off (named ``<scenario>.<null model>``)."""
        off = scenario.with_parameters(**self.parameters)
        return off.model_copy(update={"name": f"{scenario.name}.{self.name}"})

    @property
    def posterior(self) -> Path:
        """The shipped file of this null model's refitted validation posterior."""
        name = f"posterior_null_{self.name}.csv"
        return Path(str(resources.files("csto_sim").joinpath("data", name)))


NULL_MODELS: tuple[NullModel, ...] = (
    NullModel(
        "no_learning",
        "members learn nothing from events: answers, refusals and help change no commitment, "
        "trust, alignment, grievance or alternatives",
        {
            "commitment_gain_answered": 0.0,
            "commitment_loss_ignored": 0.0,
            "trust_learning": 0.0,
            "observer_weight": 0.0,
            "alignment_shift_answered": 0.0,
            "alignment_shift_ignored": 0.0,
            "alignment_shift_helped": 0.0,
            "grievance_gain": 0.0,
            "alternatives_gain": 0.0,
        },
    ),
    NullModel(
        "stake_affinity_response",
        "the alliance's answer depends on the requester's stake and the adversary's affinity "
        "with the leader only (no charter fit, internal-affairs, both-members, capacity, "
        "alignment, budget or severity terms)",
        {
            "response_fit": 0.0,
            "response_internal": 0.0,
            "response_both_members": 0.0,
            "response_capacity": 0.0,
            "response_alignment": 0.0,
            "response_budget": 0.0,
            "response_severity": 0.0,
        },
    ),
    NullModel(
        "frozen_alignment",
        "security and economic alignment stay at their 2002 values: no pull from the poles, "
        "no influence between members, no shift after answers, refusals or help",
        {
            "pole_pull_rate": 0.0,
            "network_rate": 0.0,
            "alignment_shift_answered": 0.0,
            "alignment_shift_ignored": 0.0,
            "alignment_shift_helped": 0.0,
        },
    ),
)
"""The null models ``csto-sim validate`` scores beside the full model."""
