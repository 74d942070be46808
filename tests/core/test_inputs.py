"""The parts of ``compile_inputs``, each on a small scenario with values worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from csto_sim.core import inputs
from csto_sim.core.scenario import scenario_from_data
from csto_sim.core.vocabulary import THREAT_KINDS

K = {k: i for i, k in enumerate(THREAT_KINDS)}


def small(**changes):
    """Three members (L leads), two poles (L's own and E), two years of half-year steps."""
    data = {
        "name": "small",
        "time": {"start": 2000.0, "end": 2002.0, "step": 0.5},
        "alliance": {"leader": "L", "leader_pole": "P", "leader_distraction": 0.5},
        "poles": {"P": {"strength": [[2000.0, 1.0], [2002.0, 0.0]]}, "E": {"strength": 2.0}},
        "members": {
            "L": {"alignment": {"P": 1.0}, "commitment": 1.0, "capability": 0.6},
            "A": {
                "alignment": {"P": 0.5, "E": 0.5},
                "commitment": 0.5,
                "capability": 0.2,
                "adversaries": ["X"],
                "offers": {"E": 0.4, "P": [[2000.0, 0.2], [2001.0, 0.6]]},
                "hazards": {"border_clash": 2.0},
            },
            "B": {
                "alignment": {"E": 1.0},
                "commitment": 0.2,
                "capability": 0.1,
                "status": "non_member",
            },
        },
        "relations": {"A": {"B": -0.5}, "L": {"A": 0.8}},
        "actors": {"X": {"leader_affinity": 0.3}},
        "hazards": {"internal_unrest": 1.0, "intra_alliance_clash": 1.0},
        "events": {
            "war": {"date": 2000.6, "kind": "war_elsewhere", "severity": 0.2},
            "shift": {
                "date": 2001.2,
                "kind": "pole_shift",
                "member": "A",
                "pole": "E",
                "offer_change": 0.7,
            },
            "join": {"date": 2001.5, "kind": "accession", "member": "B"},
            "raid": {
                "date": 2000.1,
                "kind": "incursion",
                "member": "A",
                "counterpart": "X",
                "severity": 0.9,
            },
        },
        "parameters": {"distraction_halflife": 0.5},
    } | changes
    return scenario_from_data(data, "small.toml")


def test_distraction_jumps_with_a_war_and_halves_each_half_life():
    s = small()
    years = 2000.0 + 0.5 * np.arange(5)
    # 0.5 at the start; halved to 0.25, then +0.2 from the war in step 1; halved from there
    np.testing.assert_allclose(inputs.distraction_path(s, years), [0.5, 0.45, 0.225, 0.1125])


def test_the_leader_pole_strength_is_its_capacity():
    s = small()
    years = 2000.0 + 0.5 * np.arange(5)
    strength, capacity, leader = inputs.pole_strengths(s, years, leader_pole=0)
    np.testing.assert_allclose(leader, [1.0, 0.75, 0.5, 0.25])  # sampled at each step's start
    np.testing.assert_allclose(capacity, leader * (1 - inputs.distraction_path(s, years)))
    np.testing.assert_allclose(strength[:, 0], capacity)
    np.testing.assert_allclose(strength[:, 1], 2.0)


def test_offers_interpolate_and_pole_shifts_apply_from_their_step_clipped():
    s = small()
    years = 2000.0 + 0.5 * np.arange(5)
    offers, accession = inputs.offers_and_accessions(s, years)
    a, b = 1, 2
    np.testing.assert_allclose(offers[:, a, 0], [0.2, 0.4, 0.6, 0.6])  # flat after the last point
    np.testing.assert_allclose(offers[:, a, 1], [0.4, 0.4, 1.0, 1.0])  # 0.4 + 0.7 capped at 1
    assert offers[:, b].sum() == 0.0
    assert accession[:, b].tolist() == [False, False, False, True]
    assert not accession[:, :b].any()


def test_ties_are_symmetric_and_hostile_ties_alone_allow_clashes_between_members():
    s = small()
    ties = inputs.tie_matrix(s)
    np.testing.assert_array_equal(ties, ties.T)
    assert ties[1, 2] == -0.5 and ties[0, 1] == 0.8
    counterparts, affinity, is_member = inputs.counterpart_table(s)
    assert counterparts == ["L", "A", "B", "X"]
    np.testing.assert_array_equal(affinity, [0, 0, 0, 0.3])
    np.testing.assert_array_equal(is_member, [0, 1, 2, -1])
    h = inputs.hazard_options(s, ties, counterparts, is_member, affinity, dt=0.5)
    clash = K["intra_alliance_clash"]
    assert h["p_event"][0, clash] == 0.0  # the leader has no hostile tie
    assert h["p_event"][1, clash] == pytest.approx(1 - np.exp(-0.5))
    assert h["option_table"][1, clash, 0] == 2 and h["option_member_share"][1, clash] == 1.0
    unrest = K["internal_unrest"]
    assert (h["option_count"][:, unrest] == 0).all()
    border = K["border_clash"]
    assert h["option_table"][1, border, 0] == 3 and h["option_affinity"][1, border] == 0.3
    assert h["p_event"][1, border] == pytest.approx(1 - np.exp(-1.0))
    np.testing.assert_allclose(h["kind_weights"].sum(axis=1), 1.0)


def test_scripted_threats_land_on_their_step():
    s = small()
    years = 2000.0 + 0.5 * np.arange(5)
    counterparts, _, _ = inputs.counterpart_table(s)
    scripted = inputs.scripted_threats(s, years, counterparts)
    assert list(scripted) == [0]
    (raid,) = scripted[0]
    assert (raid.member, raid.kind, raid.counterpart, raid.severity) == (1, K["incursion"], 3, 0.9)


def test_stake_is_relative_to_the_largest_follower_and_influence_to_the_pair():
    s = small()
    stake, influence = inputs.capability_terms(s, leader=0, ties=inputs.tie_matrix(s))
    np.testing.assert_allclose(stake, [1.0, 1.0, 0.5])  # 0.6 / 0.2 clipped at 1; 0.1 / 0.2
    assert influence[1, 0] == pytest.approx(0.8 * 0.6 / 0.8)  # A listens to L by L's share
    assert influence[0, 1] == pytest.approx(0.8 * 0.2 / 0.8)


def test_rate_shares_are_precomputed_once():
    s = small()
    inp = inputs.compile_inputs(s)
    p = inp.params
    assert inp.shares.pole_pull == pytest.approx(1 - np.exp(-p["pole_pull_rate"] * 0.5))
    strength = np.abs(inp.influence).sum(axis=1)
    np.testing.assert_allclose(inp.shares.network, 1 - np.exp(-p["network_rate"] * strength * 0.5))
    assert inp.noise_shape == (4, 3, len(THREAT_KINDS))
    assert inputs.inputs_for(s) is inputs.inputs_for(s)
