"""The model's update rules: small pure functions on numpy arrays.

Shapes: ``w`` is ``(..., members, poles)`` (or one member's ``(poles,)`` row), ``c``
(commitment), ``b`` (trust) and ``status`` are ``(..., members)``. Any leading axes (for
example replicas) broadcast, so the Mesa agents and a batched engine share one definition.
Every rule that moves alignment is a convex combination with a point of the simplex, so
weights stay non-negative and sum to one.
"""

from __future__ import annotations

import numpy as np

from csto_sim.core.vocabulary import ACTIVE, FROZEN, STATUSES, WITHDRAWN


def per_run(value, ndim: int):
    """A value that is one number, or one number per run (``(R,)``, or ``(R, 1, ...)``),
    shaped to broadcast against arrays of ``ndim`` axes that lead with the runs: axes of
    size one are appended up to ``ndim``. One number is returned as it is, so the Mesa
    model's rows and a batch that shares its parameters are unaffected."""
    if np.ndim(value) == 0:
        return value
    return np.reshape(value, np.shape(value) + (1,) * (ndim - np.ndim(value)))


def shaped(p: dict, ndim: int) -> dict:
    """The parameters ``p`` with every per-run value (an array) shaped by :func:`per_run` for
    arrays of ``ndim`` axes; ``p`` itself when every value is one number. Remembered for
    the same ``p`` object (a batch's parameters are shaped once per number of axes)."""
    hit = _SHAPED.get((id(p), ndim))
    if hit is not None and hit[0] is p:
        return hit[1]
    arrays = {k: v for k, v in p.items() if isinstance(v, np.ndarray)}
    out = p | {k: per_run(v, ndim) for k, v in arrays.items()} if arrays else p
    if len(_SHAPED) > 64:
        _SHAPED.clear()
    _SHAPED[(id(p), ndim)] = (p, out)
    return out


_SHAPED: dict[tuple[int, int], tuple[dict, dict]] = {}


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function, used for every yes/no decision probability."""
    return 1.0 / (1.0 + np.exp(-x))


def rate_to_share(rate: float | np.ndarray, dt: float) -> np.ndarray:
    """Share of a gap closed in a step of ``dt`` years by a relaxation at ``rate`` per year."""
    return 1.0 - np.exp(-np.asarray(rate, dtype=float) * dt)


def normalise(w: np.ndarray, fallback: np.ndarray | None = None) -> np.ndarray:
    """Scale non-negative rows to sum to one; rows summing to zero take ``fallback`` (or stay zero)."""
    total = w.sum(axis=-1, keepdims=True)
    safe = np.where(total > 0, total, 1.0)
    out = w / safe
    if fallback is not None:
        out = np.where(total > 0, out, fallback)
    return out


def move_toward(w: np.ndarray, target: np.ndarray, share: np.ndarray | float) -> np.ndarray:
    """Move ``w`` a ``share`` of the way to ``target`` (a convex combination; share in [0, 1]).

    ``share`` broadcasts against ``w`` by numpy's rules: for alignments pass one share per
    member with a trailing axis (``share[..., None]``).
    """
    return w + share * (target - w)


def pole_target(strength: np.ndarray, offers: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Where the poles' offers pull each member: offers weighted by pole strength, normalised.

    ``strength`` must broadcast against ``offers`` (poles on the last axis). A member with no
    offer from any pole is pulled nowhere (its target is its own alignment).
    """
    return normalise(offers * strength, w)


def repel(w: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Where a hostile partner pushes a member: ``w`` reflected away from ``other``, kept on the simplex.

    The point ``2 w - other``, clipped at zero and renormalised: it lies farther from the
    partner than ``w`` does, so moving toward it widens the gap between rivals.
    """
    return normalise(np.clip(2.0 * w - other, 0.0, None), w)


def tie_strength(ties: np.ndarray) -> np.ndarray:
    """Each member's total tie strength on the signed network: the sum of absolute tie weights."""
    return np.clip(ties, 0.0, None).sum(axis=-1) + np.clip(-ties, 0.0, None).sum(axis=-1)


def social_target(w: np.ndarray, ties: np.ndarray) -> np.ndarray:
    """Where partners on the signed relations network pull each member ``(..., members, poles)``.

    Friendly ties (positive) pull toward the partner's alignment, hostile ties (negative)
    push away from it (:func:`repel`), each in proportion to its weight. ``ties`` is
    ``(..., members, members)`` (leading axes: one network per run); a member without ties
    is pulled nowhere (its own alignment).
    """
    pos = np.clip(ties, 0.0, None)
    neg = np.clip(-ties, 0.0, None)
    strength = tie_strength(ties)[..., None]
    pulled = (pos[..., :, :, None] * w[..., None, :, :]).sum(axis=-2)
    pushed = np.zeros(np.broadcast_shapes(pulled.shape, w.shape))
    rivals = neg.reshape(-1, *neg.shape[-2:]).any(axis=0)
    for i, j in zip(*np.nonzero(rivals), strict=True):  # rivalries are few: only their pairs
        weight = neg[..., i, j, None]
        pushed[..., i, :] += weight * repel(w[..., i, :], w[..., j, :])
    safe = np.where(strength > 0, strength, 1.0)
    return np.where(strength > 0, (pulled + pushed) / safe, w)


def away_from(w: np.ndarray, pole: int) -> np.ndarray:
    """The alignment with the given pole's weight removed and the rest renormalised."""
    keep = np.ones(w.shape[-1])
    keep[pole] = 0.0
    return normalise(w * keep, keep / keep.sum())


def event_feedback(
    c: np.ndarray,
    b: np.ndarray,
    answered: np.ndarray,
    ignored: np.ndarray,
    watching: np.ndarray,
    gain: float,
    loss: float,
    learning: float,
    observer_weight: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Commitment and trust after a step's requests, felt by the requester and watched by all.

    ``answered`` and ``ignored`` are ``(..., members)`` sums of the severities of the member's
    own answered and ignored requests this step. A member's own outcomes count fully, others'
    with ``observer_weight``; only ``watching`` members (in the alliance) update.
    An answered request closes a share of the gap to full commitment, an ignored one removes a
    share of what is left; trust moves toward 1 for answers and toward 0 for refusals.
    """
    seen_ans = answered + observer_weight * (answered.sum(axis=-1, keepdims=True) - answered)
    seen_ign = ignored + observer_weight * (ignored.sum(axis=-1, keepdims=True) - ignored)
    up = np.clip(gain * seen_ans, 0.0, 1.0)
    down = np.clip(loss * seen_ign, 0.0, 1.0)
    new_c = np.clip(c + up * (1.0 - c) - down * c, 0.0, 1.0)
    t_up = np.clip(learning * seen_ans, 0.0, 1.0)
    t_down = np.clip(learning * seen_ign, 0.0, 1.0)
    new_b = np.clip(b + t_up * (1.0 - b) - t_down * b, 0.0, 1.0)
    return np.where(watching, new_c, c), np.where(watching, new_b, b)


def alignment_shock(
    w: np.ndarray,
    answered: np.ndarray,
    ignored: np.ndarray,
    leader_pole: int,
    shift_answered: float,
    shift_ignored: float,
) -> np.ndarray:
    """A requester's alignment after its requests: toward the leader's pole if answered, away if not."""
    toward = np.clip(shift_answered * answered, 0.0, 1.0)
    away = np.clip(shift_ignored * ignored, 0.0, 1.0)
    total = toward + away
    scale = 1.0 / np.maximum(total, 1.0)
    toward, away = toward * scale, away * scale
    leader = np.zeros(w.shape[-1])
    leader[leader_pole] = 1.0
    return w + toward[..., None] * (leader - w) + away[..., None] * (away_from(w, leader_pole) - w)


def commitment_anchor(
    w_leader: np.ndarray, trust: np.ndarray, alignment_weight: float
) -> np.ndarray:
    """The commitment a member settles at: alignment with the leader's pole and trust, mixed."""
    return alignment_weight * w_leader + (1.0 - alignment_weight) * trust


def exit_cost(leverage: np.ndarray, strength: float | np.ndarray, weight: float) -> np.ndarray:
    """What stepping out of the alliance costs a member (logit units, full withdrawal).

    Leverage (bases, remittances, energy) works through the leader's strength, not through
    the forces it has free: a war elsewhere does not release a member from its dependence.
    """
    return weight * leverage * np.clip(strength, 0.0, 1.0)


def alliance_value(
    c: np.ndarray,
    grievance: np.ndarray,
    alternatives: np.ndarray,
    e_leader: np.ndarray,
    midpoint: float,
    w_commitment: float,
    w_grievance: float,
    w_alternatives: float,
    w_economic: float,
) -> np.ndarray:
    """What full membership is worth to a member over a step back from it (logit units).

    Commitment above ``midpoint`` and economic dependence on the leader's pole ``e_leader``
    add; grievances (unanswered threats remembered) and credible security alternatives (help
    received from other poles) subtract.
    """
    return (
        w_commitment * (c - midpoint)
        + w_economic * e_leader
        - w_grievance * grievance
        - w_alternatives * alternatives
    )


def credible_alternatives(received: np.ndarray, target: np.ndarray, leader_pole: int) -> np.ndarray:
    """How credible a member's security alternatives are, in [0, 1]: help received from
    other poles (remembered, ``received``) or offered by them.

    What is offered is how close the strongest other pole's security pull comes to the
    leader's: ``best / (best + leader)`` of the security pole target ``target``
    ``(..., M, P)``. Either makes the alternative credible: ``1 - (1 - received)(1 - offered)``.
    """
    others = np.delete(target, leader_pole, axis=-1).max(axis=-1)
    total = others + target[..., leader_pole]
    offered = np.where(total > 0, others / np.where(total > 0, total, 1.0), 0.0)
    return 1.0 - (1.0 - received) * (1.0 - offered)


MEMBERSHIP_OPTIONS = (ACTIVE, FROZEN, WITHDRAWN)
"""The rungs of membership, from in to out; a member's choice is among them."""

_REACHABLE = {  # from a status: which options it may choose (its own status included)
    ACTIVE: (True, True, False),
    FROZEN: (True, True, True),
    WITHDRAWN: (True, False, True),
}


def membership_utilities(value: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """Utilities of staying active, freezing and withdrawing ``(..., M, 3)``.

    Each rung away from active gives up the alliance's ``value`` and half the exit ``cost``
    (freezing defies the leader, withdrawing breaks with it): 0, ``-value - cost/2``,
    ``-2 value - cost``. Utilities are finite, so no choice is ever impossible.
    """
    step = -value - 0.5 * cost
    return np.stack([np.zeros_like(step), step, 2.0 * step], axis=-1)


def membership_choice(
    status: np.ndarray,
    utilities: np.ndarray,
    u: np.ndarray,
    act_share: float,
    status_quo_bias: float,
) -> np.ndarray:
    """New statuses from a logit choice among the reachable rungs of membership.

    A member reconsiders with probability ``act_share`` this step (its uniform draw ``u``
    below it); it then chooses among the options reachable from its status (active: stay or
    freeze; frozen: return, stay or withdraw; withdrawn: stay or return) with logit
    probabilities of ``utilities`` plus ``status_quo_bias`` for its current status, using
    ``u / act_share`` (uniform given that it reconsiders) as its draw. Non-members (and
    any other status) stay as they are.
    """
    options = np.array(MEMBERSHIP_OPTIONS)
    reach, weight = _option_weights(status, utilities, status_quo_bias)
    cum = _cumulative(weight)
    share = per_run(act_share, np.ndim(u))
    pick = (np.asarray(u)[..., None] / np.maximum(share, 1e-300)[..., None] >= cum).sum(axis=-1)
    chosen = options[np.clip(pick, 0, len(options) - 1)]
    acts = (np.asarray(u) < share) & reach.any(axis=-1)
    return np.where(acts, chosen, status).astype(status.dtype)


def _option_weights(
    status: np.ndarray, utilities: np.ndarray, status_quo_bias: float
) -> tuple[np.ndarray, np.ndarray]:
    """Which membership options each member can reach from its status, and their logit
    weights (``exp`` of the utility plus the status-quo bias, less the best; 0 if unreachable)."""
    options = np.array(MEMBERSHIP_OPTIONS)
    reach = np.zeros((*status.shape, len(options)), dtype=bool)
    for code, row in _REACHABLE.items():
        reach |= (status == code)[..., None] & np.array(row)
    x = utilities + per_run(status_quo_bias, utilities.ndim) * (status[..., None] == options)
    top = np.max(np.where(reach, x, -np.inf), axis=-1, keepdims=True)
    weight = np.where(
        reach,
        np.exp(np.where(reach, x - np.where(reach.any(-1, keepdims=True), top, 0.0), 0.0)),
        0.0,
    )
    return reach, weight


def _cumulative(weight: np.ndarray) -> np.ndarray:
    """Cumulative shares of ``weight`` along the last axis for drawing with a uniform: the
    last option with weight takes the rest of [0, 1), so rounding never picks past it."""
    cum = np.cumsum(weight, axis=-1)
    return np.where(cum >= cum[..., -1:], np.inf, cum / np.maximum(cum[..., -1:], 1e-300))


def membership_probabilities(
    status: np.ndarray, utilities: np.ndarray, act_share: float, status_quo_bias: float
) -> np.ndarray:
    """The chance of each status after a member reconsiders ``(..., M, S)`` (by status code),
    under :func:`membership_choice`'s rule: it keeps its status unless it acts (``act_share``),
    and then chooses among the reachable options by logit."""
    options = np.array(MEMBERSHIP_OPTIONS)
    reach, weight = _option_weights(status, utilities, status_quo_bias)
    chosen = weight / np.maximum(weight.sum(axis=-1, keepdims=True), 1e-300)
    acts = per_run(act_share, status.ndim) * reach.any(axis=-1)
    out = (1.0 - acts)[..., None] * (status[..., None] == np.arange(len(STATUSES)))
    out[..., options] += acts[..., None] * chosen
    return out


def guided_choice(
    status: np.ndarray, probabilities: np.ndarray, allowed: np.ndarray, u: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """A status drawn with ``u`` from ``probabilities`` ``(..., S)`` restricted to the
    statuses ``allowed`` (bit masks by status code), and the log chance of an allowed one:
    the guided step of a history conditioned on its record. Where no allowed status has a
    chance the status stays and the log chance is ``-inf``."""
    bits = (np.asarray(allowed)[..., None] >> np.arange(len(STATUSES))) & 1
    q = probabilities * bits
    total = q.sum(axis=-1)
    pick = (np.asarray(u)[..., None] >= _cumulative(q)).sum(axis=-1)
    chosen = np.where(total > 0, np.minimum(pick, len(STATUSES) - 1), status)
    with np.errstate(divide="ignore"):
        return chosen.astype(status.dtype), np.log(total)


def guided_draw(
    possible: np.ndarray, chance: np.ndarray, known: np.ndarray, u: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The uniform draw ``u`` of a yes/no outcome that happens when ``u < chance`` (and only
    where ``possible``), moved so that the outcome is the recorded one where the record knows
    it (``known`` 1 yes, 0 no, -1 unknown: ``u`` as it is), and the log chance of the recorded
    outcome (0 where unknown; ``-inf`` where the record's outcome cannot happen): the guided
    step of a history conditioned on its record. A yes draws ``u`` uniformly below the chance,
    a no above it, so what else the draw decides (how far an answer goes) keeps its
    conditional distribution."""
    q = np.where(possible, chance, 0.0)
    below = np.minimum(u * q, np.nextafter(q, 0.0))
    above = np.minimum(q + u * (1.0 - q), np.nextafter(1.0, 0.0))
    moved = np.where(known == 1, below, np.where(known == 0, above, u))
    recorded = np.where(known == 1, q, np.where(known == 0, 1.0 - q, 1.0))
    with np.errstate(divide="ignore"):
        return moved, np.log(recorded)


def remember(memory: np.ndarray, felt: np.ndarray, gain: float, fade: float) -> np.ndarray:
    """A memory in [0, 1] (grievance, credibility of alternatives) after a step: it keeps a
    ``fade`` share of itself (:func:`fade` of its half-life) and closes a ``gain x felt``
    share of the gap to 1."""
    up = np.clip(gain * felt, 0.0, 1.0)
    return np.clip(np.asarray(memory) * fade * (1.0 - up) + up, 0.0, 1.0)


def fade(halflife: float, dt: float) -> float:
    """The share of a quantity left after ``dt`` years of exponential decay with the given
    half-life in years (computed once per parameter set, so every engine multiplies by the
    same number)."""
    return 0.5 ** (dt / halflife)


def read_record(
    record: np.ndarray,
    occur: np.ndarray,
    answered: np.ndarray,
    inside: np.ndarray,
    step: float,
    fade: float,
) -> np.ndarray:
    """The alliance's record against each member's threats ``(..., M, K)`` after a step, as
    its adversaries read it: it keeps a ``fade`` share of itself and moves by ``step`` toward +1 for
    each threat against a member inside the alliance that it answered, toward -1 for each it
    left unanswered; bounded in [-1, 1]."""
    signal = np.where(answered, 1.0, -1.0) * (occur & inside[..., None])
    return np.clip(np.asarray(record) * fade + step * signal, -1.0, 1.0)


def deterred_hazard(p_event: np.ndarray, record: np.ndarray, weight: float, deterrable):
    """The chance of each threat this step ``(..., M, K)``: the scenario's ``p_event`` times
    ``exp(-weight x record)`` for kinds an adversary chooses (``deterrable``): an alliance that
    answered deters, one that did not invites the next test; bounded by ``exp(+-weight)``."""
    weight = per_run(weight, np.ndim(record))
    return np.clip(p_event * np.exp(-weight * record * deterrable), 0.0, 1.0)


def pole_reactions(
    interest: np.ndarray,
    capacity: float | np.ndarray,
    distance: np.ndarray,
    leader_pole: int,
    courting: bool,
    p: dict,
) -> np.ndarray:
    """How much each pole raises its offer to each member ``(..., M, P)``, in logit units.

    Rival poles court members where they have an interest (``interest`` ``(..., M, P)``: the
    share of structural tie kinds that bind the member to the pole) the more of its
    capacity the leader lacks (one less its free ``capacity``, clipped to [0, 1]: never
    zero for a leader below full strength), and every member the further it has
    drifted from the leader's pole (``distance`` ``(..., M)``: one less its security
    alignment with it). The leader, when ``courting``, raises its offer to drifting members
    as far as its free capacity allows. Bounded by the weights: no offer grows without limit.
    """
    n = np.ndim(distance)
    lost = 1.0 - np.clip(capacity, 0.0, 1.0)
    p3, p2 = shaped(p, n + 1), shaped(p, n)
    rival = p3["rival_weakness"] * per_run(lost, n + 1) * interest
    rival = rival + p3["rival_drift"] * distance[..., None]
    court = courting * p2["court_weight"] * (1.0 - per_run(lost, n)) * distance
    is_leader = np.arange(interest.shape[-1]) == leader_pole
    return np.where(is_leader, court[..., None], rival)


def coerced_leverage(
    leverage: np.ndarray, distance: np.ndarray, coercing: bool, weight: float
) -> np.ndarray:
    """The leverage the leader holds over each member ``(..., M)``: when ``coercing``, raised
    for drifting members (remittance rules, energy prices, base agreements used as pressure)
    by ``weight`` per unit distance, up to 1."""
    return np.clip(leverage + coercing * weight * distance, 0.0, 1.0)
