"""Per-run inputs: compiled scenarios that differ only in parameters and judged numbers,
stacked on the batch axis so that one batch runs many parameter sets at once.

:func:`stack_inputs` takes the inputs of several parameter sets and, for each run, which
of them it uses, and returns one :class:`~csto_sim.core.inputs.Inputs` whose varying
fields carry the runs axis where the step expects it:

- per-step fields keep the steps axis first, so ``inp.offers[t]`` is ``(R, M, P)``; those
  without a members axis get one of size one (``strength[t]`` is ``(R, 1, P)``), and
  per-step numbers become ``(R,)`` (``capacity[t]``);
- fields indexed by member (or member and kind, or counterpart) lead with the runs axis;
- per-kind fields become ``(R, 1, K)``, broadcasting against ``(R, M, K)`` events;
- parameters and rate shares that are one number become ``(R,)``, shaped where they are
  used (:func:`csto_sim.core.rules.per_run`).

Fields equal across the parameter sets stay as they are, so a batch over one parameter
set is the ordinary batch. What shapes the model's structure (members, counterparts, the
relations' signs, scripted events' dates) must be equal; :class:`Unstackable` says which
field is not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields, replace

import numpy as np

from csto_sim.core.inputs import Inputs, Shares
from csto_sim.core.state import State

PER_STEP = {"strength": 1, "economic_strength": 1, "capacity": 0, "leader_strength": 0}
"""Per-step fields without a members axis, by how many axes follow it (poles, or none)."""
PER_STEP_MEMBERS = ("offers", "economic_offers", "interest", "p_event")
"""Per-step fields indexed by member and pole (or kind)."""
LEADING = (
    "kind_weights",
    "option_member_share",
    "option_affinity",
    "affinity",
    "stake",
    "budget_share",
    "leverage",
    "ties",
    "influence",
)
"""Fields indexed by member or counterpart: the runs axis leads."""
PER_KIND = ("fit", "internal", "severity_mean", "severity_exponent")
"""Fields indexed by kind alone, ``(K,)``: they become ``(R, 1, K)``."""


class Unstackable(ValueError):
    """Parameter sets whose inputs differ in structure, not only in numbers."""


def stack_inputs(parts: Sequence[Inputs], which: Sequence[int]) -> Inputs:
    """One :class:`Inputs` for a batch whose run ``r`` uses ``parts[which[r]]``."""
    which = np.asarray(which, dtype=int)
    if len(parts) == 1:
        return parts[0]
    first = parts[0]
    changes: dict = {}
    for f in fields(Inputs):
        values = [getattr(p, f.name) for p in parts]
        if f.name in ("shares", "initial", "scripted", "history", "params"):
            changes[f.name] = _STACKERS[f.name](values, which)
        elif not all(_equal(values[0], v) for v in values[1:]):
            changes[f.name] = _stack_field(f.name, values, which)
    return replace(first, **changes, runs=len(which))


def _equal(a, b) -> bool:
    if isinstance(a, np.ndarray):
        return a.shape == b.shape and bool(np.array_equal(a, b))
    return a == b


def _stack_field(name: str, values: list, which: np.ndarray) -> np.ndarray:
    """One varying field with its runs axis (see the module's docstring)."""
    known = (*PER_STEP, *PER_STEP_MEMBERS, *PER_KIND, *LEADING)
    if name not in known or len({np.shape(v) for v in values}) > 1:
        raise Unstackable(f"the parameter sets differ in {name!r}, which cannot vary by run")
    stacked = np.stack(values)[which]  # (R, ...)
    if name in PER_STEP:
        out = np.moveaxis(stacked, 0, 1)  # (T, R, ...)
        return out[:, :, None] if PER_STEP[name] else out
    if name in PER_STEP_MEMBERS:
        return np.moveaxis(stacked, 0, 1)
    if name in PER_KIND:
        return stacked[:, None, :]
    return stacked  # LEADING


def _stack_shares(values: list[Shares], which: np.ndarray) -> Shares:
    return Shares(*(_numbers([getattr(s, f.name) for s in values], which) for f in fields(Shares)))


def _numbers(values: list, which: np.ndarray):
    """Values that are equal stay one value; otherwise one per run (runs axis first)."""
    if all(_equal(np.asarray(values[0]), np.asarray(v)) for v in values[1:]):
        return values[0]
    return np.stack([np.asarray(v) for v in values])[which]


def _stack_initial(values: list[State], which: np.ndarray) -> State:
    return State(*(_numbers([getattr(s, f.name) for s in values], which) for f in fields(State)))


def _stack_scripted(values: list[dict], which: np.ndarray) -> dict:
    """Scripted events must fall on the same steps; a judged severity may differ by run."""
    first = values[0]
    if any(v.keys() != first.keys() or any(len(v[t]) != len(first[t]) for t in v) for v in values):
        raise Unstackable("the parameter sets differ in their scripted events")
    out = {}
    for t, events in first.items():
        row = []
        for i, e in enumerate(events):
            same = [v[t][i] for v in values]
            if any(replace(x, severity=e.severity) != e for x in same):
                raise Unstackable(f"the parameter sets differ in scripted event {e.label!r}")
            row.append(replace(e, severity=_numbers([x.severity for x in same], which)))
        out[t] = row
    return out


def _stack_history(values: list[Inputs | None], which: np.ndarray) -> Inputs | None:
    if all(v is None for v in values):
        return None
    if any(v is None for v in values):
        raise Unstackable("some parameter sets continue a history and others do not")
    return stack_inputs(values, which)


def _stack_params(values: list[dict], which: np.ndarray) -> dict:
    """Parameters: one value where all agree, else one per run (numbers) or None (a per-kind
    table, already compiled into the per-kind fields)."""
    out = {}
    for key, value in values[0].items():
        column = [v[key] for v in values]
        if all(c == value for c in column[1:]):
            out[key] = value
        elif isinstance(value, int | float):
            out[key] = np.asarray(column, dtype=float)[which]
        else:
            out[key] = None
    return out


_STACKERS = {
    "shares": _stack_shares,
    "initial": _stack_initial,
    "scripted": _stack_scripted,
    "history": _stack_history,
    "params": _stack_params,
}
