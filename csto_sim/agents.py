"""Member states as Mesa agents.

A :class:`MemberState` is a view on its row of the model's state arrays (alignment,
commitment, trust, status): the arrays stay the single source of truth, and the agent's
decisions and updates call the pure rules in :mod:`csto_sim.dynamics` and
:mod:`csto_sim.alliance` on its own row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from . import alliance, dynamics
from .scenario import STATUSES

if TYPE_CHECKING:
    from .events import StepEvents
    from .model import CSTOModel


class MemberState(mesa.Agent):
    """A member state of the alliance (or a candidate before its accession)."""

    def __init__(self, model: CSTOModel, index: int, name: str):
        super().__init__(model)
        self.index = index
        self.name = name

    @property
    def alignment(self) -> np.ndarray:
        """Weights toward each pole (on the simplex), in the scenario's pole order."""
        return self.model.w[self.index]

    @property
    def commitment(self) -> float:
        """Commitment to the alliance in [0, 1]."""
        return float(self.model.c[self.index])

    @property
    def trust(self) -> float:
        """Belief in [0, 1] that the alliance answers a request."""
        return float(self.model.b[self.index])

    @property
    def status(self) -> str:
        """Membership status: active, frozen, withdrawn or non_member."""
        return STATUSES[int(self.model.status[self.index])]

    def decide_requests(self, ev: StepEvents) -> np.ndarray:
        """Which of this step's threats (one per kind) the member brings to the alliance.

        Only active members ask, and not the leader: the alliance's answer is the leader's.
        """
        m, i, t = self.model, self.index, self.model.t
        if m.status[i] != dynamics.ACTIVE or i == m.inputs.leader:
            return np.zeros(ev.occur.shape[1], dtype=bool)
        fit = alliance.effective_fit(
            m.inputs.fit, ev.territorial[i], m.params["extraterritorial_fit"]
        )
        prob = alliance.request_probability(ev.severity[i], m.b[i], fit, m.params)
        return ev.occur[i] & (m.noise.request[t, i] < prob)

    def drift(self, social: np.ndarray, tie_strength: float, expected: float) -> None:
        """Between events: pulled by the poles' offers and by partners; commitment and trust settle."""
        m, i, t, p, dt = (
            self.model,
            self.index,
            self.model.t,
            self.model.params,
            self.model.inputs.dt,
        )
        target = dynamics.pole_target(m.inputs.strength[t], m.inputs.offers[t, i], m.w[i])
        w = dynamics.move_toward(m.w[i], target, dynamics.rate_to_share(p["pole_pull_rate"], dt))
        share = dynamics.rate_to_share(p["network_rate"] * tie_strength, dt)
        m.w[i] = dynamics.move_toward(w, social, share)
        m.b[i] = dynamics.move_toward(
            m.b[i], expected, dynamics.rate_to_share(p["trust_drift_rate"], dt)
        )
        anchor = dynamics.commitment_anchor(
            m.w[i, m.inputs.leader_pole], m.b[i], p["commitment_alignment_weight"]
        )
        m.c[i] = dynamics.move_toward(
            m.c[i], anchor, dynamics.rate_to_share(p["commitment_rate"], dt)
        )

    def reconsider_membership(self) -> None:
        """Freeze, withdraw or return when commitment, less the cost of leaving, crosses a threshold."""
        m, i, t, p = self.model, self.index, self.model.t, self.model.params
        cost = dynamics.exit_cost(
            m.inputs.leverage[i], m.inputs.leader_strength[t], p["exit_cost_weight"]
        )
        m.status[i] = dynamics.membership_transition(
            m.status[i],
            m.c[i],
            cost,
            m.noise.membership[t, i],
            dynamics.rate_to_share(p["decision_rate"], m.inputs.dt),
            p["freeze_threshold"],
            p["leave_threshold"],
            p["rejoin_margin"],
        )
