"""Benchmark: the ensemble runner against ``mesa.batch_run`` on the same runs, in one process.

Usage::

    python benchmarks/bench_ensemble.py [--runs 1000] [--mesa-runs 100] [--repeat 3]
    python benchmarks/bench_ensemble.py --flat 100000   # a long ensemble: time and flat memory

Prints runs per second for each way of running and the ratio to ``mesa.batch_run``
collecting the same per-step data (status, commitment and alignment of every member, the
alliance's cohesion), measured in this same run. The cases that build one Mesa model per
run ((a), (b)) run ``--mesa-runs`` runs (they are about 60 times slower; ratios compare runs
per second); the batched cases run ``--runs`` runs, ``--repeat`` times each, alternating one
and all workers, and report the median (this machine's timings vary by 10% from one try to
the next). Every case starts with the history end states forgotten, so none reuses another's
work; the worker processes' server is started before the timed cases, as it is once per
Python process:

(a) ``mesa.batch_run`` on ``CSTOModel``, one process, data collected every step;
(b) the runner with the agent engine (one Mesa model per run), 1 and all workers;
(c) the runner with the batched engine (replicas as arrays), 1 and all workers;
(d) a bare loop of the batched arithmetic in the runner's chunks, no tables written.

Every runner case writes all output tables. Also prints the peak resident memory. Note
that ``mesa.batch_run`` (Mesa >= 3.4) sets the global multiprocessing start method to
"spawn" when called; csto-sim itself never changes it.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
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


def forget_histories() -> None:
    """Forget the history end states this process remembers (see ``core.batch.history_end``)."""
    from csto_sim.core import batch

    batch._ENDS.clear()


def bench_runner(scenario: Path, runs: int, workers: int, **options) -> float:
    """Seconds for the csto-sim runner, all tables written to a temporary folder."""
    from csto_sim.experiments.ensemble import run_ensemble

    forget_histories()
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


def bench_bare(scenario: Path, runs: int) -> float:
    """Seconds for the batched arithmetic alone (no tables, no files), in the runner's chunks."""
    from csto_sim import load_scenario
    from csto_sim.core.batch import history_seeds, run_batch
    from csto_sim.core.randomness import run_seed
    from csto_sim.experiments.ensemble import default_chunk_size

    spec = load_scenario(scenario)
    chunk = default_chunk_size(runs)
    forget_histories()
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
    parser.add_argument("--runs", type=int, default=1000, help="runs of the batched cases")
    parser.add_argument(
        "--mesa-runs", type=int, default=100, help="runs of the cases with one Mesa model per run"
    )
    parser.add_argument("--repeat", type=int, default=3, help="tries of each batched case")
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
        f"{args.runs} runs ({args.mesa_runs} for the Mesa cases) of {args.scenario.name}, "
        f"Python {sys.version.split()[0]}, {os.cpu_count()} cores"
    )
    base_label = "(a) mesa.batch_run (1 process, data every step)"
    rates = {base_label: args.mesa_runs / bench_batch_run(args.scenario, args.mesa_runs)}
    for workers in (1, args.workers):
        seconds = bench_runner(args.scenario, args.mesa_runs, workers, engine="agents")
        rates[f"(b) runner, agents engine, {workers} worker(s)"] = args.mesa_runs / seconds
    bench_runner(args.scenario, 10, args.workers)  # start the worker processes' server
    tries: dict[int, list[float]] = {1: [], args.workers: []}
    for _ in range(args.repeat):
        for workers in tries:
            tries[workers].append(bench_runner(args.scenario, args.runs, workers))
    for workers, seconds in tries.items():
        label = f"(c) runner, batch engine, {workers} worker(s)"
        rates[label] = args.runs / statistics.median(seconds)
        print(f"{label}: " + ", ".join(f"{s:.2f}" for s in seconds) + " s")
    rates["(d) bare batched arithmetic, no output"] = args.runs / bench_bare(
        args.scenario, args.runs
    )
    base = rates[base_label]
    print(f"{'way of running':<56} {'runs/s':>9} {'vs batch_run':>13}")
    for label, rate in rates.items():
        print(f"{label:<56} {rate:9.1f} {rate / base:12.1f}x")
    for engine, tag in (("agents", "b"), ("batch", "c")):
        one = rates[f"({tag}) runner, {engine} engine, 1 worker(s)"]
        many = rates[f"({tag}) runner, {engine} engine, {args.workers} worker(s)"]
        print(f"{engine} engine: {args.workers} workers give {many / one:.2f}x the throughput of 1")
    print(f"peak resident memory of this process: {peak_mib():.0f} MiB")


if __name__ == "__main__":
    main()
