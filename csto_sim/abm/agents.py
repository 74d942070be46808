"""Member states as Mesa agents.

A :class:`MemberState` is a view on its row of the model's state arrays (security
and economic alignment, commitment, trust, grievance, alternatives, status): the arrays stay the single source of truth. Each agent makes
its own decisions (whether to ask the alliance, whether to veto, how to drift, whether to
stay; the leader also how far to answer) by calling
the step's phase functions in :mod:`csto_sim.core.step` on its own row, the same functions
the batched engine calls on every row at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import mesa
import numpy as np

from csto_sim.core import step
from csto_sim.core.vocabulary import STATUSES

if TYPE_CHECKING:
    from csto_sim.abm.model import CSTOModel
    from csto_sim.core.events import StepEvents
    from csto_sim.core.randomness import Noise


def _row(array: str, doc: str, kind: Callable[[Any], Any] | None = None) -> property:
    """A read-only attribute of a member: its row of the model state's ``array`` (a view of
    it), or ``kind`` of that."""

    def get(agent: MemberState) -> Any:
        row = getattr(agent.model.state, array)[agent.index]
        return row if kind is None else kind(row)

    return property(get, doc=doc)


class MemberState(mesa.Agent):
    """A member state of the alliance (or a candidate before its accession)."""

    def __init__(self, model: CSTOModel, index: int, name: str):
        super().__init__(model)
        self.index = index
        self.name = name

    alignment = _row(
        "w",
        "Security alignment: weights toward each pole (on the simplex), in the scenario's "
        "pole order.",
    )
    economic = _row("e", "Economic alignment: weights toward each pole (on the simplex).")
    commitment = _row("c", "Commitment to the alliance in [0, 1].", float)
    trust = _row("b", "Belief in [0, 1] that the alliance answers a request.", float)
    grievance = _row("g", "Unanswered threats remembered, in [0, 1].", float)
    alternatives = _row(
        "a",
        "Credibility in [0, 1] of its security alternatives: help received from other poles.",
        float,
    )
    status = _row(
        "status",
        "Membership status: active, frozen, withdrawn or non_member.",
        lambda code: STATUSES[int(code)],
    )

    def decide_requests(self, t: int, ev: StepEvents, u: Noise) -> tuple[np.ndarray, float]:
        """Which of this step's threats (one per kind) the member brings to the alliance (in a
        guided history, as the record gives them: the log chance of that)."""
        m = self.model
        asked, log_chance = step.request_decisions(m.inputs, t, ev, m.state, u, self.index)
        return asked, float(log_chance)

    def decide_vetoes(self, ev: StepEvents, requested: np.ndarray, u: Noise) -> np.ndarray:
        """Whether the member vetoes collective action on each other member's request."""
        m = self.model
        return step.veto_decisions(m.inputs, ev, m.state, requested, u, self.index)

    def decide_answer(
        self, t: int, ev: StepEvents, requested: np.ndarray, u: Noise, vetoes: np.ndarray
    ) -> step.Answer:
        """As the alliance's leader: how far to answer each member's request (graded, by its
        stake, its affinity with the member, its free capacity and the funded budget), cut
        by the members' vetoes under the alliance's decision rule; and which pole helps a
        threat left unanswered."""
        m = self.model
        return step.answer(m.inputs, t, ev, m.state, requested, u, vetoes)

    def drift(self, t: int, pull: step.Pull) -> None:
        """Between events: pulled by the poles' offers and by partners; commitment and trust settle."""
        step.drift(self.model.inputs, t, self.model.state, pull, self.index)

    def reconsider_membership(self, t: int, u: Noise) -> float:
        """Stay, freeze, withdraw or return: a choice by what membership is worth and what
        leaving costs (in a guided history, among what the record allows: the log chance of that)."""
        return float(step.reconsider(self.model.inputs, t, self.model.state, u, self.index))


class EachAgent:
    """The members' decisions in a step, made by each agent on its own row (``step.Members``)."""

    def __init__(self, agents: Sequence[MemberState]):
        self.agents = agents

    def requests(self, t: int, ev: StepEvents, u: Noise) -> tuple[np.ndarray, np.ndarray]:
        asked, log_chance = zip(*(a.decide_requests(t, ev, u) for a in self.agents), strict=True)
        return np.stack(asked), np.array(log_chance)

    def vetoes(self, t: int, ev: StepEvents, requested: np.ndarray, u: Noise) -> np.ndarray:
        return np.stack([a.decide_vetoes(ev, requested, u) for a in self.agents], axis=-1)

    def drift(self, t: int, pull: step.Pull) -> None:
        for a in self.agents:
            a.drift(t, pull)

    def reconsider(self, t: int, u: Noise) -> np.ndarray:
        return np.array([a.reconsider_membership(t, u) for a in self.agents])

    def answer(
        self, t: int, ev: StepEvents, requested: np.ndarray, u: Noise, vetoes: np.ndarray
    ) -> step.Answer:
        leader = self.agents[0].model.inputs.leader  # the alliance's leader answers
        return self.agents[leader].decide_answer(t, ev, requested, u, vetoes)
