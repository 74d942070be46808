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

import csv
import difflib
import math
import reprlib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from csto_sim.core.files import InputError

REGISTRY = "judgements.csv"
"""The registry's file name in ``csto_sim/data/``."""

PRIORS: tuple[str, ...] = ("fixed", "uniform", "searched", "hindsight")
"""``fixed``: a settled judgement; ``uniform``: uncertain, estimated over [low, high];
``searched``: a behavioural parameter's default whose parameter the posterior estimates
over [low, high] (``csto_sim.hindcast.calibration.SEARCHED``); the value is its point
default; ``hindsight``: a behavioural parameter's default set from evidence of the
held-out years, fixed at its value for projections and the production posterior,
estimated over [low, high] by the validation posterior (fitted on the years before), so
the held-out test does not rest on the years it tests."""

PREFIX = "@"
"""What marks a reference to a judgement in scenario data."""

BASES: tuple[str, ...] = ("source", "modeller's judgement")
"""``source``: the reasoning names an outside source for the number (an author, outlet or
agency, and a date); ``modeller's judgement``: the number is the modeller's, with the
reasoning given (facts it rests on may be sourced in the data files)."""

COLUMNS: tuple[str, ...] = ("id", "value", "low", "high", "prior", "set_on", "basis", "source")


class JudgementError(InputError, ValueError):
    """An unknown judgement, or a registry row that breaks the rules."""


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


@cache
def registry() -> dict[str, Judgement]:
    """Every judgement by id (the registry is read once per process)."""
    with resources.files("csto_sim").joinpath("data", REGISTRY).open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    out: dict[str, Judgement] = {}
    for n, row in enumerate(rows, start=2):
        j = _judgement(row, n)
        if j.id in out:
            raise JudgementError(f"{REGISTRY} line {n}: id {j.id!r} appears twice")
        out[j.id] = j
    return out


def _judgement(row: dict[str, str], line: int) -> Judgement:
    where = f"{REGISTRY} line {line}"
    missing = [c for c in COLUMNS if not (row.get(c) or "").strip()]
    if missing:
        raise JudgementError(f"{where}: {missing[0]} is empty")
    try:
        value, low, high = (float(row[k]) for k in ("value", "low", "high"))
    except ValueError:
        raise JudgementError(f"{where}: value, low and high must be numbers") from None
    if not all(math.isfinite(x) for x in (value, low, high)) or not low <= value <= high:
        raise JudgementError(f"{where}: need finite low <= value <= high")
    if row["prior"] not in PRIORS:
        raise JudgementError(f"{where}: prior must be one of {', '.join(PRIORS)}")
    if row["basis"] not in BASES:
        raise JudgementError(f"{where}: basis must be one of {', '.join(map(repr, BASES))}")
    return Judgement(
        row["id"].strip(),
        value,
        low,
        high,
        row["prior"],
        row["set_on"],
        row["basis"],
        row["source"],
    )


def value(id_: str) -> float:
    """The value of a judgement (a :class:`JudgementError` names an unknown one)."""
    try:
        return registry()[id_].value
    except KeyError:
        raise JudgementError(f"unknown judgement {reprlib.repr(id_)}{_did_you_mean(id_)}") from None


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


def _did_you_mean(id_: str) -> str:
    close = difflib.get_close_matches(id_, list(registry()), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


Path_ = tuple[str | int, ...]


TEXT_KEYS = frozenset(
    {"name", "description", "source", "posterior", "extends", "history", "leader",
     "leader_pole", "patron", "kind", "member", "counterpart", "pole", "threat"}
)  # fmt: skip
"""Keys whose values are text (names, descriptions, paths): a string there that starts
with ``@`` is text, not a reference."""


def numeric(path: Path_) -> bool:
    """Whether the value at ``path`` may be a reference: not under a text key."""
    return not (path and isinstance(path[-1], str) and path[-1] in TEXT_KEYS)


def resolve(data: Any) -> tuple[Any, dict[str, list]]:
    """``data`` with every ``"@ID"`` string replaced by the judgement's value (except under
    :data:`TEXT_KEYS`), and where each reference stood: id -> list of key paths. An unknown id raises
    :class:`JudgementError` with its key path."""
    where: dict[str, list] = {}

    def walk(node: Any, path: Path_) -> Any:
        if isinstance(node, dict):
            return {k: walk(v, (*path, k)) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, (*path, i)) for i, v in enumerate(node)]
        if isinstance(node, str) and node.startswith(PREFIX) and len(node) > 1 and numeric(path):
            id_ = node[1:]
            try:
                number = value(id_)
            except JudgementError as exc:
                raise JudgementError(f"{'.'.join(map(str, path))}: {exc}") from None
            where.setdefault(id_, []).append(list(path))
            return number
        return node

    return walk(data, ()), where
