"""Model-level behaviour of CSTOModel: leader strength, exit costs, scripted events,
determinism, Mesa's batch_run, and every scenario file running to its end."""

from __future__ import annotations

from pathlib import Path

import mesa
import numpy as np
import pytest
from conftest import BASELINE, HINDCAST, SCENARIOS, standalone_text

from csto_sim import CSTOModel, load_scenario
from csto_sim.core.scenario import Event, Pole, TimeSpan
from csto_sim.core.vocabulary import ACTIVE, FROZEN, NON_MEMBER, WITHDRAWN
from csto_sim.experiments.engines import run_chunk


@pytest.fixture(scope="module")
def baseline():
    return load_scenario(BASELINE)


def run(scenario, run_index: int = 0, **kw) -> CSTOModel:
    model = CSTOModel(scenario, run=run_index, collect=False, **kw)
    model.run_model()
    return model


def with_params(scenario, **values):
    """The scenario with some parameters changed, without re-validation: the override path
    itself (Scenario.with_parameters, CSTOModel(**overrides)) is tested separately below."""
    params = scenario.parameters.model_copy(update=values)
    return scenario.model_copy(update={"parameters": params})


def assert_on_simplex(w: np.ndarray) -> None:
    assert np.all(np.isfinite(w))
    assert np.all(w >= 0.0)
    np.testing.assert_allclose(w.sum(axis=-1), 1.0, rtol=0, atol=1e-9)


def write_variant(tmp_path: Path, name: str, text: str) -> Path:
    """A scenario file in ``tmp_path`` beside a copy of the history the baseline continues."""
    (tmp_path / HINDCAST.name).write_text(HINDCAST.read_text(encoding="utf-8"), encoding="utf-8")
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- (a) leader strength


def scaled_leader(scenario, factor: float):
    """The scenario with the leader pole's strength multiplied by ``factor`` at every point."""
    return scenario.with_leader_strength(factor)


def response_totals(scenario, runs: range) -> tuple[int, int]:
    """Requests and answers summed over ``runs``: the batched engine, which gives these runs
    exactly as CSTOModel does (tests/experiments/test_ensemble.py) in a fraction of the time."""
    table = run_chunk(scenario, runs, scenario.seed, tables=("runs",))["runs"]
    return int(table["requests"].sum()), int(table["responses"].sum())


def test_stronger_leader_answers_more(standalone):
    runs = range(25)  # common run indices: the same threat draws in both variants
    strong = scaled_leader(standalone, 1.5)
    weak = scaled_leader(standalone, 0.5)
    assert strong.poles["Russia"].strength[0][1] == pytest.approx(
        1.5 * standalone.poles["Russia"].strength[0][1]
    )
    q_strong, a_strong = response_totals(strong, runs)
    q_weak, a_weak = response_totals(weak, runs)
    assert q_strong > 0 and q_weak > 0
    # members trust a strong leader more and ask more, and more of them are answered; the
    # share answered need not rise (members of a weak leader ask only in graver cases)
    assert q_strong > q_weak and a_strong > a_weak
    # with the request and the threats held fixed, a stronger leader answers more
    fixed = dict(trust_drift_rate=0.0, trust_learning=0.0, response_capacity=3.0)
    strong_fixed, weak_fixed = with_params(strong, **fixed), with_params(weak, **fixed)
    q1, a1 = response_totals(strong_fixed, runs)
    q2, a2 = response_totals(weak_fixed, runs)
    assert a1 / q1 > a2 / q2 + 0.05
    # the threats themselves are the same draws in both variants
    first = run(strong, 0).event_log
    again = run(weak, 0).event_log
    assert first[0]["year"] == again[0]["year"] and first[0]["kind"] == again[0]["kind"]


# --------------------------------------------------------------------------- (b) exit cost


def ignored_strike_scenario(baseline, commitment: float, leverage: float):
    """Kazakhstan at the given commitment and leverage, struck once by a grave incursion that the
    alliance will not answer; no other threats; commitment does not drift back up."""
    members = {name: m.model_copy(update={"hazards": {}}) for name, m in baseline.members.items()}
    members["Kazakhstan"] = members["Kazakhstan"].model_copy(
        update={"commitment": commitment, "leverage": leverage}
    )
    strike = Event(
        date=2026.1,
        kind="incursion",
        member="Kazakhstan",
        counterpart="Afghan militants",
        severity=1.0,
    )
    scenario = baseline.model_copy(
        update={
            "members": members,
            "hazards": {},
            "events": {"big_strike": strike},
            "time": TimeSpan(start=2025.0, end=2030.0, step=0.25),
        }
    )
    return with_params(
        scenario,
        # the member (if still active) certainly asks ...
        request_base=1.0,
        request_severity=6.0,
        request_trust=6.0,
        request_fit=4.0,
        request_sovereignty=0.0,
        # ... and the alliance (almost) certainly refuses
        response_base=-9.0,
        response_fit=0.0,
        response_capacity=0.0,
        response_alignment=0.0,
        response_stake=0.0,
        response_budget=0.0,
        response_severity=0.0,
        # commitment stays where the refusal put it; members act quickly on thresholds
        commitment_rate=0.0,
        commitment_loss_ignored=0.35,
        freeze_threshold=0.3,
        decision_rate=4.0,
        exit_cost_weight=6.0,
        # no bilateral help: the refusal is all that happens
        bilateral_help=0.0,
    )


def kazakhstan_history(model: CSTOModel) -> tuple[np.ndarray, np.ndarray, dict]:
    i = model.inputs.members.index("Kazakhstan")
    strikes = [e for e in model.event_log if e["label"] == "big_strike"]
    assert len(strikes) == 1
    return model.trajectory.status[:, i], model.trajectory.c[:, i], strikes[0]


def kazakhstan_fates(scenario, runs: int = 40) -> tuple[np.ndarray, np.ndarray, dict]:
    """Kazakhstan's status over ``runs`` runs of the agent model ``(runs, T+1)``, its commitment
    in run 0, and the strike of run 0; at the scenario's own parameters (no posterior
    draws: the mechanism, not a fitted posterior, is under test)."""
    statuses, requested = [], []
    for r in range(runs):
        model = run(scenario, r, posterior="none")
        status, c, strike = kazakhstan_history(model)
        assert not strike["responded"]
        assert model.event_log == [strike]  # no other threat in this scenario
        statuses.append(status)
        requested.append(strike["requested"])
        if r == 0:
            first_c, first_strike = c, strike
    # it asked whenever it was still active when struck (it may have frozen before, rarely)
    before = int(np.searchsorted(model.inputs.years, first_strike["year"], side="right")) - 1
    was_active = np.array(statuses)[:, before] == ACTIVE
    np.testing.assert_array_equal(requested, was_active)
    assert was_active.mean() > 0.8
    return np.array(statuses), first_c, first_strike


@pytest.mark.slow
def test_ignored_request_drives_member_out_unless_leader_has_leverage(standalone):
    free = ignored_strike_scenario(standalone, commitment=0.4, leverage=0.0)
    held = ignored_strike_scenario(standalone, commitment=0.4, leverage=1.0)
    status_free, c, strike = kazakhstan_fates(free)
    status_held, _, _ = kazakhstan_fates(held)
    # the refusal took commitment_loss_ignored (35%) of the commitment, below the freeze threshold
    assert c[0] == 0.4 and strike["requested"]
    np.testing.assert_allclose(c[-1], 0.4 * (1 - 0.35))
    assert c[-1] < 0.3
    # after it, without leverage most runs end outside (frozen or withdrawn) ...
    out_free = (status_free[:, -1] != ACTIVE).mean()
    out_held = (status_held[:, -1] != ACTIVE).mean()
    assert out_free > 0.5
    # ... and the leader's leverage keeps more of them in, and withdrawal rarer
    assert out_held < out_free
    assert (status_held[:, -1] == WITHDRAWN).mean() < (status_free[:, -1] == WITHDRAWN).mean()


# --------------------------------------------------------------------------- (c) scripted events

STRIKE = """
[events.test_strike]
date = 2027-05-10
kind = "incursion"
member = "Kazakhstan"
counterpart = "Afghan militants"
severity = 0.9
"""


@pytest.mark.slow
def test_scripted_event_fires_on_its_date(tmp_path):
    path = write_variant(tmp_path, "strike", BASELINE.read_text(encoding="utf-8") + STRIKE)
    for run_index in range(3):
        model = run(load_scenario(path), run_index)
        hits = [e for e in model.event_log if e["label"] == "test_strike"]
        assert len(hits) == 1
        (hit,) = hits
        assert hit["member"] == "Kazakhstan"
        assert hit["kind"] == "incursion"
        assert hit["counterpart"] == "Afghan militants"
        assert hit["severity"] == pytest.approx(0.9)
        assert abs(hit["year"] - 2027.36) <= model.inputs.dt
        assert hit["year"] <= 2027.36  # logged at the start of the step that holds the date
        assert not hit["responded"] or hit["requested"]


def test_scripted_event_decimal_year(tmp_path):
    text = BASELINE.read_text(encoding="utf-8") + STRIKE.replace("2027-05-10", "2031.6")
    model = run(load_scenario(write_variant(tmp_path, "decimal", text)))
    (hit,) = [e for e in model.event_log if e["label"] == "test_strike"]
    assert hit["year"] == pytest.approx(2031.5)


def test_accession_turns_non_member_active(tmp_path):
    text = standalone_text()
    old = 'status = "frozen"\nalignment = { Russia = 0.35, EU = 0.45, China = 0.1, Turkey = 0.1 }\ncommitment = 0.15\ntrust = 0.1'
    assert old in text
    text = text.replace(
        old,
        'status = "non_member"\nalignment = { Russia = 0.35, EU = 0.45, China = 0.1, Turkey = 0.1 }\n'
        "commitment = 0.9\ntrust = 0.9",
    )
    text += '\n[events.armenia_joins]\ndate = 2030.0\nkind = "accession"\nmember = "Armenia"\n'
    scenario = load_scenario(write_variant(tmp_path, "accession", text))
    for run_index in range(3):
        model = run(scenario, run_index)
        i = model.inputs.members.index("Armenia")
        step = int(np.flatnonzero(np.isclose(model.inputs.years, 2030.0))[0])
        status = model.trajectory.status[:, i]
        # a non-member until the step of its accession, then active
        assert np.all(status[: step + 1] == NON_MEMBER)
        assert status[step + 1] == ACTIVE
        # a non-member never asks: no request from Armenia before it joins
        early = [e for e in model.event_log if e["member"] == "Armenia" and e["year"] < 2030.0]
        assert not any(e["requested"] for e in early)


def test_accession_without_event_stays_non_member(tmp_path):
    text = standalone_text().replace('status = "frozen"', 'status = "non_member"')
    model = run(load_scenario(write_variant(tmp_path, "outside", text)))
    i = model.inputs.members.index("Armenia")
    assert np.all(model.trajectory.status[:, i] == NON_MEMBER)


# --------------------------------------------------------------------------- (d) determinism


def test_same_run_same_history(baseline):
    a, b = run(baseline, 3), run(baseline, 3)
    for field in ("w", "c", "b", "status"):
        np.testing.assert_array_equal(getattr(a.trajectory, field), getattr(b.trajectory, field))
    assert a.event_log == b.event_log
    # from the path as well as from the object
    c = run(BASELINE, 3)
    np.testing.assert_array_equal(a.trajectory.w, c.trajectory.w)
    assert a.event_log == c.event_log


def test_explicit_rng_seed_is_deterministic(baseline, standalone):
    # rng fixes the run's own draws; the history a projection continues is run ``run`` of it
    a, b = run(baseline, 3, rng=12345), run(baseline, 3, rng=12345)
    np.testing.assert_array_equal(a.trajectory.w, b.trajectory.w)
    assert a.event_log == b.event_log
    assert a.history is not None and a.history.seed != run(baseline, 4, rng=12345).history.seed
    # without a history, rng alone decides the run
    c, d = run(standalone, 0, rng=12345), run(standalone, 7, rng=12345)
    np.testing.assert_array_equal(c.trajectory.w, d.trajectory.w)
    assert c.event_log == d.event_log


def test_different_runs_differ(baseline):
    a, b = run(baseline, 0), run(baseline, 1)
    assert a.seed != b.seed
    assert not np.array_equal(a.trajectory.w, b.trajectory.w)
    assert a.event_log != b.event_log


@pytest.mark.slow
def test_parameter_override_is_applied(baseline):
    model = CSTOModel(baseline, run=0, collect=False, freeze_threshold=0.42)
    assert model.params["freeze_threshold"] == 0.42
    assert baseline.parameters.freeze_threshold != 0.42  # the scenario itself is not changed
    changed = baseline.with_parameters(charter_fit={"incursion": 0.5})
    assert changed.parameters.charter_fit["incursion"] == 0.5
    assert changed.parameters.charter_fit["interstate_war"] == 1.0


@pytest.mark.slow
def test_parameter_override_same_as_edited_scenario(baseline):
    direct = run(with_params(baseline, commitment_loss_ignored=0.9, observer_weight=0.6), 2)
    override = run(baseline, 2, commitment_loss_ignored=0.9, observer_weight=0.6)
    np.testing.assert_array_equal(direct.trajectory.c, override.trajectory.c)


# --------------------------------------------------------------------------- (e) batch_run


@pytest.mark.slow
def test_batch_run(baseline):
    rows = mesa.batch_run(
        CSTOModel,
        parameters={"scenario": str(BASELINE), "run": range(3), "collect": True},
        number_processes=1,
        data_collection_period=1,
        max_steps=100,
        display_progress=False,
    )
    assert rows
    n_members = len(baseline.members)
    n_steps = int(round((baseline.time.end - baseline.time.start) / baseline.time.step))
    for row in rows:
        for key in ("run", "Step", "cohesion", "year", "n_active", "requests", "responses"):
            assert key in row, key
        for key in ("member", "status", "commitment", "w_russia"):
            assert key in row, key
        assert 0.0 <= row["cohesion"] <= 1.0
        assert row["status"] in ("active", "frozen", "withdrawn", "non_member")
        assert 0.0 <= row["commitment"] <= 1.0
        assert 0.0 <= row["w_russia"] <= 1.0
    assert {row["run"] for row in rows} == {0, 1, 2}
    for r in range(3):
        mine = [row for row in rows if row["run"] == r]
        steps = sorted({int(row["Step"]) for row in mine})
        # every collected step has one row per member; the run reaches (close to) its end
        assert len(mine) == n_members * len(steps)
        assert steps[0] == 0 and steps[-1] >= n_steps - 1
        # the rows match a direct run of the same index
        direct = run(baseline, r)
        last = max(steps)
        final = {row["member"]: row for row in mine if int(row["Step"]) == last}
        for name, row in final.items():
            i = direct.inputs.members.index(name)
            assert row["commitment"] == pytest.approx(direct.trajectory.c[last, i])
    # runs differ from one another
    cohesion = {r: [row["cohesion"] for row in rows if row["run"] == r] for r in range(3)}
    assert cohesion[0] != cohesion[1]


# --------------------------------------------------------------------------- (f) every scenario


SCENARIO_FILES = sorted(SCENARIOS.glob("*.toml"))


def test_scenario_files_found():
    assert BASELINE in SCENARIO_FILES


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=[p.stem for p in SCENARIO_FILES])
@pytest.mark.slow
def test_every_scenario_runs_to_the_end(path):
    scenario = load_scenario(path)
    for run_index in range(2):
        model = CSTOModel(scenario, run=run_index, collect=True)
        model.run_model()
        assert not model.running
        assert model.t == model.inputs.n_steps == scenario.n_steps
        assert model.year == pytest.approx(scenario.time.end)
        assert_on_simplex(model.trajectory.w)
        for x in (model.trajectory.c, model.trajectory.b):
            assert np.all(np.isfinite(x)) and np.all((x >= 0) & (x <= 1))
        assert set(np.unique(model.trajectory.status).tolist()) <= {
            NON_MEMBER,
            ACTIVE,
            FROZEN,
            WITHDRAWN,
        }
        assert 0.0 <= model.cohesion <= 1.0
        frame = model.datacollector.get_model_vars_dataframe()
        assert len(frame) == model.t + 1


def test_with_leader_strength_scales_only_the_leader_pole(baseline):
    half = baseline.with_leader_strength(0.5)
    for (y0, v0), (y1, v1) in zip(
        baseline.poles["Russia"].strength, half.poles["Russia"].strength, strict=True
    ):
        assert y0 == y1 and v1 == pytest.approx(0.5 * v0)
    assert half.poles["China"] == baseline.poles["China"]
    flat = baseline.model_copy(update={"poles": baseline.poles | {"Russia": Pole(strength=0.8)}})
    assert flat.with_leader_strength(0.5).poles["Russia"].strength == pytest.approx(0.4)
    with pytest.raises(ValueError):
        baseline.with_leader_strength(-1.0)


def test_the_leaders_agent_answers_the_requests(standalone, monkeypatch):
    """In the agent engine the alliance's answer is the leader agent's decision, once a step."""
    from csto_sim.abm.agents import MemberState

    asked: list[str] = []
    decide = MemberState.decide_answer

    def spy(self, *args):
        asked.append(self.name)
        return decide(self, *args)

    monkeypatch.setattr(MemberState, "decide_answer", spy)
    model = CSTOModel(standalone, collect=False, posterior="none")
    for _ in range(3):
        model.step()
    assert asked == [model.spec.alliance.leader] * 3
