"""Threat events compiled: who may strike each member, how likely each kind is by step,
and the scripted threats on their steps.

The counterparts a random event may involve (members with a hostile tie, the member's
adversaries, or none, by kind), the event probabilities by step with the scripted hazard
changes, and the scripted threats. :func:`step_of` places any dated event on its step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from csto_sim.core import rules
from csto_sim.core.vocabulary import INTRA_ALLIANCE_KIND, KINDS_WITHOUT_COUNTERPART, THREAT_KINDS

if TYPE_CHECKING:
    from csto_sim.core.scenario import Scenario


def step_of(years: np.ndarray, year: float) -> int:
    """The step in which a dated event falls (the last step starting at or before it)."""
    return int(np.searchsorted(years, year, side="right") - 1)


@dataclass(frozen=True)
class ScriptedThreat:
    """A scripted threat event placed on its step."""

    step: int
    member: int
    kind: int
    severity: float
    counterpart: int
    territorial: bool
    label: str


def counterpart_table(s: Scenario) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Every possible counterpart (members, then outside actors), its leader affinity and member index (or -1)."""
    members = s.member_names
    counterparts = members + [a for a in s.actors if a not in members]
    affinity = np.array(
        [0.0 if c in members else s.actors[c].leader_affinity for c in counterparts]
    )
    is_member = np.array([members.index(c) if c in members else -1 for c in counterparts])
    return counterparts, affinity, is_member


def event_options(s: Scenario, ties: np.ndarray, counterparts: list[str]) -> list[list[np.ndarray]]:
    """For each member and kind, the counterparts a random event may involve.

    Clashes between members involve a member it has a hostile tie with; kinds without a
    counterpart involve none; every other kind involves one of the member's adversaries.
    """
    options = []
    for i, m in enumerate(s.member_names):
        hostile = np.flatnonzero(ties[i] < 0).astype(int)
        external = np.array([counterparts.index(a) for a in s.members[m].adversaries], dtype=int)
        row = []
        for kind in THREAT_KINDS:
            if kind == INTRA_ALLIANCE_KIND:
                row.append(hostile)
            elif kind in KINDS_WITHOUT_COUNTERPART:
                row.append(np.array([], dtype=int))
            else:
                row.append(external)
        options.append(row)
    return options


def hazard_options(
    s: Scenario,
    ties: np.ndarray,
    counterparts: list[str],
    is_member: np.ndarray,
    affinity: np.ndarray,
    dt: float,
    years: np.ndarray,
) -> dict[str, np.ndarray]:
    """Event probabilities by step ``(T, M, K)``, the padded counterpart table and its summaries.

    A member's rate of each kind is the scenario's, times the factor of every scripted
    ``hazard_change`` of that member and kind from its date on. A clash between members
    cannot happen to a member without a hostile tie. The mix of kinds a member expects to
    face (``kind_weights``) is that of the scenario's rates.
    """
    options = event_options(s, ties, counterparts)
    rates = np.array(
        [
            [(s.hazards | s.members[m].hazards).get(k, 0.0) for k in THREAT_KINDS]
            for m in s.member_names
        ]
    )
    count = np.array([[o.size for o in row] for row in options], dtype=int)
    rates = np.where(
        (np.array(THREAT_KINDS) == INTRA_ALLIANCE_KIND)[None, :] & (count == 0), 0.0, rates
    )
    table = np.full((*count.shape, max(1, int(count.max()))), -1, dtype=int)
    for i, row in enumerate(options):
        for k, o in enumerate(row):
            table[i, k, : o.size] = o
    K = len(THREAT_KINDS)
    return {
        "p_event": rules.rate_to_share(hazard_path(s, rates, years), dt),
        "option_table": table,
        "option_count": count,
        "kind_weights": rules.normalise(rates, np.full(K, 1.0 / K)),
        "option_member_share": _option_mean((is_member >= 0).astype(float), table, count),
        "option_affinity": _option_mean(affinity, table, count),
    }


def _option_mean(values: np.ndarray, table: np.ndarray, count: np.ndarray) -> np.ndarray:
    """The mean of ``values`` over each (member, kind)'s counterparts (0 where there are none)."""
    taken = np.where(table >= 0, values[np.clip(table, 0, None)], 0.0)
    return np.where(count > 0, taken.sum(axis=-1) / np.maximum(count, 1), 0.0)


def hazard_path(s: Scenario, rates: np.ndarray, years: np.ndarray) -> np.ndarray:
    """Each member's rate of each kind by step ``(T, M, K)``: ``rates`` ``(M, K)`` times the
    factors of the scripted hazard changes from the step they fall in."""
    path = np.repeat(rates[None], len(years) - 1, axis=0)
    for e in s.events.values():
        if e.kind == "hazard_change":
            i, k = s.member_names.index(e.member), THREAT_KINDS.index(e.threat)
            path[step_of(years, e.year) :, i, k] *= e.rate_factor
    return path


def scripted_threats(
    s: Scenario, years: np.ndarray, counterparts: list[str]
) -> dict[int, list[ScriptedThreat]]:
    """The scripted threat events, by the step they fall in."""
    members = s.member_names
    scripted: dict[int, list[ScriptedThreat]] = {}
    for label, e in s.events.items():
        if e.kind not in THREAT_KINDS:
            continue
        t = step_of(years, e.year)
        scripted.setdefault(t, []).append(
            ScriptedThreat(
                step=t,
                member=members.index(e.member),
                kind=THREAT_KINDS.index(e.kind),
                severity=e.severity,
                counterpart=counterparts.index(e.counterpart) if e.counterpart else -1,
                territorial=e.territorial,
                label=label,
            )
        )
    return scripted
