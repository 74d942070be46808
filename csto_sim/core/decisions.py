"""The two decisions around a threat: does the struck member ask, and does the alliance answer.

Both are logistic in a few interpretable terms (see ``docs/ODD.md``). The functions are
pure and broadcast over any leading axes, so one member's row, all members, or many
replicas at once go through the same code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from csto_sim.core.rules import per_run, pole_target, shaped, sigmoid
from csto_sim.core.vocabulary import ACTIVE

if TYPE_CHECKING:
    from csto_sim.core.events import StepEvents
    from csto_sim.core.inputs import Inputs


def effective_fit(
    fit: np.ndarray, territorial: np.ndarray, extraterritorial_fit: float
) -> np.ndarray:
    """Charter fit of an event, reduced when it happens outside the member's recognised territory."""
    return fit * np.where(territorial, 1.0, per_run(extraterritorial_fit, np.ndim(territorial)))


def request_probability(
    severity: np.ndarray,
    trust: np.ndarray,
    fit: np.ndarray,
    w_leader: np.ndarray,
    against_member: np.ndarray,
    p: dict,
) -> np.ndarray:
    """Chance that a struck active member asks the alliance for help.

    Graver threats, more trust that the alliance will answer (what asking achieved before,
    for it and for others) and a better charter fit (less outside its recognised territory)
    make a request more likely; the sovereignty cost of inviting the leader's troops (larger
    the further the member is aligned from the leader's pole) and a counterpart that is
    itself an active member make it less likely.
    """
    p = shaped(p, np.ndim(severity))
    x = (
        p["request_base"]
        + p["request_severity"] * severity
        + p["request_trust"] * trust
        + p["request_fit"] * fit
        - p["request_sovereignty"] * (1.0 - w_leader)
        - p["request_against_member"] * against_member
    )
    return sigmoid(x)


def response_logit(
    severity: np.ndarray,
    fit: np.ndarray,
    internal: np.ndarray,
    counterpart_member: np.ndarray,
    affinity: np.ndarray,
    capacity: np.ndarray | float,
    w_leader: np.ndarray,
    stake: np.ndarray,
    funded: np.ndarray | float,
    p: dict,
) -> np.ndarray:
    """The leader's will and means to deploy in answer to a request (a logit; see
    :func:`response_levels` for the graded answer), given the threat and the alliance's state.

    The alliance acts when its leader can (available capacity, a funded budget) and will
    (the charter fits, it is not a member's internal affair, it need not take sides between
    two members, the adversary is not the leader's friend, the requester is aligned with the
    leader's pole and matters to it).
    """
    p = shaped(p, np.ndim(w_leader))
    x = (
        p["response_base"]
        + p["response_fit"] * fit
        - p["response_internal"] * internal
        - p["response_both_members"] * counterpart_member
        - p["response_affinity"] * affinity
        + p["response_capacity"] * capacity
        + p["response_alignment"] * w_leader
        + p["response_stake"] * stake
        + p["response_budget"] * funded
        + p["response_severity"] * severity
    )
    return x


def response_probability(*args, **kwargs) -> np.ndarray:
    """Chance that the leader would deploy in answer to a request: ``sigmoid`` of
    :func:`response_logit` (same arguments)."""
    return sigmoid(response_logit(*args, **kwargs))


def response_levels(x: np.ndarray, u: np.ndarray, p: dict) -> np.ndarray:
    """How far the leader would go (a level of ``RESPONSE_LEVELS``) given its deployment logit
    ``x`` and a uniform draw ``u``: an ordered logit whose cut points are the deployment's
    (0) and the offsets ``level_statement >= level_mission >= 0 >= level_peacekeeping``. The
    level reaches deployment exactly when ``u < sigmoid(x)``."""
    p = shaped(p, np.ndim(x))
    offsets = (p["level_statement"], p["level_mission"], 0.0, p["level_peacekeeping"])
    return sum((u < sigmoid(x + d)).astype(int) for d in offsets)


def veto_logit(
    is_counterpart: np.ndarray, patron_alignment: np.ndarray, mediation: bool, p: dict
) -> np.ndarray:
    """A member's inclination to veto collective action on another member's request: it
    never consents to action against itself (unless the charter offers mediation, which
    takes no side), and the more it is aligned with the pole backing the adversary, the
    more it obstructs."""
    p = shaped(p, np.ndim(patron_alignment))
    return (
        p["veto_base"]
        + p["veto_self"] * is_counterpart * (not mediation)
        + p["veto_patron"] * patron_alignment
    )


def blocked(vetoes: np.ndarray, active: np.ndarray, rule: str) -> np.ndarray:
    """Whether vetoes ``(..., M, K, voters)`` block collective action on each event ``(..., M,
    K)`` under the alliance's decision rule (``DECISION_RULES``): any veto under consensus;
    vetoes of more than half the active members ``active`` ``(..., M)`` under majority;
    none when the leader decides alone."""
    n = vetoes.sum(axis=-1)
    if rule == "consensus":
        return n > 0
    if rule == "majority":
        return 2 * n > active.sum(axis=-1)[..., None, None]
    return np.zeros(n.shape, dtype=bool)


def bilateral_attraction(w: np.ndarray, target: np.ndarray) -> np.ndarray:
    """How much each pole may help a member directly ``(..., M, P)``: the member's security
    alignment toward the pole times the pole's share of the pull on it (both on the simplex,
    so the sum over poles is at most 1)."""
    return w * target


def bilateral_probability(w: np.ndarray, target: np.ndarray, scale: float) -> np.ndarray:
    """Chance that some pole helps a member directly ``(..., M)``: its total attraction, in
    [0, scale] (``scale``: one number, or one per run shaped for ``(R, M)``)."""
    return scale * np.clip(bilateral_attraction(w, target).sum(axis=-1), 0.0, 1.0)


def helping_pole(attraction: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Which pole helps ``(..., M, K)``: the one whose share of the attraction ``(..., M, P)``
    covers the uniform draw ``v`` ``(..., M, K)``."""
    total = attraction.sum(axis=-1, keepdims=True)
    cum = np.cumsum(attraction, axis=-1) / np.where(total > 0, total, 1.0)
    cum = np.where(cum >= cum[..., -1:], np.inf, cum)  # the last pole takes the rest
    pick = (v[..., None] >= cum[..., None, :]).sum(axis=-1)
    return np.minimum(pick, attraction.shape[-1] - 1)


def of_counterpart(values: np.ndarray, counterpart: np.ndarray) -> np.ndarray:
    """``values`` ``(C,)`` (or one row per run, ``(R, C)``) of each event's counterpart
    ``(..., M, K)``; entries of events without one (-1) are meaningless."""
    if values.ndim == 1:
        return values[counterpart]
    flat = counterpart.reshape(counterpart.shape[0], -1)
    return np.take_along_axis(values, flat, axis=-1).reshape(counterpart.shape)


def funded_budget(budget_share: np.ndarray, active: np.ndarray) -> np.ndarray:
    """Share of the alliance budget still paid: the budget shares of the active members."""
    return np.clip((budget_share * active).sum(axis=-1), 0.0, 1.0)


def counterpart_is_active_member(inp: Inputs, ev: StepEvents, status: np.ndarray) -> np.ndarray:
    """Whether each (member, kind) event's counterpart is an active member ``(..., M, K)``."""
    has_cp = ev.counterpart >= 0
    cp_member = np.where(has_cp, inp.counterpart_is_member[ev.counterpart], -1)
    active = status == ACTIVE
    flat = np.clip(cp_member, 0, None).reshape(*cp_member.shape[:-2], -1)
    cp_active = np.take_along_axis(active, flat, axis=-1).reshape(cp_member.shape)
    return (cp_member >= 0) & cp_active


def deployment_logit(
    inp: Inputs, t: int, ev: StepEvents, status: np.ndarray, w: np.ndarray
) -> np.ndarray:
    """The deployment logit of every (member, kind) event this step, ``(..., M, K)`` (see
    :func:`response_logit`; a mediated clash between members is not reduced by the
    reluctance to take sides, since mediation takes none).

    Works out each term from the scenario's inputs and the current state: whether the
    counterpart is an active member, its affinity to the leader, the charter fit (reduced
    outside a member's territory), the funded budget, the requester's alignment and stake.
    """
    p = inp.params
    both_members = counterpart_is_active_member(inp, ev, status)
    affinity = np.where(ev.counterpart >= 0, of_counterpart(inp.affinity, ev.counterpart), 0.0)
    fit = effective_fit(inp.fit, ev.territorial, p["extraterritorial_fit"])
    return _response(
        inp, t, status, w, ev.severity, fit, both_members.astype(float), affinity, response_logit
    )


def expected_chance(inp: Inputs, t: int, status: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Each member's expected chance that the alliance would answer the threats it typically
    faces, ``(..., M)``.

    The response probability of a typical event of each kind (mean severity, the usual
    counterpart) averaged with the member's hazard weights. Trust drifts toward it: members
    read the alliance's will from its leader's state and their own exposure, not only from
    events.
    """
    prob = _response(
        inp, t, status, w, inp.severity_mean, inp.fit, inp.option_member_share, inp.option_affinity
    )
    return (inp.kind_weights * prob).sum(axis=-1)


def _response(
    inp, t, status, w, severity, fit, both_members, affinity, how=response_probability
) -> np.ndarray:
    """:func:`response_probability` (or ``how``) of events ``(..., M, K)`` with the alliance's
    state terms; under a charter with mediation a clash between members takes no side (its
    ``both_members`` term is dropped), for the answer and for what members expect of it."""
    funded = funded_budget(inp.budget_share, status == ACTIVE)
    return how(
        severity,
        fit,
        inp.internal,
        both_members * (not inp.mediation),
        affinity,
        per_run(inp.capacity[t], np.ndim(w)),
        w[..., inp.leader_pole, None],
        inp.stake[..., None],
        np.asarray(funded)[..., None, None],
        inp.params,
    )


def bilateral_help(
    inp: Inputs, t: int, w: np.ndarray, u: np.ndarray, offers: np.ndarray
) -> np.ndarray:
    """Which pole, if any, helps each (member, kind) directly this step ``(..., M, K)`` (-1:
    none), from the uniform draws ``u`` and the poles' ``offers`` ``(..., M, P)``: help comes
    with :func:`bilateral_probability`, and then from a pole chosen in proportion to its
    attraction."""
    target = pole_target(inp.strength[t], offers, w)
    scale = per_run(inp.params["bilateral_help"], np.ndim(w) - 1)
    chance = bilateral_probability(w, target, scale)
    helps = u < chance[..., None]
    v = u / np.where(chance > 0, chance, 1.0)[..., None]
    return np.where(helps, helping_pole(bilateral_attraction(w, target), v), -1)
