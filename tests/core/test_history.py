"""Projections continue the hindcast run by run; the history's pull comes from structural facts."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import HINDCAST

from csto_sim import load_scenario
from csto_sim.core.batch import history_seeds, run_batch, run_history
from csto_sim.core.inputs import compile_inputs, continued_state, inputs_for
from csto_sim.core.randomness import run_seed
from csto_sim.core.rules import pole_target
from csto_sim.core.state import State


def test_projection_run_starts_where_the_same_hindcast_run_ended(baseline):
    """Without conditioning on the record (see test_conditioning for it)."""
    baseline = baseline.model_copy(update={"condition": False})
    runs = [0, 3, 11]
    inp, h, _ = run_batch(
        baseline, [run_seed(baseline.seed, r) for r in runs], history_seeds(baseline, runs)
    )
    # the hindcast itself, run with its own parameters and its own seeds for these runs
    past_spec = baseline.history
    past_inp, past, _ = run_batch(past_spec, [run_seed(past_spec.seed, r) for r in runs])
    assert history_seeds(baseline, runs) == [run_seed(2002, r) for r in runs]
    for i, name in enumerate(inp.members):
        j = past_inp.members.index(name)
        np.testing.assert_array_equal(h.w[:, 0, i], past.w[:, -1, j])
        np.testing.assert_array_equal(h.e[:, 0, i], past.e[:, -1, j])
        for f in ("c", "b", "g", "a", "status"):
            np.testing.assert_array_equal(getattr(h, f)[:, 0, i], getattr(past, f)[:, -1, j])


def test_the_whole_span_is_there_on_request(baseline):
    """run_history gives the 2002-2024 part of the same runs: its last state is where the
    projection starts."""
    runs = [2, 5]
    past_inp, past, record = run_history(baseline, history_seeds(baseline, runs))
    inp, h, _ = run_batch(
        baseline, [run_seed(baseline.seed, r) for r in runs], history_seeds(baseline, runs)
    )
    assert past_inp.years[0] == 2002.0 and past_inp.years[-1] == inp.years[0] == 2025.0
    assert sum(len(x) for x in record["step"]) > 0  # the history's threats are recorded
    for i, name in enumerate(inp.members):
        j = past_inp.members.index(name)
        np.testing.assert_array_equal(h.c[:, 0, i], past.c[:, -1, j])
    with pytest.raises(ValueError, match="continues no history"):
        run_history(load_scenario(HINDCAST), [1])


def test_a_history_needs_its_seeds(baseline):
    with pytest.raises(ValueError, match="history seed"):
        run_batch(baseline, [1, 2])


def test_continued_state_matches_members_and_poles_by_name(standalone):
    past = inputs_for(load_scenario(HINDCAST))
    inp = inputs_for(standalone)
    end = State.initial(past.initial, replicas=2)
    end.c[:] = np.arange(len(past.members)) / 10  # a recognisable value per member
    start = continued_state(past, end, inp)
    for i, name in enumerate(inp.members):
        assert start.c[0, i] == pytest.approx(past.members.index(name) / 10)
    assert start.status.dtype == end.status.dtype and start.w.shape == (2, len(inp.members), 4)


def test_chinas_economic_pull_at_least_doubles_for_every_member_by_2014():
    """China's economic pull (target share) on each member, 2002 to 2014, grows with its
    capability for every member, at least twofold (the trade data: China's share of each
    member's trade grew 2.1- to 38-fold), with no judged per-member number involved (the
    members' economic affinities are measured, build.fit_pull)."""
    inp = compile_inputs(load_scenario(HINDCAST))
    china, t14 = inp.poles.index("China"), int(np.searchsorted(inp.years, 2014.0))
    before = pole_target(inp.economic_strength[0], inp.economic_offers[0], inp.initial.e)
    after = pole_target(inp.economic_strength[t14], inp.economic_offers[t14], inp.initial.e)
    members = [i for i in range(len(inp.members)) if i != inp.leader]
    assert (after[members, china] > 2.0 * before[members, china]).all()


def test_the_leader_stays_with_its_own_pole(hindcast):
    inp, h, _ = run_batch(hindcast, [run_seed(hindcast.seed, r) for r in range(20)])
    assert h.w[:, :, inp.leader, inp.leader_pole].min() > 0.95
    assert (h.e[:, :, inp.leader, inp.leader_pole] == 1.0).all()


def test_frozen_members_face_threats_get_help_and_learn(standalone):
    """A frozen member cannot ask the alliance, but help from another pole makes its
    alternatives credible and pulls its security alignment toward that pole."""
    members = dict(standalone.members)
    members["Armenia"] = members["Armenia"].model_copy(update={"hazards": {"border_clash": 4.0}})
    spec = standalone.model_copy(update={"members": members}).with_parameters(
        bilateral_help=1.0, alternatives_gain=0.8
    )
    inp, h, record = run_batch(spec, [run_seed(spec.seed, r) for r in range(20)])
    i = inp.members.index("Armenia")
    member, run, step = (np.concatenate(record[k]) for k in ("member", "run", "step"))
    requested, helped = np.concatenate(record["requested"]), np.concatenate(record["helped"])
    mine = member == i
    status_then = h.status[run[mine], step[mine], i]  # its status when struck
    assert (status_then == 2).any() and helped[mine][status_then == 2].any()
    # only an active member asks: none of its threats while frozen was brought to the alliance
    assert not requested[mine][status_then != 1].any()
    assert h.a[:, -1, i].mean() > 0.2  # help from poles other than Russia was remembered
