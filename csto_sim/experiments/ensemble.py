"""Ensembles: many runs of one or more scenarios, on any executor, saved as they finish.

Run ``i`` of every scenario gets the same seed (common random numbers), derived from the
ensemble seed and ``i`` alone, so results do not depend on the executor, the number of
workers or the chunking. With an output folder each finished chunk of runs is saved
(:class:`~csto_sim.experiments.store.Store`), an interrupted ensemble resumes from what is
there, and the final tables are assembled chunk by chunk; without one the tables are
returned in memory.

The number of runs is not part of an ensemble's identity: asking a folder for more runs
than it holds *grows* it. Run ``i`` has the same seed and posterior draw whatever the
ensemble's size, and the final tables' bytes depend on their rows only, so only the new
runs are computed and the grown tables are the ones a fresh ensemble of that size writes.
Asking for fewer runs than a folder holds is refused.
"""

from __future__ import annotations

import itertools
import platform
import sys
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import BrokenExecutor, Executor
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from csto_sim.core.scenario import Scenario, load_scenario
from csto_sim.experiments.engines import check_engine, run_chunk
from csto_sim.experiments.executors import Terminated, run_jobs, worker_pool
from csto_sim.experiments.store import RESULTS, Store, default_folder
from csto_sim.experiments.tables import TABLES, check_tables, concat_tables, empty_table
from csto_sim.inference import conditioning
from csto_sim.inference.posterior import RUNS_PER_DRAW, Posterior, choose_posterior

MAX_RUNS = 1_000_000
"""The most runs per scenario an ensemble may have (checked before anything is allocated)."""


class EnsembleError(ValueError):
    """An ensemble that cannot be run: scenarios with the same name, too many runs, ..."""


class Interrupted(Exception):
    """The ensemble stopped early (Ctrl-C, a dead worker) after saving what had finished."""

    def __init__(self, out: Path | None, done: int, total: int, reason: str = "interrupted"):
        self.out, self.done, self.total, self.reason = out, done, total, reason
        where = f"; saved in {out}" if out is not None else ""
        super().__init__(f"{reason} after {done} of {total} runs{where}")


@dataclass
class Ensemble:
    """What to run: scenarios, how many runs each, the ensemble seed, chunking and engine."""

    scenarios: list[Scenario]
    runs: int
    seed: int
    command: str = ""
    chunk_size: int = 25
    engine: str = "batch"
    tables: tuple[str, ...] = TABLES
    keep_chunks: bool = False
    with_history: bool = False
    posterior: Posterior | None = None
    conditioning: dict[str, dict] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.scenarios]

    def plan(self, done: set[tuple[str, int]] = frozenset()) -> list[tuple[int, list[int]]]:
        """The chunks still to run (see :func:`chunk_plan`)."""
        return chunk_plan(self.names, self.runs, done, self.chunk_size)

    def manifest(self) -> dict[str, Any]:
        """The manifest written beside the results: inputs, seeds, versions, and the identity
        that a resumed ensemble must share."""
        from importlib.metadata import version  # not `import mesa`: a second of imports

        from csto_sim import __version__

        return {
            "package": "csto-sim",
            "version": __version__,
            "python": platform.python_version(),
            "mesa": version("mesa"),
            "numpy": np.__version__,
            "command": self.command,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "seed": self.seed,
            "runs": self.runs,
            "chunk_size": self.chunk_size,
            "engine": self.engine,
            "seeds": "run i has seed SeedSequence(seed, spawn_key=(i,)).generate_state(1)[0], "
            "the same for every scenario (common random numbers)",
            "scenarios": [
                {"name": s.name, "file": s.source, "sha256": s.digest(), "contents": s.to_dict()}
                for s in self.scenarios
            ],
            "with_history": self.with_history,
            "posterior": None
            if self.posterior is None
            else {
                "file": self.posterior.source,
                "sha256": self.posterior.digest(),
                "samples": len(self.posterior.weights),
                "runs_per_draw": self.posterior.runs_per_draw,
                "fixed": {s.name: self.posterior.fixed_by(s) for s in self.scenarios},
                "drawn": {s.name: self.posterior.drawn_for(s) for s in self.scenarios},
            },
            "conditioning": self.conditioning,
            "identity": self.identity(),
        }

    def identity(self) -> dict[str, Any]:
        """What a folder's results were made from, and a resumed or grown ensemble must
        share: everything but the number of runs and the chunking (neither changes a run)."""
        return {
            "seed": self.seed,
            "engine": self.engine,
            "tables": list(self.tables),
            "with_history": self.with_history,
            "posterior": None if self.posterior is None else self.posterior.digest(),
            "scenarios": [s.digest() for s in self.scenarios],
        }

    def folder(self, command: str, fmt: str = "parquet", results_dir: str | Path = RESULTS) -> Path:
        """The default results folder of this ensemble for ``command`` (see
        :func:`~csto_sim.experiments.store.default_folder`): named from the scenarios and
        the identity with the table format, never from the number of runs."""
        settings = self.identity() | {"format": fmt, "names": self.names}
        return default_folder(command, self.names, settings, results_dir)


def chunk_plan(
    names: Sequence[str], runs: int, done: set[tuple[str, int]], size: int
) -> list[tuple[int, list[int]]]:
    """Chunks of pending runs: (scenario index, run indices) within fixed blocks of ``size`` runs.

    Blocks do not depend on the workers, so chunks never overlap and the assembled tables
    come out in the same order however the work was spread or resumed.
    """
    plan = []
    for si, name in enumerate(names):
        for start in range(0, runs, size):
            pending = [r for r in range(start, min(start + size, runs)) if (name, r) not in done]
            if pending:
                plan.append((si, pending))
    return plan


def default_chunk_size(runs: int) -> int:
    """Runs per chunk: a function of the ensemble size only (never of the worker count)."""
    return max(5, min(250, runs // 8))


def ensemble_store(root: str | Path, fmt: str = "parquet", tables: Sequence[str] = TABLES) -> Store:
    """The store of an ensemble's results folder (the ``runs`` table is in every chunk)."""
    return Store(root, check_tables(tables), fmt, empty=empty_table)


def chunk_stem(name: str, runs: Sequence[int]) -> str:
    """The file stem of a chunk: scenario name and run range."""
    return f"{name}__{min(runs):07d}-{max(runs):07d}"


def run_and_save(
    store: Store,
    scenario: Scenario,
    runs: Sequence[int],
    seed: int,
    engine: str = "batch",
    with_history: bool = False,
    posterior: Posterior | None = None,
    sources: Sequence[int] | None = None,
) -> dict[str, Any]:
    """Run a chunk and save it into the results folder (in a local worker process); returns
    its ledger entry for the main process to record."""
    tables = run_chunk(scenario, runs, seed, engine, store.tables, with_history, posterior, sources)
    return store.write_chunk(chunk_stem(scenario.name, runs), tables)


@dataclass
class EnsembleResult:
    """What an ensemble produced: where (or the tables in memory), how many runs, how many failed."""

    out: Path | None
    total: int
    done: int
    failed: int
    fmt: str = "parquet"
    tables: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    def read(self, table: str, columns: list[str] | None = None) -> pd.DataFrame:
        """A table of the ensemble as a DataFrame."""
        if self.out is None:
            frame = self.tables.get(table, empty_table(table))
            return frame if columns is None else frame[columns]
        return ensemble_store(self.out, self.fmt).read(table, columns)


def load_all(scenarios: Iterable[Scenario | str | Path]) -> list[Scenario]:
    """Scenarios from objects or files; their names must differ."""
    specs = [s if isinstance(s, Scenario) else load_scenario(s) for s in scenarios]
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise EnsembleError(f"scenario names must differ; got {names}")
    return specs


def run_ensemble(
    scenarios: Iterable[Scenario | str | Path],
    runs: int,
    out: str | Path | None = None,
    seed: int | None = None,
    workers: int | None = None,
    executor: Executor | None = None,
    chunk_size: int | None = None,
    resume: bool = False,
    overwrite: bool = False,
    fmt: str = "parquet",
    progress: bool | None = None,
    command: str = "",
    on_chunk: Callable[[int], None] | None = None,
    engine: str = "batch",
    tables: Sequence[str] = TABLES,
    keep_chunks: bool = False,
    with_history: bool = False,
    posterior: Posterior | str | Path | None = None,
    runs_per_draw: int = RUNS_PER_DRAW,
    on_start: Callable[[Path, int | None], None] | None = None,
) -> EnsembleResult:
    """Run every scenario ``runs`` times and return the results.

    ``seed`` defaults to the first scenario's seed and is shared by all scenarios. With
    ``out`` the runs are saved chunk by chunk into that folder (resumable) and the final
    tables assembled there; without it they are returned in memory (``result.tables``).
    With ``executor`` (any ``concurrent.futures.Executor``, a Dask client's included) the
    runs go there; otherwise ``workers`` local processes (default: all cores; 1, a single
    chunk, or a call from inside a daemonic worker runs in process). ``engine`` is
    ``"batch"`` (replicas advanced together as arrays) or ``"agents"`` (one Mesa model per
    run); both give the same results. ``tables`` chooses the tables written (``runs`` always);
    ``keep_chunks`` keeps the chunk files after the final tables are assembled.
    ``with_history`` writes each run over its whole span: the history a projection continues
    (the hindcast, for the bundled projections) before the scenario's own years, in the
    timeseries, events and alliance tables, with a ``period`` column (see
    :func:`~csto_sim.experiments.tables.whole_span`). ``posterior`` (a
    :class:`~csto_sim.inference.posterior.Posterior`, a sample file, or ``"none"``; by
    default the one the scenarios name) gives each draw of ``runs_per_draw`` runs its
    parameters from a posterior sample, so the spread covers parameter uncertainty.
    More runs than ``out`` holds grow it (only the new runs are computed), fewer are
    refused (:class:`~csto_sim.experiments.store.FewerRunsError`). ``on_start(out,
    grown_from)`` is called once the folder is accepted (``grown_from``: the runs per
    scenario it held when it grows, else None).
    """
    ensemble = make_ensemble(
        scenarios,
        runs,
        seed,
        command,
        chunk_size,
        engine,
        tables,
        keep_chunks,
        with_history,
        posterior,
        runs_per_draw,
    )
    store = None if out is None else ensemble_store(out, fmt, ensemble.tables)
    total = runs * len(ensemble.scenarios)
    done: set[tuple[str, int]] = set()
    saved: list[str] = []
    held = None if overwrite else _held_conditioning(store, ensemble)
    ensemble.conditioning.update(held or condition(ensemble, workers, executor))
    keep = store is not None and store.prepare(ensemble.manifest(), resume, overwrite, "runs")
    if store is not None and on_start is not None:
        on_start(store.root, store.grown_from)
    if keep:
        growing = store.grown_from is not None
        finished = store.finished(clean=not growing)
        if finished and not growing:
            return _result(store.root, _Counter(total, total, None), fmt)
        entries = _disjoint(store.saved(), runs)
        store.keep(entries)
        if finished:
            store.unpack(_kept_runs(ensemble, store.grown_from, _done(entries, runs)))
            entries = store.saved()
        done = _done(entries, runs)
        saved = [e["stem"] for e in entries]
    counter = _Counter(total, len(done), _progress(total, len(done), progress), on_chunk)
    try:
        kept = _run_plan(ensemble, ensemble.plan(done), store, workers, executor, counter, saved)
    except (KeyboardInterrupt, BrokenExecutor) as exc:
        where = None if store is None else store.root
        raise Interrupted(where, counter.done, total, _reason(exc)) from None
    finally:
        counter.bar.close()
    if store is None:
        return _result(None, counter, fmt, concat_tables(kept))
    return _result(store.root, counter, fmt)


def condition(
    ensemble: Ensemble, workers: int | None = None, executor: Executor | None = None
) -> dict[str, dict]:
    """Each projection conditioned on its history's record: what the filter did over the
    ensemble's runs (:func:`csto_sim.inference.conditioning.summary`). Its histories run on the
    pool; the filters are remembered for the chunks the main process hands out."""
    todo = [s for s in ensemble.scenarios if conditioning.conditions(s)]
    if not todo:
        return {}
    per_block = -(-conditioning.PARTICLES // conditioning.BATCH)
    jobs = per_block * -(-ensemble.runs // conditioning.BLOCK)
    with worker_pool(workers, executor, jobs=jobs) as pool:

        def mapper(fn, args):
            return [r for _, r in sorted(run_jobs(fn, args, pool), key=lambda x: x[0])]

        runs = range(ensemble.runs)
        return {
            s.name: conditioning.summary(s, ensemble.posterior, ensemble.seed, runs, mapper)
            for s in todo
        }


def _held_conditioning(store: Store | None, ensemble: Ensemble) -> dict[str, dict] | None:
    """What the filter did, as a finished folder of this very ensemble (same identity and
    runs; its manifest lists the final tables) records it: rerunning a finished command runs
    no filter again. The summary is a function of the identity and the runs, so it holds even
    if the tables then fail their checksums (the runs made again find their histories chunk
    by chunk); the tables are verified once, by the store."""
    if store is None or not any(conditioning.conditions(s) for s in ensemble.scenarios):
        return None
    old = store.manifest() or {}
    same = (
        old.get("identity") == ensemble.manifest()["identity"] and old.get("runs") == ensemble.runs
    )
    return old.get("conditioning") if same and old.get("tables") else None


def make_ensemble(
    scenarios: Iterable[Scenario | str | Path],
    runs: int,
    seed: int | None = None,
    command: str = "",
    chunk_size: int | None = None,
    engine: str = "batch",
    tables: Sequence[str] = TABLES,
    keep_chunks: bool = False,
    with_history: bool = False,
    posterior: Posterior | str | Path | None = None,
    runs_per_draw: int = RUNS_PER_DRAW,
) -> Ensemble:
    """The ensemble :func:`run_ensemble` runs (checked, nothing run); its
    :meth:`Ensemble.folder` names its default results folder."""
    check_engine(engine)
    if not 1 <= runs <= MAX_RUNS:
        raise EnsembleError(f"runs must be between 1 and {MAX_RUNS:,}; got {runs:,}")
    specs = load_all(scenarios)
    return Ensemble(
        specs,
        runs,
        specs[0].seed if seed is None else seed,
        command,
        chunk_size or default_chunk_size(runs),
        engine,
        check_tables(tables),
        keep_chunks,
        with_history,
        choose_posterior(specs, posterior, runs_per_draw),
    )


def _disjoint(entries: Iterable[dict[str, Any]], runs: int) -> list[dict[str, Any]]:
    """The saved chunks an ensemble of ``runs`` runs can use: those within its runs, none
    holding a run an earlier one holds (ensembles of other sizes chunk runs differently, so
    interrupted ensembles of several sizes can leave overlapping chunks)."""
    claimed: set[tuple[str, int]] = set()
    kept = []
    for e in entries:
        held = {(e["scenario"], r) for r in e["runs"]}
        if max(e["runs"], default=runs) < runs and not held & claimed:
            claimed |= held
            kept.append(e)
    return kept


def _done(entries: Iterable[dict[str, Any]], runs: int) -> set[tuple[str, int]]:
    """The (scenario, run) pairs that saved chunks hold."""
    return {(e["scenario"], r) for e in entries for r in e["runs"] if r < runs}


def _kept_runs(
    ensemble: Ensemble, held: int, done: set[tuple[str, int]]
) -> list[tuple[str, str, list[int]]]:
    """The runs below ``held`` of each scenario that no saved chunk holds, as chunks to
    unpack from the final tables: consecutive runs within the ensemble's blocks."""
    pieces = []
    for name in ensemble.names:
        for start in range(0, held, ensemble.chunk_size):
            block = range(start, min(start + ensemble.chunk_size, held))
            missing = [r for r in block if (name, r) not in done]
            for _, group in itertools.groupby(enumerate(missing), lambda p: p[1] - p[0]):
                runs = [r for _, r in group]
                pieces.append((chunk_stem(name, runs), name, runs))
    return pieces


def _reason(exc: BaseException) -> str:
    if isinstance(exc, BrokenExecutor):
        return "a worker process died"
    return "terminated" if isinstance(exc, Terminated) else "interrupted"


@dataclass
class _Counter:
    """Runs finished so far, shown on a progress bar and reported to a callback."""

    total: int
    done: int
    bar: Any
    on_chunk: Callable[[int], None] | None = None

    def add(self, n: int) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
        if self.on_chunk:
            self.on_chunk(self.done)


def _run_plan(
    ensemble: Ensemble,
    plan: list[tuple[int, list[int]]],
    store: Store | None,
    workers: int | None,
    executor: Executor | None,
    counter: _Counter,
    saved: Sequence[str] = (),
) -> list[dict[str, pd.DataFrame]]:
    """Run the planned chunks and save them in ``store`` (local workers save their own),
    assembling the final tables there as the chunks come in (``saved`` lists the chunks saved
    before); without a store, return the chunks' tables in plan order."""
    specs, seed, engine = ensemble.scenarios, ensemble.seed, ensemble.engine
    span, post = ensemble.with_history, ensemble.posterior
    kept: dict[int, dict[str, pd.DataFrame]] = {}
    stems = [chunk_stem(specs[si].name, chunk) for si, chunk in plan]
    rank = {name: i for i, name in enumerate(ensemble.names)}
    order = sorted([*saved, *stems], key=lambda s: (rank[s.split("__")[0]], s))
    finals = nullcontext() if store is None else store.assembly(order)
    with worker_pool(workers, executor, jobs=len(plan)) as pool, finals as assembly:
        for stem in saved:
            assembly.add(stem)
        past = [conditioning.sources(specs[si], post, seed, chunk) for si, chunk in plan]
        if pool.local and store is not None:  # local workers share the disk: they save
            jobs = [
                (store, specs[si], chunk, seed, engine, span, post, p)
                for (si, chunk), p in zip(plan, past, strict=True)
            ]
            results = run_jobs(run_and_save, jobs, pool)
        else:
            jobs = [
                (specs[si], chunk, seed, engine, ensemble.tables, span, post, p)
                for (si, chunk), p in zip(plan, past, strict=True)
            ]
            results = run_jobs(run_chunk, jobs, pool)
        for n, result in results:
            si, chunk = plan[n]
            if store is None:
                kept[n] = result
            else:
                if "stem" not in result:  # tables computed elsewhere: saved here
                    result = store.write_chunk(stems[n], result)
                store.record(result, scenario=specs[si].name, runs=list(chunk))
                assembly.add(stems[n])  # written into the final tables while others compute
            counter.add(len(chunk))
        if store is not None:
            assembly.finish(ensemble.keep_chunks)
    return [kept[n] for n in sorted(kept)]


def _result(out, counter: _Counter, fmt: str, tables=None) -> EnsembleResult:
    result = EnsembleResult(out, counter.total, counter.done, 0, fmt, tables or {})
    result.failed = int((result.read("runs", ["status"])["status"] == "error").sum())
    return result


def _progress(total: int, initial: int, show: bool | None):
    from tqdm.auto import tqdm

    if show is None:
        show = sys.stderr.isatty()
    return tqdm(
        total=total, initial=initial, disable=not show, unit="run", desc="runs", file=sys.stderr
    )
