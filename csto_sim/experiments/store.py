"""A results folder that verifies itself: a manifest, constant chunks read as one dataset per
table, and a writer lock (the layout: ``docs/ARCHITECTURE.md``, "The results folder").

Each chunk's files are written atomically and stamped with the folder's identity, then
recorded with their checksums in ``manifest.json``; a table is the dataset of its chunks'
files. Opening a folder for writing keeps the sound chunks and removes everything else from
the table folders, so a resume computes exactly what is missing.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import filelock
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from csto_sim.experiments.results import (
    IDENTITY_KEY,
    MANIFEST,
    RESULTS,
    ResultsError,
    chunk_problem,
    dataset,
    manifest_digest,
    read_manifest,
    sha256,
    writer,
)
from csto_sim.experiments.tables import TABLES

DERIVED: tuple[str, ...] = (
    *("report.md", "summary.csv", "figures"),  # run, compare
    *("validation.csv", "validation.txt", "outcomes.csv", "brier.csv", "nulls"),  # validate
    "forecast.csv",
)
"""What commands write from the tables: replaced with them (``--overwrite``)."""


class ResultsExistError(Exception):
    """The folder holds results of another computation and overwriting was not asked."""


class ResumeMismatchError(ResultsExistError):
    """Resuming was asked, but the folder holds results of another computation."""


class FewerRunsError(ResultsExistError):
    """The folder holds more runs of the same computation than asked for."""


class FolderError(ResultsError):
    """The folder cannot be created or written (a file, no permission, disk full, a writer)."""


def atomic_write_text(path: Path, text: str) -> None:
    """Write a text file by rename, so it is never seen half written."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def default_folder(
    command: str, names: Sequence[str], settings: dict[str, Any], results_dir: str | Path = RESULTS
) -> Path:
    """A command's default folder, ``RESULTS/COMMAND/LABEL-HASH``: the first scenario's name
    (``+N-more`` for more; 80 characters at most) and six hex digits of the SHA-256 of
    ``settings`` (what makes the results differ, never a size that can grow)."""
    label = names[0] + (f"+{len(names) - 1}-more" if len(names) > 1 else "")
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode())
    return Path(results_dir) / command / f"{label[:80]}-{digest.hexdigest()[:6]}"


class Store:
    """A results folder of ``tables`` (``tables[0]`` is in every chunk), written in ``fmt``."""

    def __init__(self, root: str | Path, tables: Sequence[str], fmt: str = "parquet"):
        if fmt not in ("parquet", "csv"):
            raise ValueError(f"fmt: expected 'parquet' or 'csv', got {fmt!r}")
        self.root, self.tables, self.fmt = Path(root), tuple(tables), fmt
        self.manifest: dict[str, Any] = {}
        self.previous: dict[str, Any] = {}  # the manifest found by open ({} if none)
        self._lock: filelock.BaseFileLock | None = None

    def __getstate__(self) -> dict[str, Any]:  # sent to workers without the lock
        return self.__dict__ | {"_lock": None}

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def error(self, exc: OSError) -> FolderError:
        """The one-line error of a write that failed here (a full disk says so)."""
        what = "the disk is full" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
        saved = "; what is saved resumes" if (self.root / MANIFEST).is_file() else ""
        return FolderError(f"cannot write in {self.root}: {what}{saved}")

    def open(self, manifest, resume=False, overwrite=False, keep=None) -> dict[str, Any]:
        """Take the folder to write ``manifest``'s results; returns the sound chunks saved
        before that ``keep(name, entry)`` accepts. Another identity is refused, naming what
        differs (``overwrite`` replaces it), as are tables without a manifest."""
        if self.root.exists() and not self.root.is_dir():
            raise FolderError(f"{self.root} is a file, not a folder")
        if self.root.is_symlink() and not self.root.exists():
            raise FolderError(f"{self.root} is a link to a missing folder")
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            self._take_lock(manifest.get("command", ""))
        except OSError as exc:
            raise self.error(exc) from None
        try:
            self.previous = old = {} if overwrite else _manifest(self.root)
            if old:
                self._check(old, manifest, resume)
            elif not (self.root / MANIFEST).is_file():
                self._check_unknown(overwrite)
            if overwrite:
                self._clear()
            self.manifest = manifest | {"chunks": {}}
            identity, chunks = manifest_digest(manifest), old.get("chunks", {}).items()
            self.manifest["chunks"] = {
                n: e for n, e in chunks if self._intact(n, e, keep, identity)
            }
            self._sweep()
            self._write_manifest()
            return dict(self.manifest["chunks"])
        except BaseException:
            self.close()
            raise

    def _take_lock(self, command: str) -> None:
        lock = filelock.FileLock(self.root / ".lock", timeout=0)
        try:
            lock.acquire()
        except filelock.Timeout:
            raise FolderError(
                f"{self.root} is being written by {writer(self.root)}; wait for it"
            ) from None
        self._lock = lock
        who = f"pid {os.getpid()} on {socket.gethostname()}" + (f" ({command})" if command else "")
        atomic_write_text(self.root / ".writer", who)

    def close(self) -> None:
        """Let the folder go (the lock is released)."""
        if self._lock is not None:
            (self.root / ".writer").unlink(missing_ok=True)
            self._lock.release()
            self._lock = None

    def _check(self, old: dict[str, Any], new: dict[str, Any], resume: bool) -> None:
        """Refuse results made from something else, naming what differs; more runs than asked."""
        was, now = old.get("identity") or {}, new["identity"]
        differ = ", ".join(k for k in now if was.get(k) != now[k])
        if differ:
            what = f"{self.root} holds results made with other {differ}"
            if resume:
                raise ResumeMismatchError(f"{what}; resume with the same ones")
            raise ResultsExistError(what)
        held = (old.get("runs") or 0) if old.get("tables") else 0  # runs: null is none held
        asked = new.get("runs", 0)
        if held > asked:
            raise FewerRunsError(
                f"{self.root} holds {held:,} runs per scenario, more than the {asked:,} asked; "
                f"ask for {held:,} or more to reuse or extend it"
            )

    def _check_unknown(self, overwrite: bool) -> None:
        """Refuse a folder without a manifest that holds anything but tables a command made
        (``--overwrite`` replaces those): what else is there is the user's, never touched."""
        for path in sorted(self.root.iterdir()):
            if path.name in (".lock", ".writer") or path.name[0] == "." and path.suffix == ".tmp":
                continue
            if not self._ours(path):
                (self.root / ".lock").unlink(missing_ok=True)  # leave the folder as it was
                raise FolderError(
                    f"{self.root} is not a csto-sim results folder (no {MANIFEST}) and holds "
                    f"{path.name}; choose a new or an empty folder"
                )
            if not overwrite:
                raise ResultsExistError(f"{self.root} holds tables but no {MANIFEST}")

    def _intact(self, name: str, entry: Any, keep, identity: str) -> bool:
        """Whether ``keep`` accepts a chunk and all its files are sound and of ``identity``
        (see :func:`~csto_sim.experiments.results.chunk_problem`)."""
        try:
            if set(entry["files"]) != set(self.tables) or (keep and not keep(name, entry)):
                return False
        except (KeyError, TypeError, IndexError):
            return False
        return not any(chunk_problem(self.root, t, name, entry, identity) for t in self.tables)

    def _clear(self) -> None:
        """Remove every table, export and derived file (``--overwrite``)."""
        tables = {p.name for p in self.root.iterdir() if self._ours(p)} | set(self.tables)
        for path in self.root.iterdir():
            export = path.suffix in (".csv", ".parquet") and path.stem in tables
            if path.name in DERIVED or path.name in tables or export:
                shutil.rmtree(path) if path.is_dir() else path.unlink()

    def _sweep(self) -> None:
        """Remove what no saved chunk lists from the table folders (files and folders: a
        reader of the folder would take them in), files half written by a kill, table
        folders the folder no longer makes, and stale CSV exports."""
        keep = {(t, f"{n}.parquet") for n in self.manifest["chunks"] for t in self.tables}
        for path in self.root.iterdir():
            if path.name in self.tables and path.is_dir():
                for f in path.iterdir():
                    if (path.name, f.name) not in keep:
                        shutil.rmtree(f) if f.is_dir() and not f.is_symlink() else f.unlink()
            elif self._ours(path):
                shutil.rmtree(path)
            elif path.name[0] == "." and path.suffix == ".tmp" or self._stale_export(path):
                path.unlink()

    def _ours(self, path: Path) -> bool:
        """A table folder a csto-sim command made: named as a table (of this folder, or of an
        ensemble) and holding chunk files that carry a folder identity. A folder of another
        name is the user's, even with copies of chunks in it."""
        return path.name in (*self.tables, *TABLES) and _made_here(path)

    def drop_derived(self) -> None:
        """Remove what commands wrote from the tables (reports, figures, CSV exports) before
        the tables change, so no file describes tables the folder no longer holds (the
        command writes its own again once the tables are complete). The null models'
        ensembles (``nulls/``) stay: each is a results folder of its own, which the next
        ``validate`` extends."""
        try:
            for path in self.root.iterdir():
                export = path.suffix == ".csv" and path.stem in (*self.tables, *TABLES)
                if path.name in DERIVED and path.name != "nulls" or export:
                    shutil.rmtree(path) if path.is_dir() else path.unlink()
        except OSError as exc:
            raise self.error(exc) from None

    def _stale_export(self, path: Path) -> bool:
        return path.suffix == ".csv" and path.stem in self.tables and self.fmt != "csv"

    def write_chunk(self, name: str, tables: dict[str, pd.DataFrame]) -> dict[str, Any]:
        """Write one chunk's tables (each file by rename, stamped with the folder's identity);
        returns its entry for :meth:`record`. Safe in a worker process."""
        stamp = {IDENTITY_KEY: manifest_digest(self.manifest)}
        files = {}
        try:
            for t in self.tables:
                path = self.root / t / f"{name}.parquet"
                path.parent.mkdir(exist_ok=True)
                table = pa.Table.from_pandas(tables[t], preserve_index=False)
                tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
                pq.write_table(table.replace_schema_metadata(stamp), tmp, **_encoding(table))
                os.replace(tmp, path)
                files[t] = {"sha256": sha256(path), "rows": len(table)}
        except OSError as exc:
            raise self.error(exc) from None
        return {"name": name, "files": files}

    def record(self, entry: dict[str, Any], **facts: Any) -> None:
        """Add a written chunk to the manifest (with ``facts``, for example its runs)."""
        self.manifest["chunks"][entry["name"]] = {"files": entry["files"], **facts}
        self._write_manifest()

    def finish(self) -> None:
        """Every chunk is in: write the CSV exports (``fmt`` csv) and mark the folder finished."""
        try:
            exports = {t: self._export(t) for t in (self.tables if self.fmt == "csv" else ())}
        except OSError as exc:
            raise self.error(exc) from None
        rows = {
            t: sum(e["files"][t]["rows"] for e in self.manifest["chunks"].values())
            for t in self.tables
        }
        self.manifest |= {"tables": {t: {"rows": n} for t, n in rows.items()}, "exports": exports}
        self._write_manifest()

    def _export(self, table: str) -> dict[str, str]:
        target = self.root / f"{table}.csv"
        tmp = target.with_name(f".{target.name}.tmp")
        data = dataset(self.root, table, self.manifest)
        with pa_csv.CSVWriter(tmp, data.schema) as writer:
            for batch in data.to_batches():
                writer.write_batch(batch)
        os.replace(tmp, target)
        return {"file": target.name, "sha256": sha256(target)}

    def _write_manifest(self) -> None:
        try:
            atomic_write_text(
                self.root / MANIFEST, json.dumps(self.manifest, indent=1, default=str)
            )
        except OSError as exc:
            raise self.error(exc) from None


def record_derived(root: str | Path, names: Sequence[str]) -> None:
    """Record in a finished folder's manifest the checksums of files just written from its
    tables (``summary.csv``, ``report.md``), so a reader refuses them damaged."""
    root = Path(root)
    with Store(root, ()) as store:
        try:
            store._take_lock("")
        except OSError as exc:
            raise store.error(exc) from None
        manifest = read_manifest(root)
        entries = {n: {"file": n, "sha256": sha256(root / n)} for n in names}
        store.manifest = manifest | {"derived": manifest.get("derived", {}) | entries}
        store._write_manifest()


def _manifest(root: Path) -> dict[str, Any]:
    """The folder's manifest, if any; a damaged one is results another command left."""
    try:
        return read_manifest(root, missing_ok=True)
    except ResultsError as exc:
        raise ResultsExistError(str(exc)) from None


def _encoding(table: pa.Table) -> dict[str, Any]:
    """zstd, with dictionaries for text and byte-stream splitting for floats (both shrink)."""
    types = {f.name: f.type for f in table.schema}
    text = [n for n, t in types.items() if pa.types.is_string(t) or pa.types.is_large_string(t)]
    floats = [n for n, t in types.items() if pa.types.is_floating(t)]
    return {"compression": "zstd", "use_dictionary": text, "use_byte_stream_split": floats}


def _made_here(path: Path) -> bool:
    """A folder of chunk files a csto-sim command made (its files carry a folder identity)."""
    if not path.is_dir() or path.name in DERIVED:
        return False
    for f in path.glob("*.parquet"):
        try:
            return IDENTITY_KEY.encode() in (pq.read_schema(f).metadata or {})
        except (OSError, pa.ArrowException):
            continue
    return False
