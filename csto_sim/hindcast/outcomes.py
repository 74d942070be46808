"""Every recorded outcome of 2002-2024, scored: requests, responses and exits, by period.

The event history (``csto_sim/data/events_2002_2024.csv``) records for each historical
threat whether the member asked the CSTO for help and whether the CSTO answered, and when
members suspended or froze their membership. Each such fact is a *case*; the model's
forecast for a case is the share of runs in which it happens. Forecasts are scored by the
Brier score, beside two reference forecasters that see the record:

- **base rate**: for every case of a kind (request, response, exit) the share of all
  recorded cases of that kind that happened (the best constant in hindsight);
- **persistence**: a request or response case gets the outcome of the previous recorded
  case of its kind (0.5 for the first); an exit case gets 0 (nobody changes status).

Cases are split into the fitted period and the held-out period
(:data:`~csto_sim.hindcast.patterns.HELD_OUT_FROM`); the held-out scores are the headline.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from csto_sim.hindcast.build import LEADER, event_label, history_rows, members_in_data
from csto_sim.hindcast.patterns import HELD_OUT_FROM, PERIODS, _per_run, period_of
from csto_sim.inference.simulator import share

OUTCOMES: tuple[str, ...] = ("request", "response", "exit")
"""Kinds of recorded case: a member asked; the CSTO answered; a member froze or left."""

EXITS: tuple[str, ...] = ("suspension", "freeze", "withdrawal")
"""Outcome rows of the event history that are exits from active membership."""

SPAN: tuple[float, float] = (2002.0, 2025.0)
"""The years the hindcast covers."""

TIMING: float = 2.0
"""Years either side of a recorded exit within which a simulated exit counts as matching it."""

FORECASTERS: tuple[str, ...] = ("base_rate", "persistence")
"""The reference forecasters every model is compared with."""


def _year(date: str) -> float:
    y, m, d = (int(x) for x in date.split("-"))
    return y + (m - 1) / 12 + (d - 1) / 365


def recorded_cases() -> pd.DataFrame:
    """One row per recorded case: ``case`` (an id), ``outcome``, ``member``, ``label`` (the
    scripted event, for requests and responses), ``year``, ``period`` and ``happened``.

    Exit cases: each member other than the leader, in each period in which it was active at
    the start (or joined), happened when the history records its suspension, freeze or
    withdrawal in that period; ``year`` is then the recorded date, else the period's start.
    """
    rows = []
    history = history_rows()
    for r in history:
        if r["role"] != "input":
            continue
        for outcome, column in (("request", "request"), ("response", "csto_response")):
            if r[column] in ("yes", "no"):
                year = _year(r["date"])
                rows.append(
                    {
                        "case": f"{outcome}:{event_label(r)}",
                        "outcome": outcome,
                        "member": r["member"],
                        "label": event_label(r),
                        "year": year,
                        "period": period_of(year),
                        "happened": r[column] == "yes",
                    }
                )
    exits = {
        r["member"]: _year(r["date"])
        for r in reversed(history)  # the first exit of each member
        if r["role"] == "outcome" and r["kind"] in EXITS
    }
    bounds = dict(zip(PERIODS, [(SPAN[0], HELD_OUT_FROM), (HELD_OUT_FROM, SPAN[1])], strict=True))
    for period, (start, end) in bounds.items():
        for member in members_in_data():
            if member == LEADER or exits.get(member, np.inf) < start:
                continue
            year = exits.get(member, np.nan)
            happened = bool(start <= year < end)
            rows.append(
                {
                    "case": f"exit:{member}:{period}",
                    "outcome": "exit",
                    "member": member,
                    "label": "",
                    "year": year if happened else start,
                    "period": period,
                    "happened": happened,
                }
            )
    return pd.DataFrame(rows).sort_values(["year", "case"], ignore_index=True)


def exits_in(timeseries: pd.DataFrame, start: float, end: float) -> pd.DataFrame:
    """Per run and member: whether it went from active to frozen or withdrawn at a step in
    ``[start, end)``, the first such year (NaN if none), and whether it was at risk of it
    (active at a step of the period, or leaving at one)."""
    ts = timeseries.sort_values(["run", "member", "year"], kind="stable")
    before = ts.groupby(["run", "member"])["status"].shift()
    left = (before == "active") & ts["status"].isin(["frozen", "withdrawn"])
    within = (ts["year"] >= start) & (ts["year"] < end)
    inside = left & within
    keys = [ts["run"], ts["member"]]
    first = ts["year"].where(inside).groupby(keys).min()
    at_risk = ((ts["status"] == "active") & within).groupby(keys).any()
    return pd.DataFrame(
        {"exited": first.notna(), "year": first, "at_risk": at_risk | first.notna()}
    )


def case_hits(tables: dict[str, pd.DataFrame], cases: pd.DataFrame) -> pd.DataFrame:
    """Whether each case happens in each run: 1 or 0, one row per successful run, one column
    per case (``cases["case"]``). A recorded exit is matched by a simulated first exit in
    its period within :data:`TIMING` years of it. An exit case is scored only in runs where
    the member is at risk (active at some step of the period): NaN in the others (a member
    already out cannot be credited with staying)."""
    runs = _per_run(tables)
    ev = tables["events"]
    column = {"request": "requested", "response": "responded"}
    bounds = {"fit": (SPAN[0], HELD_OUT_FROM), "held_out": (HELD_OUT_FROM, SPAN[1])}
    exits = {p: exits_in(tables["timeseries"], *b) for p, b in bounds.items()}
    hits = {}
    for _, c in cases.iterrows():
        if c["outcome"] in column:
            rows = ev[ev["label"] == c["label"]]
            hit = rows[column[c["outcome"]]].astype(bool).groupby(rows["run"]).any()
        else:
            ex = exits[c["period"]].xs(c["member"], level="member")
            hit = ex["exited"]
            if c["happened"]:  # at about the recorded time
                hit = hit & ((ex["year"] - c["year"]).abs() <= TIMING)
            hits[c["case"]] = hit.astype(float).where(ex["at_risk"]).reindex(runs)
            continue
        hits[c["case"]] = hit.reindex(runs, fill_value=False).astype(float)
    return pd.DataFrame(hits, index=runs)


def forecasts(tables: dict[str, pd.DataFrame], cases: pd.DataFrame | None = None) -> pd.DataFrame:
    """The cases with the model's forecast (share of runs in which the case happens) and, for
    exits that happened, the median year of the simulated exit among runs with one."""
    cases = recorded_cases() if cases is None else cases
    hits = case_hits(tables, cases)
    bounds = {"fit": (SPAN[0], HELD_OUT_FROM), "held_out": (HELD_OUT_FROM, SPAN[1])}
    timing = []
    for _, c in cases.iterrows():
        if c["outcome"] == "exit" and c["happened"]:
            years = exits_in(tables["timeseries"], *bounds[c["period"]])["year"]
            timing.append(float(years.xs(c["member"], level="member").median()))
        else:
            timing.append(np.nan)
    forecast = pd.Series(share(hits.to_numpy(float), axis=0), index=hits.columns)
    return cases.assign(forecast=forecast.reindex(cases["case"]).to_numpy(), simulated_year=timing)


def brier_margin(
    model: pd.DataFrame,
    other: pd.DataFrame,
    cases: pd.DataFrame,
    period: str,
    draws: int = 1000,
    seed: int = 0,
    blocks: np.ndarray | None = None,
) -> tuple[float, float, float, float, float]:
    """How much lower the model's Brier score is than another's on ``period``'s cases, with
    two 95% bootstrap intervals: over runs (``model`` and ``other`` are :func:`case_hits` of
    the same runs, so the resampling keeps them paired; the dice, and over a posterior the
    parameter draws: with ``blocks``, each run's block of runs sharing a posterior sample,
    the wider of resampling whole blocks and resampling runs) and over cases (the record's
    cases resampled, both forecasts kept: how much the margin rests on which cases history
    happens to hold)."""
    sel = (cases["period"] == period).to_numpy()
    names = cases.loc[sel, "case"].tolist()
    o = cases.loc[sel, "happened"].astype(float).to_numpy()
    a, b = model[names].to_numpy(float), other[names].to_numpy(float)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(a), size=(draws, len(a)))

    def per_case(rows):
        return (share(b[rows], axis=-2) - o) ** 2 - (share(a[rows], axis=-2) - o) ** 2

    boot = np.array([per_case(i).mean(axis=-1) for i in idx])
    runs_lo, runs_hi = np.quantile(boot, [0.025, 0.975]).tolist()
    if blocks is not None:  # whole blocks, from a stream of their own
        _, label = np.unique(np.asarray(blocks), return_inverse=True)
        groups = [np.flatnonzero(label == k) for k in range(label.max() + 1)]
        picks = np.random.default_rng([seed, 1]).integers(0, len(groups), (draws, len(groups)))
        boot = [per_case(np.concatenate([groups[k] for k in p])).mean() for p in picks]
        lo, hi = np.quantile(boot, [0.025, 0.975]).tolist()
        runs_lo, runs_hi = min(runs_lo, lo), max(runs_hi, hi)
    each = per_case(np.arange(len(a)))
    picks = rng.integers(0, len(o), size=(draws, len(o)))
    by_case = each[picks].mean(axis=-1)
    cases_lo, cases_hi = np.quantile(by_case, [0.025, 0.975]).tolist()
    return float(each.mean()), runs_lo, runs_hi, cases_lo, cases_hi


def reference_forecasts(cases: pd.DataFrame) -> pd.DataFrame:
    """The base-rate and persistence forecasts of every case (see the module docstring)."""
    out = pd.DataFrame(index=cases.index)
    happened = cases["happened"].astype(float)
    out["base_rate"] = happened.groupby(cases["outcome"]).transform("mean")
    previous = happened.groupby(cases["outcome"]).shift().fillna(0.5)
    out["persistence"] = np.where(cases["outcome"] == "exit", 0.0, previous)
    return out


def brier_table(scored: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Brier scores by period and outcome (and ``all``) of each forecaster: ``scored`` maps a
    name (the model, a null model) to its :func:`forecasts`; the reference forecasters are
    added. Rows: forecaster; columns: (period, outcome) and the number of cases."""
    first = next(iter(scored.values()))
    columns = {name: f["forecast"].to_numpy() for name, f in scored.items()}
    columns |= {k: v.to_numpy() for k, v in reference_forecasts(first).items()}
    o = first["happened"].astype(float).to_numpy()
    groups = [(p, k) for p in PERIODS for k in (*OUTCOMES, "all")]
    rows = {}
    for name, f in columns.items():
        rows[name] = {}
        for period, kind in groups:
            sel = (first["period"] == period).to_numpy()
            if kind != "all":
                sel = sel & (first["outcome"] == kind).to_numpy()
            rows[name][(period, kind)] = (
                float(np.mean((f[sel] - o[sel]) ** 2)) if sel.any() else np.nan
            )
    table = pd.DataFrame(rows).T
    table.columns = pd.MultiIndex.from_tuples(table.columns, names=["period", "outcome"])
    counts = {
        (p, k): int(((first["period"] == p) & ((first["outcome"] == k) | (k == "all"))).sum())
        for p, k in groups
    }
    table.loc["cases"] = pd.Series(counts)
    return table


def format_cases(scored: dict[str, pd.DataFrame]) -> str:
    """Each case with what happened and every model's forecast, as text."""
    names = list(scored)
    first = scored[names[0]]
    head = f"{'case':<58} {'period':<8} {'history':<7} " + " ".join(f"{n[:12]:>12}" for n in names)
    lines = ["Recorded outcomes: share of runs in which each happens", head]
    for i, c in first.iterrows():
        what = "yes" if c["happened"] else "no"
        cells = " ".join(f"{scored[n].loc[i, 'forecast']:12.0%}" for n in names)
        when = ""
        if c["outcome"] == "exit" and c["happened"]:
            sim = first.loc[i, "simulated_year"]
            when = (
                f"  (history {c['year']:.1f}; model median {sim:.1f})" if np.isfinite(sim) else ""
            )
        lines.append(f"{c['case'][:58]:<58} {c['period']:<8} {what:<7} {cells}{when}")
    return "\n".join(lines)


def format_brier(table: pd.DataFrame) -> str:
    """The Brier table as text: one line per forecaster, held-out period first."""
    order = [(p, k) for p in reversed(PERIODS) for k in ("all", *OUTCOMES)]
    head = f"{'Brier score (0 best)':<22}" + "".join(
        f"{p.replace('_', '-')[:8] + ' ' + k:>18}" for p, k in order
    )
    lines = [head]
    for name, row in table.iterrows():
        if name == "cases":
            cells = "".join(f"{int(row[c]):>18d}" for c in order)
        else:
            cells = "".join(f"{row[c]:18.3f}" for c in order)
        lines.append(f"{name[:22]:<22}{cells}")
    return "\n".join(lines)
