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
import itertools
import json
import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from csto_sim.experiments.results import RESULTS, ResultsError, read_table


class ResultsExistError(Exception):
    """The folder already holds results of another computation and overwriting was not asked."""


class ResumeMismatchError(Exception):
    """Resuming was asked, but the folder holds results of another computation."""


class FewerRunsError(ResultsExistError):
    """The folder holds a larger ensemble of the same identity than the one asked for."""


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


LABEL_LENGTH = 80
"""The most characters of scenario names in a default folder's name."""


def default_folder(
    command: str, names: Sequence[str], settings: dict[str, Any], results_dir: str | Path = RESULTS
) -> Path:
    """The default results folder of a command: ``RESULTS/COMMAND/LABEL-HASH``.

    ``LABEL`` is the first scenario's name, with ``+N-more`` when there are more (cut to
    :data:`LABEL_LENGTH` characters); ``HASH`` the first six hex digits of the SHA-256 of
    ``settings`` (everything that makes the results differ: the scenarios' contents, seed,
    engine, posterior, tables, format, ...; never a size that can grow, such as the number
    of runs). The same command and settings always name the same folder; other settings
    name another.
    """
    label = names[0] + (f"+{len(names) - 1}-more" if len(names) > 1 else "")
    text = json.dumps(settings, sort_keys=True, default=str)
    digest = hashlib.sha256(text.encode()).hexdigest()[:6]
    return Path(results_dir) / command / f"{label[:LABEL_LENGTH]}-{digest}"


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
        self.grown_from: int | None = None
        self._next: dict[str, Any] | None = None  # the manifest recorded with the final tables

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

    def prepare(
        self, manifest: dict[str, Any], resume: bool, overwrite: bool, grow: str | None = None
    ) -> bool:
        """Create the folder, or check that its saved chunks can be kept; returns whether to keep.

        A folder whose manifest has the same ``identity`` is continued (what it saved is not
        recomputed), so rerunning a command is safe. A folder made with another identity, or
        one holding results without a manifest, is replaced only with ``overwrite``.

        With ``grow`` (a key of the manifest, ``runs`` for ensembles), a folder of the same
        identity made for a smaller ``grow`` is *grown*: its manifest stays as it is until
        the larger results are recorded (:attr:`grown_from` is the old size); one made for a
        larger ``grow`` is refused (:class:`FewerRunsError`).
        """
        self._make_root()
        old = None if overwrite and not resume else self.manifest()
        if overwrite and not resume:
            self.clear()
        elif old is None and self._holds_results():
            raise ResultsExistError(f"{self.root} holds results but no manifest.json")
        keep = old is not None
        if keep:
            self._check_identity(old, manifest, resume)
            if grow is not None and _size(old, grow) != manifest[grow]:
                return self._grow(old, manifest, grow)
            manifest = manifest | {k: old[k] for k in ("tables",) if k in old}
        self._start(manifest)
        return keep

    def _make_root(self) -> None:
        if self.root.exists() and not self.root.is_dir():
            raise FolderError(f"{self.root} is a file, not a folder")
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise FolderError(f"cannot create {self.root}: {exc.strerror or exc}") from None

    def _check_identity(self, old: dict[str, Any], manifest: dict[str, Any], resume: bool) -> None:
        """Refuse a folder whose results were made from something else, naming what."""
        differ = _differences(old.get("identity") or {}, manifest["identity"])
        if differ:
            what = f"{self.root} holds results made with other {differ}"
            if resume:
                raise ResumeMismatchError(f"{what}; resume with the same ones")
            raise ResultsExistError(what)

    def _start(self, manifest: dict[str, Any]) -> None:
        """Make the chunk folders and write the manifest the results will be made under."""
        try:
            for t in self.tables:
                (self.chunks / t).mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.manifest_path, json.dumps(manifest, indent=2, default=str))
        except OSError as exc:
            raise FolderError(f"cannot write in {self.root}: {exc.strerror or exc}") from None

    def _grow(self, old: dict[str, Any], manifest: dict[str, Any], grow: str) -> bool:
        """Keep a folder made for fewer ``grow`` (its manifest until the end); refuse more."""
        was, now = _size(old, grow), manifest[grow]
        if was > now:
            raise FewerRunsError(
                f"{self.root} holds {was:,} {grow} per scenario, more than the {now:,} asked; "
                f"ask for {was:,} or more to reuse or extend it"
            )
        self.grown_from, self._next = was, manifest
        for t in self.tables:
            (self.chunks / t).mkdir(parents=True, exist_ok=True)
        return True

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

    def keep(self, entries: Sequence[dict[str, Any]]) -> None:
        """Keep only the saved chunks ``entries`` (from :meth:`saved`): the ledger is rewritten
        with them and every other chunk file removed."""
        if self.chunks.is_dir():
            atomic_write_text(self.ledger, "".join(json.dumps(e) + "\n" for e in entries))
            self.saved()

    # -- final tables ------------------------------------------------------------------------

    def finished(self, clean: bool = True) -> bool:
        """Whether the final tables are all there and match the checksums in the manifest.

        A folder whose tables do not verify loses them (they are made again); with ``clean``
        a finished folder's leftover chunks are removed unless the manifest says to keep them.
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
        if ok and clean and not manifest.get("keep_chunks"):
            shutil.rmtree(self.chunks, ignore_errors=True)
        return ok

    def unpack(self, pieces: Sequence[tuple[str, str, Sequence[int]]]) -> int:
        """Turn runs of the verified final tables back into saved chunks (a grown ensemble
        keeps what it had): piece ``(stem, scenario, runs)`` becomes chunk ``stem``, holding
        the rows of those runs of that scenario, in the tables' order, with its files'
        checksums in the ledger. Returns the runs unpacked; a piece whose runs are not all in
        the tables, or tables that cannot be read back exactly (a CSV table without its
        column types in the manifest), are left to be computed again."""
        tables = (self.manifest() or {}).get("tables") or {}
        if not pieces:
            return 0
        size: dict[str, int] = {}
        for _, scenario, runs in pieces:
            size[scenario] = max(size.get(scenario, 0), max(runs) + 1)
        where = {scenario: np.full(n, -1) for scenario, n in size.items()}
        for i, (_, scenario, runs) in enumerate(pieces):
            where[scenario][list(runs)] = i
        files: list[dict[str, Any]] = [{} for _ in pieces]
        try:
            for t in self.tables:
                for i, table in _pieces(self.root / tables[t]["file"], tables[t], where):
                    path = self.chunks / t / f"{pieces[i][0]}.parquet"
                    _atomic_write_table(table, path)
                    files[i][t] = {"sha256": sha256(path), "rows": len(table)}
        except (_Unreadable, KeyError):
            return 0
        done = 0
        for (stem, scenario, runs), entry in zip(pieces, files, strict=True):
            if entry.get(self.tables[0], {}).get("rows") == len(runs):
                self.record({"stem": stem, "files": entry}, scenario=scenario, runs=list(runs))
                done += len(runs)
        return done

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

        def one(t: str) -> pa.Schema:
            paths = [p for s in stems if (p := self.chunks / t / f"{s}.parquet").exists()]
            return write_table(self.target(t), paths, self._empty(t), self.fmt, replace=False)

        # Arrow reads, encodes and compresses without the GIL: the tables go on in parallel.
        with ThreadPoolExecutor(max_workers=len(self.tables) or 1) as pool:
            schemas = dict(zip(self.tables, pool.map(one, self.tables), strict=True))
        self._record_tables(schemas, keep_chunks)

    def _record_tables(self, schemas: dict[str, pa.Schema], keep_chunks: bool) -> None:
        """Move the final tables from their temporary files into place (each atomically),
        then record their checksums and column types in the manifest (the grown manifest,
        when growing: the manifest changes last), then remove the chunks unless kept."""
        written = {}
        for t, schema in schemas.items():
            target = self.target(t)
            os.replace(_temporary(target), target)
            written[t] = {
                "file": target.name,
                "sha256": sha256(target),
                "columns": {f.name: str(f.type) for f in schema},
            }
        manifest = self._next if self._next is not None else (self.manifest() or {})
        manifest = manifest | {"tables": written, "keep_chunks": keep_chunks}
        atomic_write_text(self.manifest_path, json.dumps(manifest, indent=2, default=str))
        self._next = None
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
        schemas = {}
        for t in self.store.tables:
            if t in self.writers:
                writer, schemas[t] = self.writers.pop(t)
                writer.close()
            else:
                schemas[t] = write_table(
                    self.store.target(t), [], self.store._empty(t), self.store.fmt, False
                )
        self.store._record_tables(schemas, keep_chunks)

    def abandon(self) -> None:
        """Stop and remove the partly written tables (the chunks stay)."""
        self.streaming = False
        self.thread.shutdown(cancel_futures=True)
        for t, (writer, _) in list(self.writers.items()):
            writer.close()
            _temporary(self.store.target(t)).unlink(missing_ok=True)
        self.writers.clear()


def write_table(
    target: Path, paths: list[Path], empty: pd.DataFrame, fmt: str, replace: bool = True
) -> pa.Schema:
    """Stream chunk files into one table file (atomically; ``empty`` when there are none);
    returns its schema. Without ``replace`` the table is left in its temporary file (for
    :meth:`Store._record_tables` to move into place with the others)."""
    tmp = _temporary(target)
    tmp.unlink(missing_ok=True)
    if not paths:
        schema = pa.Schema.from_pandas(empty, preserve_index=False).remove_metadata()
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
    if replace:
        os.replace(tmp, target)
    return schema


class _Unreadable(Exception):
    """A final table that cannot be read back with its exact column types."""


def _pieces(
    path: Path, entry: dict[str, Any], where: dict[str, np.ndarray]
) -> Iterator[tuple[int, pa.Table]]:
    """The rows of a final table that belong to each piece (``where[scenario][run]`` is the
    run's piece, -1 for none), piece by piece: the table holds each scenario's runs in order,
    so a piece's rows are consecutive and it is complete when the next one starts (rows out
    of that order are :class:`_Unreadable`)."""
    current, parts, seen = -1, [], set()
    for batch in _batches(path, entry):
        ids = _piece_ids(batch, where)
        cuts = [0, *(np.flatnonzero(np.diff(ids)) + 1).tolist(), len(ids)]
        for a, b in itertools.pairwise(cuts):
            piece = int(ids[a]) if b > a else -1
            if piece != current:
                if parts:
                    yield current, pa.Table.from_batches(parts)
                if piece >= 0 and piece in seen:
                    raise _Unreadable(path)
                current, parts = piece, []
                seen.add(piece)
            if piece >= 0:
                parts.append(batch.slice(a, b - a))
    if parts:
        yield current, pa.Table.from_batches(parts)


def _piece_ids(batch: pa.RecordBatch, where: dict[str, np.ndarray]) -> np.ndarray:
    """The piece of each row of a batch (-1: none)."""
    scenarios = batch.column("scenario").to_numpy(zero_copy_only=False)
    runs = batch.column("run").to_numpy(zero_copy_only=False).astype(np.int64)
    ids = np.full(len(runs), -1, dtype=np.int64)
    for name, lookup in where.items():
        rows = np.flatnonzero((scenarios == name) & (runs >= 0) & (runs < len(lookup)))
        ids[rows] = lookup[runs[rows]]
    return ids


def _batches(path: Path, entry: dict[str, Any]) -> Iterator[pa.RecordBatch]:
    """A final table's rows in batches, with the column types it was written with."""
    if path.suffix == ".parquet":
        yield from pq.ParquetFile(path).iter_batches(batch_size=65_536)
        return
    try:
        types = {k: pa.type_for_alias(v) for k, v in entry["columns"].items()}
    except (KeyError, TypeError, ValueError):
        raise _Unreadable(path) from None
    options = pa_csv.ConvertOptions(
        column_types=types, strings_can_be_null=True, quoted_strings_can_be_null=False
    )
    yield from pa_csv.open_csv(path, convert_options=options)


def _atomic_write_table(table: pa.Table, path: Path) -> None:
    """Write an Arrow table as a chunk file, by rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    pq.write_table(table, tmp, compression="lz4", use_dictionary=_text_columns(table.schema))
    os.replace(tmp, path)


def _temporary(target: Path) -> Path:
    """Where a final table is written before it is renamed into place."""
    return target.with_name(f".{target.name}.tmp")


def _writer(target: Path, schema: pa.Schema, fmt: str) -> _Rows:
    """A writer of a final table's temporary file (text columns dictionary-encoded)."""
    tmp = _temporary(target)
    tmp.unlink(missing_ok=True)
    if fmt == "parquet":
        return _Rows(pq.ParquetWriter(tmp, schema, use_dictionary=_text_columns(schema)))
    return _Rows(pa_csv.CSVWriter(tmp, schema))


ROW_GROUP = 1 << 17
"""Rows per row group of a final Parquet table."""


class _Rows:
    """A table writer that writes row groups of ``ROW_GROUP`` rows whatever the sizes of the
    tables given to it, so a final table's bytes depend on its rows alone, never on how the
    runs were chunked (a grown ensemble writes the bytes a fresh one does)."""

    def __init__(self, writer: pq.ParquetWriter | pa_csv.CSVWriter):
        self.writer = writer
        self.pending: list[pa.Table] = []
        self.rows = 0

    def write_table(self, table: pa.Table) -> None:
        self.pending.append(table)
        self.rows += len(table)
        if self.rows >= ROW_GROUP:
            self._flush(final=False)

    def _flush(self, final: bool) -> None:
        whole = pa.concat_tables(self.pending).combine_chunks()
        cut = len(whole) if final else len(whole) - len(whole) % ROW_GROUP
        for start in range(0, cut, ROW_GROUP):
            self.writer.write_table(whole.slice(start, min(ROW_GROUP, cut - start)))
        rest = whole.slice(cut)
        self.pending, self.rows = ([rest] if len(rest) else []), len(rest)

    def close(self) -> None:
        if self.rows:
            self._flush(final=True)
        self.writer.close()

    def __enter__(self) -> _Rows:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


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
    """The keys of identity ``now`` whose values differ in ``was``, for a message (``engine,
    seed``); empty when none does (keys ``now`` lacks are not compared: an older
    manifest's ``runs`` and ``chunk_size``)."""
    return ", ".join(k for k in now if was.get(k) != now[k])


def _size(manifest: dict[str, Any], key: str) -> int:
    """A folder's size (runs per scenario), from the manifest or, failing that, its identity."""
    return int(manifest.get(key, (manifest.get("identity") or {}).get(key, 0)))
