"""Ensembles: many runs of one or more scenarios, on any executor, saved as they finish.

An :class:`Ensemble` is the frozen spec; :func:`run` runs it into a
:class:`~csto_sim.experiments.store.Store` or in memory. Run ``i`` of every scenario gets the
same seed (common random numbers), derived from the seed and ``i`` alone, so results depend
on neither the executor, the workers nor the chunks. A chunk holds up to :data:`CHUNK`
consecutive runs of one scenario within fixed blocks: a resume fills the missing chunks, more
runs than a folder holds extend it with new chunks, fewer are refused.
"""

from __future__ import annotations

import inspect
import itertools
import platform
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import BrokenExecutor, Executor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import itemgetter
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from csto_sim.core.errors import did_you_mean
from csto_sim.core.files import SEED_MAX, short, true_or_false, whole_number
from csto_sim.core.scenario import Scenario, load_scenario
from csto_sim.experiments.engines import check_engine, run_chunk
from csto_sim.experiments.executors import Terminated, run_jobs, worker_pool
from csto_sim.experiments.manifest import chunk_name
from csto_sim.experiments.results import RESULTS, read_table
from csto_sim.experiments.store import Store, default_folder
from csto_sim.experiments.tables import TABLES, check_tables, concat_tables, empty_table
from csto_sim.inference import conditioning
from csto_sim.inference.posterior import RUNS_PER_DRAW, Posterior, choose_posterior

MAX_RUNS = 1_000_000
"""The most runs per scenario an ensemble may have (checked before anything is allocated)."""

CHUNK = 4 * conditioning.BLOCK
"""Runs per chunk (100: four blocks of a conditioned projection's filter)."""


class EnsembleError(ValueError):
    """An ensemble that cannot be run: scenarios with the same name, too many runs, ..."""


class Interrupted(Exception):
    """The ensemble stopped early (Ctrl-C, a dead worker) after saving what had finished."""

    def __init__(self, out: Path | None, done: int, total: int, reason: str = "interrupted"):
        self.out, self.done, self.total, self.reason = out, done, total, reason
        where = f"; saved in {out}" if out is not None else ""
        super().__init__(f"{reason} after {done} of {total} runs{where}")


@dataclass(frozen=True)
class Ensemble:
    """What to run: scenarios, runs of each, the seed, engine, tables, history, posterior."""

    scenarios: tuple[Scenario, ...]
    runs: int
    seed: int
    engine: str = "batch"
    tables: tuple[str, ...] = TABLES
    with_history: bool = False
    posterior: Posterior | None = None

    @classmethod
    def of(
        cls,
        scenarios: Iterable[Scenario | str | Path],
        runs: int,
        seed: int | None = None,
        posterior: Posterior | str | Path | None = None,
        runs_per_draw: int = RUNS_PER_DRAW,
        **settings: Any,
    ) -> Ensemble:
        """The checked spec: scenarios from objects or files (names must differ), the first
        one's seed by default, the posterior they name unless ``posterior`` says (``"none"``:
        their own parameters); ``settings`` are the other fields."""
        runs = whole_number("runs", runs, 1, MAX_RUNS)
        runs_per_draw = whole_number("runs_per_draw", runs_per_draw, 1, MAX_RUNS)
        if isinstance(scenarios, Scenario | str | Path):  # one scenario
            scenarios = [scenarios]
        if not isinstance(scenarios, Iterable) or isinstance(scenarios, bytes | dict):
            got = short(repr(scenarios), 40)
            raise EnsembleError(
                f"scenarios: expected a scenario, a file or a list of them, got {got}"
            )
        specs = tuple(s if isinstance(s, Scenario) else load_scenario(s) for s in scenarios)
        if not specs:
            raise EnsembleError("scenarios: expected at least one scenario")
        if "with_history" in settings:
            settings["with_history"] = true_or_false("with_history", settings["with_history"])
        names = [s.name for s in specs]
        if len(set(names)) != len(names):
            raise EnsembleError(f"scenario names must differ; got {names}")
        check_engine(settings.get("engine", "batch"))
        settings["tables"] = check_tables(settings.get("tables", TABLES))
        seed = specs[0].seed if seed is None else whole_number("seed", seed, 0, SEED_MAX)
        return cls(
            specs,
            runs,
            seed,
            **settings,
            posterior=choose_posterior(specs, posterior, runs_per_draw),
        )

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.scenarios]

    def identity(self) -> dict[str, Any]:
        """What the results are made from (all but the runs): a folder they extend or resume
        must share it. The filter's block and particle counts count only when a scenario
        is conditioned on its record."""
        post = None if self.posterior is None else self.posterior.digest()
        conditioned = any(conditioning.conditions(s) for s in self.scenarios)
        return {
            "seed": self.seed,
            "engine": self.engine,
            "tables": list(self.tables),
            "with_history": self.with_history,
            "posterior": post,
            "scenarios": [s.digest() for s in self.scenarios],
            "chunk": CHUNK,
            "filter": [conditioning.BLOCK, conditioning.PARTICLES] if conditioned else None,
        }

    def manifest(self, command: str, conditioned: dict[str, Any]) -> dict[str, Any]:
        """The manifest: inputs, seeds, versions, the identity, what the filter did."""
        from importlib.metadata import version  # not `import mesa`: a second of imports

        from csto_sim import __version__

        post, names = self.posterior, self.names
        return {
            "package": "csto-sim",
            "version": __version__,
            "command": command,
            "python": platform.python_version(),
            "mesa": version("mesa"),
            "numpy": np.__version__,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "seed": self.seed,
            "runs": self.runs,
            "engine": self.engine,
            "seeds": "run i has seed SeedSequence(seed, spawn_key=(i,)).generate_state(1)[0], "
            "the same for every scenario (common random numbers)",
            "scenarios": [
                {"name": s.name, "file": s.source, "sha256": s.digest(), "contents": s.to_dict()}
                for s in self.scenarios
            ],
            "with_history": self.with_history,
            "posterior": None
            if post is None
            else {
                "file": post.source,
                "sha256": post.digest(),
                "samples": len(post.weights),
                "runs_per_draw": post.runs_per_draw,
                "fixed": {n: post.fixed_by(s) for n, s in zip(names, self.scenarios, strict=True)},
                "drawn": {n: post.drawn_for(s) for n, s in zip(names, self.scenarios, strict=True)},
            },
            "conditioning": conditioned,
            "identity": self.identity(),
        }

    def folder(
        self, command: str, results_dir: str | Path = RESULTS, label: str = "", **more: str
    ) -> Path:
        """The default results folder for ``command``, named from the identity (never from
        the runs or the format: more runs extend it, another format re-exports it) and
        ``more`` settings, labelled ``label`` (default: the scenarios' names)."""
        settings = self.identity() | {"names": self.names} | more
        return default_folder(command, [label] if label else self.names, settings, results_dir)

    def plan(self, done: set[tuple[int, int]] = frozenset()) -> list[tuple[int, list[int]]]:
        """The chunks still to run, (scenario index, runs): consecutive runs within blocks of
        :data:`CHUNK` that ``done`` ((scenario index, run) pairs) lacks."""
        plan = []
        for si, start in itertools.product(range(len(self.scenarios)), range(0, self.runs, CHUNK)):
            todo = [r for r in range(start, min(start + CHUNK, self.runs)) if (si, r) not in done]
            for _, group in itertools.groupby(enumerate(todo), lambda p: p[1] - p[0]):
                plan.append((si, [r for _, r in group]))
        return plan


@dataclass
class EnsembleResult:
    """What an ensemble produced: where (or the tables in memory), how many runs, how many failed."""

    out: Path | None
    total: int
    done: int
    failed: int = 0
    tables: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    def read(self, table: str, columns: list[str] | None = None) -> pd.DataFrame:
        """A table of the ensemble as a DataFrame."""
        if self.out is not None:
            return read_table(self.out, table, columns)
        if table not in TABLES:
            raise EnsembleError(f"no table {table!r}; tables: {', '.join(TABLES)}")
        if isinstance(columns, str):
            raise EnsembleError(f"columns: expected a list of column names, got {columns!r}")
        frame = self.tables.get(table, empty_table(table))
        missing = [c for c in columns or () if c not in frame]
        if missing:
            raise EnsembleError(f"{table}: no column {missing[0]!r}")
        return frame if columns is None else frame[columns]


def run(
    spec: Ensemble,
    store: Store | None = None,
    *,
    workers: int | None = None,
    executor: Executor | None = None,
    resume: bool = False,
    overwrite: bool = False,
    command: str = "",
    progress: bool | None = None,
    on_chunk: Callable[[int], None] | None = None,
    on_start: Callable[[Path, int | None], None] | None = None,
) -> EnsembleResult:
    """Run ``spec`` into ``store`` (resumed, or extended from fewer runs) or in memory
    (``result.tables``), on ``executor`` or ``workers`` local processes (default all cores).
    ``on_start(folder, held)`` once the folder is taken (``held``: the runs it had, when it
    grows), ``on_chunk(done)`` after each chunk."""
    resume, overwrite = true_or_false("resume", resume), true_or_false("overwrite", overwrite)
    if executor is not None and not isinstance(executor, Executor):
        got = short(repr(executor), 40)
        raise EnsembleError(f"executor: expected a concurrent.futures Executor, got {got}")
    old, ours, done = reopen(spec, store, resume, overwrite, command)
    total, kept = spec.runs * len(spec.scenarios), []
    bar = _Progress(total, len(done), progress, on_chunk)
    try:
        if store is not None:  # what the filter did (a finished folder's: not run again)
            if on_start is not None:  # before the filter, which can take a while
                on_start(store.root, old["runs"] if ours and old["runs"] < spec.runs else None)
            held = old.get("conditioning") if ours and old["runs"] == spec.runs else None
            store.manifest["conditioning"] = held or condition(spec, workers, executor)
        plan = spec.plan(done)
        if store is not None and plan:  # the tables change: what was made from them goes
            store.drop_derived()
        kept = _run_plan(spec, plan, store, workers, executor, bar)
        if store is not None:
            store.finish()
    except (KeyboardInterrupt, BrokenExecutor) as exc:
        where = None if store is None else store.root
        raise Interrupted(where, bar.n, total, _reason(exc)) from None
    finally:
        bar.close()
        if store is not None:
            store.close()
    out = None if store is None else store.root
    result = EnsembleResult(out, total, bar.n, tables=concat_tables(kept) if kept else {})
    result.failed = int((result.read("runs", ["status"])["status"] == "error").sum())
    return result


def reopen(
    spec: Ensemble, store: Store | None, resume: bool, overwrite: bool, command: str = ""
) -> tuple[dict[str, Any], bool, set[tuple[int, int]]]:
    """Take ``store``'s folder for ``spec`` (before the filter runs: a refusal costs
    nothing): the manifest found there, whether it holds finished results of ``spec``
    (``runs`` among them), and the (scenario index, run) pairs its sound chunks hold."""
    if store is None:
        return {}, False, set()
    n = len(spec.scenarios)

    def keep(name, e) -> bool:  # a chunk of these scenarios, none of a larger ensemble's runs
        si, runs = e.get("scenario"), e.get("runs")
        if si is None or runs is None or not (si < n and runs[1] <= spec.runs):
            return False
        return name == chunk_name(si, runs[0], runs[1] - 1)  # what its name says it holds

    saved = store.open(spec.manifest(command, {}), resume, overwrite, keep=keep)
    old = store.previous
    ours = old.get("identity") == spec.identity() and bool(old.get("tables"))
    ours = ours and old.get("runs") is not None
    done = {(e["scenario"], r) for e in saved.values() for r in range(*e["runs"])}
    return old, ours, done


def run_ensemble(
    scenarios: Iterable[Scenario | str | Path],
    runs: int,
    out: str | Path | None = None,
    fmt: str = "parquet",
    **options: Any,
) -> EnsembleResult:
    """:class:`Ensemble` and :func:`run` in one call: every scenario ``runs`` times into the
    folder ``out`` (``fmt`` csv adds CSV exports) or in memory. ``options`` are the spec's
    (``seed``, ``engine``, ``tables``, ``with_history``, ``posterior``, ``runs_per_draw``)
    and :func:`run`'s."""
    keys = ("seed", "engine", "tables", "with_history", "posterior", "runs_per_draw")
    known = [*keys, *(n for n in inspect.signature(run).parameters if n not in ("spec", "store"))]
    if unknown := [k for k in options if k not in known]:
        hint = did_you_mean(unknown[0], known) or f" (options: fmt, {', '.join(known)})"
        raise EnsembleError(f"run_ensemble: no option {unknown[0]!r}{hint}")
    if out is not None and not isinstance(out, str | PathLike):
        raise EnsembleError(f"out: expected a folder (a path) or None, got {short(repr(out), 40)}")
    if fmt not in ("parquet", "csv"):
        raise EnsembleError(f"fmt: expected 'parquet' or 'csv', got {short(repr(fmt), 40)}")
    spec = Ensemble.of(scenarios, runs, **{k: options.pop(k) for k in keys if k in options})
    return run(spec, None if out is None else Store(out, spec.tables, fmt), **options)


def condition(
    spec: Ensemble, workers: int | None = None, executor: Executor | None = None
) -> dict[str, dict]:
    """What the filter did for each projection conditioned on its history's record
    (:func:`csto_sim.inference.conditioning.summary`); its histories run on the pool, and
    the filters are remembered for the chunks."""
    todo = [s for s in spec.scenarios if conditioning.conditions(s)]
    if not todo:
        return {}
    with filter_mapper(spec.runs, workers, executor) as mapper:
        runs, post = range(spec.runs), spec.posterior
        return {s.name: conditioning.summary(s, post, spec.seed, runs, mapper) for s in todo}


@contextmanager
def filter_mapper(
    runs: int, workers: int | None = None, executor: Executor | None = None
) -> Iterator[conditioning.Mapper]:
    """A mapper that runs the filter's histories for ``runs`` runs on the pool (results in
    job order)."""
    per_block = -(-conditioning.PARTICLES // conditioning.BATCH)
    with worker_pool(workers, executor, jobs=per_block * -(-runs // conditioning.BLOCK)) as pool:
        yield lambda fn, args: [r for _, r in sorted(run_jobs(fn, args, pool), key=itemgetter(0))]


def _tables(spec: Ensemble, si: int, runs: list[int], past: list[int]) -> dict:
    s, post = spec.scenarios[si], spec.posterior
    return run_chunk(s, runs, spec.seed, spec.engine, spec.tables, spec.with_history, post, past)


def _save(store: Store, spec: Ensemble, si, runs, past, tables=None) -> dict:
    """Run a chunk (unless its ``tables`` are given) and write its files (local workers do
    it themselves: they share the disk)."""
    tables = _tables(spec, si, runs, past) if tables is None else tables
    return store.write_chunk(chunk_name(si, runs[0], runs[-1]), tables)


def _run_plan(spec, plan, store, workers, executor, bar: _Progress) -> list[dict]:
    """Run the planned chunks, recording each in ``store`` as it comes in; without a store,
    return their tables in plan order."""
    kept: dict[int, dict[str, pd.DataFrame]] = {}
    with worker_pool(workers, executor, jobs=len(plan)) as pool:
        post, seed = spec.posterior, spec.seed
        past = [conditioning.sources(spec.scenarios[si], post, seed, r) for si, r in plan]
        saving = pool.local and store is not None
        jobs = [
            (*([store] if saving else []), spec, *c, p) for c, p in zip(plan, past, strict=True)
        ]
        for n, result in run_jobs(_save if saving else _tables, jobs, pool):
            si, runs = plan[n]
            if store is None:
                kept[n] = result
            else:
                entry = result if saving else _save(store, spec, si, runs, None, result)
                store.record(entry, scenario=si, runs=[runs[0], runs[-1] + 1])
            bar.add(len(runs))
    return [kept[n] for n in sorted(kept)]


def _reason(exc: BaseException) -> str:
    if isinstance(exc, BrokenExecutor):
        return "a worker process died"
    return "terminated" if isinstance(exc, Terminated) else "interrupted"


class _Progress:
    """Runs done so far: a progress bar (``show``: default when standard error is a terminal)
    and ``on_chunk(done)``."""

    def __init__(self, total: int, n: int, show: bool | None, on_chunk=None):
        from tqdm.auto import tqdm

        show = sys.stderr.isatty() if show is None else show
        self.bar = tqdm(total=total, initial=n, disable=not show, unit="run", file=sys.stderr)
        self.n, self.on_chunk, self.close = n, on_chunk, self.bar.close

    def add(self, n: int) -> None:
        self.n += n
        self.bar.update(n)
        if self.on_chunk:
            self.on_chunk(self.n)
