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
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from csto_sim.core.files import InputError

TEXT_COLUMNS: frozenset[str] = frozenset(
    {"scenario", "status", "error", "member", "label", "kind", "counterpart", "status_final"}
)
"""Columns that hold text in every table: a CSV reader must not turn them into numbers."""


RESULTS = "results"
"""Where the commands put their results folders by default (relative to the working folder)."""


class ResultsError(InputError):
    """A results folder is missing or incomplete."""


def latest(results_dir: str | Path = RESULTS, command: str = "compare") -> Path | None:
    """The most recently finished results folder of ``command`` under ``results_dir`` (the
    one whose manifest records final tables and was written last), or None."""
    base = Path(results_dir) / command
    finished = [m for m in [*base.glob("*/manifest.json"), base / "manifest.json"] if _finished(m)]
    if not finished:
        return None
    return max(finished, key=lambda m: m.stat().st_mtime_ns).parent


def _finished(manifest: Path) -> bool:
    """Whether a manifest records final tables (a finished ensemble)."""
    try:
        return bool(json.loads(manifest.read_text(encoding="utf-8")).get("tables"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError):
        return False


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


def dataset(root: str | Path, table: str, manifest: dict[str, Any] | None = None) -> ds.Dataset:
    """A table of a results folder as one dataset: its chunks' files in name order, each
    verified (:func:`chunk_problem`), their columns unified."""
    root = Path(root)
    manifest = read_manifest(root) if manifest is None else manifest
    identity, files = manifest_digest(manifest), []
    for name, entry in sorted(manifest["chunks"].items()):
        if problem := chunk_problem(root, table, name, entry, identity):
            raise ResultsError(f"{root / table / name}.parquet: {problem}")
        files.append(root / table / f"{name}.parquet")
    if not files:
        return ds.dataset([], schema=pa.schema([]), format="parquet")
    schemas = [_schema(*_stamp(f)).remove_metadata() for f in files]
    schema = pa.unify_schemas(schemas, promote_options="permissive")
    return ds.dataset([str(f) for f in files], schema=schema, format="parquet")


def table_path(root: str | Path, table: str) -> Path:
    """The file of a table written whole, Parquet or CSV (a folder of an older version)."""
    root = Path(root)
    for ext in ("parquet", "csv"):
        path = root / f"{table}.{ext}"
        if path.exists():
            return path
    raise ResultsError(f"{root}: no {table} table (is this a csto-sim results folder?)")


def read_table(
    root: str | Path,
    table: str,
    columns: Sequence[str] | None = None,
    where: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """A table of a results folder: only ``columns`` (all if None), only rows where each
    column of ``where`` equals its value.

    The table is the dataset of the folder's chunks (:func:`dataset`; a table written
    whole by an older version is read from its file). Filters are pushed down to the
    reader, so only the rows asked for are held in memory. Text columns are text (empty
    text is ``""``); empty numbers are NaN.
    """
    equal = dict(where or {})
    wanted = None if columns is None else list(dict.fromkeys([*columns, *equal]))
    if (Path(root) / table).is_dir():
        frame = _read_dataset(root, table, wanted, equal)
    else:
        frame = _read_file(table_path(root, table), wanted, equal)
    if columns is not None:
        frame = frame[list(columns)]
    return frame.reset_index(drop=True)


def _read_dataset(
    root, table: str, wanted: list[str] | None, equal: dict[str, Any]
) -> pd.DataFrame:
    data = dataset(root, table)
    if not data.schema.names:
        return pd.DataFrame(columns=wanted or [])
    condition = None
    for k, v in equal.items():
        condition = pc.field(k) == v if condition is None else condition & (pc.field(k) == v)
    try:
        return data.to_table(columns=wanted, filter=condition).to_pandas()
    except (OSError, ValueError, KeyError, pa.ArrowException) as exc:
        raise ResultsError(f"{Path(root) / table}: not a readable table ({_reason(exc)})") from None


def _read_file(path: Path, wanted: list[str] | None, equal: dict[str, Any]) -> pd.DataFrame:
    try:
        if path.suffix == ".csv":
            return _read_csv_where(path, wanted, equal)
        filters = [(k, "==", v) for k, v in equal.items()] or None
        return pd.read_parquet(path, columns=wanted, filters=filters)
    except (OSError, ValueError, KeyError, pd.errors.ParserError, pa.ArrowException) as exc:
        kind = "CSV" if path.suffix == ".csv" else "Parquet"
        raise ResultsError(f"{path}: not a readable {kind} table ({_reason(exc)})") from None


def _reason(exc: BaseException) -> str:
    """The first line of what a reader said, short."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."


def _read_csv_where(path: Path, columns: list[str] | None, equal: dict[str, Any]) -> pd.DataFrame:
    """Columns of a CSV table, keeping only rows where each column equals the given value."""
    header = pd.read_csv(path, nrows=0).columns
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
    """The manifest of a results folder (``{}`` without one, if ``missing_ok``)."""
    path = Path(root) / MANIFEST
    if missing_ok and not path.is_file():
        return {}
    if not path.exists():
        raise ResultsError(f"{root}: no {MANIFEST} (is this a csto-sim results folder?)")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ResultsError(f"{path} is unreadable ({type(exc).__name__})") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("chunks", {}), dict):
        raise ResultsError(f"{path} is not a csto-sim manifest")
    return manifest


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
        root = Path(root)
        manifest = read_manifest(root)
        if not isinstance(manifest.get("scenarios"), list):
            raise ResultsError(f"{root / 'manifest.json'} is not the manifest of an ensemble")
        if not manifest.get("tables"):
            raise ResultsError(f"{root} holds an unfinished ensemble; finish it with --resume")
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
        raise KeyError(f"no scenario {scenario!r} in {self.root}")

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
        return int(self.run_status.loc[scenario, "ok"])

    def runs_label(self, scenario: str | None = None) -> str:
        """``n = 40 runs`` (with failures, if any); for all scenarios when ``scenario`` is None."""
        if scenario is not None:
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
            equal["scenario"] = scenario
        return read_table(self.root, table, columns, equal)

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
