"""Loading scenarios: TOML files, ``extends`` chains, ``@`` judgements, file paths.

:func:`load_scenario` reads a file and the files it extends (tables merge key by key),
remembers which file each key came from for error messages, resolves the history a
projection continues and its posterior file, replaces ``"@ID"`` strings by judgements from
the registry (:mod:`csto_sim.core.judgements`), and validates the result
(:mod:`csto_sim.core.schema`, :mod:`csto_sim.core.crosschecks`).
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import os
import stat
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from csto_sim.core import judgements
from csto_sim.core.crosschecks import cross_check
from csto_sim.core.errors import ScenarioError, did_you_mean, file_for, pydantic_error, short, show
from csto_sim.core.schema import Scenario, Tie

ATOMIC_TABLES: frozenset[str] = frozenset({"alignment", "economic"})
"""Tables that a file extending another replaces whole instead of merging key by key
(an alignment must sum to one, so mixing a child's weights with its base's makes no sense)."""


MAX_EXTENDS = 16
"""The longest ``extends`` chain (files extending files)."""

MAX_FILE_BYTES = 1_000_000
"""The largest scenario file read."""


def _missing(what: str, name: str, resolved: Path) -> str:
    """The message for a file a scenario names that is not there: paths are relative to the
    naming file, which is what a newcomer trips over, so say where it was looked for."""
    if resolved.is_dir():
        return f"{what} file {show(name, 60)} is a folder ({short(str(resolved), 120)}), not a file"
    if resolved.exists():
        return f"{what} file {show(name, 60)} is not a regular file ({short(str(resolved), 120)})"
    return (
        f"{what} file {show(name, 60)} does not exist (looked for {short(str(resolved), 120)};"
        " paths are relative to this file's folder)"
    )


def load_scenario(path: str | Path) -> Scenario:
    """Load, merge (``extends``) and validate a scenario file; raise ScenarioError on any problem."""
    if not isinstance(path, str | os.PathLike):
        got = short(repr(path), 40)
        raise ScenarioError("scenario", "", f"expected a scenario file or a Scenario, got {got}")
    if "\x00" in os.fsdecode(path):
        raise ScenarioError(short(repr(os.fsdecode(path)), 60), "", "a file name with a NUL byte")
    path = Path(path)
    data, origin = _resolve(path, ())
    data.setdefault("name", path.stem)
    data.setdefault("source", str(path))
    if "history" in data:
        data["history"] = _load_history(data["history"], file_for(("history",), origin, path))
    if data.get("posterior"):
        data["posterior"] = _posterior_file(
            data["posterior"], file_for(("posterior",), origin, path)
        )
    return scenario_from_data(data, path, origin)


POSTERIOR_NAMES: tuple[str, ...] = ("validation", "production", "shipped")
"""Posteriors that come with the package, by name: ``validation`` (fitted on the record's
fitted period, what ``validate`` tests on the held-out period), ``production`` (fitted on
the whole record, for projections);
``shipped`` is the old name of ``production``."""


def _posterior_file(value: Any, path: Path) -> str:
    """A scenario's posterior: a name of :data:`POSTERIOR_NAMES`, ``"none"`` (its own
    parameters: ``""``, as when it names none), or a file name relative to ``path`` (made
    absolute, so variants in other folders that extend it draw from the same file)."""
    names = [*POSTERIOR_NAMES, "none"]
    expected = "expected " + ", ".join(f'"{n}"' for n in names) + " or a file name"
    if not isinstance(value, str) or not 0 < len(value) <= 255 or "\x00" in value:
        raise ScenarioError(path, "posterior", expected)
    if value in POSTERIOR_NAMES:
        return value
    if value == "none":
        return ""
    file = (path.parent / value).resolve()
    if not file.is_file():
        hint = did_you_mean(value, names) if "/" not in value and "." not in value else ""
        raise ScenarioError(path, "posterior", _missing("posterior", value, file) + hint)
    return str(file)


def _load_history(value: Any, path: Path) -> Scenario:
    """The scenario a projection continues (``history = "file.toml"``, relative to ``path``)."""
    if not isinstance(value, str) or not 0 < len(value) <= 255 or "\x00" in value:
        raise ScenarioError(path, "history", "expected a file name (a string of 1-255 characters)")
    history_path = (path.parent / value).resolve()
    if not history_path.is_file():
        raise ScenarioError(path, "history", _missing("history", value, history_path))
    if "history" in _resolve(history_path, ())[0]:  # checked before loading it: no cycles
        raise ScenarioError(path, "history", "a history cannot itself continue another history")
    return load_scenario(history_path)


def scenario_from_data(
    data: dict[str, Any], source: str | Path, origin: dict | None = None
) -> Scenario:
    """Validate scenario data built in code (``source`` names it in error messages);
    ``"@ID"`` strings are judgements from the registry (:mod:`csto_sim.core.judgements`)."""
    source = Path(source)
    data = {"name": source.stem, "source": str(source)} | data
    history = data.pop("history", None)  # already a Scenario, resolved on its own
    try:
        data, judged = judgements.resolve(data)
    except judgements.UnresolvedReference as exc:
        key = ".".join(map(str, exc.path))
        raise ScenarioError(file_for(exc.path, origin or {}, source), key, exc.detail) from None
    if history is not None:
        data["history"] = history
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise pydantic_error(Scenario, exc, origin or {}, source, data) from None
    cross_check(scenario, origin or {}, source)
    scenario._judged = judged
    return scenario


def _read_toml(path: Path) -> dict[str, Any]:
    """A TOML file's data (a UTF-8 byte-order mark is accepted); one-line errors."""
    try:
        info = path.stat()
        if not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)):  # a FIFO, a device
            raise ScenarioError(path, "", "not a regular file (a scenario is read from one)")
        if info.st_size > MAX_FILE_BYTES:
            raise ScenarioError(path, "", f"larger than {MAX_FILE_BYTES:,} bytes")
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ScenarioError(path, "", "no such file") from None
    except IsADirectoryError:
        raise ScenarioError(path, "", "is a directory, expected a .toml file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(path, "", f"cannot read: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(path, "", f"TOML syntax error: {exc}") from None
    except RecursionError:
        raise ScenarioError(
            path, "", "TOML syntax error: arrays or tables nested too deeply"
        ) from None
    if (deep := _deepest(data)) is not None:
        raise ScenarioError(path, deep, f"nested more than {MAX_DEPTH} levels deep")
    return data


MAX_DEPTH = 32
"""The deepest nesting of tables and arrays a scenario file may have (the bundled ones: 4),
so that no reader of it recurses without end."""


def _deepest(data: dict) -> str | None:
    """The key (dotted, shortened) of the first value nested deeper than :data:`MAX_DEPTH`
    levels, or None; found without recursion."""
    todo: list[tuple[Any, tuple]] = [(data, ())]
    while todo:
        value, where = todo.pop()
        if len(where) > MAX_DEPTH:
            return short(".".join(map(str, where)), 60)
        items = value.items() if isinstance(value, dict) else enumerate(value)
        todo += [(v, (*where, k)) for k, v in items if isinstance(v, dict | list)]
    return None


def _merge(base: dict, over: dict, origin: dict, file: Path, prefix: tuple = ()) -> dict:
    """Deep-merge ``over`` onto ``base`` (tables merge key by key, anything else replaces)."""
    out = dict(base)
    for key, value in over.items():
        path = (*prefix, key)
        if isinstance(value, dict) and isinstance(out.get(key), dict) and key not in ATOMIC_TABLES:
            out[key] = _merge(out[key], value, origin, file, path)
        else:
            out[key] = value
            for p in [p for p in origin if p[: len(path)] == path]:
                del origin[p]
        origin[path] = file
    return out


def _resolve(path: Path, chain: tuple[Path, ...]) -> tuple[dict, dict]:
    """Read a file and its ``extends`` chain; returns merged data and the file each key came from."""
    raw = _read_toml(path)
    parent = raw.pop("extends", None)
    if parent is None:
        return raw, _origins(raw, path)
    if not isinstance(parent, str) or not 0 < len(parent) <= 255 or "\x00" in parent:
        raise ScenarioError(path, "extends", "expected a file name (a string of 1-255 characters)")
    if len(chain) >= MAX_EXTENDS:
        raise ScenarioError(path, "extends", f"extends chain longer than {MAX_EXTENDS} files")
    parent_path = (path.parent / parent).resolve()
    if not parent_path.is_file():
        raise ScenarioError(path, "extends", _missing("extended", parent, parent_path))
    if parent_path in chain or parent_path == path.resolve():
        cycle = " -> ".join(p.name for p in (*chain, path.resolve(), parent_path))
        raise ScenarioError(path, "extends", f"circular extends ({cycle})")
    base, origin = _resolve(parent_path, (*chain, path.resolve()))
    merged = _merge(base, raw, origin, path)
    return merged, origin


def _origins(data: dict, file: Path, prefix=()) -> dict:
    out = {}
    for key, value in data.items():
        out[(*prefix, key)] = file
        if isinstance(value, dict):
            out.update(_origins(value, file, (*prefix, key)))
    return out


@functools.cache
def structural_ties() -> tuple[Tie, ...]:
    """The dated structural ties shipped with the package (``csto_sim/data/structural_ties.csv``),
    read once."""
    with (
        resources.files("csto_sim")
        .joinpath("data", "structural_ties.csv")
        .open(encoding="utf-8") as f
    ):
        return tuple(
            Tie(
                kind=r["kind"],
                member=r["member"],
                pole=r["pole"],
                start=dt.date.fromisoformat(r["start"]) if r["start"] else None,
                end=dt.date.fromisoformat(r["end"]) if r["end"] else None,
                source=r["source"],
            )
            for r in csv.DictReader(f)
        )
