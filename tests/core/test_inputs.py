"""The parts of ``compile_inputs``, each on a small scenario with values worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from csto_sim.core import inputs, threats
from csto_sim.core.scenario import ScenarioError, scenario_from_data
from csto_sim.core.vocabulary import THREAT_KINDS

K = {k: i for i, k in enumerate(THREAT_KINDS)}


def small(**changes):
    """Three members (L leads), two poles (L's own and E), two years of half-year steps."""
    data = {
        "name": "small",
        "time": {"start": 2000.0, "end": 2002.0, "step": 0.5},
        "alliance": {"leader": "L", "leader_pole": "P", "leader_distraction": 0.5},
        "poles": {
            "P": {"strength": [[2000.0, 1.0], [2002.0, 0.0]]},
            "E": {"strength": 2.0, "security_reach": -0.5, "economic_reach": 0.25},
        },
        "members": {
            "L": {"alignment": {"P": 1.0}, "commitment": 1.0, "capability": 0.6},
            "A": {
                "alignment": {"P": 0.5, "E": 0.5},
                "commitment": 0.5,
                "capability": 0.2,
                "adversaries": ["X"],
                "economic": {"P": 0.2, "E": 0.8},
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
                "channel": "security",
                "pull_change": 0.7,
            },
            "everyone": {
                "date": 2000.0,
                "kind": "pole_shift",
                "pole": "P",
                "channel": "economic",
                "pull_change": -0.3,
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
        "ties": {
            "base": {"kind": "base", "member": "A", "pole": "P", "start": 2000.6, "end": 2001.6},
            "border": {"kind": "border", "member": "B", "pole": "E"},
        },
        "parameters": {
            "distraction_halflife": 0.5,
            "tie_security": {"base": 1.0, "border": 0.5},
            "tie_economic": {"base": 0.0, "border": 2.0},
        },
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


def test_attraction_is_reach_ties_and_pole_shifts_and_the_leader_is_its_own_pole():
    s = small()
    years = 2000.0 + 0.5 * np.arange(5)  # steps start 2000, 2000.5, 2001, 2001.5
    security, economic = inputs.attractions(s, years, leader=0, leader_pole=0)
    a, b = 1, 2
    # A: the base with P (2000.6-2001.6) holds at the start of the steps of 2001 and 2001.5;
    # its security pull from E (reach -0.5) grows by 0.7 from the step of 2001.2 on
    np.testing.assert_allclose(security[:, a, 0], np.exp([0.0, 0.0, 1.0, 1.0]))
    np.testing.assert_allclose(security[:, a, 1], np.exp([-0.5, -0.5, 0.2, 0.2]))
    # the shift without a member moves every member's economic pull from P but the leader's
    np.testing.assert_allclose(economic[:, a, 0], np.exp(-0.3))
    np.testing.assert_allclose(economic[:, b, 0], np.exp(-0.3))
    # B borders E: weight 0.5 (security) and 2.0 (economic), on top of E's reach
    np.testing.assert_allclose(security[:, b, 1], np.exp(-0.5 + 0.5))
    np.testing.assert_allclose(economic[:, b, 1], np.exp(0.25 + 2.0))
    # the leader is attracted by its own pole only
    np.testing.assert_array_equal(security[:, 0], [[1.0, 0.0]] * 4)
    np.testing.assert_array_equal(economic[:, 0], [[1.0, 0.0]] * 4)
    accession = inputs.accessions(s, years)
    assert accession[:, b].tolist() == [False, False, False, True]
    assert not accession[:, :b].any()


def test_a_members_affinity_adds_to_its_attraction_in_its_channel_only():
    base = small()
    members = dict(base.members)
    members["A"] = members["A"].model_copy(update={"economic_affinity": {"E": 0.4}})
    members["B"] = members["B"].model_copy(update={"security_affinity": {"P": -1.0}})
    s = base.model_copy(update={"members": members})
    years = 2000.0 + 0.5 * np.arange(5)
    sec0, eco0 = inputs.attractions(base, years, leader=0, leader_pole=0)
    sec, eco = inputs.attractions(s, years, leader=0, leader_pole=0)
    np.testing.assert_allclose(eco[:, 1, 1], eco0[:, 1, 1] * np.exp(0.4))
    np.testing.assert_allclose(eco[:, 1, 0], eco0[:, 1, 0])
    np.testing.assert_allclose(sec[:, 1], sec0[:, 1])  # A's security pull: unchanged
    np.testing.assert_allclose(sec[:, 2, 0], sec0[:, 2, 0] * np.exp(-1.0))
    np.testing.assert_allclose(eco[:, 2], eco0[:, 2])


def test_an_affinity_for_an_unknown_pole_is_refused():
    with pytest.raises(ScenarioError, match="economic_affinity"):
        small(members={"L": {"alignment": {"P": 1.0}, "commitment": 1.0, "capability": 0.6,
                             "economic_affinity": {"Q": 0.5}}})  # fmt: skip


def test_initial_state_takes_economic_alignment_or_the_security_one():
    st = inputs.initial_state(small())
    np.testing.assert_allclose(st.e[1], [0.2, 0.8])
    np.testing.assert_allclose(st.e[2], st.w[2])  # none given: the security alignment
    assert (st.g == 0).all() and (st.a == 0).all()


def test_ties_are_symmetric_and_hostile_ties_alone_allow_clashes_between_members():
    s = small()
    ties = inputs.tie_matrix(s)
    np.testing.assert_array_equal(ties, ties.T)
    assert ties[1, 2] == -0.5 and ties[0, 1] == 0.8
    counterparts, affinity, is_member = threats.counterpart_table(s)
    assert counterparts == ["L", "A", "B", "X"]
    np.testing.assert_array_equal(affinity, [0, 0, 0, 0.3])
    np.testing.assert_array_equal(is_member, [0, 1, 2, -1])
    years = s.time.start + 0.5 * np.arange(3)
    h = threats.hazard_options(s, ties, counterparts, is_member, affinity, 0.5, years)
    clash = K["intra_alliance_clash"]
    assert h["p_event"][0, 0, clash] == 0.0  # the leader has no hostile tie
    assert h["p_event"][0, 1, clash] == pytest.approx(1 - np.exp(-0.5))
    assert h["option_table"][1, clash, 0] == 2 and h["option_member_share"][1, clash] == 1.0
    unrest = K["internal_unrest"]
    assert (h["option_count"][:, unrest] == 0).all()
    border = K["border_clash"]
    assert h["option_table"][1, border, 0] == 3 and h["option_affinity"][1, border] == 0.3
    assert h["p_event"][0, 1, border] == pytest.approx(1 - np.exp(-1.0))
    np.testing.assert_allclose(h["kind_weights"].sum(axis=1), 1.0)


def test_a_hazard_change_scales_one_members_rate_of_one_kind_from_its_step_on():
    events = small().model_dump()["events"] | {
        "truce": {
            "date": 2001.2,
            "kind": "hazard_change",
            "member": "A",
            "threat": "border_clash",
            "rate_factor": 0.25,
        }
    }
    s = small(events=events)
    years = 2000.0 + 0.5 * np.arange(5)
    rates = np.zeros((3, len(THREAT_KINDS)))
    rates[1, K["border_clash"]] = 2.0
    path = threats.hazard_path(s, rates, years)
    np.testing.assert_array_equal(path[:, 1, K["border_clash"]], [2.0, 2.0, 0.5, 0.5])
    assert path[:, [0, 2]].sum() == 0.0  # other members untouched
    p = inputs.compile_inputs(s).p_event
    assert p[3, 1, K["border_clash"]] == pytest.approx(1 - np.exp(-0.25))  # 0.5/yr, half a year
    assert p[3, 1, K["internal_unrest"]] == p[0, 1, K["internal_unrest"]]  # other kinds too


@pytest.mark.parametrize(
    ("change", "key"),
    [({"threat": "border_clash"}, "member"), ({"member": "A", "threat": "flood"}, "threat")],
)
def test_a_hazard_change_names_its_member_and_a_threat_kind(change, key):
    from csto_sim.core.scenario import ScenarioError

    events = {"h": {"date": 2001.0, "kind": "hazard_change", "rate_factor": 0.5} | change}
    with pytest.raises(ScenarioError, match=rf"events\.h\.{key}"):
        small(events=events)


def test_scripted_threats_land_on_their_step():
    s = small()
    years = 2000.0 + 0.5 * np.arange(5)
    counterparts, _, _ = threats.counterpart_table(s)
    scripted = threats.scripted_threats(s, years, counterparts)
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
