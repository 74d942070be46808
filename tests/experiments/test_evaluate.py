"""The evaluation API (``csto_sim.evaluate``, ``csto_sim.factors``, ``Scenario.with_factors``)
and in-memory ensembles: what other tools (EMA Workbench, SALib, optuna) call."""

from __future__ import annotations

import multiprocessing

import numpy as np
import pandas as pd
import pytest
from conftest import BASELINE

import csto_sim
from csto_sim.core.vocabulary import ACTIVE
from csto_sim.experiments import ensemble
from csto_sim.experiments.engines import run_chunk
from csto_sim.experiments.ensemble import run_ensemble
from csto_sim.experiments.results import read_table
from csto_sim.experiments.tables import TABLES
from csto_sim.inference.posterior import choose_posterior


def test_factors_list_the_drivers_and_every_numeric_parameter():
    table = csto_sim.factors()
    assert table.loc["leader_strength", "kind"] == "driver"
    params = {r["name"] for r in csto_sim.parameter_table() if not isinstance(r["default"], dict)}
    assert set(table.index[table["kind"] == "parameter"]) == params
    assert (table["low"] < table["high"]).all()
    assert ((table["default"] >= table["low"]) & (table["default"] <= table["high"])).all()


@pytest.mark.slow
def test_evaluate_is_the_batched_run_of_the_scenario_with_the_factors(baseline):
    values = {"leader_strength": np.float64(0.7), "freeze_threshold": np.float32(0.4)}
    got = csto_sim.evaluate(BASELINE, values, runs=6, seed=3, tables=("runs", "members"))
    spec = baseline.with_parameters(freeze_threshold=float(np.float32(0.4)))
    post = choose_posterior([spec])  # the scenario's; the factor stays fixed in every run
    assert post.fixed_by(spec) == {"freeze_threshold": float(np.float32(0.4))}
    want = run_chunk(spec.with_leader_strength(0.7), range(6), 3, posterior=post)
    assert set(got) == {"runs", "members"}
    for t in got:
        pd.testing.assert_frame_equal(got[t], want[t], check_exact=True)


@pytest.mark.slow
def test_evaluate_uses_common_seeds_across_points(baseline):
    # without deterrence (adversaries blind to the record) the threats are the same draws
    low, high = (
        {"response_base": -3.0, "deterrence": 0.0},
        {"response_base": 3.0, "deterrence": 0.0},
    )
    a = csto_sim.evaluate(baseline, low, runs=5, seed=1, tables=("events",))
    b = csto_sim.evaluate(baseline, high, runs=5, seed=1, tables=("events",))
    keys = ["run", "year", "kind", "member"]
    pd.testing.assert_frame_equal(a["events"][keys], b["events"][keys])  # the same threats
    assert b["events"]["responded"].sum() > a["events"]["responded"].sum()  # answered more


def test_with_factors_coerces_numbers_and_rejects_nonsense(baseline):
    spec = baseline.with_factors({"collapse_min_active": np.float64(3.0), "network_rate": 1})
    assert spec.parameters.collapse_min_active == 3
    assert isinstance(spec.parameters.collapse_min_active, int)
    assert spec.parameters.network_rate == 1.0
    with pytest.raises(ValueError, match="whole number"):
        baseline.with_factors({"collapse_min_active": 2.5})
    with pytest.raises(ValueError, match="unknown factor 'freeze_treshold'.*freeze_threshold"):
        baseline.with_factors({"freeze_treshold": 0.4})
    with pytest.raises(ValueError, match="freeze_threshold"):
        baseline.with_factors({"freeze_threshold": 7.0})
    with pytest.raises(ValueError, match="unknown table"):
        csto_sim.evaluate(baseline, tables=("run",))


def test_mean_outcomes_of_a_point(baseline):
    point = csto_sim.mean_outcomes(
        csto_sim.evaluate(baseline, runs=4, seed=2, tables=("runs", "members"))
    )
    assert {"p_collapse", "cohesion_final", "n_active_final", "unanswered_severity"} <= set(point)
    assert {f"p_exit_{m}" for m in baseline.member_names} <= set(point)
    assert all(np.isfinite(v) for v in point.values())


def test_in_memory_ensemble_equals_the_saved_one(tmp_path, monkeypatch):
    scenarios = [BASELINE, BASELINE.with_name("russia_weakened.toml")]
    monkeypatch.setattr(ensemble, "CHUNK", 3)  # several chunks on two workers
    memory = run_ensemble(scenarios, runs=10, workers=2, progress=False)
    monkeypatch.undo()
    disk = run_ensemble(scenarios, runs=10, out=tmp_path / "e", workers=1, progress=False)
    assert memory.out is None and memory.done == 20 and memory.failed == 0
    for t in TABLES:
        pd.testing.assert_frame_equal(memory.read(t), disk.read(t), check_exact=True, obj=t)
    some = run_ensemble([BASELINE], runs=3, workers=1, progress=False, tables=("alliance",))
    assert set(some.tables) == {"runs", "alliance"}


def _ensemble_in_a_daemon(queue) -> None:
    result = run_ensemble([BASELINE], runs=6, workers=2, progress=False)
    queue.put(result.read("runs")["cohesion_final"].tolist())


@pytest.mark.slow  # a process of its own, which imports the package afresh
def test_an_ensemble_inside_a_daemonic_worker_runs_in_process():
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_ensemble_in_a_daemon, args=(queue,), daemon=True)
    proc.start()
    values = queue.get(timeout=120)
    proc.join(timeout=30)
    assert proc.exitcode == 0
    expected = run_ensemble([BASELINE], runs=6, workers=1, progress=False)
    assert values == expected.read("runs")["cohesion_final"].tolist()


@pytest.mark.slow
def test_evaluate_a_scenarios_mesa_model_and_run_give_the_same_runs(tmp_path):
    """One posterior everywhere: run r is the same run whichever entry point makes it."""
    from csto_sim.cli import main

    got = csto_sim.evaluate(BASELINE, runs=3, tables=("runs",))["runs"]
    assert "sample" in got  # drawn from the posterior the scenario names
    assert main(["run", str(BASELINE), "--runs", "3", "--workers", "1", "--quiet",
                 "--out", str(tmp_path / "r")]) == 0  # fmt: skip
    ran = read_table(tmp_path / "r", "runs")
    pd.testing.assert_frame_equal(got, ran[got.columns], check_exact=True, check_dtype=False)
    post = choose_posterior([csto_sim.load_scenario(BASELINE)])
    for r, row in got.iterrows():
        model = csto_sim.CSTOModel(BASELINE, run=r, collect=False)
        model.run_model()
        drawn = post.samples.iloc[int(row["sample"])]
        assert model.seed == row["seed"]
        assert all(getattr(model.spec.parameters, k) == pytest.approx(v)
                   for k, v in drawn.items() if not k.startswith("@"))  # fmt: skip
        assert model.cohesion == row["cohesion_final"]
        assert int((model.status == ACTIVE).sum()) == row["n_active_final"]
