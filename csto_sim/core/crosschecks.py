"""Scenario cross-checks: what one part of a valid schema says about another.

Names that must exist (the leader, poles, adversaries, event members), dates inside the
simulated span, a history that the scenario can continue, ties given once. Each check yields
(key path, message) for every problem it finds; :func:`cross_check` raises the first as a
:class:`~csto_sim.core.errors.ScenarioError` naming the file the key came from.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from csto_sim.core.errors import (
    NEW_MEMBER_STATE,
    ScenarioError,
    did_you_mean,
    file_for,
    foreign_pole,
    show,
    unknown,
    unknown_entry,
)
from csto_sim.core.vocabulary import INTRA_ALLIANCE_KIND, THREAT_KINDS

if TYPE_CHECKING:
    from csto_sim.core.schema import Event, Scenario, Tie

MAX_STEPS = 2_000
"""The most steps a scenario may have (500 years of quarters): a run's draws are held in memory."""

STATE_FIELDS: tuple[str, ...] = ("alignment", "economic", "commitment", "trust", "status")
"""A member's starting state: given in the scenario, or taken from the history's end."""

Problems = Iterator[tuple[tuple, str]]
"""(key path, message) of each problem a cross-check finds. A problem between several keys
gives them all, as a tuple of key paths or as a path ending in a tuple of last keys: the
first the loaded file sets is named (else the first), so an error points at what the user
changed, not at a key of the file it extends."""


def cross_check(s: Scenario, origin: dict, path: Path) -> None:
    """Checks that span several sections (names that must exist, dates inside the span);
    the first problem found is raised as a :class:`ScenarioError`."""
    checks = (
        _span_problems,
        _alliance_problems,
        _member_problems,
        _relation_problems,
        _history_problems,
        _record_problems,
        _recorded_request_problems,
    )
    problems = itertools.chain(
        *(check(s) for check in checks),
        *(_event_problems(s, ("events", eid), ev) for eid, ev in s.events.items()),
        *(_tie_problems(s, ("ties", tid), tie) for tid, tie in s.ties.items()),
    )
    for loc, msg in problems:  # the first; of the keys it names, the one this file sets
        keys = _alternatives(loc)
        loc = next((k for k in keys if file_for(k, origin, None) == path), keys[0])
        raise ScenarioError(file_for(loc, origin, path), ".".join(map(str, loc)), msg)


def _alternatives(loc: tuple) -> list[tuple]:
    """The key paths a problem's ``loc`` names (see :data:`Problems`)."""
    if loc and all(isinstance(k, tuple) for k in loc):
        return list(loc)
    if loc and isinstance(loc[-1], tuple):
        return [(*loc[:-1], k) for k in loc[-1]]
    return [loc]


def _span_key(s: Scenario, year: float) -> tuple[str, str]:
    """The end of the span a date falls outside (a file that set it is the one to name)."""
    return ("time", "end" if year >= s.time.end else "start")


def _span_problems(s: Scenario) -> Problems:
    start, end, step = s.time.start, s.time.end, s.time.step
    if end <= start:
        yield ("time", ("end", "start")), f"end {end:g} is not after start {start:g}"
    if (end - start) / step > MAX_STEPS:
        yield (
            ("time", ("step", "end", "start")),
            f"{(end - start) / step:,.0f} steps; at most {MAX_STEPS:,} can run",
        )
    elif abs(s.n_steps * step - (end - start)) > 1e-9:
        yield (
            ("time", ("step", "end", "start")),
            f"the span {start:g}-{end:g} is not a whole number of steps of {step:g}",
        )


def _alliance_problems(s: Scenario) -> Problems:
    if s.alliance.leader not in s.member_names:
        yield ("alliance", "leader"), unknown("member", s.alliance.leader, s.member_names)
    if s.alliance.leader_pole not in s.pole_names:
        yield ("alliance", "leader_pole"), unknown("pole", s.alliance.leader_pole, s.pole_names)
    for name, actor in s.actors.items():
        if actor.patron and actor.patron not in s.pole_names:
            yield ("actors", name, "patron"), unknown("pole", actor.patron, s.pole_names)


def _member_problems(s: Scenario) -> Problems:
    poles, known = s.pole_names, list(s.actors) + s.member_names
    continued = s.history.member_names if s.history is not None else []
    for name, m in s.members.items():
        if name in continued:
            for field in STATE_FIELDS:
                if getattr(m, field) not in (None, {}):
                    yield (
                        ("members", name, field),
                        "comes from the end of the history; remove it here",
                    )
        else:
            needs = [f for f in NEW_MEMBER_STATE if getattr(m, f) in (None, {})]
            misnamed = needs and unknown_entry(
                type(s), "members", name, [*continued, *s.member_names]
            )
            if misnamed:
                yield ("members", name), misnamed
            for field in needs:
                yield ("members", name, field), "required (the member is not in a history)"
        for table in ("alignment", "economic", "security_affinity", "economic_affinity"):
            for pole in getattr(m, table):
                if pole not in poles:
                    yield (
                        ("members", name, table, pole),
                        f"unknown pole{did_you_mean(pole, poles)}",
                    )
        for actor in m.adversaries:
            if actor not in known:
                yield ("members", name, "adversaries"), unknown("actor", actor, known)


def _history_problems(s: Scenario) -> Problems:
    h = s.history
    if h is None:
        return
    if h.history is not None:
        yield ("history",), "a history cannot itself continue another history"
    if abs(h.time.end - s.time.start) > 1e-9:
        yield (
            (("time", "start"), ("history",)),
            f"the history ends in {h.time.end:g}, the scenario starts in {s.time.start:g}",
        )
    if h.alliance.leader != s.alliance.leader or h.alliance.leader_pole != s.alliance.leader_pole:
        yield (
            (("alliance", "leader"), ("alliance", "leader_pole"), ("history",)),
            "the history has another leader or leader pole",
        )
    for pole in s.pole_names:
        if pole not in h.pole_names:
            yield ("poles", pole), foreign_pole(pole, h)
    if sorted(h.pole_names) != sorted(s.pole_names):
        yield (
            ("history",),
            f"the history's poles {show(h.pole_names, 100)} differ from {show(s.pole_names, 100)}",
        )


def _record_problems(s: Scenario) -> Problems:
    for name, entries in s.record.items():
        if name not in s.member_names:
            yield ("record", name), unknown("member", name, s.member_names)
        dates = [e.year for e in entries]
        for i, year in enumerate(dates):
            if not s.time.start <= year < s.time.end:
                span = f"{s.time.start:g}-{s.time.end:g}"
                keys = (("record", name, i, "date"), _span_key(s, year))
                said = f"the record of {name} on {entries[i].date}"
                yield keys, f"{said} is outside the simulated span {span}"
            if i and year < dates[i - 1]:
                yield ("record", name, i, "date"), "entries must be in date order"


def _recorded_request_problems(s: Scenario) -> Problems:
    for label, r in s.recorded_requests.items():
        e = s.events.get(label)
        if e is None or e.kind not in THREAT_KINDS:
            threats = [k for k, v in s.events.items() if v.kind in THREAT_KINDS]
            yield ("recorded_requests", label), unknown("scripted threat", label, threats)
        elif r.answered is not None and not r.asked:
            yield ("recorded_requests", label, "answered"), "a request not asked cannot be answered"


def _relation_problems(s: Scenario) -> Problems:
    members = s.member_names
    for a, ties in s.relations.items():
        if a not in members:
            yield ("relations", a), f"unknown member{did_you_mean(a, members)}"
        for b, w in ties.items():
            loc = ("relations", a, b)
            other = s.relations.get(b, {}).get(a)
            if b not in members:
                yield loc, f"unknown member{did_you_mean(b, members)}"
            elif b == a:
                yield loc, "a member cannot have a tie to itself"
            elif other is not None and other != w:
                yield loc, f"tie given twice with different weights ({w:g} and {other:g})"


def _tie_problems(s: Scenario, loc: tuple, tie: Tie) -> Problems:
    if tie.member not in s.member_names:
        yield (*loc, "member"), unknown("member", tie.member, s.member_names)
    if tie.pole not in s.pole_names:
        yield (*loc, "pole"), unknown("pole", tie.pole, s.pole_names)
    start, end = tie.span
    if end <= start:
        yield (*loc, "end"), f"end {tie.end} is not after start {tie.start}"


def _event_problems(s: Scenario, loc: tuple, ev: Event) -> Problems:
    members, known = s.member_names, list(s.actors) + s.member_names
    if not s.time.start <= ev.year < s.time.end:
        span = f"{s.time.start:g}-{s.time.end:g}"
        yield (
            ((*loc, "date"), _span_key(s, ev.year)),
            f"the event {loc[-1]} on {ev.date} is outside the simulated span {span}",
        )
    if ev.member and ev.member not in members:
        yield (*loc, "member"), unknown("member", ev.member, members)
    if not ev.member and ev.kind in THREAT_KINDS:
        yield (*loc, "member"), f"a {ev.kind} event needs the member it strikes"
    if not ev.member and ev.kind == "accession":
        yield (*loc, "member"), "an accession needs the member that joins"
    if ev.kind == INTRA_ALLIANCE_KIND and ev.counterpart not in members:
        yield (*loc, "counterpart"), unknown("member", ev.counterpart, members)
    if ev.kind == "pole_shift" and ev.pole not in s.pole_names:
        yield (*loc, "pole"), unknown("pole", ev.pole, s.pole_names)
    if ev.kind == "hazard_change" and not ev.member:
        yield (*loc, "member"), "a hazard_change needs the member whose threat rate changes"
    if ev.kind == "hazard_change" and ev.threat not in THREAT_KINDS:
        yield (*loc, "threat"), unknown("threat kind", ev.threat, list(THREAT_KINDS))
    if ev.counterpart and ev.counterpart not in known:
        yield (*loc, "counterpart"), unknown("actor", ev.counterpart, known)
