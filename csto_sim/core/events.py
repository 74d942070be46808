"""Threat events: which strike in a step, and the record of every event of a run.

``step_events`` turns a step's uniform draws into the threat events of that step (random
draws first, scripted events on top). The event record keeps, for every event, its step,
member, kind, severity, counterpart and what came of it, as lists of per-step arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from csto_sim.core.rules import deterred_hazard

if TYPE_CHECKING:
    from csto_sim.core.inputs import Inputs
    from csto_sim.core.randomness import Noise


@dataclass
class StepEvents:
    """The threat events of one step as ``(..., members, kinds)`` arrays (leading axes: replicas)."""

    occur: np.ndarray  # bool
    severity: np.ndarray
    counterpart: np.ndarray  # int index into Inputs.counterparts, -1 for none
    territorial: np.ndarray  # bool
    label: np.ndarray  # (members, kinds) object: scripted id or "" (the same in every replica)


def step_events(inputs: Inputs, u: Noise, t: int, record: np.ndarray | None = None) -> StepEvents:
    """The threat events striking members in step ``t``: random draws, then scripted ones on top.

    ``u`` holds the step's draws (``Noise.at(t)``), ``(..., M, K)``; the result has the same
    leading axes. With the alliance's ``record`` ``(..., M, K)`` (``State.d``) the chance of
    each random threat an adversary chooses follows it (:func:`rules.deterred_hazard`);
    scripted events happen regardless.
    """
    p = inputs.p_event[t]
    if record is not None:
        p = deterred_hazard(p, record, inputs.params["deterrence"], inputs.deterrable)
    occur = u.occur < p
    severity = u.severity**inputs.severity_exponent
    M, K = inputs.option_count.shape
    count = inputs.option_count
    pick = np.minimum((u.counterpart * count).astype(int), np.maximum(count - 1, 0))
    chosen = inputs.option_table[np.arange(M)[:, None], np.arange(K)[None, :], pick]
    counterpart = np.where(occur & (count > 0), chosen, -1)
    territorial = np.ones(occur.shape, dtype=bool)
    label = np.full((M, K), "", dtype=object)
    for e in inputs.scripted.get(t, []):
        occur[..., e.member, e.kind] = True
        severity[..., e.member, e.kind] = e.severity
        counterpart[..., e.member, e.kind] = e.counterpart
        territorial[..., e.member, e.kind] = e.territorial
        label[e.member, e.kind] = e.label
    return StepEvents(occur, severity, counterpart, territorial, label)


EVENT_FIELDS: tuple[str, ...] = (
    "run",
    "step",
    "member",
    "kind",
    "severity",
    "counterpart",
    "requested",
    "responded",
    "helped",
    "label",
    "level",
    "vetoes",
)
"""Arrays of an event record: one entry per threat event (``run`` is the position in the batch)."""


def empty_events() -> dict[str, list[np.ndarray]]:
    """An event record to append each step's arrays to."""
    return {f: [] for f in EVENT_FIELDS}


def record_events(
    record: dict[str, list[np.ndarray]], t: int, ev: StepEvents, requested: np.ndarray, ans
) -> None:
    """Append step ``t``'s threat events (of one run, or of every replica of a batch) and the
    alliance's answers ``ans`` (:class:`~csto_sim.core.step.Answer`) to the record."""
    where = np.nonzero(ev.occur)
    *lead, i, k = where
    run = lead[0] if lead else np.zeros(i.size, dtype=int)
    for name, values in (
        ("run", run),
        ("step", np.full(i.size, t)),
        ("member", i),
        ("kind", k),
        ("severity", ev.severity[where]),
        ("counterpart", ev.counterpart[where]),
        ("requested", requested[where]),
        ("responded", ans.responded[where]),
        ("helped", (ans.helper >= 0)[where]),
        ("label", ev.label[i, k]),
        ("level", ans.level[where]),
        ("vetoes", ans.vetoes[where]),
    ):
        record[name].append(values)


def concat_events(record: dict[str, list[np.ndarray]]) -> dict[str, np.ndarray]:
    """The record's per-step arrays joined, sorted by run (stable: steps stay in order)."""
    ev = {f: np.concatenate(v) if v else np.array([]) for f, v in record.items()}
    order = np.argsort(ev["run"].astype(int), kind="stable")
    return {f: v[order] for f, v in ev.items()}
