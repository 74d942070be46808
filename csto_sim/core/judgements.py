"""The judgement registry: every judged number (no data file gives it) in one table.

``csto_sim/data/judgements.csv`` holds, for each judgement, its value, plausible range,
prior (``fixed``, or ``uniform`` over the range when it is uncertain enough to be estimated
openly with the parameters), the date it was set, its basis (``source``: the reasoning names
an outside source, or ``modeller's judgement``) and its source or reasoning. Scenario
files and the hindcast builder do not write judged numbers themselves: they write a
reference, the string ``"@ID"``, which :func:`resolve` replaces with the registry's value
when a scenario is loaded (remembering where each reference stood, so a posterior sample can
set it). Calibration estimates parameters and never writes this file (a test checks).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from csto_sim.core.files import InputError, csv_rows, number, raising, read_text, short

REGISTRY = "judgements.csv"
"""The registry's file name in ``csto_sim/data/``."""

MAX_BYTES = 8 * 2**20
"""The largest registry file read (the package's is under 100 kB)."""

PRIORS: tuple[str, ...] = ("fixed", "uniform", "searched", "hindsight")
"""``fixed``: a settled judgement; ``uniform``: uncertain, estimated over [low, high];
``searched``: a behavioural parameter's default whose parameter the posterior estimates
over [low, high] (``csto_sim.hindcast.calibration.SEARCHED``); the value is its point
default; ``hindsight``: a behavioural parameter's default set from evidence of the
held-out years, fixed at its value for projections and the production posterior,
estimated over [low, high] by the validation posterior (fitted on the years before), so
the held-out test does not rest on the years it tests."""

PREFIX = "@"
"""What marks a reference to a judgement in scenario data and posterior columns."""

_WORD = r"[A-Za-z0-9_-]+"
ID_FORM = rf"[a-z][a-z0-9_]*(?:\.{_WORD}(?: {_WORD})*)*"
"""The form of a judgement id: a lower-case name (letters, digits, ``_``), then dotted parts
of letters, digits, ``_`` and ``-``, single spaces between words (``hindcast.trust``,
``hindcast.affinity.Afghan militants``, ``hindcast.event.DATE.KIND.MEMBER.severity``)."""

MAX_ID = 120
"""The most characters an id may have (the longest in the registry has 74)."""

REFERENCE = re.compile(re.escape(PREFIX) + f"({ID_FORM})")
"""A reference: ``@`` and an id (matched whole, :func:`reference`)."""


def reference(text: object) -> str | None:
    """The id ``text`` refers to when it is a reference (``@`` and an id of the form
    :data:`ID_FORM`); None for any other value."""
    if not isinstance(text, str) or len(text) > MAX_ID + len(PREFIX):
        return None
    match = REFERENCE.fullmatch(text)
    return match[1] if match else None


BASES: tuple[str, ...] = ("source", "modeller's judgement")
"""``source``: the reasoning names an outside source for the number (an author, outlet or
agency, and a date); ``modeller's judgement``: the number is the modeller's, with the
reasoning given (facts it rests on may be sourced in the data files)."""

COLUMNS: tuple[str, ...] = ("id", "value", "low", "high", "prior", "set_on", "basis", "source")


class JudgementError(InputError, ValueError):
    """An unknown judgement, or a registry file or row that breaks the rules."""


@dataclass(frozen=True)
class Judgement:
    """One judged number: value, plausible range, prior, when it was set and why."""

    id: str
    value: float
    low: float
    high: float
    prior: str
    set_on: str
    basis: str
    source: str


def registry_path() -> Path:
    """The package's registry, ``csto_sim/data/judgements.csv``."""
    return Path(str(resources.files("csto_sim").joinpath("data", REGISTRY)))


@cache
def registry() -> dict[str, Judgement]:
    """Every judgement of the package's registry by id (read once per process)."""
    return load_registry(registry_path())


def load_registry(path: str | Path) -> dict[str, Judgement]:
    """Every judgement of a registry file by id; a :class:`JudgementError` names the file, the
    line and what was expected (text, header, fields, numbers, prior, basis, id)."""
    out: dict[str, Judgement] = {}
    first: dict[str, int] = {}
    header: list[str] = []
    with raising(JudgementError):
        text = read_text(path, MAX_BYTES, "judgement registry")
        for line, row in csv_rows(text, path):
            if not header:
                header = _header(row, path, line)
                continue
            j = _judgement(dict(zip(header, row, strict=True)), path, line)
            if j.id in out:
                raise JudgementError(
                    path, f"line {line}", f"id {j.id!r} appears twice (first on line {first[j.id]})"
                )
            out[j.id], first[j.id] = j, line
    if not header:
        raise JudgementError(path, f"empty: expected the header line {','.join(COLUMNS)}")
    return out


def _header(row: list[str], path: str | Path, line: int) -> list[str]:
    """The header line's columns: each of :data:`COLUMNS` once, no other."""
    names = [c.strip() for c in row]
    where, expected = f"line {line}", f"expected the columns {','.join(COLUMNS)}"
    for i, name in enumerate(names):
        if name not in COLUMNS:
            raise JudgementError(path, where, f"unknown column {short(repr(name), 40)}; {expected}")
        if name in names[:i]:
            raise JudgementError(path, where, f"column {name!r} appears twice; {expected}")
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        raise JudgementError(path, where, f"no column {missing[0]!r}; {expected}")
    return names


def _judgement(row: dict[str, str], path: str | Path, line: int) -> Judgement:
    """One row, checked: every field given, an id of the form :data:`ID_FORM`, finite
    low <= value <= high, a known prior and basis, a date."""
    row = {k: v.strip() for k, v in row.items()}
    where = f"line {line}"
    empty = [c for c in COLUMNS if not row[c]]
    if empty:
        raise JudgementError(path, where, f"{empty[0]} is empty")
    id_ = row["id"]
    if reference(PREFIX + id_) is None:
        raise JudgementError(
            path,
            where,
            f"id {short(repr(id_), 60)} is not of the form of an id (a lower-case name, then "
            f"dotted parts of letters, digits, '_', '-' and single spaces; at most {MAX_ID} "
            "characters)",
        )
    value, low, high = (number(row[k], path, f"{where}, {k}") for k in ("value", "low", "high"))
    if not low <= value <= high:
        raise JudgementError(
            path, where, f"need low <= value <= high; got {low:g}, {value:g}, {high:g}"
        )
    if row["prior"] not in PRIORS:
        raise JudgementError(
            path,
            where,
            f"prior must be one of {', '.join(PRIORS)}; got {short(repr(row['prior']), 40)}",
        )
    if row["basis"] not in BASES:
        raise JudgementError(
            path,
            where,
            f"basis must be one of {' or '.join(map(repr, BASES))}; "
            f"got {short(repr(row['basis']), 40)}",
        )
    try:
        date.fromisoformat(row["set_on"])
    except ValueError:
        raise JudgementError(
            path, where, f"set_on must be a date YYYY-MM-DD; got {short(repr(row['set_on']), 40)}"
        ) from None
    return Judgement(
        id_, value, low, high, row["prior"], row["set_on"], row["basis"], row["source"]
    )


def value(id_: str) -> float:
    """The value of a judgement (a :class:`JudgementError` naming the registry refuses an
    unknown one)."""
    try:
        return registry()[id_].value
    except KeyError:
        raise JudgementError(registry_path(), "", unknown(id_)) from None


def values_under(prefix: str) -> dict[str, float]:
    """The judgements ``<prefix>.<key>`` as {key: value} (for example ``charter_fit``)."""
    head = prefix + "."
    return {k[len(head) :]: j.value for k, j in registry().items() if k.startswith(head)}


def ref(id_: str) -> str:
    """The reference to a judgement, as scenario data write it (the id must exist)."""
    value(id_)
    return PREFIX + id_


def hindsight() -> dict[str, Judgement]:
    """The behavioural parameters' defaults set from evidence of the held-out years
    (``parameter.NAME`` rows with the prior ``hindsight``)."""
    return {k: j for k, j in registry().items() if j.prior == "hindsight"}


def uncertain() -> dict[str, Judgement]:
    """The judgements with a uniform prior: estimated with the parameters."""
    return {k: j for k, j in registry().items() if j.prior == "uniform"}


def unknown(id_: str) -> str:
    """The message for an unknown id: it, and the closest known one."""
    close = difflib.get_close_matches(id_, list(registry()), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown judgement {short(repr(id_), 80)}{hint}"


Path_ = tuple[str | int, ...]


TEXT_KEYS = frozenset(
    {"name", "description", "source", "posterior", "extends", "history", "leader",
     "leader_pole", "patron", "kind", "member", "counterpart", "pole", "threat",
     "adversaries", "targets", "status", "decision", "leader_strategy", "channel"}
)  # fmt: skip
"""Keys whose values are text (names, descriptions, paths, choices, lists of names): a
string there is text, even one that starts with ``@``."""


def numeric(path: Path_) -> bool:
    """Whether the value at ``path`` may be a reference: not under a text key (nor an item of
    a list under one)."""
    key = next((k for k in reversed(path) if isinstance(k, str)), None)
    return key not in TEXT_KEYS


class UnresolvedReference(JudgementError):
    """A reference that cannot be resolved, and the key path where it stands."""

    def __init__(self, path: Path_, message: str):
        self.path, self.detail = path, message
        super().__init__(f"{'.'.join(map(str, path))}: {message}")


def resolve(data: Any) -> tuple[Any, dict[str, list]]:
    """``data`` with each reference (:func:`reference`) replaced by the judgement's value,
    where a number may stand (not under :data:`TEXT_KEYS`), and where each reference stood:
    id -> list of key paths. An unknown id, or a string that starts with ``@`` where a
    number may stand but is not a reference, raises :class:`UnresolvedReference` with its key
    path."""
    where: dict[str, list] = {}

    def walk(node: Any, path: Path_) -> Any:
        if isinstance(node, dict):
            return {k: walk(v, (*path, k)) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, (*path, i)) for i, v in enumerate(node)]
        if not (isinstance(node, str) and node.startswith(PREFIX) and numeric(path)):
            return node
        id_ = reference(node)
        if id_ is None:
            raise UnresolvedReference(
                path,
                f"expected a number or a reference (@ and the id of a judgement of "
                f"csto_sim/data/{REGISTRY}, like @hindcast.trust); got {short(repr(node), 60)}",
            )
        if id_ not in registry():
            raise UnresolvedReference(path, unknown(id_))
        where.setdefault(id_, []).append(list(path))
        return registry()[id_].value

    return walk(data, ()), where
