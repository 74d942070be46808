"""The output tables of finished runs: one definition for both engines.

Both engines end in :func:`tables_from`: a trajectory with a leading runs axis and an
event record become the six tidy tables of the output contract (``runs``,
``timeseries``, ``events``, ``members``, ``alliance``, ``observables``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields

import numpy as np
import pandas as pd

from csto_sim.core import metrics, rules, step
from csto_sim.core.events import concat_events
from csto_sim.core.inputs import Inputs
from csto_sim.core.state import State, Trajectory
from csto_sim.core.vocabulary import (
    ACTIVE,
    FROZEN,
    RESPONSE_LEVELS,
    STATUSES,
    THREAT_KINDS,
    WITHDRAWN,
)
from csto_sim.experiments import observables

TABLES: tuple[str, ...] = ("runs", "timeseries", "events", "members", "alliance", "observables")
"""Tables of a results folder: one row per run, per (run, step, member), per event,
per (run, member), per (run, step), and per (run, year, member, series, partner): the
measured series a run's alignment implies (:mod:`csto_sim.experiments.observables`)."""

EVENT_COLUMNS: tuple[str, ...] = (
    "year",
    "label",
    "kind",
    "member",
    "counterpart",
    "severity",
    "requested",
    "responded",
    "level",
    "vetoes",
    "helped",
)
"""Columns of the events table after ``scenario`` and ``run``."""


def error_rows(
    name: str, runs: Sequence[int], seeds: Sequence[int], exc: Exception
) -> pd.DataFrame:
    """Rows of the runs table for runs that raised."""
    message = f"{type(exc).__name__}: {exc}"
    return pd.DataFrame(
        {
            "scenario": name,
            "run": np.asarray(runs, dtype=np.int32),
            "seed": np.asarray(seeds, dtype=np.int64),
            "status": "error",
            "error": message,
        }
    )


def empty_table(table: str) -> pd.DataFrame:
    """A table with no rows (the columns that are known without a run)."""
    columns = {
        "runs": ["scenario", "run", "seed", "status", "error"],
        "events": ["scenario", "run", *EVENT_COLUMNS],
        "observables": list(observables.COLUMNS),
    }.get(table, ["scenario", "run"])
    return pd.DataFrame(columns=columns)


def concat_tables(parts: list[dict[str, pd.DataFrame]]) -> dict[str, pd.DataFrame]:
    """Several chunks' tables joined table by table (tables no chunk has are left out)."""
    return {
        t: pd.concat([p[t] for p in parts if t in p], ignore_index=True)
        for t in TABLES
        if any(t in p for p in parts)
    }


def tables_from(
    name: str,
    inp: Inputs,
    runs: Sequence[int],
    seeds: Sequence[int],
    h: Trajectory,
    record: dict[str, list[np.ndarray]],
    tables: Sequence[str] = TABLES,
) -> dict[str, pd.DataFrame]:
    """The output tables of finished runs (``runs`` always, the others as asked): ``h`` has a
    leading runs axis, ``record`` holds the events."""
    run_ids = np.asarray(runs, dtype=np.int32)
    seed_ids = np.asarray(seeds, dtype=np.int64)
    min_active = inp.params["collapse_min_active"]  # one number, or one per run
    coh = metrics.cohesion(h.w, h.status, inp.leader, inp.leader_pole)
    ev = concat_events(record)
    summary = metrics.summarise(
        h.w, h.status, ev, inp.years, inp.leader, inp.leader_pole, min_active, coh
    )
    build = {
        "timeseries": lambda: _timeseries(name, inp, run_ids, seed_ids, h),
        "events": lambda: _events(name, inp, run_ids, ev),
        "members": lambda: _members(name, inp, run_ids, h, ev),
        "alliance": lambda: _alliance(name, inp, run_ids, h, coh, min_active),
        "observables": lambda: observables.observables(
            name, list(inp.members), list(inp.poles), inp.years, run_ids, h.w, h.e
        ),
    }
    out = {
        "runs": pd.DataFrame(
            {"scenario": name, "run": run_ids, "seed": seed_ids, "status": "ok", "error": ""}
            | summary
        )
    }
    return out | {t: build[t]() for t in TABLES[1:] if t in tables}


PERIODS: tuple[str, ...] = ("history", "scenario")
"""Values of the ``period`` column of whole-span tables: the history a projection lived
through, and the scenario's own span."""


def whole_span(
    past: dict[str, pd.DataFrame] | None, own: dict[str, pd.DataFrame], history_steps: int
) -> dict[str, pd.DataFrame]:
    """A projection's tables over the whole span: the ``timeseries``, ``events``,
    ``alliance`` and ``observables`` rows of the history it continued (``past``, up to but not including its
    last step, which is the projection's step 0) before its own, steps renumbered so that
    a run reads as one, and a ``period`` column saying which is which. The ``runs`` and
    ``members`` tables summarise the scenario's own span and are left as they are. A
    scenario without a history (``past`` None) only gains the ``period`` column."""
    out = dict(own)
    for table in ("timeseries", "events", "alliance", "observables"):
        if table not in own:
            continue
        if past is None:
            out[table] = own[table].assign(period=PERIODS[1])
            continue
        before, after = past[table], own[table].copy()
        if "step" in after:  # the history's last state is the projection's step 0
            before = before[before["step"] < history_steps]
            after["step"] += np.int32(history_steps)
        joined = pd.concat(
            [before.assign(period=PERIODS[0]), after.assign(period=PERIODS[1])],
            ignore_index=True,
        )
        out[table] = joined.sort_values("run", kind="stable", ignore_index=True)
    return out


def check_tables(tables: Sequence[str]) -> tuple[str, ...]:
    """The tables to write, in contract order, ``runs`` always among them; a ``ValueError``
    names an unknown one."""
    if isinstance(tables, str):
        raise ValueError(f"tables: expected a list of table names, got the text {tables!r}")
    unknown = [t for t in tables if t not in TABLES]
    if unknown:
        raise ValueError(f"unknown table {unknown[0]!r}; choose from {', '.join(TABLES)}")
    return tuple(t for t in TABLES if t == "runs" or t in tables)


def _timeseries(name, inp, run_ids, seed_ids, h: Trajectory) -> pd.DataFrame:
    R, T1, M = h.status.shape
    pull, courting, pressure = _actors(inp, h)
    return pd.DataFrame(
        {
            "scenario": name,
            "run": np.repeat(run_ids, T1 * M),
            "seed": np.repeat(seed_ids, T1 * M),
            "step": np.tile(np.repeat(np.arange(T1, dtype=np.int32), M), R),
            "year": np.tile(np.repeat(inp.years, M), R),
            "member": np.tile(np.array(inp.members, dtype=object), R * T1),
            "status": np.array(STATUSES, dtype=object)[h.status.reshape(-1)],
            "commitment": h.c.reshape(-1),
            "trust": h.b.reshape(-1),
            "grievance": h.g.reshape(-1),
            "alternatives": h.a.reshape(-1),
            **{f"w_{p.lower()}": h.w[..., j].reshape(-1) for j, p in enumerate(inp.poles)},
            **{f"econ_{p.lower()}": h.e[..., j].reshape(-1) for j, p in enumerate(inp.poles)},
            **{f"pull_{p.lower()}": pull[..., j].reshape(-1) for j, p in enumerate(inp.poles)},
            "courting": courting.reshape(-1),
            "pressure": pressure.reshape(-1),
        }
    )


def _actors(inp, h: Trajectory) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What the poles and the leader did at each recorded step, from the same rules as the
    step (:func:`csto_sim.core.step.reactions`, :func:`csto_sim.core.step.pressure`): each
    pole's share of the security pull on each member ``(R, T+1, M, P)``, the leader's
    courting (how much it raised its offer, logit) and its leverage over each member."""
    pull, lift, pressure = [], [], []
    for t in range(h.status.shape[1]):
        at = State(*(getattr(h, f.name)[:, t] for f in fields(State)))
        step_t = min(t, inp.n_steps - 1)
        raised = step.reactions(inp, step_t, at.w)
        security = step.offers(inp, step_t, at)[0]
        pull.append(rules.pole_target(inp.strength[step_t], security, at.w))
        lift.append(raised[..., inp.leader_pole])
        pressure.append(step.pressure(inp, at))
    return tuple(np.stack(x, axis=1) for x in (pull, lift, pressure))


def _alliance(name, inp, run_ids, h: Trajectory, coh, min_active) -> pd.DataFrame:
    R, T1, _ = h.status.shape
    return pd.DataFrame(
        {
            "scenario": name,
            "run": np.repeat(run_ids, T1),
            "step": np.tile(np.arange(T1, dtype=np.int32), R),
            "year": np.tile(inp.years, R),
            "cohesion": coh.reshape(-1),
            "n_active": (h.status == ACTIVE).sum(axis=-1).reshape(-1),
            "n_blocs": metrics.n_blocs(h.w, h.status).reshape(-1),
            "collapsed": metrics.collapsed(h.status, inp.leader, min_active).reshape(-1),
        }
    )


def _events(name, inp, run_ids, ev: dict[str, np.ndarray]) -> pd.DataFrame:
    counterparts = np.array([*inp.counterparts, ""], dtype=object)
    return pd.DataFrame(
        {
            "scenario": name,
            "run": run_ids[ev["run"].astype(int)],
            "year": inp.years[ev["step"].astype(int)],
            "label": ev["label"].astype(object),
            "kind": np.array(THREAT_KINDS, dtype=object)[ev["kind"].astype(int)],
            "member": np.array(inp.members, dtype=object)[ev["member"].astype(int)],
            "counterpart": counterparts[ev["counterpart"].astype(int)],
            "severity": ev["severity"].astype(float),
            "requested": ev["requested"].astype(bool),
            "responded": ev["responded"].astype(bool),
            "level": np.array(RESPONSE_LEVELS, dtype=object)[ev["level"].astype(int)],
            "vetoes": ev["vetoes"].astype(np.int8),
            "helped": ev["helped"].astype(bool),
        }
    )


def _members(name, inp, run_ids, h: Trajectory, ev: dict[str, np.ndarray]) -> pd.DataFrame:
    R, _, M = h.status.shape
    cell = ev["run"].astype(int) * M + ev["member"].astype(int)

    def count(mask):
        return np.bincount(cell, weights=mask.astype(float), minlength=R * M)[: R * M]

    frozen = _first_entry(h.status == FROZEN, inp.years).reshape(-1)
    withdrawn = _first_entry(h.status == WITHDRAWN, inp.years).reshape(-1)
    return pd.DataFrame(
        {
            "scenario": name,
            "run": np.repeat(run_ids, M),
            "member": np.tile(np.array(inp.members, dtype=object), R),
            "status_final": np.array(STATUSES, dtype=object)[h.status[:, -1].reshape(-1)],
            "frozen_year": frozen,
            "withdrawn_year": withdrawn,
            "exit_year": np.fmin(frozen, withdrawn),  # a member frozen at the start: withdrawing
            "requests": count(ev["requested"].astype(bool)).astype(np.int32),
            "answered": count(ev["responded"].astype(bool)).astype(np.int32),
            "commitment_final": h.c[:, -1].reshape(-1),
            **{
                f"w_{p.lower()}_final": h.w[:, -1, :, j].reshape(-1)
                for j, p in enumerate(inp.poles)
            },
        }
    )


def _first_entry(mask: np.ndarray, years: np.ndarray) -> np.ndarray:
    """For each run and member, the first year the mask starts to hold (a transition), else NaN.

    A member already frozen at the start has not frozen; it counts once it withdraws.
    """
    hit = mask[:, 1:] & ~mask[:, :-1]
    first = hit.argmax(axis=1)
    return np.where(hit.any(axis=1), years[1:][first], np.nan)
