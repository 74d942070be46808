"""A results folder on disk that verifies itself: a manifest, a ledger of checksummed chunks,
and the final tables.

Every long computation (ensembles, sensitivity and discovery points) saves its work here
chunk by chunk as it finishes. Each chunk's files are written atomically and recorded, with
their SHA-256 checksums and row counts, in the ledger ``chunks/ledger.jsonl``; a chunk counts
as saved only if its ledger entry and every one of its files agree, so a resumed computation
recomputes any chunk that is missing, truncated or corrupt and never mixes in files it did
not record. The final tables are assembled by streaming the saved chunks in order; their
checksums go into ``manifest.json`` and the chunks are then removed (unless kept).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from csto_sim.experiments.results import ResultsError, read_table


class ResultsExistError(Exception):
    """The folder already holds results of another computation and overwriting was not asked."""


class ResumeMismatchError(Exception):
    """Resuming was asked, but the folder holds results of another computation."""


class FolderError(ResultsError):
    """The results folder cannot be created or written (a file, no permission, ...)."""


def atomic_write_text(path: Path, text: str) -> None:
    """Write a text file by rename, so it is never seen half written."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def atomic_write_parquet(frame: pd.DataFrame, path: Path, compression: str = "snappy") -> None:
    """Write a Parquet file by rename, so it is never seen half written."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    table = pa.Table.from_pandas(frame, preserve_index=False)
    pq.write_table(table, tmp, compression=compression, use_dictionary=_text_columns(table.schema))
    os.replace(tmp, path)


def _text_columns(schema: pa.Schema) -> list[str]:
    """Columns worth dictionary-encoding: text. (Numbers are not: encoding a million distinct
    floats more than doubles the time to write them and makes the file larger.)"""
    return [
        f.name
        for f in schema
        if pa.types.is_string(f.type)
        or pa.types.is_large_string(f.type)
        or pa.types.is_dictionary(f.type)
    ]


def sha256(path: Path) -> str:
    """The SHA-256 checksum of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Store:
    """A results folder: ``manifest.json``, ``chunks/<table>/<stem>.parquet`` with their ledger,
    and the final tables.

    ``tables[0]`` is the marker table every chunk has; ``empty`` gives the (column-only)
    frame of a table no chunk has.
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
        self.ledger = self.chunks / "ledger.jsonl"
        self._empty = empty or (lambda table: pd.DataFrame())

    @property
    def manifest_path(self) -> Path:
        return self.root / "manifest.json"

    def manifest(self) -> dict[str, Any] | None:
        """The folder's manifest (None without one); a :class:`ResultsError` if unreadable."""
        if not self.manifest_path.exists():
            return None
        try:
            return json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ResultsError(f"{self.manifest_path} is unreadable ({exc})") from None

    def _holds_results(self) -> bool:
        finals = [self.root / f"{t}.{e}" for t in self.tables for e in ("parquet", "csv")]
        return any(p.exists() for p in finals) or (
            self.chunks.is_dir() and any(self.chunks.rglob("*"))
        )

    def prepare(self, manifest: dict[str, Any], resume: bool, overwrite: bool) -> bool:
        """Create the folder, or check that its saved chunks can be kept; returns whether to keep.

        A folder whose manifest has the same ``identity`` is continued (what it saved is not
        recomputed), so rerunning a command is safe. A folder made with another identity, or
        one holding results without a manifest, is replaced only with ``overwrite``.
        """
        if self.root.exists() and not self.root.is_dir():
            raise FolderError(f"{self.root} is a file, not a folder")
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise FolderError(f"cannot create {self.root}: {exc.strerror or exc}") from None
        old = None if overwrite and not resume else self.manifest()
        keep = False
        if overwrite and not resume:
            self.clear()
        elif old is None and self._holds_results():
            raise ResultsExistError(f"{self.root} holds results but no manifest.json")
        elif old is not None:
            if old.get("identity") != manifest["identity"]:
                differ = _differences(old.get("identity") or {}, manifest["identity"])
                what = f"{self.root} holds results made with other {differ}"
                if resume:
                    raise ResumeMismatchError(f"{what}; resume with the same ones")
                raise ResultsExistError(what)
            keep = True
            manifest = manifest | {k: old[k] for k in ("tables",) if k in old}
        try:
            for t in self.tables:
                (self.chunks / t).mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.manifest_path, json.dumps(manifest, indent=2, default=str))
        except OSError as exc:
            raise FolderError(f"cannot write in {self.root}: {exc.strerror or exc}") from None
        return keep

    def clear(self) -> None:
        """Remove the chunks, the final tables and anything derived from them."""
        shutil.rmtree(self.chunks, ignore_errors=True)
        for name in (
            "report.md",
            "summary.csv",
            *(f"{t}.{e}" for t in self.tables for e in ("parquet", "csv")),
        ):
            (self.root / name).unlink(missing_ok=True)

    # -- chunks ------------------------------------------------------------------------------

    def write_chunk(self, stem: str, tables: dict[str, pd.DataFrame]) -> dict[str, Any]:
        """Write one chunk's tables (atomically, each file by rename) and return its ledger
        entry: the stem and each file's checksum and rows. Safe in a worker process; the
        entry counts only once :meth:`record` has appended it to the ledger."""
        files = {}
        for t in self.tables:
            frame = tables.get(t)
            if frame is None or (t != self.tables[0] and not len(frame)):
                continue
            path = self.chunks / t / f"{stem}.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_parquet(frame, path, "lz4")  # a chunk is read back once: a fast codec
            files[t] = {"sha256": sha256(path), "rows": len(frame)}
        return {"stem": stem, "files": files}

    def record(self, entry: dict[str, Any], **facts: Any) -> None:
        """Append a chunk's ledger entry (with any ``facts``, for example its runs)."""
        with self.ledger.open("a", encoding="utf-8") as f:
            f.write(json.dumps(entry | facts) + "\n")

    def saved(self) -> list[dict[str, Any]]:
        """The ledger entries of chunks whose files are all present and intact; removes every
        other chunk file (unrecorded, missing a table, truncated, corrupt, temporary)."""
        entries = {}
        if self.ledger.exists():
            for line in self.ledger.read_text(encoding="utf-8").splitlines():
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line cut short by a kill
                entries[entry["stem"]] = entry
        good = {
            stem: e
            for stem, e in entries.items()
            if all(
                (p := self.chunks / t / f"{stem}.parquet").is_file() and sha256(p) == f["sha256"]
                for t, f in e["files"].items()
            )
        }
        keep = {(t, f"{stem}.parquet") for stem, e in good.items() for t in e["files"]}
        for t in self.tables:
            for path in (self.chunks / t).glob("*"):
                if (t, path.name) not in keep:
                    path.unlink()
        lines = "".join(json.dumps(e) + "\n" for e in good.values())
        if self.chunks.is_dir():
            atomic_write_text(self.ledger, lines)
        return list(good.values())

    # -- final tables ------------------------------------------------------------------------

    def finished(self) -> bool:
        """Whether the final tables are all there and match the checksums in the manifest.

        A folder whose tables do not verify loses them (they are made again); a finished
        folder's leftover chunks are removed unless the manifest says to keep them.
        """
        manifest = self.manifest() or {}
        tables = manifest.get("tables")
        ok = bool(tables) and all(
            (self.root / f["file"]).is_file() and sha256(self.root / f["file"]) == f["sha256"]
            for f in tables.values()
        )
        if not ok and tables:
            for f in tables.values():
                (self.root / f["file"]).unlink(missing_ok=True)
            atomic_write_text(
                self.manifest_path,
                json.dumps({k: v for k, v in manifest.items() if k != "tables"}, indent=2),
            )
        if ok and not manifest.get("keep_chunks"):
            shutil.rmtree(self.chunks, ignore_errors=True)
        return ok

    def target(self, table: str) -> Path:
        """The final file of ``table``."""
        return self.root / f"{table}.{self.fmt}"

    def assembly(self, stems: Sequence[str]) -> Assembly:
        """The final tables, written while chunks ``stems`` (in their final order) are saved
        (see :class:`Assembly`)."""
        return Assembly(self, stems)

    def assemble(
        self,
        stems: Sequence[str] | None = None,
        order: Callable[[str], Any] = lambda stem: stem,
        keep_chunks: bool = False,
    ) -> None:
        """Write the final tables from the chunks ``stems`` (default: every saved chunk),
        streamed one at a time in ``order`` of their stems (chunks hold ascending,
        non-overlapping rows); record their checksums in the manifest; then remove the chunks
        unless ``keep_chunks``."""
        if stems is None:
            stems = [e["stem"] for e in self.saved()]
        stems = sorted(stems, key=order)

        def one(t: str) -> dict[str, str]:
            paths = [p for s in stems if (p := self.chunks / t / f"{s}.parquet").exists()]
            target = self.target(t)
            return {
                "file": target.name,
                "sha256": write_table(target, paths, self._empty(t), self.fmt),
            }

        # Arrow reads, encodes and compresses without the GIL: the tables go on in parallel.
        with ThreadPoolExecutor(max_workers=len(self.tables) or 1) as pool:
            written = dict(zip(self.tables, pool.map(one, self.tables), strict=True))
        self._record_tables(written, keep_chunks)

    def _record_tables(self, written: dict[str, dict[str, str]], keep_chunks: bool) -> None:
        """Record the final tables' checksums in the manifest; remove the chunks unless kept."""
        manifest = (self.manifest() or {}) | {"tables": written, "keep_chunks": keep_chunks}
        atomic_write_text(self.manifest_path, json.dumps(manifest, indent=2, default=str))
        if not keep_chunks:
            shutil.rmtree(self.chunks, ignore_errors=True)

    def read(self, table: str, columns: list[str] | None = None) -> pd.DataFrame:
        """A final table of the folder."""
        return read_table(self.root, table, columns)


class Assembly:
    """The final tables written while the chunks are computed.

    Chunks are added as they are saved; each one is appended to every table, on a background
    thread, as soon as all chunks before it in ``stems`` (the final order) are in. Assembly so
    overlaps the computing instead of following it. A chunk whose columns or types differ
    from the first chunk's ends the streaming, and :meth:`finish` then assembles the tables
    from all chunks (:meth:`Store.assemble`); either way the files are the same.
    """

    def __init__(self, store: Store, stems: Sequence[str]):
        self.store = store
        self.order = list(stems)
        self.saved: set[str] = set()
        self.next = 0
        self.writers: dict[str, Any] = {}
        self.streaming = True
        self.thread = ThreadPoolExecutor(1)
        self.work: list[Future] = []

    def add(self, stem: str) -> None:
        """A chunk is saved: append it and any saved chunks after it, in order."""
        self.saved.add(stem)
        while self.next < len(self.order) and self.order[self.next] in self.saved:
            self.work.append(self.thread.submit(self._append, self.order[self.next]))
            self.next += 1

    def _append(self, stem: str) -> None:
        if not self.streaming:
            return
        for t in self.store.tables:
            path = self.store.chunks / t / f"{stem}.parquet"
            if not path.exists():
                continue
            table = pq.read_table(path)
            schema = table.schema.remove_metadata()
            if t not in self.writers:
                self.writers[t] = (_writer(self.store.target(t), schema, self.store.fmt), schema)
            elif not schema.equals(self.writers[t][1]):
                self.streaming = False
                return
            self.writers[t][0].write_table(_conform(table, schema))

    def __enter__(self) -> Assembly:
        return self

    def __exit__(self, *exc: object) -> None:
        self.abandon()  # after finish, nothing is left to abandon

    def finish(self, keep_chunks: bool = False) -> None:
        """Write the last chunks, close the tables and record them (see :meth:`Store.assemble`)."""
        for future in self.work:
            future.result()
        self.thread.shutdown()
        if not self.streaming or self.next < len(self.order):
            self.abandon()
            self.store.assemble(self.order, keep_chunks=keep_chunks)
            return
        written = {}
        for t in self.store.tables:
            target = self.store.target(t)
            if t in self.writers:
                self.writers.pop(t)[0].close()
                os.replace(_temporary(target), target)
            else:
                write_table(target, [], self.store._empty(t), self.store.fmt)
            written[t] = {"file": target.name, "sha256": sha256(target)}
        self.store._record_tables(written, keep_chunks)

    def abandon(self) -> None:
        """Stop and remove the partly written tables (the chunks stay)."""
        self.streaming = False
        self.thread.shutdown(cancel_futures=True)
        for t, (writer, _) in list(self.writers.items()):
            writer.close()
            _temporary(self.store.target(t)).unlink(missing_ok=True)
        self.writers.clear()


def write_table(target: Path, paths: list[Path], empty: pd.DataFrame, fmt: str) -> str:
    """Stream chunk files into one table file (atomically; ``empty`` when there are none);
    returns the file's checksum."""
    tmp = _temporary(target)
    tmp.unlink(missing_ok=True)
    if not paths:
        if fmt == "parquet":
            empty.to_parquet(tmp, index=False)
        else:
            empty.to_csv(tmp, index=False)
    else:
        schemas = [pq.read_schema(p).remove_metadata() for p in paths]
        schema = pa.unify_schemas(schemas, promote_options="permissive")
        with _writer(target, schema, fmt) as writer, ThreadPoolExecutor(1) as reader:
            # read the next chunk while this one is written
            for table in _ahead(reader, pq.read_table, paths):
                writer.write_table(_conform(table, schema))
    os.replace(tmp, target)
    return sha256(target)


def _temporary(target: Path) -> Path:
    """Where a final table is written before it is renamed into place."""
    return target.with_name(f".{target.name}.tmp")


def _writer(target: Path, schema: pa.Schema, fmt: str) -> pq.ParquetWriter | pa_csv.CSVWriter:
    """A writer of a final table's temporary file (text columns dictionary-encoded)."""
    tmp = _temporary(target)
    tmp.unlink(missing_ok=True)
    if fmt == "parquet":
        return pq.ParquetWriter(tmp, schema, use_dictionary=_text_columns(schema))
    return pa_csv.CSVWriter(tmp, schema)


def _ahead(
    pool: ThreadPoolExecutor, fn: Callable[[Any], Any], items: Sequence[Any]
) -> Iterator[Any]:
    """``fn`` of each item in order, the next one computed on ``pool`` while this one is used."""
    pending = pool.submit(fn, items[0]) if items else None
    for nxt in [*items[1:], None]:
        current = pending.result()
        pending = pool.submit(fn, nxt) if nxt is not None else None
        yield current


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """A chunk's table with the columns of ``schema`` (missing ones as nulls), in its order."""
    columns = [
        table.column(f.name).cast(f.type)
        if f.name in table.column_names
        else pa.nulls(len(table), f.type)
        for f in schema
    ]
    return pa.Table.from_arrays(columns, schema=schema)


def _differences(was: dict[str, Any], now: dict[str, Any]) -> str:
    """The keys of an identity that differ, for a message (``runs, seed``)."""
    return ", ".join(k for k in now if was.get(k) != now[k]) or "identity"
