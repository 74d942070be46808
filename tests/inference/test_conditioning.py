"""Projections conditioned on the record: the guided membership choice, the record as
data, the particle filter, and conditioned runs that start from the recorded statuses,
the same in both engines and whatever runs are asked for."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import BASELINE
from hypothesis import given
from hypothesis import strategies as st

from csto_sim import load_scenario
from csto_sim.core import rules
from csto_sim.core.inputs import (
    ANY_STATUS,
    history_scenario,
    inputs_for,
    recorded_requests,
    recorded_statuses,
)
from csto_sim.core.scenario import ScenarioError
from csto_sim.core.vocabulary import (
    ACTIVE,
    FROZEN,
    NON_MEMBER,
    STATUSES,
    THREAT_KINDS,
    WITHDRAWN,
)
from csto_sim.experiments.engines import run_chunk
from csto_sim.inference import conditioning
from csto_sim.inference.posterior import Posterior, choose_posterior

GRID = (np.arange(20000) + 0.5) / 20000  # uniforms spread evenly over [0, 1)


def _case(status: int, utilities=(0.3, -0.5, -1.2), share=0.4, bias=1.0):
    s = np.full(GRID.shape, status, dtype=np.int8)
    u = np.broadcast_to(np.asarray(utilities, dtype=float), (*GRID.shape, 3))
    return s, u, share, bias


@pytest.mark.parametrize("status", [NON_MEMBER, ACTIVE, FROZEN, WITHDRAWN])
def test_membership_probabilities_are_the_frequencies_of_the_choice(status):
    s, u, share, bias = _case(status)
    chosen = rules.membership_choice(s, u, GRID, share, bias)
    freq = np.bincount(chosen, minlength=len(STATUSES)) / len(GRID)
    p = rules.membership_probabilities(s[:1], u[:1], share, bias)[0]
    assert p.sum() == pytest.approx(1.0)
    assert np.abs(freq - p).max() < 1e-3


def test_guided_choice_draws_within_the_record_with_the_chance_of_it():
    s, u, share, bias = _case(FROZEN)
    p = rules.membership_probabilities(s, u, share, bias)
    allowed = np.full(GRID.shape, (1 << ACTIVE) | (1 << WITHDRAWN), dtype=np.int8)
    chosen, log_chance = rules.guided_choice(s, p, allowed, GRID)
    assert set(np.unique(chosen)) == {ACTIVE, WITHDRAWN}
    total = p[0, ACTIVE] + p[0, WITHDRAWN]
    assert np.allclose(log_chance, np.log(total))
    assert (chosen == ACTIVE).mean() == pytest.approx(p[0, ACTIVE] / total, abs=1e-3)


def test_guided_choice_without_a_record_is_the_free_choice_in_law():
    s, u, share, bias = _case(ACTIVE)
    p = rules.membership_probabilities(s, u, share, bias)
    chosen, log_chance = rules.guided_choice(s, p, np.full(GRID.shape, ANY_STATUS), GRID)
    free = rules.membership_choice(s, u, GRID, share, bias)
    assert np.allclose(log_chance, 0.0)
    assert np.bincount(chosen, minlength=4) / len(GRID) == pytest.approx(
        np.bincount(free, minlength=4) / len(GRID), abs=1e-3
    )


def test_a_record_the_member_cannot_reach_keeps_its_status_with_no_chance():
    s, u, share, bias = _case(ACTIVE)
    p = rules.membership_probabilities(s[:3], u[:3], share, bias)
    chosen, log_chance = rules.guided_choice(s[:3], p, np.full(3, 1 << WITHDRAWN), GRID[:3])
    assert (chosen == ACTIVE).all() and np.isneginf(log_chance).all()


@given(
    status=st.sampled_from([ACTIVE, FROZEN, WITHDRAWN, NON_MEMBER]),
    utilities=st.lists(st.floats(-20, 20), min_size=3, max_size=3),
    share=st.floats(0.0, 1.0),
    allowed=st.integers(1, ANY_STATUS),
    u=st.floats(0.0, 1.0, exclude_max=True),
)
def test_guided_choice_stays_within_what_is_allowed(status, utilities, share, allowed, u):
    s = np.array([status], dtype=np.int8)
    p = rules.membership_probabilities(s, np.array([utilities]), share, 0.5)
    chosen, log_chance = rules.guided_choice(s, p, np.array([allowed]), np.array([u]))
    assert np.isclose(p.sum(), 1.0) and (p >= 0).all()
    if np.isfinite(log_chance[0]):
        assert allowed >> int(chosen[0]) & 1
        assert p[0, chosen[0]] > 0
        assert log_chance[0] <= 1e-12
    else:
        assert chosen[0] == status


def test_the_record_is_data_from_the_event_history():
    past = load_scenario(BASELINE).history
    known = recorded_statuses(past, inputs_for(past).years)
    members, years = past.member_names, inputs_for(past).years
    armenia, uzbekistan = members.index("Armenia"), members.index("Uzbekistan")
    after = years[1:]  # the status a step's entry holds is the status at its end
    assert (known[after <= 2024.0, armenia] == 1 << ACTIVE).all()
    assert (known[after >= 2024.25, armenia] == 1 << FROZEN).all()
    assert (known[after >= 2012.75, uzbekistan] == (1 << FROZEN) | (1 << WITHDRAWN)).all()
    assert (known[after <= 2006.5, uzbekistan] == 1 << NON_MEMBER).all()
    assert inputs_for(past).known is None  # the hindcast itself is never guided
    assert inputs_for(history_scenario(load_scenario(BASELINE))).known is not None


def test_a_guided_draw_gives_the_recorded_outcome_with_its_chance():
    chance = np.array([0.3, 0.3, 0.3, 0.0, 0.8])
    possible = np.array([True, True, True, True, False])
    known = np.array([1, 0, -1, 1, 0])
    u = np.full(5, 0.5)
    moved, log = rules.guided_draw(possible, chance, known, u)
    np.testing.assert_allclose(moved, [0.15, 0.65, 0.5, 0.0, 0.5])
    assert list(moved < np.where(possible, chance, 0.0)) == [True, False, False, False, False]
    np.testing.assert_allclose(np.exp(log), [0.3, 0.7, 1.0, 0.0, 1.0])


@given(
    chance=st.floats(0.0, 1.0),
    known=st.sampled_from([-1, 0, 1]),
    u=st.floats(0.0, 1.0, exclude_max=True),
)
def test_a_guided_draw_holds_the_record_or_has_no_chance(chance, known, u):
    moved, log = rules.guided_draw(np.array(True), np.array(chance), np.array(known), np.array(u))
    happened = bool(moved < chance)
    if known == -1:
        assert moved == u and log == 0.0
    elif np.isfinite(log):
        assert happened == (known == 1) and 0.0 <= moved < 1.0
    else:
        assert chance == (0.0 if known == 1 else 1.0)


def test_a_guided_draw_keeps_the_conditional_law_of_the_draw():
    """Drawn below the chance, the draw is uniform there: what else it decides (how far an
    answer goes) keeps its law given the recorded outcome."""
    moved, _ = rules.guided_draw(np.True_, np.array(0.4), np.array(1), GRID)
    assert np.allclose(np.quantile(moved, [0.25, 0.5, 0.75]), [0.1, 0.2, 0.3], atol=1e-3)


def test_the_recorded_requests_are_data_from_the_event_history():
    past = load_scenario(BASELINE).history
    inp = inputs_for(past)
    known = recorded_requests(past, inp.years)
    asked, answered = known["known_request"], known["known_answer"]
    assert (asked == 1).sum() == 4 and (asked == 0).sum() == 7  # Tajikistan 2021: not asked
    assert (answered == 1).sum() == 1 and (answered == 0).sum() == 3  # Kazakhstan 2022 alone
    kaz, unrest = past.member_names.index("Kazakhstan"), THREAT_KINDS.index("internal_unrest")
    step = int(np.searchsorted(inp.years, 2022.0 + 4 / 365, side="right")) - 1
    assert asked[step, kaz, unrest] == 1 and answered[step, kaz, unrest] == 1
    assert inp.known_request is None  # the hindcast itself is never guided
    guided = inputs_for(history_scenario(load_scenario(BASELINE)))
    np.testing.assert_array_equal(guided.known_request, asked)


def test_a_recorded_request_must_name_a_scripted_threat(tmp_path):
    path = tmp_path / "x.toml"
    hindcast = BASELINE.parent / "hindcast_2002_2024.toml"
    path.write_text(
        f'extends = "{hindcast}"\nname = "x"\n[recorded_requests.flood_2003]\nasked = true\n'
    )
    with pytest.raises(
        ScenarioError, match="recorded_requests.flood_2003: unknown scripted threat"
    ):
        load_scenario(path)
    label = "2021-04-28_intra_alliance_clash_Kyrgyzstan"
    path.write_text(
        f'extends = "{hindcast}"\nname = "x"\n[recorded_requests.{label}]\n'
        "asked = false\nanswered = true\n"
    )
    with pytest.raises(ScenarioError, match="cannot be answered"):
        load_scenario(path)


def test_a_record_for_an_unknown_member_is_refused(tmp_path):
    path = tmp_path / "x.toml"
    path.write_text(
        f'extends = "{BASELINE.parent / "hindcast_2002_2024.toml"}"\nname = "x"\n'
        '[[record.Narnia]]\ndate = 2003.0\nstatus = ["active"]\n'
    )
    with pytest.raises(ScenarioError, match="record.Narnia: unknown member"):
        load_scenario(path)


@pytest.fixture(scope="module")
def conditioned():
    """A few runs of the baseline over the production posterior, in both engines."""
    s = load_scenario(BASELINE)
    post = choose_posterior([s], None)
    runs = [0, 1, 7, 130]
    batch = run_chunk(s, runs, s.seed, "batch", ("runs", "members"), True, post)
    return s, post, runs, batch


def test_conditioned_runs_start_from_the_recorded_statuses(conditioned):
    s, post, runs, _ = conditioned
    out = run_chunk(s, list(range(40)), s.seed, "batch", ("runs", "timeseries"), False, post)
    start = (
        out["timeseries"].query("step == 0").pivot(index="run", columns="member", values="status")
    )
    assert (start["Armenia"] == "frozen").all()
    others = ["Russia", "Belarus", "Kazakhstan", "Kyrgyzstan", "Tajikistan"]
    assert (start[others] == "active").all().all()


def test_conditioned_histories_hold_the_recorded_requests_and_answers(conditioned):
    s, post, _, _ = conditioned
    out = run_chunk(s, list(range(30)), s.seed, "batch", ("runs", "events"), True, post)
    ev = out["events"].query("period == 'history'")
    for label, r in s.history.recorded_requests.items():
        rows = ev[ev["label"] == label]
        assert len(rows) == 30, label
        assert (rows["requested"] == r.asked).all(), label
        if r.answered is not None:
            assert (rows["responded"] == r.answered).all(), label


def test_the_engines_give_the_same_conditioned_runs(conditioned):
    s, post, runs, batch = conditioned
    agents = run_chunk(s, runs[:2], s.seed, "agents", ("runs", "members"), True, post)
    for name in ("runs", "members"):
        a = agents[name].reset_index(drop=True)
        b = batch[name][batch[name]["run"].isin(runs[:2])].reset_index(drop=True)
        pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_what_a_run_continues_does_not_depend_on_the_runs_asked_for(conditioned):
    s, post, runs, batch = conditioned
    alone = conditioning.sources(s, post, s.seed, [130])
    together = conditioning.sources(s, post, s.seed, range(200))
    assert alone == [together[130]]
    assert list(batch["runs"]["history"]) == conditioning.sources(s, post, s.seed, runs)
    # a run takes the parameter draw of the history it continues
    assert list(batch["runs"]["draw"]) == [post.draw(j) for j in batch["runs"]["history"]]


def test_the_filter_reports_what_it_did(conditioned):
    s, post, _, _ = conditioned
    c = conditioning.summary(s, post, s.seed, range(150))
    assert c["histories"] == -(-150 // conditioning.BLOCK) * conditioning.PARTICLES
    assert 0 < c["ess"] <= c["accepted"] <= c["histories"]
    assert 1 < c["distinct"] <= 150
    # the parameters' view: histories of one sample count once
    assert 1 <= c["samples"] <= c["distinct"]
    assert 1 <= c["ess_samples"] <= min(c["ess"], len(post.weights))
    w = conditioning.sample_weights(s, post, s.seed, range(150))
    assert c["ess_samples"] == pytest.approx(1 / np.sum(w**2), abs=0.05)


def test_resampling_takes_each_particle_about_its_weight():
    w = np.array([0.5, 0.0, 0.25, 0.25])
    picked = conditioning.resample(w, 8, np.random.default_rng(1))
    assert np.bincount(picked, minlength=4).tolist() == [4, 0, 2, 2]


def test_a_projection_that_does_not_condition_continues_its_own_history():
    s = load_scenario(BASELINE).model_copy(update={"condition": False})
    assert not conditioning.conditions(s)
    assert conditioning.sources(s, None, s.seed, [3, 9]) == [3, 9]
    assert inputs_for(history_scenario(s)).known is None


def test_the_record_weighs_the_samples_that_hold_it():
    """Of two samples, the one whose members keep their status (a strong status-quo bias)
    holds the record of stable memberships far better than one whose members change it
    freely: the record's weights (the filter's, summed by sample) move to it and sum to
    one. A projection that does not condition keeps the posterior's weights."""
    s = load_scenario(BASELINE)
    post = Posterior(pd.DataFrame({"status_quo_bias": [6.0, 0.0]}), np.array([0.5, 0.5]), "t", 2)
    w = conditioning.sample_weights(s, post, s.seed, range(conditioning.BLOCK))
    assert w.sum() == pytest.approx(1.0)
    assert w[0] > 0.9
    free = s.model_copy(update={"condition": False})
    assert conditioning.sample_weights(free, post, s.seed, range(5)).tolist() == [0.5, 0.5]


def test_a_parameter_a_projection_sets_acts_from_its_start(conditioned):
    """A lever set as a parameter (charter_reform's charter_fit) changes the projection,
    not the 2002-2024 history it continues: its filter and histories are the baseline's, so
    run i of both continues the same history with the same parameter draw (paired), and
    each draw reaches the history whether the projection sets a parameter or not."""
    s, post, _, _ = conditioned
    lever = load_scenario(BASELINE.parent / "charter_reform.toml")
    assert lever.parameters.charter_fit != s.parameters.charter_fit
    assert conditioning.filter_key(lever, post, s.seed) == conditioning.filter_key(s, post, s.seed)
    drawn = post.scenario_for(lever, 3)
    assert drawn.parameters.charter_fit == lever.parameters.charter_fit
    past = history_scenario(drawn)
    assert past.digest() == history_scenario(post.scenario_for(s, 3)).digest()
    assert past.parameters.charter_fit == s.history.parameters.charter_fit
    name = post.drawn_for(s)[0]
    assert getattr(past.parameters, name) == pytest.approx(post.samples[name].iloc[3])
    assert conditioning.sources(lever, post, s.seed, range(30)) == conditioning.sources(
        s, post, s.seed, range(30)
    )


def test_a_projections_own_judgement_leaves_its_filter_as_it_is(conditioned):
    """A filter depends on the posterior only as the history reads it: fixing a judgement
    only the projection references (the baseline's leader distraction) keeps the filter's
    key, so its histories are reused; fixing one the history references, or a parameter,
    changes it."""
    s, post, _, _ = conditioned
    key = conditioning.filter_key(s, post, s.seed)
    assert key == conditioning.filter_key(
        s, post.fixing({"@baseline.leader_distraction": 0.2}), s.seed
    )
    assert key != conditioning.filter_key(s, post.fixing({"@hindcast.trust": 0.4}), s.seed)
    assert key != conditioning.filter_key(s, post.fixing({"status_quo_bias": 1.0}), s.seed)
