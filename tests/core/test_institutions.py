"""The alliance's institutions: the leader's graded answer, the members' vetoes under the
decision rule, and the charter's mediation between members."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import run_variant
from hypothesis import given
from hypothesis import strategies as st

from csto_sim.core import decisions
from csto_sim.core.events import concat_events
from csto_sim.core.parameters import Parameters
from csto_sim.core.rules import sigmoid
from csto_sim.core.vocabulary import (
    DEPLOYMENT,
    INTRA_ALLIANCE_KIND,
    MISSION,
    NO_RESPONSE,
    PEACEKEEPING,
    STATEMENT,
    THREAT_KINDS,
)

P = Parameters().model_dump()


@given(x=st.floats(-12, 12), u=st.floats(0, 1, exclude_max=True))
def test_deployment_or_more_exactly_when_the_draw_is_below_the_deployment_chance(x, u):
    level = decisions.response_levels(np.array(x), np.array(u), P)
    assert (level >= DEPLOYMENT) == (u < sigmoid(np.array(x)))
    assert NO_RESPONSE <= level <= PEACEKEEPING


def test_levels_are_an_ordered_logit_exact():
    p = P | {"level_statement": 4.0, "level_mission": 2.0, "level_peacekeeping": -2.0}
    x = np.zeros(5)
    u = np.array([0.99, sigmoid(4.0) - 1e-9, sigmoid(2.0) - 1e-9, 0.5 - 1e-9, sigmoid(-2.0) - 1e-9])
    assert decisions.response_levels(x, u, p).tolist() == [
        NO_RESPONSE,
        STATEMENT,
        MISSION,
        DEPLOYMENT,
        PEACEKEEPING,
    ]


def test_a_higher_will_never_lowers_the_level():
    u = np.random.default_rng(1).random(1000)
    low = decisions.response_levels(np.full(1000, -3.0), u, P)
    high = decisions.response_levels(np.full(1000, 1.0), u, P)
    assert (high >= low).all() and (high > low).any()


def test_levels_out_of_order_are_refused():
    with pytest.raises(ValueError, match="out of order"):
        Parameters(level_statement=1.0, level_mission=2.0)


def test_decision_rules_exact():
    # one event, five voters; three active members besides them would make seven active
    vetoes = np.array([[[True, False, False, False, False]]])
    active = np.ones((1, 7), dtype=bool)
    assert decisions.blocked(vetoes, active, "consensus").item()
    assert not decisions.blocked(vetoes, active, "majority").item()
    assert not decisions.blocked(vetoes, active, "leader").item()
    four = np.array([[[True, True, True, True, False]]])
    assert decisions.blocked(four, active, "majority").item()  # 4 of 7 active
    assert not decisions.blocked(four, active, "leader").item()


def test_veto_directions():
    base = decisions.veto_logit(np.array(False), np.array(0.0), False, P)
    assert decisions.veto_logit(np.array(True), np.array(0.0), False, P) > base
    assert decisions.veto_logit(np.array(True), np.array(0.0), True, P) == base  # mediation
    assert decisions.veto_logit(np.array(False), np.array(0.3), False, P) > base


@pytest.fixture(scope="module")
def projections(standalone):
    """The standalone baseline (2025-2040, no history) under each rule and with mediation."""

    def events(**alliance):
        inp, _, record = run_variant(standalone, 40, alliance=alliance)
        return inp, concat_events(record)

    return {
        "consensus": events(),
        "leader": events(decision="leader"),
        "mediation": events(mediation=True),
    }


def test_every_request_has_a_level_and_only_requests_have_one(projections):
    _, ev = projections["consensus"]
    asked = ev["requested"].astype(bool)
    assert (ev["level"][~asked] == NO_RESPONSE).all()
    assert (ev["vetoes"][~asked] == 0).all()
    assert (ev["level"][asked] >= STATEMENT).mean() > 0.5  # statements are cheap
    responded = ev["responded"].astype(bool)
    assert (ev["level"][responded] >= MISSION).all()


def test_vetoes_block_collective_action_under_consensus_only(projections):
    _, con = projections["consensus"]
    _, lead = projections["leader"]
    vetoed = con["requested"].astype(bool) & (con["vetoes"] > 0)
    assert vetoed.any(), "no veto in 40 runs: the veto mechanism cannot act"
    assert (con["level"][vetoed] <= STATEMENT).all()
    # the same draws without vetoes: some of the blocked requests are answered
    n_con, n_lead = con["responded"].sum(), lead["responded"].sum()
    assert n_lead > n_con


def test_a_member_vetoes_action_against_itself(projections):
    inp, ev = projections["consensus"]
    intra = (ev["kind"] == THREAT_KINDS.index(INTRA_ALLIANCE_KIND)) & ev["requested"].astype(bool)
    assert intra.any()
    assert ev["vetoes"][intra].mean() > 0.5
    answered = intra & ev["responded"].astype(bool)
    assert answered.sum() < 0.1 * intra.sum()
    assert (ev["vetoes"][answered] == 0).all()  # under consensus only an unvetoed one


def test_mediation_answers_clashes_between_members_with_a_mission(projections):
    _, ev = projections["mediation"]
    kind = ev["kind"] == THREAT_KINDS.index(INTRA_ALLIANCE_KIND)
    answered = kind & ev["responded"].astype(bool)
    assert answered.any()
    # mediation between two active members goes no further than a mission (a clash with a
    # frozen or withdrawn member is not mediated)
    assert (ev["level"][answered] == MISSION).mean() > 0.9


def test_members_expect_mediation_to_take_no_side(projections, standalone):
    """Trust anticipates what the charter does: under mediation a member's expected chance
    of an answer is that of its threats with the reluctance to take sides left out."""
    from dataclasses import replace

    from csto_sim.core.inputs import initial_state

    inp, _ = projections["consensus"]
    state = initial_state(standalone)
    plain = decisions.expected_chance(inp, 0, state.status, state.w)
    mediated = decisions.expected_chance(replace(inp, mediation=True), 0, state.status, state.w)
    no_members = replace(inp, option_member_share=np.zeros_like(inp.option_member_share))
    exposed = (inp.kind_weights * inp.option_member_share).sum(axis=-1) > 0
    assert exposed.any() and (mediated[exposed] > plain[exposed]).all()
    assert np.array_equal(mediated[~exposed], plain[~exposed])
    assert np.allclose(mediated, decisions.expected_chance(no_members, 0, state.status, state.w))
