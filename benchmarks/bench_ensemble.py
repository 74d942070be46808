"""Benchmark: the ensemble runner against ``mesa.batch_run`` on the same runs, in one process.

Usage::

    python benchmarks/bench_ensemble.py [--runs 1000] [--scenario scenarios/baseline.toml]
    python benchmarks/bench_ensemble.py --flat 10000   # memory stays flat on a long ensemble

Prints runs per second for each way of running and the ratio to ``mesa.batch_run``
collecting the same per-step data (status, commitment and alignment of every member, the
alliance's cohesion), measured in this same run. Also prints the peak resident memory.
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
    from csto_sim.ensemble import run_ensemble

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        result = run_ensemble(
            [scenario], runs=runs, out=Path(tmp) / "r", workers=workers, progress=False, **options
        )
        elapsed = time.perf_counter() - start
        assert result.failed == 0
    return elapsed


def flat_memory(scenario: Path, runs: int) -> None:
    """Run a long ensemble and show that peak memory does not grow with the number of runs."""
    from csto_sim.ensemble import run_ensemble

    with tempfile.TemporaryDirectory() as tmp:
        marks = []

        def note(done: int) -> None:
            if not marks or done - marks[-1][0] >= runs // 10:
                marks.append((done, peak_mib()))

        start = time.perf_counter()
        run_ensemble(
            [scenario], runs=runs, out=Path(tmp) / "r", workers=1, progress=False, on_chunk=note
        )
        elapsed = time.perf_counter() - start
    print(f"{runs} runs in {elapsed:.1f} s ({runs / elapsed:.0f} runs/s), one process")
    print("runs done -> peak resident memory (MiB):")
    for done, mib in marks:
        print(f"  {done:>8} -> {mib:7.1f}")
    print(f"final peak: {peak_mib():.1f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "baseline.toml")
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="workers for the parallel case"
    )
    parser.add_argument(
        "--flat", type=int, default=None, metavar="RUNS", help="only the flat-memory check"
    )
    args = parser.parse_args()
    if args.flat:
        flat_memory(args.scenario, args.flat)
        return

    print(
        f"{args.runs} runs of {args.scenario.name}, Python {sys.version.split()[0]}, {os.cpu_count()} cores"
    )
    times = {
        "mesa.batch_run (1 process, data every step)": bench_batch_run(args.scenario, args.runs)
    }
    times["runner, agent engine, 1 worker"] = bench_runner(args.scenario, args.runs, 1)
    times[f"runner, agent engine, {args.workers} workers"] = bench_runner(
        args.scenario, args.runs, args.workers
    )
    base = times["mesa.batch_run (1 process, data every step)"]
    print(f"{'way of running':<48} {'seconds':>8} {'runs/s':>8} {'vs batch_run':>13}")
    for label, seconds in times.items():
        print(f"{label:<48} {seconds:8.2f} {args.runs / seconds:8.1f} {base / seconds:12.2f}x")
    one = times["runner, agent engine, 1 worker"]
    many = times[f"runner, agent engine, {args.workers} workers"]
    print(f"speed-up of {args.workers} workers over 1: {one / many:.2f}x")
    print(f"peak resident memory of this process: {peak_mib():.0f} MiB")


if __name__ == "__main__":
    main()
