"""Benchmark: the ensemble runner against ``mesa.batch_run`` on the same runs, in one process.

Usage::

    python benchmarks/bench_ensemble.py [--runs 1000] [--scenario scenarios/baseline.toml]
    python benchmarks/bench_ensemble.py --flat 100000   # a long ensemble: time and flat memory

Prints runs per second for each way of running and the ratio to ``mesa.batch_run``
collecting the same per-step data (status, commitment and alignment of every member, the
alliance's cohesion), measured in this same run:

(a) ``mesa.batch_run`` on ``CSTOModel``, one process, data collected every step;
(b) the runner with the agent engine (one Mesa model per run), 1 and all workers;
(c) the runner with the batched engine (replicas as arrays), 1 and all workers;
(d) a bare loop of the batched arithmetic with no tables written, as a lower bound.

Every runner case writes all output tables. Also prints the peak resident memory. Note
that ``mesa.batch_run`` (Mesa >= 3.4) sets the global multiprocessing start method to
"spawn" when called; csto-sim itself never changes it.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def peak_mib() -> float:
    """Peak resident memory of this process (MiB; Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_batch_run(scenario: Path, runs: int) -> float:
    """Seconds for mesa.batch_run over ``runs`` runs, collecting data every step, one process."""
    import mesa

    from csto_sim import CSTOModel

    start = time.perf_counter()
    rows = mesa.batch_run(
        CSTOModel,
        parameters={"scenario": str(scenario), "run": range(runs), "collect": True},
        number_processes=1,
        data_collection_period=1,
        max_steps=10_000,
        display_progress=False,
    )
    elapsed = time.perf_counter() - start
    assert rows, "batch_run returned nothing"
    return elapsed


def bench_runner(scenario: Path, runs: int, workers: int, **options) -> float:
    """Seconds for the csto-sim runner, all tables written to a temporary folder."""
    from csto_sim.experiments.ensemble import run_ensemble

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        result = run_ensemble(
            [scenario],
            runs=runs,
            out=Path(tmp) / "r",
            workers=workers,
            progress=False,
            posterior="none",  # the scenario's own parameters, as mesa.batch_run runs them
            **options,
        )
        elapsed = time.perf_counter() - start
        assert result.failed == 0
    return elapsed


def bench_bare(scenario: Path, runs: int, chunk: int = 50) -> float:
    """Seconds for the batched arithmetic alone (no tables, no files), ``chunk`` runs at a time."""
    from csto_sim import load_scenario
    from csto_sim.core.batch import history_seeds, run_batch
    from csto_sim.core.randomness import run_seed

    spec = load_scenario(scenario)
    start = time.perf_counter()
    for first in range(0, runs, chunk):
        block = range(first, min(first + chunk, runs))
        run_batch(spec, [run_seed(spec.seed, r) for r in block], history_seeds(spec, block))
    return time.perf_counter() - start


def flat_memory(scenario: Path, runs: int, workers: int) -> None:
    """Run a long ensemble (batched engine) and show that peak memory does not grow with it."""
    from csto_sim.experiments.ensemble import run_ensemble

    with tempfile.TemporaryDirectory() as tmp:
        marks: list[tuple[int, float]] = []

        def note(done: int) -> None:
            if not marks or done - marks[-1][0] >= runs // 10:
                marks.append((done, peak_mib()))

        start = time.perf_counter()
        run_ensemble(
            [scenario],
            runs=runs,
            out=Path(tmp) / "r",
            workers=workers,
            progress=False,
            on_chunk=note,
            posterior="none",
        )
        elapsed = time.perf_counter() - start
    print(
        f"{runs} runs in {elapsed:.1f} s ({runs / elapsed:.0f} runs/s), batched engine, {workers} workers"
    )
    print("runs done -> peak resident memory of the main process (MiB):")
    for done, mib in marks:
        print(f"  {done:>8} -> {mib:7.1f}")
    print(f"final peak (after assembling the tables): {peak_mib():.1f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "baseline.toml")
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="workers for the parallel cases"
    )
    parser.add_argument(
        "--flat", type=int, default=None, metavar="RUNS", help="only the long-ensemble check"
    )
    args = parser.parse_args()
    if args.flat:
        flat_memory(args.scenario, args.flat, args.workers)
        return

    print(
        f"{args.runs} runs of {args.scenario.name}, Python {sys.version.split()[0]}, {os.cpu_count()} cores"
    )
    base_label = "(a) mesa.batch_run (1 process, data every step)"
    times = {base_label: bench_batch_run(args.scenario, args.runs)}
    for engine, tag in (("agents", "b"), ("batch", "c")):
        for workers in (1, args.workers):
            label = f"({tag}) runner, {engine} engine, {workers} worker(s)"
            times[label] = bench_runner(args.scenario, args.runs, workers, engine=engine)
    times["(d) bare batched arithmetic, no output (lower bound)"] = bench_bare(
        args.scenario, args.runs
    )
    base = times[base_label]
    print(f"{'way of running':<56} {'seconds':>8} {'runs/s':>9} {'vs batch_run':>13}")
    for label, seconds in times.items():
        print(f"{label:<56} {seconds:8.2f} {args.runs / seconds:9.1f} {base / seconds:12.1f}x")
    for engine, tag in (("agents", "b"), ("batch", "c")):
        one = times[f"({tag}) runner, {engine} engine, 1 worker(s)"]
        many = times[f"({tag}) runner, {engine} engine, {args.workers} worker(s)"]
        print(f"{engine} engine: {args.workers} workers give {one / many:.2f}x the throughput of 1")
    print(f"peak resident memory of this process: {peak_mib():.0f} MiB")


if __name__ == "__main__":
    main()
