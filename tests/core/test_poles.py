"""Poles react: rivals court where the leader weakens and members drift; the leader courts
or coerces the members drifting away."""

from __future__ import annotations

import numpy as np
from conftest import run_variant

from csto_sim.core import rules
from csto_sim.core.parameters import Parameters

P = Parameters().model_dump()
INTEREST = np.array([[0.0, 0.4, 0.0]])  # one member, poles (leader, rival with ties, rival without)


def lift(capacity, distance, courting=True):
    return rules.pole_reactions(INTEREST, capacity, np.array([distance]), 0, courting, P)[0]


def test_rivals_court_where_they_have_ties_as_the_leader_weakens():
    strong, weak = lift(1.0, 0.0), lift(0.3, 0.0)
    assert strong[1] == 0.0 and weak[1] > 0.0
    assert weak[2] == 0.0  # no ties, no foothold to build on
    assert np.isclose(weak[1], P["rival_weakness"] * 0.7 * 0.4)


def test_rivals_court_the_drifting_and_the_leader_courts_back_only_when_it_courts():
    near, far = lift(0.8, 0.1), lift(0.8, 0.6)
    assert (far[1:] > near[1:]).all()
    assert far[0] > near[0] > 0.0
    assert lift(0.8, 0.6, courting=False)[0] == 0.0
    assert lift(0.0, 0.6)[0] == 0.0  # no free capacity, nothing to court with


def test_coercion_raises_leverage_over_drifting_members_within_bounds():
    leverage = np.array([0.2, 0.9])
    distance = np.array([0.5, 0.5])
    assert (rules.coerced_leverage(leverage, distance, False, 0.5) == leverage).all()
    out = rules.coerced_leverage(leverage, distance, True, 0.5)
    assert out.tolist() == [0.45, 1.0]


def test_the_leaders_strategy_changes_what_members_do(standalone):
    def final(strategy):
        return run_variant(standalone, alliance={"leader_strategy": strategy})[1]

    court, coerce, neither = final("court"), final("coerce"), final("neither")
    leader = standalone.member_names.index(standalone.alliance.leader)
    others = [i for i in range(len(standalone.member_names)) if i != leader]
    russia = standalone.pole_names.index(standalone.alliance.leader_pole)
    # courting keeps drifting members closer to the leader than doing nothing
    assert court.w[:, -1, others, russia].mean() > neither.w[:, -1, others, russia].mean()
    # coercion breeds grievance
    assert coerce.g[:, -1, others].mean() > neither.g[:, -1, others].mean()
