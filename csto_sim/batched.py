"""The batched engine: many replicas of a scenario advanced together as numpy arrays.

The state is ``(replicas, members, poles)`` for alignment and ``(replicas, members)`` for
commitment, trust and status. Each step calls the same rules as the Mesa model
(:mod:`csto_sim.dynamics`, :mod:`csto_sim.alliance`, :func:`csto_sim.events.step_events`)
in the same order, on the whole batch, and each replica draws its random numbers from its
own seed. A run therefore gives the same result here as in :class:`csto_sim.model.CSTOModel`,
whatever the batch it is part of; the Mesa model stays the reference.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import alliance, dynamics, outcomes
from .events import Inputs, draw_noise, stack_noise, step_events
from .model import inputs_for
from .scenario import Scenario


def run_batch(
    scenario: Scenario, seeds: Sequence[int]
) -> tuple[Inputs, outcomes.History, dict[str, list[np.ndarray]]]:
    """Run one replica per seed; returns the inputs, the history ``(R, T+1, ...)`` and the event record."""
    inp = inputs_for(scenario)
    p = inp.params
    R, T, dt = len(seeds), inp.n_steps, inp.dt
    noise = stack_noise([draw_noise(inp, int(s)) for s in seeds])
    w = np.repeat(inp.w0[None], R, axis=0)
    c = np.repeat(inp.c0[None], R, axis=0)
    b = np.repeat(inp.b0[None], R, axis=0)
    status = np.repeat(inp.status0[None], R, axis=0)
    history = outcomes.History.empty(T, inp.w0.shape, replicas=R)
    history.record(0, w, c, b, status)
    record = outcomes.empty_events()
    pull = dynamics.rate_to_share(p["pole_pull_rate"], dt)
    trust_share = dynamics.rate_to_share(p["trust_drift_rate"], dt)
    commit_share = dynamics.rate_to_share(p["commitment_rate"], dt)
    act_share = dynamics.rate_to_share(p["decision_rate"], dt)
    L = inp.leader_pole
    asking = np.arange(len(inp.members)) != inp.leader  # the leader does not ask its own alliance

    for t in range(T):
        joins = inp.accession[t] & (
            (status == dynamics.NON_MEMBER) | (status == dynamics.WITHDRAWN)
        )
        status = np.where(joins, dynamics.ACTIVE, status)

        ev = step_events(inp, noise, t)
        fit = alliance.effective_fit(inp.fit, ev.territorial, p["extraterritorial_fit"])
        asked = alliance.request_probability(ev.severity, b[..., None], fit, p)
        requested = (
            (asking & (status == dynamics.ACTIVE))[..., None]
            & ev.occur
            & (noise.request[:, t] < asked)
        )
        responded = (
            requested
            & (noise.response[:, t] < alliance.response_chance(inp, t, ev, status, w))
            & (status[:, inp.leader] == dynamics.ACTIVE)[:, None, None]
        )
        helped = (
            ev.occur
            & ~responded
            & (noise.bilateral[:, t] < alliance.bilateral_chance(inp, t, w)[..., None])
        )
        _record(record, t, ev, requested, responded, helped)

        c, b, w = dynamics.after_requests(c, b, w, status, ev.severity, requested, responded, L, p)

        social, tie_strength = dynamics.social_target(w, inp.influence)
        expected = alliance.expected_chance(inp, t, status, w)
        target = dynamics.pole_target(inp.strength[t], inp.offers[t], w)
        w = dynamics.move_toward(w, target, pull)
        w = dynamics.move_toward(
            w, social, dynamics.rate_to_share(p["network_rate"] * tie_strength, dt)[:, None]
        )
        b = dynamics.move_toward(b, expected, trust_share)
        anchor = dynamics.commitment_anchor(w[..., L], b, p["commitment_alignment_weight"])
        c = dynamics.move_toward(c, anchor, commit_share)

        cost = dynamics.exit_cost(inp.leverage, inp.leader_strength[t], p["exit_cost_weight"])
        status = dynamics.membership_transition(
            status,
            c,
            cost,
            noise.membership[:, t],
            act_share,
            p["freeze_threshold"],
            p["leave_threshold"],
            p["rejoin_margin"],
        )
        history.record(t + 1, w, c, b, status)
    return inp, history, record


def _record(record: dict[str, list[np.ndarray]], t: int, ev, requested, responded, helped) -> None:
    """Append a step's threat events of every replica to the event record."""
    r, i, k = np.nonzero(ev.occur)
    for name, values in (
        ("run", r),
        ("step", np.full(r.size, t)),
        ("member", i),
        ("kind", k),
        ("severity", ev.severity[r, i, k]),
        ("counterpart", ev.counterpart[r, i, k]),
        ("requested", requested[r, i, k]),
        ("responded", responded[r, i, k]),
        ("helped", helped[r, i, k]),
        ("label", ev.label[i, k]),
    ):
        record[name].append(values)
