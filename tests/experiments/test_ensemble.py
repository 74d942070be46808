"""The ensemble runner: determinism, executors, resume after a kill, failed runs, output contract."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import BASELINE, HINDCAST, ROOT

from csto_sim import load_scenario
from csto_sim.abm.model import CSTOModel
from csto_sim.cli import main
from csto_sim.core import batch
from csto_sim.core.randomness import run_seed
from csto_sim.experiments import ensemble
from csto_sim.experiments.engines import run_chunk
from csto_sim.experiments.ensemble import Ensemble, run_ensemble
from csto_sim.experiments.executors import dask_executor
from csto_sim.experiments.results import read_table
from csto_sim.inference import conditioning

WEAK = ROOT / "scenarios" / "russia_weakened.toml"

CONTRACT = {
    "timeseries": [
        "scenario", "run", "seed", "step", "year", "member", "status",
        "commitment", "w_russia", "w_eu", "w_china", "w_turkey",
    ],
    "events": [
        "scenario", "run", "year", "label", "kind", "member", "counterpart",
        "severity", "requested", "responded",
    ],
    "runs": [
        "cohesion_final", "n_active_final", "collapsed", "collapse_year",
        "requests", "responses", "unanswered_severity",
    ],
    "observables": ["run", "year", "member", "series", "partner", "value"],
}  # fmt: skip


def _tables(out: Path) -> dict[str, pd.DataFrame]:
    names = ("runs", "timeseries", "events", "observables")
    return {t: read_table(out, t) for t in names}


def _assert_same(a: Path, b: Path) -> None:
    ta, tb = _tables(a), _tables(b)
    for name in ta:
        pd.testing.assert_frame_equal(ta[name], tb[name], check_exact=True, obj=name)


@pytest.mark.slow
def test_run_writes_the_output_contract_and_is_deterministic(tmp_path, capsys):
    args = ["run", str(BASELINE), "--runs", "6", "--seed", "1", "--workers", "1"]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    summary = capsys.readouterr().out
    assert "Armenia" in summary and "cohesion at the end" in summary and "requests" in summary
    assert main([*args, "--out", str(tmp_path / "b"), "--quiet"]) == 0
    for table, columns in CONTRACT.items():
        frame = read_table(tmp_path / "a", table)
        assert set(columns) <= set(frame.columns), table
    ts = read_table(tmp_path / "a", "timeseries")
    assert set(ts["status"]) <= {"active", "frozen", "withdrawn", "non_member"}
    assert set(ts["member"]) == {
        "Russia",
        "Belarus",
        "Kazakhstan",
        "Kyrgyzstan",
        "Tajikistan",
        "Armenia",
    }
    assert (tmp_path / "a" / "manifest.json").exists()
    _assert_same(tmp_path / "a", tmp_path / "b")
    assert (
        main(
            [
                "run",
                str(BASELINE),
                "--runs",
                "6",
                "--seed",
                "2",
                "--workers",
                "1",
                "--quiet",
                "--out",
                str(tmp_path / "c"),
            ]
        )
        == 0
    )
    other = read_table(tmp_path / "c", "runs")
    assert not other["seed"].equals(_tables(tmp_path / "a")["runs"]["seed"])


def test_csv_format_writes_the_same_tables(tmp_path):
    args = ["run", str(BASELINE), "--runs", "3", "--workers", "1", "--quiet"]
    assert main([*args, "--format", "csv", "--out", str(tmp_path / "csv")]) == 0
    assert main([*args, "--out", str(tmp_path / "pq")]) == 0
    a = pd.read_csv(tmp_path / "csv" / "runs.csv")
    b = read_table(tmp_path / "pq", "runs")
    pd.testing.assert_series_equal(a["cohesion_final"], b["cohesion_final"])


@pytest.mark.slow
def test_results_do_not_depend_on_workers_or_executor(tmp_path, monkeypatch):
    scenarios = [BASELINE, WEAK]
    run_ensemble(scenarios, runs=12, out=tmp_path / "w1", workers=1, progress=False)
    monkeypatch.setattr(ensemble, "CHUNK", 5)  # several chunks: the two workers share them
    run_ensemble(scenarios, runs=12, out=tmp_path / "w2", workers=2, progress=False)
    monkeypatch.setattr(ensemble, "CHUNK", 3)
    run_ensemble(scenarios, runs=12, out=tmp_path / "c3", workers=1, progress=False)
    _assert_same(tmp_path / "w1", tmp_path / "w2")
    _assert_same(tmp_path / "w1", tmp_path / "c3")


@pytest.mark.slow  # starts a Dask LocalCluster
def test_dask_local_cluster_gives_identical_results(tmp_path):
    pytest.importorskip("dask.distributed")
    scenarios = [BASELINE, WEAK]
    run_ensemble(scenarios, runs=8, out=tmp_path / "local", workers=1, progress=False)
    with dask_executor("local", workers=2) as executor:
        run_ensemble(
            scenarios, runs=8, out=tmp_path / "dask", executor=executor, workers=2, progress=False
        )
    _assert_same(tmp_path / "local", tmp_path / "dask")


@pytest.mark.slow
def test_common_random_numbers_share_events_across_scenarios(tmp_path):
    def random_events(folder: Path, *scenarios: Path) -> dict[str, pd.DataFrame]:
        run_ensemble(list(scenarios), runs=4, out=folder, workers=1, progress=False)
        runs = read_table(folder, "runs")
        seeds = runs.pivot(index="run", columns="scenario", values="seed")
        assert (seeds.iloc[:, 0] == seeds.iloc[:, 1]).all()
        events = read_table(folder, "events")
        return {
            n: g[["run", "year", "kind", "member"]].reset_index(drop=True)
            for n, g in events[events["label"] == ""].groupby("scenario")
        }

    # adversaries read the record, so threats diverge once the answers do; until then, and
    # always without deterrence, scenarios with the same hazard rates see the same threats
    by = random_events(tmp_path / "crn", BASELINE, WEAK)
    first = {n: e[e["year"] < 2025.25].reset_index(drop=True) for n, e in by.items()}
    pd.testing.assert_frame_equal(first["baseline"], first["russia_weakened"])
    blind = []
    for path in (BASELINE, WEAK):
        copy = tmp_path / f"blind_{path.name}"
        copy.write_text(
            f'extends = "{path.as_posix()}"\nname = "{path.stem}"\n[parameters]\ndeterrence = 0.0\n'
        )
        blind.append(copy)
    by = random_events(tmp_path / "blind", *blind)
    pd.testing.assert_frame_equal(by["baseline"], by["russia_weakened"])


@pytest.mark.parametrize("engine", ["agents", "batch"])
@pytest.mark.slow
def test_a_failing_run_is_recorded_and_the_others_survive(tmp_path, monkeypatch, engine):
    good = tmp_path / "good"
    run_ensemble([BASELINE], runs=6, out=good, workers=1, progress=False, engine=engine)
    bad_seed = run_seed(load_scenario(BASELINE).seed, 3)
    if engine == "agents":
        original = CSTOModel.step

        def broken(self):
            if self.run == 3 and self.t == 5:
                raise RuntimeError("injected failure")
            original(self)

        monkeypatch.setattr(CSTOModel, "step", broken)
    else:
        original = batch.draw_noise

        def broken(shape, seed, **kw):
            if seed == bad_seed:
                raise RuntimeError("injected failure")
            return original(shape, seed, **kw)

        monkeypatch.setattr(batch, "draw_noise", broken)
    bad = tmp_path / "bad"
    result = run_ensemble([BASELINE], runs=6, out=bad, workers=1, progress=False, engine=engine)
    assert result.failed == 1
    runs = read_table(bad, "runs")
    failed = runs[runs["status"] == "error"]
    assert list(failed["run"]) == [3] and "injected failure" in failed["error"].iloc[0]
    for table in ("timeseries", "events"):
        ok_good = read_table(good, table).query("run != 3").reset_index(drop=True)
        ok_bad = read_table(bad, table).reset_index(drop=True)
        pd.testing.assert_frame_equal(ok_good, ok_bad)


@pytest.mark.parametrize("scenario", [BASELINE, ROOT / "scenarios" / "hindcast_2002_2024.toml"])
@pytest.mark.slow
def test_batched_engine_gives_the_agent_engine_results_exactly(scenario):
    spec = load_scenario(scenario)
    agents = run_chunk(spec, range(12), 11, engine="agents")
    batched = run_chunk(spec, range(12), 11, engine="batch")
    split = [
        run_chunk(spec, range(0, 5), 11, engine="batch"),
        run_chunk(spec, range(5, 12), 11, engine="batch"),
    ]
    for table in agents:
        pd.testing.assert_frame_equal(agents[table], batched[table], check_exact=True, obj=table)
        halves = pd.concat([part[table] for part in split], ignore_index=True)
        pd.testing.assert_frame_equal(batched[table], halves, check_exact=True, obj=table)


def test_whole_span_tables_put_each_run_history_before_its_own_years():
    """With history: the history's rows (from run_history, same seeds) then the projection's
    unchanged rows with steps renumbered; both engines agree; runs and members unchanged."""
    spec, runs = load_scenario(BASELINE), [0, 3, 4]
    own = run_chunk(spec, runs, 11)
    whole = run_chunk(spec, runs, 11, with_history=True)
    assert whole.keys() == own.keys()
    agents = run_chunk(spec, runs, 11, engine="agents", with_history=True)
    for table in whole:
        pd.testing.assert_frame_equal(whole[table], agents[table], check_exact=True, obj=table)
    for table in ("runs", "members"):
        pd.testing.assert_frame_equal(whole[table], own[table], check_exact=True, obj=table)
    continued = conditioning.sources(spec, None, 11, runs)  # the histories the runs continue
    past_inputs, past, _ = batch.run_history(spec, batch.history_seeds(spec, continued))
    T = past_inputs.n_steps
    ts = whole["timeseries"]
    assert list(ts["run"]) == sorted(ts["run"])  # run by run, history first
    for r, (_, rows) in zip(runs, ts.groupby("run", sort=True), strict=True):
        assert list(rows["period"].unique()) == ["history", "scenario"]
        assert rows["step"].is_monotonic_increasing and rows["year"].is_monotonic_increasing
        assert rows["step"].iloc[-1] == T + spec.n_steps and rows["year"].iloc[0] == 2002.0
        hist = rows[rows["period"] == "history"]
        assert hist["step"].max() == T - 1 and "Uzbekistan" in set(hist["member"])
        assert hist["seed"].iloc[0] == batch.history_seeds(spec, [continued[runs.index(r)]])[0]
        i = runs.index(r)
        kaz = hist[(hist["member"] == "Kazakhstan")]["w_china"].to_numpy()
        k = past_inputs.members.index("Kazakhstan")
        assert (kaz == past.w[i, :T, k, past_inputs.poles.index("China")]).all()
    mine = ts[ts["period"] == "scenario"].drop(columns="period").reset_index(drop=True)
    mine["step"] -= T
    pd.testing.assert_frame_equal(mine, own["timeseries"], check_exact=True, check_dtype=False)
    ev = whole["events"]
    assert ev.loc[ev["period"] == "history", "year"].max() < spec.time.start
    assert set(ev.loc[ev["period"] == "scenario", "year"]) == set(own["events"]["year"])
    alone = run_chunk(load_scenario(HINDCAST), [0], 11, with_history=True)
    assert set(alone["alliance"]["period"]) == {"scenario"}  # no history: only the column


def test_whole_span_is_part_of_the_results_identity(tmp_path, capsys):
    out = tmp_path / "w"
    args = ["run", str(BASELINE), "--runs", "3", "--workers", "1", "--quiet", "--out", str(out)]
    assert main([*args, "--with-history"]) == 0
    alliance = read_table(out, "alliance")
    assert alliance["year"].min() == 2002.0 and set(alliance["period"]) == {"history", "scenario"}
    assert main([*args, "--resume"]) == 2  # other settings: refused, naming which
    assert "other with_history" in capsys.readouterr().err


def test_rerun_keeps_finished_runs_and_other_settings_need_overwrite(tmp_path, capsys):
    out = tmp_path / "r"
    args = ["run", str(BASELINE), "--runs", "4", "--workers", "1", "--quiet", "--out", str(out)]
    assert main(args) == 0
    first = _tables(out)
    assert main(args) == 0  # the same command again: nothing recomputed, the same tables
    for name, frame in _tables(out).items():
        pd.testing.assert_frame_equal(first[name], frame, check_exact=True)
    fewer = [*args[:3], "3", *args[4:]]
    assert main(fewer) == 2  # fewer runs: refused without --overwrite
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--overwrite" in err[0] and str(out) in err[0]
    assert main([*fewer, "--resume"]) == 2  # and cannot be resumed
    assert "holds 4 runs per scenario" in capsys.readouterr().err
    other = [*args, "--seed", "8"]
    assert main(other) == 2  # other settings: refused without --overwrite
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--overwrite" in err[0] and "other seed" in err[0]
    assert main([*other, "--resume"]) == 2  # and cannot be resumed
    assert main([*fewer, "--overwrite"]) == 0
    assert len(read_table(out, "runs")) == 3


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "csto_sim.cli", *args]


@pytest.mark.slow  # three compare commands in processes of their own
@pytest.mark.parametrize("workers", ["1", "2"])
def test_killed_process_resumes_to_the_uninterrupted_result(tmp_path, workers):
    common = [
        "compare",
        str(BASELINE),
        str(WEAK),
        "--runs",
        "400",
        "--workers",
        workers,
        "--quiet",
        "--no-plots",
    ]
    reference = tmp_path / "reference"
    subprocess.run(_cli(*common, "--out", str(reference)), check=True, capture_output=True)
    out = tmp_path / "killed"
    proc = subprocess.Popen(_cli(*common, "--out", str(out)), start_new_session=True)
    chunks = out / "runs"
    # the filter of the histories comes before the first chunk (about 30 s on one busy
    # core); the wait ends as soon as two chunks are in, the deadline only bounds a hang
    deadline = time.time() + 600
    while time.time() < deadline and len(list(chunks.glob("*.parquet"))) < 2:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    n_done = len(list(chunks.glob("*.parquet")))
    assert 2 <= n_done < 8, "the kill should land partway"
    resumed = subprocess.run(
        _cli(*common, "--out", str(out), "--resume"), capture_output=True, text=True
    )
    assert resumed.returncode == 0, resumed.stderr
    _assert_same(reference, out)


def test_chunks_are_blocks_whatever_is_done(monkeypatch):
    monkeypatch.setattr(ensemble, "CHUNK", 4)
    spec = Ensemble.of([BASELINE, WEAK], 10)
    assert spec.plan({(0, 1), (0, 7), (1, 0)}) == [
        (0, [0]),
        (0, [2, 3]),
        (0, [4, 5, 6]),
        (0, [8, 9]),
        (1, [1, 2, 3]),
        (1, [4, 5, 6, 7]),
        (1, [8, 9]),
    ]


def test_compare_api_returns_the_comparison_the_report_renders(tmp_path):
    from csto_sim import compare

    c = compare([BASELINE, WEAK], runs=6, out=tmp_path / "c", workers=1, progress=False)
    assert c.reference == "baseline" and c.others == ["russia_weakened"]
    assert {"cohesion_final", "n_active_final"} <= set(c.means["measure"])
    paired = c.paired
    assert (
        set(paired["scenario"]) == {"russia_weakened"}
        and (paired["ci_low"] <= paired["ci_high"]).all()
    )
    assert (tmp_path / "c" / "report.md").exists() and (tmp_path / "c" / "summary.csv").exists()


def _terminal_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


@pytest.mark.slow  # a compare command of agent-engine runs, interrupted
def test_ctrl_c_stops_cleanly_and_says_how_to_resume(tmp_path):
    out = tmp_path / "interrupted"
    variant = tmp_path / "hindcast_b.toml"
    variant.write_text(
        f'extends = "{HINDCAST.as_posix()}"\nname = "hindcast_b"\n', encoding="utf-8"
    )
    # the hindcast (no history to live through first): chunks of agent-engine runs come
    # every few seconds, so the interrupt lands between and inside them
    cmd = _cli("compare", str(HINDCAST), str(variant), "--runs", "400", "--workers", "1",
               "--engine", "agents", "--no-plots", "--quiet", "--out", str(out))  # fmt: skip
    # as from a terminal: SIGINT at its default and not blocked in the child, whatever the
    # test session did to its own signal state
    proc = subprocess.Popen(
        cmd, stderr=subprocess.PIPE, text=True, start_new_session=True, preexec_fn=_terminal_sigint
    )
    chunks = out / "runs"
    deadline = time.time() + 120
    while time.time() < deadline and not list(chunks.glob("*.parquet")):
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130
    assert "Traceback" not in err and "--resume" in err and "runs are saved" in err
    saved = len(list(chunks.glob("*.parquet")))
    assert 1 <= saved < 16


@pytest.mark.slow  # a run command on two worker processes, interrupted
def test_ctrl_c_of_a_command_with_workers_says_one_line(tmp_path):
    """With a worker pool, the command's quick exit gave back the pool's semaphores: the
    interrupt is its one line, not followed by the resource tracker's warning of leaked
    semaphores."""
    out = tmp_path / "interrupted"
    cmd = _cli("run", str(BASELINE), "--runs", "1000", "--workers", "2", "--quiet",
               "--out", str(out))  # fmt: skip
    proc = subprocess.Popen(
        cmd, stderr=subprocess.PIPE, text=True, start_new_session=True, preexec_fn=_terminal_sigint
    )
    deadline = time.time() + 120
    while time.time() < deadline and not (out / "manifest.json").exists():
        time.sleep(0.02)
    time.sleep(5)  # the workers are simulating the filter's histories
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130
    assert len(err.strip().splitlines()) == 1 and "runs are saved" in err, err


def test_local_workers_start_once_per_command_and_end_with_it():
    from csto_sim.experiments.executors import end_workers, run_jobs, worker_pool

    with worker_pool(2, jobs=4) as pool:
        first = {pid for _, pid in run_jobs(os.getpid, [()] * 4, pool)}
        executor = pool.executor
    with worker_pool(2, jobs=4) as pool:
        assert pool.executor is executor  # the same processes serve the next call
        second = {pid for _, pid in run_jobs(os.getpid, [()] * 4, pool)}
    processes = list(executor._processes.values())
    assert first | second <= {p.pid for p in processes} and os.getpid() not in first
    end_workers()
    assert not any(p.is_alive() for p in processes)


def test_a_finished_conditioned_folder_runs_no_filter_again(tmp_path, monkeypatch):
    """Rerunning a finished command recomputes nothing, the filter of its histories included."""
    out = tmp_path / "b"
    first = run_ensemble([BASELINE], runs=3, out=out, workers=1, progress=False)
    before = json.loads((out / "manifest.json").read_text())["conditioning"]

    def refuse(*args, **kwargs):
        raise AssertionError("the filter ran again")

    monkeypatch.setattr(conditioning, "summary", refuse)
    again = run_ensemble([BASELINE], runs=3, out=out, workers=1, progress=False)
    assert json.loads((out / "manifest.json").read_text())["conditioning"] == before
    pd.testing.assert_frame_equal(first.read("runs"), again.read("runs"))
    with pytest.raises(AssertionError, match="filter ran again"):  # more runs need the filter
        run_ensemble([BASELINE], runs=4, out=out, workers=1, progress=False)
