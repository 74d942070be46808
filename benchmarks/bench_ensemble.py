"""Benchmark: what users run, against ``mesa.batch_run`` measured in the same run.

Usage::

    python benchmarks/bench_ensemble.py [--runs 1000] [--big 3000] [--mesa-runs 50]
                                        [--draws 4000] [--workers 2]

Every case runs in a fresh Python process (nothing one case compiled or cached helps
another) and is timed inside it from before its first piece of work, so worker start-up
is included unless a line says otherwise; interpreter start-up and imports are not.

- ``mesa.batch_run`` on ``CSTOModel``: the baseline projection (each run lives through the
  2002-2024 history first, as every csto-sim run does), one process, the model's reporters
  collected every step, exactly the scenario's steps (``max_steps`` = steps - 1, since
  ``batch_run`` steps while ``model.steps <= max_steps``; checked from its output).
- the default path: ``run_ensemble`` over the shipped posterior (what ``csto-sim run``
  does), all output tables written to a results folder, 1 and ``--workers`` workers;
- the point path: the same at the scenario's own parameters (``--posterior none``);
- the batched engine's scaling at ``--big`` runs (default path, workers started before the
  clock, as they are once per command) and at ``--runs`` runs with start-up included;
- calibration: the production fit's reference table (``csto-sim posterior --period
  whole``), ``--draws`` hindcast runs of 2002-2024, each with its own parameter draw from
  the prior, in chunks of 1,000 on ``--workers`` workers; the summaries are the recorded
  cases and the measured series.

The lines marked below are read by tools; their wording must not change.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"


def case_batch_run(runs: int, workers: int) -> dict:
    import mesa

    from csto_sim import CSTOModel, load_scenario
    from csto_sim.core.inputs import inputs_for

    steps = inputs_for(load_scenario(BASELINE)).n_steps
    options = {
        "number_processes": 1,
        "data_collection_period": 1,
        "max_steps": steps - 1,  # batch_run steps while model.steps <= max_steps
        "display_progress": False,
    }
    calls = []
    step = CSTOModel.step

    def counted(model):  # check once that batch_run steps exactly the scenario's steps
        if model.history is not None:  # the projection, not the history it lives through first
            calls.append(model.t)
        step(model)

    CSTOModel.step = counted
    mesa.batch_run(CSTOModel, parameters={"scenario": str(BASELINE), "run": [0]}, **options)
    CSTOModel.step = step
    if len(calls) != steps:
        raise SystemExit(f"mesa.batch_run made {len(calls)} steps, the scenario has {steps}")
    start = time.perf_counter()
    rows = mesa.batch_run(
        CSTOModel,
        parameters={"scenario": str(BASELINE), "run": range(runs), "collect": True},
        **options,
    )
    seconds = time.perf_counter() - start
    assert rows
    return {"seconds": seconds, "steps": steps}


def case_ensemble(runs: int, workers: int, posterior: str = "", warm: bool = False) -> dict:
    from csto_sim.experiments.ensemble import run_ensemble
    from csto_sim.experiments.executors import run_jobs, worker_pool

    if warm and workers > 1:  # start the workers before the clock (once per command)
        with worker_pool(workers, jobs=2 * workers) as pool:
            list(run_jobs(os.getpid, [()] * (2 * workers), pool))
    options = {"posterior": posterior} if posterior else {}
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        result = run_ensemble(
            [BASELINE], runs=runs, out=Path(tmp) / "r", workers=workers, progress=False, **options
        )
        seconds = time.perf_counter() - start
    assert result.failed == 0
    return {"seconds": seconds}


def case_calibration(draws: int, workers: int) -> dict:
    """The reference table of the production fit (``csto-sim posterior --period whole``):
    ``draws`` whole-record hindcast runs, each with its own prior draw, in chunks."""
    from csto_sim.hindcast.posterior import Fit, reference

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        theta, _ = reference(tmp, draws, Fit("whole"), workers=workers)
        seconds = time.perf_counter() - start
    assert len(theta) == draws
    return {"seconds": seconds}


CASES = {
    "batch_run": case_batch_run,
    "ensemble": case_ensemble,
    "calibration": case_calibration,
}


def run_case(name: str, **kwargs) -> dict:
    """One case in a fresh Python process; its result as a dict."""
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); import bench_ensemble as b; "
        "print(json.dumps(b.CASES[sys.argv[2]](**json.loads(sys.argv[3]))))"
    )
    args = [sys.executable, "-c", code, str(Path(__file__).parent), name, json.dumps(kwargs)]
    out = subprocess.run(args, check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=1000, help="runs of the path cases")
    parser.add_argument("--big", type=int, default=3000, help="runs of the scaling case")
    parser.add_argument("--mesa-runs", type=int, default=50, help="runs of mesa.batch_run")
    parser.add_argument("--draws", type=int, default=4000, help="draws of the calibration case")
    parser.add_argument("--workers", type=int, default=2, help="workers of the parallel cases")
    args = parser.parse_args()
    w = args.workers
    print(f"baseline projection, Python {sys.version.split()[0]}, {os.cpu_count()} cores")

    mesa = run_case("batch_run", runs=args.mesa_runs, workers=1)
    base = args.mesa_runs / mesa["seconds"]
    print(f"mesa.batch_run: {base:.2f} runs/s ({args.mesa_runs} runs of {mesa['steps']} steps)")
    rate = {}
    for label, posterior in (("default path (posterior)", ""), ("point path", "none")):
        for workers in (1, w):  # workers started before the clock, as once per command
            s = run_case(
                "ensemble", runs=args.runs, workers=workers, posterior=posterior, warm=True
            )
            rate[label, workers] = args.runs / s["seconds"]
            print(f"  {label}, {workers} worker(s), {args.runs} runs: {s['seconds']:.2f} s")
    for label in ("default path (posterior)", "point path"):  # read by tools
        print(f"{label}: {rate[label, w]:.0f} runs/s = {rate[label, w] / base:.0f}x mesa.batch_run")
    share = rate["default path (posterior)", w] / rate["point path", w]
    print(f"  the default path runs at {share:.2f}x the point path's runs/s ({w} workers)")
    big = {
        workers: run_case("ensemble", runs=args.big, workers=workers, warm=True)["seconds"]
        for workers in (1, w)
    }
    print(
        f"  {args.big} runs, default path: "
        + ", ".join(f"{k} worker(s) {v:.1f} s" for k, v in big.items())
    )
    print(f"batched engine: {w} workers give {big[1] / big[w]:.2f} x one")  # read by tools
    cold = run_case("ensemble", runs=args.runs, workers=w)["seconds"]
    small = rate["default path (posterior)", 1] * cold / args.runs
    print(f"  {args.runs} runs, default path, {w} workers started with the command: {cold:.2f} s")
    print(
        f"batched engine at {args.runs} runs, start-up included: {w} workers give {1 / small:.2f} x one"
    )
    cal = run_case("calibration", draws=args.draws, workers=w)
    print(f"  {args.draws} draws in {cal['seconds']:.1f} s")
    print(f"calibration: {args.draws / cal['seconds']:.0f} hindcast simulations/s on {w} workers")


if __name__ == "__main__":
    main()
