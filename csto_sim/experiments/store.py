"""A results folder on disk: a manifest, chunk files written atomically, and the final tables.

Every long computation (ensembles, sensitivity and discovery points) saves its work here
chunk by chunk as it finishes, so an interrupted computation resumes without recomputing
what is saved, and the final tables are assembled by streaming the chunks in order.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from csto_sim.experiments.results import read_table


class ResultsExistError(Exception):
    """The folder already holds results of another computation and overwriting was not asked."""


class ResumeMismatchError(Exception):
    """Resuming was asked, but the folder holds results of another computation."""


def atomic_write_text(path: Path, text: str) -> None:
    """Write a text file by rename, so it is never seen half written."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def atomic_write_parquet(frame: pd.DataFrame, path: Path, compression: str = "snappy") -> None:
    """Write a Parquet file by rename, so it is never seen half written."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    frame.to_parquet(tmp, index=False, compression=compression)
    os.replace(tmp, path)


class Store:
    """A results folder: ``manifest.json``, ``chunks/<table>/<stem>.parquet``, final tables.

    ``tables[0]`` marks a chunk complete: it is written last, so a chunk whose marker file
    exists has all its tables. ``empty`` gives the (column-only) frame of a table no chunk has.
    """

    def __init__(
        self,
        root: str | Path,
        tables: Sequence[str],
        fmt: str = "parquet",
        empty: Callable[[str], pd.DataFrame] | None = None,
    ):
        self.root = Path(root)
        self.tables = tuple(tables)
        self.fmt = fmt
        self.chunks = self.root / "chunks"
        self._empty = empty or (lambda table: pd.DataFrame())

    @property
    def manifest_path(self) -> Path:
        return self.root / "manifest.json"

    def prepare(self, manifest: dict[str, Any], resume: bool, overwrite: bool) -> bool:
        """Create the folder, or check that its chunks can be kept; returns whether to keep them.

        A folder whose manifest has the same ``identity`` is continued (its finished chunks
        are not recomputed), so rerunning a command is safe and gives the same tables. A
        folder made with another identity is replaced only with ``overwrite``.
        """
        keep = False
        if self.manifest_path.exists() and overwrite and not resume:
            self.clear()
        elif self.manifest_path.exists():
            old = json.loads(self.manifest_path.read_text())
            if old.get("identity") != manifest["identity"]:
                what = f"{self.root} holds results made with other inputs or settings"
                if resume:
                    raise ResumeMismatchError(f"{what}; resume with the same ones")
                raise ResultsExistError(f"{what}; overwrite them or choose another folder")
            keep = True
        for t in self.tables:
            (self.chunks / t).mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.manifest_path, json.dumps(manifest, indent=2, default=str))
        return keep

    def clear(self) -> None:
        """Remove the chunks, the final tables and anything derived from them."""
        if self.chunks.exists():
            for path in sorted(self.chunks.rglob("*"), reverse=True):
                path.unlink() if path.is_file() else path.rmdir()
        for name in (
            "report.md",
            "summary.csv",
            *(f"{t}.{e}" for t in self.tables for e in ("parquet", "csv")),
        ):
            (self.root / name).unlink(missing_ok=True)

    def complete(self) -> list[Path]:
        """The marker files of complete chunks; drops the files of incomplete chunks."""
        marker = self.chunks / self.tables[0]
        complete = {p.name for p in marker.glob("*.parquet")}
        for t in self.tables[1:]:
            for path in (self.chunks / t).glob("*"):
                if path.name not in complete:
                    path.unlink()
        return sorted(marker.glob("*.parquet"))

    def write_chunk(self, stem: str, tables: dict[str, pd.DataFrame]) -> None:
        """Write one chunk's tables; the marker table goes last and marks the chunk complete."""
        for t in self.tables:
            (self.chunks / t).mkdir(parents=True, exist_ok=True)
        for t in self.tables[1:]:
            frame = tables.get(t)
            if frame is not None and len(frame):
                # a chunk is read back once: a fast codec
                atomic_write_parquet(frame, self.chunks / t / f"{stem}.parquet", "lz4")
        marker = self.tables[0]
        atomic_write_parquet(tables[marker], self.chunks / marker / f"{stem}.parquet", "lz4")

    def assemble(self, order: Callable[[str], Any] = lambda stem: stem) -> None:
        """Write the final tables from the complete chunks, streamed one at a time in ``order``
        of their stems (chunks must hold ascending, non-overlapping rows)."""
        complete = {p.name for p in self.complete()}
        for t in self.tables:
            paths = [p for p in (self.chunks / t).glob("*.parquet") if p.name in complete]
            paths.sort(key=lambda p: order(p.stem))
            target = self.root / f"{t}.{self.fmt}"
            tmp = target.with_suffix(target.suffix + ".tmp")
            tmp.unlink(missing_ok=True)
            if not paths:
                frame = self._empty(t)
                if self.fmt == "parquet":
                    frame.to_parquet(tmp, index=False)
                else:
                    frame.to_csv(tmp, index=False)
            else:
                schemas = [pq.read_schema(p).remove_metadata() for p in paths]
                schema = pa.unify_schemas(schemas, promote_options="permissive")
                writer_cls = pq.ParquetWriter if self.fmt == "parquet" else pa_csv.CSVWriter
                with writer_cls(tmp, schema) as writer:
                    for p in paths:
                        writer.write_table(_conform(pq.read_table(p), schema))
            os.replace(tmp, target)

    def read(self, table: str, columns: list[str] | None = None) -> pd.DataFrame:
        """A final table of the folder."""
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
