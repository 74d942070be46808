"""The evaluation API for other tools: one point of factors in, tables or outcome means out.

Clients such as EMA Workbench, SALib or optuna call :func:`evaluate` with a scenario and a
dict of factor values (drivers and behavioural parameters, listed with their plausible
ranges by :func:`factors`) and get the output tables of ``runs`` runs in memory, computed
with the batched engine and common seeds. :func:`mean_outcomes` reduces them to the
outcome means that the sensitivity analysis and scenario discovery use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from csto_sim.core.parameters import parameter_table
from csto_sim.core.scenario import DRIVERS, Scenario, load_scenario
from csto_sim.experiments.ensemble import Ensemble, EnsembleError, run
from csto_sim.experiments.tables import empty_table
from csto_sim.inference.posterior import Posterior

OUTCOMES: dict[str, str] = {
    "p_collapse": "probability of collapse by the end year",
    "cohesion_final": "mean cohesion at the end",
    "n_active_final": "mean number of active members at the end",
    "unanswered_severity": "mean threat severity answered by no one",
}
"""Outcome means of a point (over its runs); :func:`mean_outcomes` adds ``p_exit_<member>``."""


def factors() -> pd.DataFrame:
    """Every factor a client may vary: the drivers, then every numeric behavioural parameter,
    with its kind, default, plausible range, unit and meaning (one row each, indexed by name)."""
    rows = [
        {
            "name": n,
            "kind": "driver",
            "default": 1.0,
            "low": lo,
            "high": hi,
            "unit": "multiplier",
            "meaning": m,
        }
        for n, (lo, hi, m) in DRIVERS.items()
    ]
    rows += [
        {
            "name": r["name"],
            "kind": "parameter",
            **{k: r[k] for k in ("default", "low", "high", "unit", "meaning")},
        }
        for r in parameter_table()
        if not isinstance(r["default"], dict)
    ]
    return pd.DataFrame(rows).set_index("name")


def evaluate(
    scenario: Scenario | str | Path,
    factors: Mapping[str, Any] | None = None,
    runs: int = 20,
    seed: int | None = None,
    tables: Sequence[str] = ("runs",),
    engine: str = "batch",
    posterior: Posterior | str | Path | None = None,
) -> dict[str, pd.DataFrame]:
    """Run a scenario with factor values applied ``runs`` times, in memory; returns the tables.

    ``seed`` defaults to the scenario's; run ``i`` has the same seed at every point (common
    random numbers), so differences between points are not noise. Runs draw their
    parameters as ``csto-sim run`` does: from the posterior the scenario names (the bundled
    ones: ``production``) unless ``posterior`` says otherwise (a name, a file, or ``"none"``
    for the scenario's own parameters); the parameters among ``factors`` stay fixed at
    their values and the posterior's other parameters are drawn.
    """
    spec = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    spec = spec.with_factors(factors or {})
    ensemble = Ensemble.of([spec], runs, seed, posterior, engine=engine, tables=tables)
    out = run(ensemble, workers=1, progress=False).tables
    return {t: out.get(t, empty_table(t)) for t in tables}


def mean_outcomes(tables: Mapping[str, pd.DataFrame]) -> dict[str, float]:
    """The :data:`OUTCOMES` means over the successful runs, and, when the ``members`` table is
    there, each member's probability of freezing or withdrawing (``p_exit_<member>``).
    ``tables`` is what :func:`evaluate` returns, with its ``runs`` table."""
    if not isinstance(tables, Mapping) or "runs" not in tables:
        got = "a mapping without 'runs'" if isinstance(tables, Mapping) else type(tables).__name__
        raise EnsembleError(f"mean_outcomes: expected evaluate's tables with 'runs', got {got}")
    runs = tables["runs"]
    ok = runs[runs["status"] == "ok"]
    point = {
        "p_collapse": float(ok["collapsed"].mean()),
        "cohesion_final": float(ok["cohesion_final"].mean()),
        "n_active_final": float(ok["n_active_final"].mean()),
        "unanswered_severity": float(ok["unanswered_severity"].mean()),
    }
    if "members" not in tables:
        return point
    members = tables["members"]
    exits = (
        members.assign(out=members["exit_year"].notna()).groupby("member", sort=False)["out"].mean()
    )
    return point | {f"p_exit_{m}": float(v) for m, v in exits.items()}
