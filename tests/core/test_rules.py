"""Exact small cases and directions of the pure update rules (rules.py, decisions.py)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from csto_sim.core import decisions, rules
from csto_sim.core.parameters import Parameters
from csto_sim.core.vocabulary import ACTIVE, FROZEN, NON_MEMBER, WITHDRAWN

RNG = np.random.default_rng(20250101)


def simplex(*shape: int, rng: np.random.Generator = RNG) -> np.ndarray:
    """Random alignments on the simplex (poles on the last axis)."""
    raw = rng.random(shape)
    return raw / raw.sum(axis=-1, keepdims=True)


def tv(a: np.ndarray, b: np.ndarray) -> float:
    """Total-variation distance between two alignments."""
    return float(0.5 * np.abs(np.asarray(a) - np.asarray(b)).sum())


# --------------------------------------------------------------------------- helpers


def test_sigmoid_and_rate_to_share():
    assert rules.sigmoid(np.array(0.0)) == 0.5
    assert rules.rate_to_share(0.0, 0.25) == 0.0
    np.testing.assert_allclose(rules.rate_to_share(1.0, 0.25), 1.0 - np.exp(-0.25))
    assert rules.fade(2.0, 2.0) == 0.5


def test_normalise_rows_and_fallback():
    w = np.array([[2.0, 2.0], [0.0, 0.0]])
    np.testing.assert_array_equal(rules.normalise(w), [[0.5, 0.5], [0.0, 0.0]])
    fb = np.array([0.25, 0.75])
    np.testing.assert_array_equal(rules.normalise(w, fb), [[0.5, 0.5], [0.25, 0.75]])


# --------------------------------------------------------------------------- event feedback

PARAMS = dict(gain=0.3, loss=0.4, learning=0.2, observer_weight=0.25)


def _feedback(answered, ignored, watching, c=0.5, b=0.5, **kw):
    p = PARAMS | kw
    n = len(answered)
    return rules.event_feedback(
        np.full(n, c),
        np.full(n, b),
        np.asarray(answered, dtype=float),
        np.asarray(ignored, dtype=float),
        np.asarray(watching, dtype=bool),
        p["gain"],
        p["loss"],
        p["learning"],
        p["observer_weight"],
    )


def test_ignored_request_exact():
    # member 0 is ignored (severity 1); member 1 watches; member 2 is not in the alliance.
    c, b = _feedback([0, 0, 0], [1.0, 0, 0], [True, True, False])
    # requester: loses loss * 1 = 40% of its commitment; observer: 0.25 * 40% = 10%.
    np.testing.assert_allclose(c, [0.3, 0.45, 0.5])
    # trust: requester moves 20% of the way to 0, observer 5%.
    np.testing.assert_allclose(b, [0.4, 0.475, 0.5])


def test_answered_request_exact():
    c, b = _feedback([1.0, 0, 0], [0, 0, 0], [True, True, False])
    # requester closes 30% of the gap to 1, observer 7.5%.
    np.testing.assert_allclose(c, [0.65, 0.5375, 0.5])
    np.testing.assert_allclose(b, [0.6, 0.525, 0.5])


@pytest.mark.parametrize("answered", [True, False])
def test_feedback_directions_and_observers(answered):
    sev = [0.7, 0.0, 0.0, 0.0]
    zero = [0.0] * 4
    watching = [True, True, True, False]
    args = (sev, zero) if answered else (zero, sev)
    c, b = _feedback(*args, watching, c=0.6, b=0.6)
    dc, db = c - 0.6, b - 0.6
    sign = 1.0 if answered else -1.0
    # the requester moves in the expected direction ...
    assert sign * dc[0] > 0 and sign * db[0] > 0
    # ... observers in the same direction, but less ...
    for i in (1, 2):
        assert sign * dc[i] > 0 and sign * db[i] > 0
        assert abs(dc[i]) < abs(dc[0]) and abs(db[i]) < abs(db[0])
    # ... and members not watching do not move at all.
    assert c[3] == 0.6 and b[3] == 0.6


def test_observer_weight_extremes():
    sev, zero, watching = [1.0, 0.0], [0.0, 0.0], [True, True]
    c0, b0 = _feedback(zero, sev, watching, observer_weight=0.0)
    assert c0[1] == 0.5 and b0[1] == 0.5
    c1, b1 = _feedback(zero, sev, watching, observer_weight=1.0)
    assert c1[1] == c1[0] and b1[1] == b1[0]


def test_feedback_without_events_changes_nothing():
    c, b = _feedback([0, 0], [0, 0], [True, True], c=0.42, b=0.17)
    np.testing.assert_array_equal(c, [0.42, 0.42])
    np.testing.assert_array_equal(b, [0.17, 0.17])


def test_feedback_saturates_in_unit_interval():
    c, b = _feedback([5.0], [0.0], [True], gain=1.0, learning=1.0)
    assert c[0] == 1.0 and b[0] == 1.0
    c, b = _feedback([0.0], [5.0], [True], loss=1.0, learning=1.0)
    assert c[0] == 0.0 and b[0] == 0.0


# --------------------------------------------------------------------------- alignment shock


def test_alignment_shock_answered_moves_toward_leader():
    w = np.array([[0.5, 0.3, 0.2]])
    out = rules.alignment_shock(w, np.array([1.0]), np.array([0.0]), 0, 0.1, 0.1)
    np.testing.assert_allclose(out, [[0.55, 0.27, 0.18]])
    assert out[0, 0] > w[0, 0]


def test_alignment_shock_ignored_moves_away_from_leader():
    w = np.array([[0.5, 0.3, 0.2]])
    out = rules.alignment_shock(w, np.array([0.0]), np.array([1.0]), 0, 0.1, 0.1)
    # target: the leader's weight removed and the rest renormalised, (0, 0.6, 0.4).
    np.testing.assert_allclose(out, [[0.45, 0.33, 0.22]])
    assert out[0, 0] < w[0, 0]
    # the other poles keep their proportions
    np.testing.assert_allclose(out[0, 1] / out[0, 2], 1.5)


def test_alignment_shock_leader_pole_index_is_respected():
    w = np.array([[0.2, 0.3, 0.5]])
    up = rules.alignment_shock(w, np.array([0.5]), np.array([0.0]), 2, 0.2, 0.2)
    down = rules.alignment_shock(w, np.array([0.0]), np.array([0.5]), 2, 0.2, 0.2)
    assert up[0, 2] > 0.5 > down[0, 2]


def test_alignment_shock_no_request_unchanged():
    w = simplex(4, 3)
    out = rules.alignment_shock(w, np.zeros(4), np.zeros(4), 1, 0.3, 0.3)
    np.testing.assert_array_equal(out, w)


def test_alignment_shock_only_moves_requesters():
    w = simplex(3, 4)
    out = rules.alignment_shock(
        w, np.array([0.0, 0.8, 0.0]), np.array([0.0, 0.0, 0.6]), 0, 0.2, 0.2
    )
    np.testing.assert_array_equal(out[0], w[0])
    assert out[1, 0] > w[1, 0]
    assert out[2, 0] < w[2, 0]


def test_alignment_shock_all_on_leader_pole_ignored():
    # a member wholly aligned with the leader, ignored, moves toward the other poles evenly
    w = np.array([[1.0, 0.0, 0.0]])
    out = rules.alignment_shock(w, np.array([0.0]), np.array([1.0]), 0, 0.2, 0.2)
    np.testing.assert_allclose(out, [[0.8, 0.1, 0.1]])


def test_alignment_shock_saturated_stays_on_simplex():
    w = simplex(5, 4)
    out = rules.alignment_shock(w, np.full(5, 3.0), np.full(5, 3.0), 0, 0.5, 0.5)
    assert np.all(out >= 0)
    np.testing.assert_allclose(out.sum(axis=-1), 1.0, atol=1e-12)


def test_alignment_shock_tiny_shift_emits_no_overflow_warning():
    w = np.array([[0.5, 0.5]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = rules.alignment_shock(w, np.array([1e-160]), np.array([0.0]), 0, 1e-160, 0.0)
    np.testing.assert_allclose(out, w)


# --------------------------------------------------------------------------- pulls


def test_move_toward_exact():
    w = np.array([1.0, 0.0])
    target = np.array([0.0, 1.0])
    np.testing.assert_allclose(rules.move_toward(w, target, 0.25), [0.75, 0.25])
    np.testing.assert_array_equal(rules.move_toward(w, target, 0.0), w)
    np.testing.assert_array_equal(rules.move_toward(w, target, 1.0), target)


def test_move_toward_per_member_share():
    w = np.array([[1.0, 0.0], [1.0, 0.0]])
    target = np.array([[0.0, 1.0], [0.0, 1.0]])
    out = rules.move_toward(w, target, np.array([0.5, 0.0])[:, None])
    np.testing.assert_allclose(out, [[0.5, 0.5], [1.0, 0.0]])


def test_pole_target_weights_offers_by_strength():
    target = rules.pole_target(
        np.array([1.0, 2.0, 0.0]), np.array([[1.0, 1.0, 1.0]]), simplex(1, 3)
    )
    np.testing.assert_allclose(target, [[1 / 3, 2 / 3, 0.0]])


def test_pole_target_without_offers_is_own_alignment():
    w = np.array([[0.2, 0.3, 0.5], [0.6, 0.2, 0.2]])
    offers = np.array([[0.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    target = rules.pole_target(np.array([1.0, 1.0, 1.0]), offers, w)
    np.testing.assert_array_equal(target[0], w[0])
    np.testing.assert_array_equal(target[1], [0.0, 1.0, 0.0])


def test_pole_pull_raises_weight_on_offering_pole():
    w = np.array([[0.5, 0.5]])
    target = rules.pole_target(np.array([1.0, 1.0]), np.array([[1.0, 0.0]]), w)
    out = rules.move_toward(w, target, 0.1)
    np.testing.assert_allclose(out, [[0.55, 0.45]])


def test_repel_is_on_simplex_and_widens_the_gap():
    w, other = simplex(6, 4), simplex(6, 4)
    r = rules.repel(w, other)
    assert np.all(r >= 0)
    np.testing.assert_allclose(r.sum(axis=-1), 1.0)
    gap = np.abs(w - other).sum(axis=-1)
    assert np.all(np.abs(r - other).sum(axis=-1) >= gap - 1e-12)
    # (0.9, 0.1) against a rival at (0.8, 0.2) is pushed to the corner, not toward the rival
    np.testing.assert_allclose(rules.repel(np.array([0.9, 0.1]), np.array([0.8, 0.2])), [1.0, 0.0])


def test_social_target_exact():
    w = np.array([[0.6, 0.3, 0.1], [0.2, 0.2, 0.6], [0.0, 0.0, 1.0]])
    ties = np.array([[0.0, 0.5, -0.5], [0.5, 0.0, 0.0], [-0.5, 0.0, 0.0]])
    target = rules.social_target(w, ties)
    np.testing.assert_allclose(rules.tie_strength(ties), [1.0, 0.5, 0.5])
    # member 0: half toward member 1, half away from member 2: 2*w0 - w2 = (1.2, 0.6, -0.8) -> (2/3, 1/3, 0)
    np.testing.assert_allclose(target[0], [0.5 * 0.2 + 0.5 * 2 / 3, 0.5 * 0.2 + 0.5 / 3, 0.5 * 0.6])
    np.testing.assert_allclose(target[1], w[0])
    np.testing.assert_allclose(target[2], rules.repel(w[2], w[0]))


def test_social_target_isolated_member_keeps_alignment():
    w = simplex(3, 3)
    ties = np.zeros((3, 3))
    target = rules.social_target(w, ties)
    np.testing.assert_array_equal(target, w)
    np.testing.assert_array_equal(rules.tie_strength(ties), 0.0)


def test_friendly_tie_pulls_toward_partner():
    w = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]])
    ties = np.array([[0.0, 0.6], [0.6, 0.0]])
    target = rules.social_target(w, ties)
    out = rules.move_toward(w, target, 0.2)
    assert tv(out[0], w[1]) < tv(w[0], w[1])
    assert tv(out[1], w[0]) < tv(w[1], w[0])
    # member 0 alone moving closes 20% of the distance
    np.testing.assert_allclose(tv(out[0], w[1]), 0.8 * tv(w[0], w[1]))


@pytest.mark.parametrize(
    "w",
    [
        # both leaning to the same pole (like Kyrgyzstan and Tajikistan in the baseline)
        np.array([[0.5, 0.05, 0.33, 0.12], [0.52, 0.04, 0.37, 0.07]]),
        # the less extreme member of a pair leaning the same way
        np.array([[0.8, 0.2], [0.9, 0.1]]),
    ],
)
def test_hostile_tie_pushes_similar_partners_apart(w):
    ties = np.array([[0.0, -0.6], [-0.6, 0.0]])
    target = rules.social_target(w, ties)
    np.testing.assert_allclose(rules.tie_strength(ties), [0.6, 0.6])
    moved = rules.move_toward(w[0], target[0], 0.1)
    assert tv(moved, w[1]) > tv(w[0], w[1])


def test_identical_rivals_have_no_direction_to_part():
    w = np.array([[0.6, 0.3, 0.1], [0.6, 0.3, 0.1]])
    target = rules.social_target(w, np.array([[0.0, -0.6], [-0.6, 0.0]]))
    np.testing.assert_allclose(target, w)


def test_away_from_removes_pole():
    out = rules.away_from(np.array([[0.5, 0.25, 0.25], [1.0, 0.0, 0.0]]), 0)
    np.testing.assert_allclose(out, [[0.0, 0.5, 0.5], [0.0, 0.5, 0.5]])


def test_commitment_anchor_and_exit_cost():
    np.testing.assert_allclose(rules.commitment_anchor(np.array(0.8), np.array(0.4), 0.25), 0.5)
    np.testing.assert_allclose(
        rules.exit_cost(np.array([0.0, 0.5, 1.0]), 0.8, 0.5), [0.0, 0.2, 0.4]
    )
    # capacity is clipped to [0, 1]
    np.testing.assert_allclose(rules.exit_cost(np.array(1.0), 3.0, 0.5), 0.5)


# --------------------------------------------------------------------------- membership


def _choose(status, value, cost=0.0, u=0.0, act_share=1.0, bias=0.0):
    status = np.asarray(status, dtype=np.int8)
    n = status.shape[-1]
    value = np.broadcast_to(np.asarray(value, dtype=float), (n,))
    cost = np.broadcast_to(np.asarray(cost, dtype=float), (n,))
    util = rules.membership_utilities(value, cost)
    return rules.membership_choice(
        status, util, np.broadcast_to(np.asarray(u, dtype=float), (n,)), act_share, bias
    )


def _choice_shares(status, value, cost=0.0, bias=0.0, n=4000):
    """Shares of ACTIVE, FROZEN, WITHDRAWN chosen on an even grid of draws."""
    u = (np.arange(n) + 0.5) / n
    out = _choose([status] * n, value, cost, u, 1.0, bias)
    return [float((out == s).mean()) for s in (ACTIVE, FROZEN, WITHDRAWN)]


def test_membership_utilities_exact():
    util = rules.membership_utilities(np.array([1.0, -0.5]), np.array([0.4, 0.0]))
    np.testing.assert_allclose(util, [[0.0, -1.2, -2.4], [0.0, 0.5, 1.0]])


def test_alliance_value_directions():
    # commitment, grievance, alternatives, economic weight on the leader's pole
    v = rules.alliance_value(
        np.array([0.2, 0.6, 0.6, 0.6, 0.6]),
        np.array([0.0, 0.0, 0.5, 0.0, 0.0]),
        np.array([0.0, 0.0, 0.0, 0.5, 0.0]),
        np.array([0.0, 0.0, 0.0, 0.0, 0.5]),
        0.4,
        8.0,
        3.0,
        2.0,
        1.0,
    )
    np.testing.assert_allclose(v, [-1.6, 1.6, 0.1, 0.6, 2.1])


def test_membership_choice_probabilities_are_logit():
    # active member, value 0, no cost, no bias: stay (0) or freeze (0) evenly; never withdraw
    np.testing.assert_allclose(_choice_shares(ACTIVE, 0.0), [0.5, 0.5, 0.0], atol=1e-3)
    # frozen member, value 0: three rungs with utilities 0, 0, 0
    np.testing.assert_allclose(_choice_shares(FROZEN, 0.0), [1 / 3] * 3, atol=1e-3)
    # withdrawn member, value 1, cost 0: return (0) against stay out (-2)
    p = 1 / (1 + np.exp(-2.0))
    np.testing.assert_allclose(_choice_shares(WITHDRAWN, 1.0), [p, 0.0, 1 - p], atol=1e-3)
    # bias favours the current status
    p = np.exp(2.0) / (1 + np.exp(2.0))
    np.testing.assert_allclose(_choice_shares(ACTIVE, 0.0, bias=2.0), [p, 1 - p, 0], atol=1e-3)


@pytest.mark.parametrize("status", [ACTIVE, FROZEN, WITHDRAWN])
def test_membership_no_choice_impossible(status):
    # over the plausible span of value and exit cost, with a strong status-quo bias, every
    # option reachable from a status is chosen for some draws, and no other option ever is
    reachable = rules._REACHABLE[status]
    for value in (-2.0, 0.0, 2.0):
        for cost in (0.0, 3.0):
            shares = _choice_shares(status, value, cost, bias=3.0, n=200_000)
            assert [share > 0 for share in shares] == list(reachable), (value, cost, shares)


def test_membership_directions():
    # more value: more staying; more exit cost: less withdrawing
    assert _choice_shares(ACTIVE, 1.0)[1] < _choice_shares(ACTIVE, 0.0)[1]
    assert _choice_shares(FROZEN, 0.0, cost=2.0)[2] < _choice_shares(FROZEN, 0.0)[2]
    assert _choice_shares(WITHDRAWN, 0.0, cost=2.0)[0] > _choice_shares(WITHDRAWN, 0.0)[0]
    # active members never withdraw in one step; withdrawn never freeze
    assert _choice_shares(ACTIVE, -20.0)[2] == 0.0
    assert _choice_shares(WITHDRAWN, 20.0)[1] == 0.0


def test_membership_acts_only_when_drawn_and_leaves_non_members():
    # value -3: a reconsidering active member freezes unless its draw is low
    assert _choose([ACTIVE], -3.0, u=0.7, act_share=0.5)[0] == ACTIVE  # not reconsidering
    assert _choose([ACTIVE], -3.0, u=0.49, act_share=0.5)[0] == FROZEN  # u/share = 0.98
    assert _choose([ACTIVE], -3.0, u=0.001, act_share=0.5)[0] == ACTIVE  # u/share = 0.002
    assert _choose([NON_MEMBER], -9.0, u=0.0)[0] == NON_MEMBER


def test_credible_alternatives_received_or_offered():
    target = np.array([[0.6, 0.3, 0.1], [1.0, 0.0, 0.0], [0.2, 0.2, 0.6]])
    out = rules.credible_alternatives(np.array([0.0, 0.5, 0.5]), target, leader_pole=0)
    # offered: the best other pole's pull against the leader's: 0.3/0.9, 0, 0.6/0.8
    np.testing.assert_allclose(out, [1 / 3, 0.5, 1 - 0.5 * 0.25])
    # more help received, or a stronger rival pull, never makes alternatives less credible
    more = rules.credible_alternatives(np.array([0.2, 0.5, 0.5]), target, leader_pole=0)
    assert np.all(more >= out)


def test_remember_fades_and_fills():
    np.testing.assert_allclose(
        rules.remember(np.array(0.8), np.array(0.0), 0.5, rules.fade(2.0, 2.0)), 0.4
    )
    np.testing.assert_allclose(
        rules.remember(np.array(0.0), np.array(1.0), 0.5, rules.fade(2.0, 2.0)), 0.5
    )
    np.testing.assert_allclose(
        rules.remember(np.array(0.5), np.array(9.0), 0.5, rules.fade(2.0, 1.0)), 1.0
    )


def test_helping_pole_in_proportion_to_attraction():
    attraction = np.array([[0.1, 0.0, 0.3]])  # shares 1/4, 0, 3/4
    v = np.array([[0.0, 0.24, 0.26, 0.99, 0.9999999999]])
    np.testing.assert_array_equal(decisions.helping_pole(attraction, v), [[0, 0, 2, 2, 2]])


# --------------------------------------------------------------------------- decisions

P = Parameters().model_dump()

RESPONSE_BASE = dict(
    severity=0.5,
    fit=0.7,
    internal=0.0,
    counterpart_member=0.0,
    affinity=0.2,
    capacity=0.6,
    w_leader=0.5,
    stake=0.5,
    funded=1.0,
)


def _response(**kw):
    args = RESPONSE_BASE | kw
    return decisions.response_probability(
        *(np.asarray(args[k], dtype=float) for k in RESPONSE_BASE), P
    )


@pytest.mark.parametrize(
    "name, sign",
    [
        ("capacity", +1),
        ("w_leader", +1),
        ("stake", +1),
        ("fit", +1),
        ("severity", +1),
        ("funded", +1),
        ("internal", -1),
        ("counterpart_member", -1),
        ("affinity", -1),
    ],
)
def test_response_probability_directions(name, sign):
    grid = np.linspace(0.0, 1.0, 6)
    prob = _response(**{name: grid})
    assert prob.shape == grid.shape
    assert np.all((prob > 0) & (prob < 1))
    assert np.all(sign * np.diff(prob) > 0)


def test_response_probability_exact():
    p = P | {k: 0.0 for k in P if k.startswith("response_")} | {"response_base": 0.0}
    args = [np.asarray(RESPONSE_BASE[k], dtype=float) for k in RESPONSE_BASE]
    assert decisions.response_probability(*args, p) == 0.5
    p["response_capacity"] = 2.0
    np.testing.assert_allclose(
        decisions.response_probability(*args, p), rules.sigmoid(np.array(1.2))
    )


REQUEST_BASE = dict(severity=0.5, trust=0.5, fit=0.7, w_leader=0.5, against_member=0.0)


def _request(**kw):
    args = REQUEST_BASE | kw
    return decisions.request_probability(
        *(np.asarray(args[k], dtype=float) for k in REQUEST_BASE), P
    )


@pytest.mark.parametrize(
    "name, sign",
    [("severity", +1), ("trust", +1), ("fit", +1), ("w_leader", +1), ("against_member", -1)],
)
def test_request_probability_directions(name, sign):
    prob = _request(**{name: np.linspace(0.0, 1.0, 6)})
    assert np.all(sign * np.diff(prob) > 0)


def test_request_probability_exact():
    prob = _request(severity=1.0, trust=0.5, fit=0.0, w_leader=0.25, against_member=1.0)
    x = (
        P["request_base"]
        + P["request_severity"]
        + 0.5 * P["request_trust"]
        - 0.75 * P["request_sovereignty"]
        - P["request_against_member"]
    )
    np.testing.assert_allclose(prob, 1.0 / (1.0 + np.exp(-x)))


def test_effective_fit_and_budget():
    fit = decisions.effective_fit(np.array([1.0, 0.5]), np.array([True, False]), 0.3)
    np.testing.assert_allclose(fit, [1.0, 0.15])
    funded = decisions.funded_budget(np.array([0.5, 0.3, 0.2]), np.array([True, False, True]))
    np.testing.assert_allclose(funded, 0.7)


def test_bilateral_probability_in_range():
    w, target = simplex(4, 3), simplex(4, 3)
    prob = decisions.bilateral_probability(w, target, 0.6)
    assert np.all((prob >= 0) & (prob <= 0.6))
    # a member wholly aligned with the pole that pulls it wholly gets the full scale
    one = decisions.bilateral_probability(np.array([0.0, 1.0, 0.0]), np.array([0.0, 1.0, 0.0]), 0.6)
    np.testing.assert_allclose(one, 0.6)
    # the chance is the alignment-weighted pull: 0.6 * (0.5 * 0.2 + 0.5 * 0.8)
    half = decisions.bilateral_probability(np.array([0.5, 0.5]), np.array([0.2, 0.8]), 0.6)
    np.testing.assert_allclose(half, 0.3)


# --------------------------------------------------------------------------- broadcasting over replicas

R, M, PO = 3, 5, 4


def _stack_equals_slices(fn, stacked_args, shared_args=(), n_out=1):
    """fn(*stacked) equals [fn(*slice_r) for r] for every output."""
    whole = fn(*stacked_args, *shared_args)
    whole = whole if n_out > 1 else (whole,)
    for r in range(R):
        part = fn(*(a[r] for a in stacked_args), *shared_args)
        part = part if n_out > 1 else (part,)
        for full, one in zip(whole, part, strict=True):
            np.testing.assert_array_equal(np.asarray(full)[r], one)


def test_broadcast_normalise_anti_away():
    w = RNG.random((R, M, PO))
    w[0, 1] = 0.0  # a zero row takes the fallback
    _stack_equals_slices(rules.normalise, (w,))
    _stack_equals_slices(lambda x: rules.normalise(x, np.full(PO, 1 / PO)), (w,))
    _stack_equals_slices(rules.repel, (simplex(R, M, PO), simplex(R, M, PO)))
    _stack_equals_slices(lambda x: rules.away_from(x, 1), (simplex(R, M, PO),))


def test_broadcast_move_toward():
    w, target = simplex(R, M, PO), simplex(R, M, PO)
    share = RNG.random((R, M, 1))
    _stack_equals_slices(rules.move_toward, (w, target, share))
    # a per-member share shared by every replica
    _stack_equals_slices(rules.move_toward, (w, target), (RNG.random((M, 1)),))
    _stack_equals_slices(rules.move_toward, (w, target), (0.3,))


def test_broadcast_move_toward_per_member_share_on_commitment_stack():
    c, anchor = RNG.random((M, M)), RNG.random((M, M))  # R == M: the misalignment is silent
    share = RNG.random(M)
    out = rules.move_toward(c, anchor, share)
    for r in range(M):
        np.testing.assert_array_equal(out[r], rules.move_toward(c[r], anchor[r], share))


def test_broadcast_pole_target():
    w = simplex(R, M, PO)
    offers = RNG.random((R, M, PO))
    offers[1, 2] = 0.0
    _stack_equals_slices(rules.pole_target, (RNG.random((R, 1, PO)), offers, w))
    _stack_equals_slices(
        lambda o, x: rules.pole_target(np.array([1.0, 0.5, 2.0, 0.1]), o, x), (offers, w)
    )


def test_broadcast_social_target():
    w = simplex(R, M, PO)
    ties = RNG.uniform(-1, 1, (M, M))
    ties = (ties + ties.T) / 2
    np.fill_diagonal(ties, 0.0)
    ties[3, :] = ties[:, 3] = 0.0  # an isolated member
    target = rules.social_target(w, ties)
    assert target.shape == (R, M, PO) and rules.tie_strength(ties).shape == (M,)
    for r in range(R):
        one = rules.social_target(w[r], ties)
        np.testing.assert_array_equal(target[r], one)


def test_broadcast_event_feedback():
    c, b = RNG.random((R, M)), RNG.random((R, M))
    answered = RNG.random((R, M)) * (RNG.random((R, M)) < 0.4)
    ignored = RNG.random((R, M)) * (RNG.random((R, M)) < 0.4)
    watching = RNG.random((R, M)) < 0.8
    _stack_equals_slices(
        rules.event_feedback,
        (c, b, answered, ignored, watching),
        (0.3, 0.35, 0.4, 0.25),
        n_out=2,
    )


def test_broadcast_alignment_shock():
    w = simplex(R, M, PO)
    answered = RNG.random((R, M)) * (RNG.random((R, M)) < 0.5)
    ignored = 2 * RNG.random((R, M)) * (RNG.random((R, M)) < 0.5)
    _stack_equals_slices(rules.alignment_shock, (w, answered, ignored), (0, 0.3, 0.4))


def test_broadcast_membership_and_small_rules():
    status = RNG.integers(0, 4, (R, M))
    c = RNG.random((R, M))
    cost = RNG.random((R, M)) * 0.2
    u = RNG.random((R, M))
    util = rules.membership_utilities(RNG.normal(size=(R, M)), cost)
    _stack_equals_slices(
        lambda s, x, v: rules.membership_choice(s, x, v, 0.5, 2.0), (status, util, u)
    )
    _stack_equals_slices(lambda a, t: rules.commitment_anchor(a, t, 0.4), (c, RNG.random((R, M))))
    _stack_equals_slices(lambda a, t: rules.credible_alternatives(a, t, 1), (c, simplex(R, M, PO)))
    _stack_equals_slices(
        lambda lev, cap: rules.exit_cost(lev, cap, 0.25), (c, RNG.random((R, 1)) * 1.2)
    )


def test_broadcast_decisions():
    sev, trust, fit = RNG.random((R, M)), RNG.random((R, M)), RNG.random((R, M))
    _stack_equals_slices(
        decisions.request_probability, (sev, trust, fit, RNG.random((R, M)), fit > 0.5), (P,)
    )
    stacked = tuple(RNG.random((R, M)) for _ in range(9))
    _stack_equals_slices(decisions.response_probability, stacked, (P,))
    territorial = RNG.random((R, M)) < 0.5
    _stack_equals_slices(lambda f, t: decisions.effective_fit(f, t, 0.3), (fit, territorial))
    _stack_equals_slices(
        decisions.bilateral_probability, (simplex(R, M, PO), simplex(R, M, PO)), (0.6,)
    )
    _stack_equals_slices(decisions.helping_pole, (simplex(R, M, PO), RNG.random((R, M, 8))))
    _stack_equals_slices(
        decisions.funded_budget, (RNG.random((R, M)) / M, RNG.random((R, M)) < 0.7)
    )
