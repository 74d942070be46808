"""Ensembles: many runs of one or more scenarios, on any executor, saved as they finish.

Run ``i`` of every scenario gets the same seed (common random numbers), derived from the
ensemble seed and ``i`` alone, so results do not depend on the executor, the number of
workers or the chunking. Each finished chunk of runs is written atomically to
``DIR/chunks/``; an interrupted ensemble resumes from what is there, and the final tables
of the output contract are assembled chunk by chunk without holding every run in memory.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import platform
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import (
    FIRST_COMPLETED,
    BrokenExecutor,
    Executor,
    Future,
    ProcessPoolExecutor,
    wait,
)
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from . import outcomes
from .batched import run_batch
from .events import Inputs, run_seed
from .model import CSTOModel
from .parameters import THREAT_KINDS
from .report import HORIZON, comparison, write_report
from .results import read_table
from .scenario import STATUSES, Scenario, load_scenario

TABLES: tuple[str, ...] = ("runs", "timeseries", "events", "members", "alliance")
"""Tables of a results folder: one row per run, per (run, step, member), per event,
per (run, member) and per (run, step)."""


EVENT_COLUMNS: tuple[str, ...] = (
    "year",
    "label",
    "kind",
    "member",
    "counterpart",
    "severity",
    "requested",
    "responded",
    "helped",
)
"""Columns of the events table after ``scenario`` and ``run``."""


class ResultsExistError(Exception):
    """The output folder already holds results and neither resume nor overwrite was asked."""


class ResumeMismatchError(Exception):
    """The results folder was made from other scenarios or another seed than the resumed ensemble."""


def simulate(scenario: Scenario, run: int, seed: int) -> dict[str, pd.DataFrame]:
    """One run of a scenario with the Mesa model, as tidy tables.

    An exception becomes a run with ``status = error`` and its message.
    """
    seed_i = run_seed(seed, run)
    try:
        model = CSTOModel(scenario, run=run, rng=seed_i, collect=False)
        model.run_model()
    except Exception as exc:  # a failed run is recorded, the ensemble goes on
        return {"runs": error_rows(scenario.name, [run], [seed_i], exc)}
    h = model.history
    history = outcomes.History(h.w[None], h.c[None], h.b[None], h.status[None])
    return tables_from(scenario.name, model.inputs, [run], [seed_i], history, model.events)


def error_rows(
    name: str, runs: Sequence[int], seeds: Sequence[int], exc: Exception
) -> pd.DataFrame:
    """Rows of the runs table for runs that raised."""
    message = f"{type(exc).__name__}: {exc}"
    return pd.DataFrame(
        {
            "scenario": name,
            "run": np.asarray(runs, dtype=np.int32),
            "seed": np.asarray(seeds, dtype=np.int64),
            "status": "error",
            "error": message,
        }
    )


def tables_from(
    name: str,
    inp: Inputs,
    runs: Sequence[int],
    seeds: Sequence[int],
    h: outcomes.History,
    record: dict[str, list[np.ndarray]],
) -> dict[str, pd.DataFrame]:
    """The output tables of finished runs: ``h`` has a leading runs axis, ``record`` events.

    Both engines (the Mesa agents and the batched arrays) end here, so their outputs have
    one definition.
    """
    R, T1, M = h.status.shape
    run_ids = np.asarray(runs, dtype=np.int32)
    seed_ids = np.asarray(seeds, dtype=np.int64)
    status_names = np.array(STATUSES, dtype=object)
    members = np.array(inp.members, dtype=object)
    ts = pd.DataFrame(
        {
            "scenario": name,
            "run": np.repeat(run_ids, T1 * M),
            "seed": np.repeat(seed_ids, T1 * M),
            "step": np.tile(np.repeat(np.arange(T1, dtype=np.int32), M), R),
            "year": np.tile(np.repeat(inp.years, M), R),
            "member": np.tile(members, R * T1),
            "status": status_names[h.status.reshape(-1)],
            "commitment": h.c.reshape(-1),
            "trust": h.b.reshape(-1),
            **{f"w_{p.lower()}": h.w[..., j].reshape(-1) for j, p in enumerate(inp.poles)},
        }
    )
    min_active = int(inp.params["collapse_min_active"])
    coh = outcomes.cohesion(h.w, h.status, inp.leader, inp.leader_pole)
    alliance = pd.DataFrame(
        {
            "scenario": name,
            "run": np.repeat(run_ids, T1),
            "step": np.tile(np.arange(T1, dtype=np.int32), R),
            "year": np.tile(inp.years, R),
            "cohesion": coh.reshape(-1),
            "n_active": (h.status == 1).sum(axis=-1).reshape(-1),
            "n_blocs": outcomes.n_blocs(h.w, h.status).reshape(-1),
            "collapsed": outcomes.collapsed(h.status, inp.leader, min_active).reshape(-1),
        }
    )
    ev = outcomes.concat_events(record)
    pos = ev["run"].astype(int)
    cp = ev["counterpart"].astype(int)
    counterparts = np.array([*inp.counterparts, ""], dtype=object)
    events = pd.DataFrame(
        {
            "scenario": name,
            "run": run_ids[pos],
            "year": inp.years[ev["step"].astype(int)],
            "label": ev["label"].astype(object),
            "kind": np.array(THREAT_KINDS, dtype=object)[ev["kind"].astype(int)],
            "member": members[ev["member"].astype(int)],
            "counterpart": counterparts[cp],
            "severity": ev["severity"].astype(float),
            "requested": ev["requested"].astype(bool),
            "responded": ev["responded"].astype(bool),
            "helped": ev["helped"].astype(bool),
        }
    )
    summary = outcomes.summarise(
        h.w, h.status, ev, inp.years, inp.leader, inp.leader_pole, min_active, coh
    )
    runs_table = pd.DataFrame(
        {"scenario": name, "run": run_ids, "seed": seed_ids, "status": "ok", "error": ""} | summary
    )
    member_table = pd.DataFrame(
        {
            "scenario": name,
            "run": np.repeat(run_ids, M),
            "member": np.tile(members, R),
            "status_final": status_names[h.status[:, -1].reshape(-1)],
            "frozen_year": _first_entry(h.status == 2, inp.years).reshape(-1),
            "withdrawn_year": _first_entry(h.status == 3, inp.years).reshape(-1),
            "exit_year": _first_entry((h.status == 2) | (h.status == 3), inp.years).reshape(-1),
        }
    )
    return {
        "runs": runs_table,
        "timeseries": ts,
        "events": events,
        "members": member_table,
        "alliance": alliance,
    }


def _first_entry(mask: np.ndarray, years: np.ndarray) -> np.ndarray:
    """For each run and member, the first year the mask starts to hold (a transition), else NaN.

    A member already frozen at the start has not frozen; it counts once it withdraws.
    """
    hit = mask[:, 1:] & ~mask[:, :-1]
    first = hit.argmax(axis=1)
    return np.where(hit.any(axis=1), years[1:][first], np.nan)


ENGINES: tuple[str, ...] = ("batch", "agents")
"""How runs are computed: many replicas at once as arrays (default), or one Mesa model per run."""


def simulate_batch(scenario: Scenario, runs: Sequence[int], seed: int) -> dict[str, pd.DataFrame]:
    """Several runs of a scenario with the batched engine, as tidy tables.

    If the batch raises, each run is retried alone so that only the failing ones are
    recorded with ``status = error``.
    """
    seeds = [run_seed(seed, r) for r in runs]
    try:
        inp, history, record = run_batch(scenario, seeds)
    except Exception as exc:
        if len(runs) == 1:
            return {"runs": error_rows(scenario.name, runs, seeds, exc)}
        return _concat([simulate_batch(scenario, [r], seed) for r in runs])
    return tables_from(scenario.name, inp, runs, seeds, history, record)


def _concat(parts: list[dict[str, pd.DataFrame]]) -> dict[str, pd.DataFrame]:
    return {
        t: pd.concat([p[t] for p in parts if t in p], ignore_index=True)
        for t in TABLES
        if any(t in p for p in parts)
    }


def run_chunk(
    scenario: Scenario, runs: Sequence[int], seed: int, engine: str = "batch"
) -> dict[str, pd.DataFrame]:
    """Several runs of one scenario, concatenated (the unit of work sent to an executor)."""
    if engine == "batch":
        return simulate_batch(scenario, list(runs), seed)
    if engine == "agents":
        return _concat([simulate(scenario, r, seed) for r in runs])
    raise ValueError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")


def run_and_save(
    store: Store, scenario: Scenario, runs: Sequence[int], seed: int, engine: str = "batch"
) -> None:
    """Run a chunk and save it into the results folder (in a local worker process)."""
    store.write_chunk(scenario.name, runs, run_chunk(scenario, runs, seed, engine))


@dataclass
class Ensemble:
    """What to run: scenarios, how many runs each, and the ensemble seed."""

    scenarios: list[Scenario]
    runs: int
    seed: int
    command: str = ""
    chunk_size: int = 25
    engine: str = "batch"

    def manifest(self) -> dict[str, Any]:
        """The manifest written beside the results: inputs, seeds and versions."""
        import mesa

        from . import __version__

        return {
            "package": "csto-sim",
            "version": __version__,
            "python": platform.python_version(),
            "mesa": mesa.__version__,
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
        }


class Store:
    """A results folder: chunk files written atomically, assembled into the final tables."""

    def __init__(self, root: str | Path, fmt: str = "parquet"):
        self.root = Path(root)
        self.fmt = fmt
        self.chunks = self.root / "chunks"

    def prepare(self, ensemble: Ensemble, resume: bool, overwrite: bool) -> bool:
        """Create the folder, or check that its runs can be kept; returns whether to keep them.

        A folder made with the same scenarios, seed, runs, chunking and engine is continued
        (its finished runs are not recomputed), so rerunning a command is safe and gives the
        same tables. A folder made with other settings is replaced only with ``overwrite``.
        """
        manifest = self.root / "manifest.json"
        keep = False
        if manifest.exists() and overwrite and not resume:
            self._clear()
        elif manifest.exists():
            old = json.loads(manifest.read_text())
            new = ensemble.manifest()
            same = all(old.get(k) == new[k] for k in ("seed", "runs", "chunk_size", "engine")) and [
                s["sha256"] for s in old["scenarios"]
            ] == [s["sha256"] for s in new["scenarios"]]
            if not same and resume:
                raise ResumeMismatchError(
                    f"{self.root} holds results of other scenarios, runs or seed; resume with "
                    "the same scenario files, --runs and --seed, or choose another --out"
                )
            if not same:
                raise ResultsExistError(
                    f"{self.root} already holds results of other scenarios, runs or seed: "
                    "pass --overwrite to replace them or choose another --out"
                )
            keep = True
        for t in TABLES:
            (self.chunks / t).mkdir(parents=True, exist_ok=True)
        _atomic_write_text(manifest, json.dumps(ensemble.manifest(), indent=2, default=str))
        return keep

    def _clear(self) -> None:
        if self.chunks.exists():
            for path in sorted(self.chunks.rglob("*"), reverse=True):
                path.unlink() if path.is_file() else path.rmdir()
        for name in (
            "report.md",
            "summary.csv",
            *(f"{t}.{e}" for t in TABLES for e in ("parquet", "csv")),
        ):
            (self.root / name).unlink(missing_ok=True)

    def done(self) -> set[tuple[str, int]]:
        """(scenario, run) pairs whose chunks are complete on disk; drops the rest of unfinished chunks."""
        complete = {p.name for p in (self.chunks / "runs").glob("*.parquet")}
        for t in TABLES:
            for path in (self.chunks / t).glob("*"):
                if path.name not in complete:
                    path.unlink()
        out: set[tuple[str, int]] = set()
        for path in (self.chunks / "runs").glob("*.parquet"):
            table = pq.read_table(path, columns=["scenario", "run"])
            out.update(
                zip(
                    table.column("scenario").to_pylist(),
                    table.column("run").to_pylist(),
                    strict=True,
                )
            )
        return out

    def write_chunk(self, name: str, runs: Sequence[int], tables: dict[str, pd.DataFrame]) -> None:
        """Write one chunk's tables; the ``runs`` table goes last and marks the chunk complete."""
        stem = f"{name}__{min(runs):07d}-{max(runs):07d}"
        for t in TABLES:
            if t == "runs":
                continue
            frame = tables.get(t)
            if frame is not None and len(frame):
                _atomic_write_parquet(frame, self.chunks / t / f"{stem}.parquet")
        _atomic_write_parquet(tables["runs"], self.chunks / "runs" / f"{stem}.parquet")

    def assemble(self, order: Sequence[str]) -> None:
        """Write the final tables from the chunks, by scenario (in ``order``) and run.

        Chunks hold ascending, non-overlapping runs (``chunk_plan``), so concatenating them in
        order of scenario and first run gives the final order; they are streamed one at a time.
        """
        rank = {n: i for i, n in enumerate(order)}
        complete = {p.name for p in (self.chunks / "runs").glob("*.parquet")}
        for t in TABLES:
            paths = [p for p in (self.chunks / t).glob("*.parquet") if p.name in complete]
            paths.sort(key=lambda p: (rank.get(p.name.split("__")[0], len(rank)), p.name))
            target = self.root / f"{t}.{self.fmt}"
            tmp = target.with_suffix(target.suffix + ".tmp")
            tmp.unlink(missing_ok=True)
            if not paths:
                frame = _empty(t)
                frame.to_parquet(tmp, index=False) if self.fmt == "parquet" else frame.to_csv(
                    tmp, index=False
                )
                os.replace(tmp, target)
                continue
            schemas = [pq.read_schema(p).remove_metadata() for p in paths]
            schema = pa.unify_schemas(schemas, promote_options="permissive")
            writer_cls = pq.ParquetWriter if self.fmt == "parquet" else pa_csv.CSVWriter
            with writer_cls(tmp, schema) as writer:
                for p in paths:
                    writer.write_table(_conform(pq.read_table(p), schema))
            os.replace(tmp, target)

    def read(self, table: str, columns: list[str] | None = None) -> pd.DataFrame:
        """A final table of the results folder."""
        return read_table(self.root, table, columns)


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """A chunk's table with the columns of ``schema`` (missing ones as nulls), in its order."""
    columns = [
        table.column(f.name).cast(f.type)
        if f.name in table.column_names
        else pa.nulls(len(table), f.type)
        for f in schema
    ]
    return pa.Table.from_arrays(columns, schema=schema)


def _empty(table: str) -> pd.DataFrame:
    columns = {
        "runs": ["scenario", "run", "seed", "status", "error"],
        "events": ["scenario", "run", *EVENT_COLUMNS],
    }.get(table, ["scenario", "run"])
    return pd.DataFrame(columns=columns)


def _atomic_write_parquet(frame: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    frame.to_parquet(tmp, index=False, compression="lz4")  # a chunk is read back once: fast codec
    os.replace(tmp, path)


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


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


def process_context() -> multiprocessing.context.BaseContext:
    """A start method for worker processes, without changing the global one.

    forkserver where the platform has it (workers fork from a server that has already
    imported the model, so they start fast and never inherit threads), spawn elsewhere.
    """
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["csto_sim.ensemble"])
        return ctx
    return multiprocessing.get_context("spawn")


def default_workers() -> int:
    """All cores."""
    return os.cpu_count() or 1


@dataclass
class Outcome:
    """What an ensemble produced: where, how many runs, how many failed."""

    out: Path
    total: int
    done: int
    failed: int
    fmt: str = "parquet"

    def read(self, table: str, columns: list[str] | None = None) -> pd.DataFrame:
        """A table of the results folder as a DataFrame."""
        return Store(self.out, self.fmt).read(table, columns)


class DaskUnavailable(Exception):
    """Dask was asked for but is not installed or the scheduler cannot be reached."""


@contextmanager
def dask_executor(address: str | None, workers: int | None = None) -> Iterator[Executor | None]:
    """A ``concurrent.futures`` executor on Dask: ``local`` starts a LocalCluster, else connect.

    Yields ``None`` when ``address`` is ``None`` (the caller then uses local processes).
    """
    if address is None:
        yield None
        return
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise DaskUnavailable("Dask is not installed; pip install 'csto-sim[dask]'") from None
    cluster = None
    try:
        if address == "local":
            cluster = LocalCluster(
                n_workers=workers or default_workers(),
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            )
            client = Client(cluster)
        else:
            client = Client(address, timeout="10s")
    except OSError as exc:
        if cluster is not None:
            cluster.close()
        raise DaskUnavailable(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    try:
        yield client.get_executor()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


class Interrupted(Exception):
    """The ensemble stopped early (Ctrl-C, a dead worker) after saving what had finished."""

    def __init__(self, out: Path, done: int, total: int, reason: str = "interrupted"):
        self.out, self.done, self.total, self.reason = out, done, total, reason
        super().__init__(f"{reason} after {done} of {total} runs; saved in {out}")


def run_ensemble(
    scenarios: Iterable[Scenario | str | Path],
    runs: int,
    out: str | Path,
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
) -> Outcome:
    """Run every scenario ``runs`` times, saving chunks as they finish, and assemble the tables.

    ``seed`` defaults to the first scenario's seed and is shared by all scenarios. With
    ``executor`` (any ``concurrent.futures.Executor``, a Dask client's included) the runs
    go there; otherwise ``workers`` local processes (default: all cores; 1 runs in-process).
    ``engine`` is ``"batch"`` (replicas advanced together as arrays) or ``"agents"`` (one
    Mesa model per run); both give the same results.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    specs = [s if isinstance(s, Scenario) else load_scenario(s) for s in scenarios]
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ValueError(f"scenario names must differ; got {names}")
    seed = specs[0].seed if seed is None else seed
    size = chunk_size or default_chunk_size(runs)
    ensemble = Ensemble(specs, runs, seed, command=command, chunk_size=size, engine=engine)
    store = Store(out, fmt)
    done = store.done() if store.prepare(ensemble, resume, overwrite) else set()
    workers = workers or default_workers()
    plan = chunk_plan(names, runs, done, size)
    total = runs * len(specs)
    bar = _progress(total, len(done), progress)
    own_pool = None
    if executor is None and workers > 1 and len(plan) > 1:
        own_pool = ProcessPoolExecutor(workers, mp_context=process_context())
        executor = own_pool
    finished = len(done)
    try:
        if executor is None:
            for si, chunk in plan:
                store.write_chunk(names[si], chunk, run_chunk(specs[si], chunk, seed, engine))
                finished += len(chunk)
                bar.update(len(chunk))
                if on_chunk:
                    on_chunk(finished)
        else:
            pending: dict[Future, tuple[int, list[int]]] = {}
            queue = list(plan)
            limit = 2 * workers
            while queue or pending:
                while queue and len(pending) < limit:
                    si, chunk = queue.pop(0)
                    if own_pool is not None:  # local workers share the disk: they save chunks
                        job = executor.submit(run_and_save, store, specs[si], chunk, seed, engine)
                    else:  # a cluster may not: results come back to be saved here
                        job = executor.submit(run_chunk, specs[si], chunk, seed, engine)
                    pending[job] = (si, chunk)
                ready, _ = wait(list(pending), return_when=FIRST_COMPLETED)
                for fut in ready:
                    si, chunk = pending.pop(fut)
                    tables = fut.result()
                    if tables is not None:
                        store.write_chunk(names[si], chunk, tables)
                    finished += len(chunk)
                    bar.update(len(chunk))
                    if on_chunk:
                        on_chunk(finished)
    except (KeyboardInterrupt, BrokenExecutor) as exc:
        bar.close()
        if own_pool is not None:
            own_pool.shutdown(wait=False, cancel_futures=True)
            own_pool = None
        reason = "a worker process died" if isinstance(exc, BrokenExecutor) else "interrupted"
        raise Interrupted(Path(out), finished, total, reason) from None
    finally:
        bar.close()
        if own_pool is not None:
            own_pool.shutdown(wait=True, cancel_futures=True)
    store.assemble(names)
    runs_table = store.read("runs", ["status"])
    failed = int((runs_table["status"] == "error").sum()) if len(runs_table) else 0
    return Outcome(Path(out), total, finished, failed, fmt)


def _progress(total: int, initial: int, show: bool | None):
    from tqdm.auto import tqdm

    if show is None:
        show = sys.stderr.isatty()
    return tqdm(
        total=total, initial=initial, disable=not show, unit="run", desc="runs", file=sys.stderr
    )


def compare(
    scenarios: Iterable[Scenario | str | Path],
    runs: int,
    out: str | Path,
    reference: str | None = None,
    horizon: float = HORIZON,
    **options: Any,
) -> dict[str, pd.DataFrame]:
    """Run scenarios with common random numbers and return the comparison tables.

    The same as ``csto-sim compare`` without the figures: runs the ensemble (``options`` go
    to :func:`run_ensemble`, for example ``executor=`` or ``workers=``), writes ``report.md``
    and ``summary.csv`` into ``out`` and returns the tables (``outcomes``, ``exits``,
    ``collapse``, ``responses``, ``paired``) as DataFrames.
    """
    run_ensemble(scenarios, runs, out, **options)
    write_report(out, reference, horizon)
    return comparison(out, reference, horizon)
