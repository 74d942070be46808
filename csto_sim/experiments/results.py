"""Reading a results folder: the tables of the output contract and the manifest.

Everything that reads results (reports, figures, the hindcast patterns, notebooks) goes
through :func:`read_table` or :class:`Results`, so results made yesterday, on another
machine or by a cluster read the same in Parquet or CSV, and text columns stay text (a
scenario named ``2`` is the string ``"2"``).
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import filelock
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from csto_sim.core.files import InputError, checked, read_text, short
from csto_sim.experiments.columns import TEXT_COLUMNS, check_frame, check_names
from csto_sim.experiments.manifest import ResultsError

MAX_TABLE = 64 << 30
"""The largest table file read whole (a folder without a manifest)."""

RESULTS = "results"
"""Where the commands put their results folders by default (relative to the working folder)."""


def latest(results_dir: str | Path = RESULTS, command: str = "compare") -> Path | None:
    """The most recently finished results folder of ``command`` under ``results_dir`` (the
    one whose manifest records final tables and was written last), or None; a damaged
    manifest is a :class:`ResultsError` naming it."""
    base = Path(results_dir) / command
    manifests = [m for m in [*base.glob("*/manifest.json"), base / "manifest.json"] if m.exists()]
    finished = [m for m in manifests if read_manifest(m.parent).get("tables")]
    if not finished:
        return None
    return max(finished, key=lambda m: m.stat().st_mtime_ns).parent


MANIFEST = "manifest.json"
"""The manifest's file name in a results folder."""

IDENTITY_KEY = "csto_sim.identity"
"""The key of the folder's identity digest in each chunk file's metadata."""


def sha256(path: Path) -> str:
    """The SHA-256 checksum of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def manifest_digest(manifest: dict[str, Any]) -> str:
    """The digest of a manifest's ``identity`` (what the results were made from)."""
    text = json.dumps(manifest.get("identity"), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _stamp(path: Path) -> tuple[Path, int, int]:
    stat = path.stat()
    return path, stat.st_size, stat.st_mtime_ns


@functools.lru_cache(maxsize=65_536)
def _checksum(path: Path, size: int, mtime: int) -> str:
    return sha256(path)


@functools.lru_cache(maxsize=65_536)
def _schema(path: Path, size: int, mtime: int) -> pa.Schema:
    return pq.read_schema(path)


def chunk_problem(root: Path, table: str, name: str, entry: Any, identity: str) -> str | None:
    """What is wrong with a chunk's file of ``table`` (None: it is there, with the checksum
    of its manifest ``entry`` and the folder's ``identity``); each file's checksum and
    schema are read once per process (while its size and time stay the same)."""
    path = root / table / f"{name}.parquet"
    try:
        expected = entry["files"][table]["sha256"]
    except (KeyError, TypeError):
        return f"its entry in {MANIFEST} is malformed or lacks this table"
    try:
        if _checksum(*_stamp(path)) != expected:
            return "damaged (its checksum is not the manifest's)"
        metadata = _schema(*_stamp(path)).metadata or {}
    except OSError:
        return "missing"
    except pa.ArrowException as exc:
        return f"not a readable table ({_reason(exc)})"
    if metadata.get(IDENTITY_KEY.encode()) != identity.encode():
        return "made for another folder (not this manifest's identity)"
    return None


def verify_files(root: Path, manifest: dict[str, Any]) -> None:
    """Refuse a finished folder that lacks a chunk's file, holds one its manifest does not
    list, or holds one that is damaged or another folder's (:func:`chunk_problem`; every
    table's, not only those a command reads), and damaged derived files
    (:func:`verify_derived`)."""
    identity = manifest_digest(manifest)
    for table in manifest["tables"]:
        if whole_file(root, table, manifest):
            continue
        listed = {root / table / f"{name}.parquet" for name in manifest["chunks"]}
        if missing := sorted(p for p in listed if not p.is_file()):
            raise ResultsError(missing[0], "missing (--resume makes it again)")
        if stray := sorted(set((root / table).glob("[!.]*")) - listed):
            raise ResultsError(stray[0], f"not a chunk {MANIFEST} lists (--resume removes it)")
        for name, entry in sorted(manifest["chunks"].items()):
            if problem := chunk_problem(root, table, name, entry, identity):
                raise ResultsError(
                    f"{root / table / name}.parquet: {problem} (--resume makes it again)"
                )
    verify_derived(root, manifest)


def verify_derived(root: Path, manifest: dict[str, Any]) -> None:
    """Refuse a file written from the tables (``summary.csv``, ``report.md``, a CSV export)
    that is not what its manifest entry records; one that was removed is simply not there."""
    written = [*manifest.get("derived", {}).values(), *manifest.get("exports", {}).values()]
    for entry in written:
        path = root / entry["file"]
        if path.is_file() and _checksum(*_stamp(path)) != entry["sha256"]:
            raise ResultsError(
                path,
                "damaged (its checksum is not the manifest's); delete it, or run the command "
                "that made the folder again to rewrite it",
            )


def dataset(root: str | Path, table: str, manifest: dict[str, Any] | None = None) -> ds.Dataset:
    """A table of a results folder as one dataset: its chunks' files in name order, each
    verified (:func:`chunk_problem`), their columns unified."""
    root = Path(root)
    manifest = read_manifest(root) if manifest is None else manifest
    made = manifest.get("tables")
    if made and table not in made:
        raise ResultsError(root / table, f"no such table here (this folder has: {', '.join(made)})")
    if "chunks" not in manifest:
        raise ResultsError(root / MANIFEST, "chunks", "missing (finish the folder with --resume)")
    identity, files = manifest_digest(manifest), []
    for name, entry in sorted(manifest["chunks"].items()):
        if problem := chunk_problem(root, table, name, entry, identity):
            raise ResultsError(f"{root / table / name}.parquet: {problem}")
        files.append(root / table / f"{name}.parquet")
    if not files:
        return ds.dataset([], schema=pa.schema([]), format="parquet")
    schemas = [_schema(*_stamp(f)).remove_metadata() for f in files]
    try:
        schema = pa.unify_schemas(schemas, promote_options="permissive")
    except (pa.ArrowException, ValueError) as exc:
        raise ResultsError(root / table, f"its chunks' columns disagree ({_reason(exc)})") from None
    return ds.dataset([str(f) for f in files], schema=schema, format="parquet")


def whole_file(root: Path, table: str, manifest: dict[str, Any]) -> Path | None:
    """The file of a table written whole (Parquet or CSV) that is read instead of its
    chunks: in a folder without a manifest, or without the table's chunk folder; an export
    the manifest lists is verified against its checksum."""
    if manifest and (root / table).is_dir():
        return None
    path = next((p for p in (root / f"{table}.parquet", root / f"{table}.csv") if p.exists()), None)
    if path is None:
        return None
    checked(path, MAX_TABLE, "table")  # before a checksum reads it: not a FIFO
    export = manifest.get("exports", {}).get(table)
    if export and export["file"] == path.name and _checksum(*_stamp(path)) != export["sha256"]:
        raise ResultsError(path, "damaged (its checksum is not the manifest's)")
    return path


def read_table(
    root: str | Path,
    table: str,
    columns: Sequence[str] | None = None,
    where: dict[str, Any] | None = None,
    manifest: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """A table of a results folder: only ``columns`` (all if None), only rows where each
    column of ``where`` equals its value.

    The table is the dataset of the chunks the folder's manifest (read, unless given)
    lists (:func:`dataset`), or its file written whole (:func:`whole_file`). Filters are
    pushed down to the reader, so only the rows asked for are held in memory. Text columns
    are text (empty text is ``""``); empty numbers are NaN; the columns are checked
    (:func:`~csto_sim.experiments.columns.check_frame`).
    """
    root = Path(root)
    equal = dict(where or {})
    _check_query(root / table, columns, equal)
    wanted = None if columns is None else list(dict.fromkeys([*columns, *equal]))
    manifest = read_manifest(root, missing_ok=True) if manifest is None else manifest
    if source := whole_file(root, table, manifest):
        frame = _read_file(source, wanted, equal)
    elif manifest.get("tables"):
        source, frame = _read_dataset(root, table, wanted, equal, manifest)
    elif manifest:
        raise ResultsError(unfinished(root))
    else:
        raise ResultsError(f"{root}: no {table} table (is this a csto-sim results folder?)")
    frame = check_frame(source, frame)
    if columns is not None:
        frame = frame[list(columns)]
    return frame.reset_index(drop=True)


def _read_dataset(
    root: Path, table: str, wanted: list[str] | None, equal: dict[str, Any], manifest
) -> tuple[Path, pd.DataFrame]:
    data, source = dataset(root, table, manifest), root / table
    if not data.schema.names:
        return source, pd.DataFrame(columns=wanted or [])
    check_names(source, data.schema.names, wanted or [*equal])
    condition = None
    for k, v in equal.items():
        _comparable(source, k, v, data.schema.field(k).type)
        condition = pc.field(k) == v if condition is None else condition & (pc.field(k) == v)
    try:
        return source, data.to_table(columns=wanted, filter=condition).to_pandas()
    except (OSError, ValueError, KeyError, pa.ArrowException) as exc:
        raise ResultsError(source, f"not a readable table ({_reason(exc)})") from None


def _check_query(source: Path, columns: Any, equal: dict[str, Any]) -> None:
    """``columns`` a list of names, not one name; each ``where`` value one finite value (a
    list, None or NaN would match nothing or fail deep in the reader)."""
    if isinstance(columns, str):
        what = f"expected a list of column names, got {short(repr(columns), 40)}"
        raise ResultsError(source, "columns", what)
    for column, value in equal.items():
        finite = not isinstance(value, float | np.floating) or math.isfinite(value)
        if not (isinstance(value, str | bool | int | float | np.generic) and finite):
            what = f"where: {short(repr(value), 40)} is not one value (rows whose column equals it)"
            raise ResultsError(source, column, what)


def _comparable(source: Path, column: str, value: Any, kind: pa.DataType) -> None:
    """A ``where`` value of the column's kind (text for text, a number for numbers); else a
    ResultsError naming the column (it read as a damaged table)."""
    text = pa.types.is_string(kind) or pa.types.is_large_string(kind)
    truth = pa.types.is_boolean(kind)
    if isinstance(value, str) == text and isinstance(value, bool | np.bool_) == truth:
        return
    what = f"where: {short(repr(value), 40)} does not compare with its {kind} values"
    raise ResultsError(source, column, what)


def _read_file(path: Path, wanted: list[str] | None, equal: dict[str, Any]) -> pd.DataFrame:
    try:
        if path.suffix == ".csv":
            return _read_csv_where(path, wanted, equal)
        schema = pq.read_schema(path)
        check_names(path, schema.names, wanted or [*equal])
        for k, v in equal.items():
            _comparable(path, k, v, schema.field(k).type)
        filters = [(k, "==", v) for k, v in equal.items()] or None
        return pd.read_parquet(path, columns=wanted, filters=filters)
    except InputError:
        raise
    except (
        OSError,
        ValueError,
        KeyError,
        TypeError,
        UnicodeDecodeError,
        pd.errors.ParserError,
        pd.errors.EmptyDataError,
        pa.ArrowException,
    ) as exc:
        kind = "CSV" if path.suffix == ".csv" else "Parquet"
        raise ResultsError(path, f"not a readable {kind} table ({_reason(exc)})") from None


def _reason(exc: BaseException) -> str:
    """The first line of what a reader said, short."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."


def _read_csv_where(path: Path, columns: list[str] | None, equal: dict[str, Any]) -> pd.DataFrame:
    """Columns of a CSV table, keeping only rows where each column equals the given value."""
    header = pd.read_csv(path, nrows=0).columns
    check_names(path, list(header), columns or [*equal])
    text = [c for c in header if c in TEXT_COLUMNS and (columns is None or c in columns)]
    reader = pd.read_csv(
        path,
        usecols=columns,
        dtype=dict.fromkeys(text, str),
        keep_default_na=False,
        na_values={c: [""] for c in header if c not in TEXT_COLUMNS},
        chunksize=500_000,
    )
    parts = []
    for chunk in reader:
        mask = np.ones(len(chunk), dtype=bool)
        for col, value in equal.items():
            mask &= (chunk[col] == value).to_numpy()
        parts.append(chunk[mask])
    if not parts:
        return pd.DataFrame(columns=columns if columns is not None else header)
    return pd.concat(parts, ignore_index=True)


def read_manifest(root: str | Path, missing_ok: bool = False) -> dict[str, Any]:
    """The manifest of a results folder (``{}`` without one, if ``missing_ok``), checked
    against :class:`~csto_sim.experiments.manifest.Manifest` before anything reads it."""
    from csto_sim.experiments.manifest import MAX_BYTES, parse

    path = Path(root) / MANIFEST
    if missing_ok and not path.is_file():
        return {}
    if not Path(root).is_dir():
        what = "a file, not a results folder" if Path(root).exists() else "no such folder"
        raise ResultsError(f"{root}: {what}")
    if not path.exists():
        raise ResultsError(f"{root}: no {MANIFEST} (is this a csto-sim results folder?)")
    return parse(path, read_text(path, MAX_BYTES, "manifest"))


def writer(root: Path) -> str:
    """Who holds a folder's writer lock, as the writer wrote it in ``.writer``."""
    try:
        return (root / ".writer").read_text(encoding="utf-8").strip()[:200]
    except (OSError, UnicodeDecodeError):
        return "another process"


def unfinished(root: Path) -> str:
    """Why a folder without final tables cannot be read: a command is writing it, or one
    stopped before it finished."""
    if (root / ".writer").is_file():
        lock = filelock.FileLock(root / ".lock", timeout=0)
        try:
            lock.acquire()
            lock.release()
        except filelock.Timeout:
            return f"{root} is being written by {writer(root)}; wait for it to finish"
        except OSError:
            pass
    return f"{root} holds unfinished results; finish them with --resume"


@dataclass
class Results:
    """A results folder opened for reading: the manifest and lazy, column-wise table reads."""

    root: Path
    manifest: dict[str, Any] = field(repr=False)

    @classmethod
    def open(cls, root: str | Path | Results) -> Results:
        """Open a results folder (or pass an opened one through)."""
        if isinstance(root, Results):
            return root
        from csto_sim.experiments.manifest import EnsembleManifest, check

        root = Path(root)
        manifest = read_manifest(root)
        if not manifest.get("tables"):
            raise ResultsError(unfinished(root))
        if "scenarios" not in manifest:
            raise ResultsError(root / MANIFEST, "not the manifest of an ensemble (no scenarios)")
        check(root / MANIFEST, manifest, EnsembleManifest)
        verify_files(root, manifest)
        return cls(root, manifest)

    @property
    def scenarios(self) -> list[str]:
        """Scenario names in manifest order."""
        return [s["name"] for s in self.manifest["scenarios"]]

    def contents(self, scenario: str) -> dict[str, Any]:
        """The resolved scenario specification saved in the manifest."""
        for s in self.manifest["scenarios"]:
            if s["name"] == scenario:
                return s["contents"]
        raise ResultsError(
            self.root,
            f"no scenario {short(repr(scenario), 60)}; it holds {', '.join(self.scenarios)}",
        )

    def poles(self, scenario: str) -> list[str]:
        """A scenario's poles, in order."""
        return list(self.contents(scenario)["poles"])

    def members(self, scenario: str) -> list[str]:
        """A scenario's members, in order."""
        return list(self.contents(scenario)["members"])

    @property
    def all_poles(self) -> list[str]:
        """Every pole of every scenario, in order of first appearance."""
        return list(dict.fromkeys(p for s in self.scenarios for p in self.poles(s)))

    @property
    def all_members(self) -> list[str]:
        """Every member of every scenario, in order of first appearance."""
        return list(dict.fromkeys(m for s in self.scenarios for m in self.members(s)))

    def span(self, scenario: str) -> tuple[float, float]:
        """The first and last years in a scenario's tables: from the start of the history it
        continues when the ensemble was run ``with_history``."""
        contents = self.contents(scenario)
        time = contents["time"]
        if self.manifest.get("with_history") and contents.get("history"):
            return float(contents["history"]["time"]["start"]), float(time["end"])
        return float(time["start"]), float(time["end"])

    @property
    def full_span(self) -> tuple[float, float]:
        """The years covered by any scenario."""
        spans = [self.span(s) for s in self.scenarios]
        return min(a for a, _ in spans), max(b for _, b in spans)

    @functools.cached_property
    def run_status(self) -> pd.DataFrame:
        """Runs per scenario: ``ok`` and ``failed`` counts, indexed by scenario in manifest order."""
        runs = self.read("runs", ["scenario", "status"])
        ok = runs["status"].eq("ok").groupby(runs["scenario"]).sum()
        total = runs.groupby("scenario").size()
        table = pd.DataFrame({"ok": ok, "failed": total - ok})
        return table.reindex(self.scenarios, fill_value=0).astype(int)

    def n_ok(self, scenario: str) -> int:
        """Number of successful runs of a scenario."""
        self.contents(scenario)  # a scenario it holds
        return int(self.run_status.loc[scenario, "ok"])

    def runs_label(self, scenario: str | None = None) -> str:
        """``n = 40 runs`` (with failures, if any); for all scenarios when ``scenario`` is None."""
        if scenario is not None:
            self.contents(scenario)  # a scenario it holds
            ok, failed = self.run_status.loc[scenario, ["ok", "failed"]]
            return f"n = {ok} runs" + (f", {failed} failed" if failed else "")
        oks = set(self.run_status["ok"])
        failed = int(self.run_status["failed"].sum())
        tail = f", {failed} failed" if failed else ""
        if len(oks) == 1:
            return f"n = {oks.pop()} runs per scenario{tail}"
        return f"n = {min(oks)}-{max(oks)} runs per scenario{tail}"

    def read(
        self,
        table: str,
        columns: Sequence[str] | None = None,
        scenario: str | None = None,
        where: dict[str, Any] | None = None,
    ) -> pd.DataFrame:
        """Some columns of a table, optionally only one scenario's rows and rows where col == value."""
        equal = dict(where or {})
        if scenario is not None:
            self.contents(scenario)  # a scenario it holds (else no rows, silently)
            equal["scenario"] = scenario
        return read_table(self.root, table, columns, equal, self.manifest)

    def last_step(self, scenario: str) -> int | None:
        """The index of the final step of a scenario's runs (None without successful runs)."""
        steps = self.read("alliance", ["step"], scenario=scenario)["step"]
        return None if steps.empty else int(steps.max())

    def final_alignment(self, scenario: str) -> pd.DataFrame:
        """Mean alignment weights at the final step over runs, one row per member."""
        last = self.last_step(scenario)
        cols = weight_columns(self.poles(scenario))
        if last is None:
            return pd.DataFrame(columns=self.poles(scenario))
        frame = self.read("timeseries", ["member", *cols], scenario=scenario, where={"step": last})
        mean = frame.groupby("member", sort=False)[cols].mean()
        mean.columns = self.poles(scenario)
        return mean


def weight_columns(poles: Sequence[str]) -> list[str]:
    """The timeseries columns of the alignment weights (``w_eu`` for pole ``EU``)."""
    return [f"w_{p.lower()}" for p in poles]
