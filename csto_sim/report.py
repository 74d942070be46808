"""Statistics of a results folder: tables that read only the saved results, never the model."""

from __future__ import annotations

import numpy as np
import pandas as pd

OUTCOME_FIGURES: tuple[str, ...] = (
    "cohesion_final",
    "n_active_final",
    "requests",
    "responses",
    "response_rate",
    "unanswered_severity",
    "alliance_unanswered_severity",
)
"""Per-run outcome figures summarised in every report."""


def member_status_table(members: pd.DataFrame) -> pd.DataFrame:
    """Share of runs in which each member ends active, frozen, withdrawn or outside, per scenario."""
    counts = (
        members.groupby(["scenario", "member"], sort=False)["status_final"]
        .value_counts(normalize=True)
        .unstack(fill_value=0.0)
    )
    for col in ("active", "frozen", "withdrawn", "non_member"):
        if col not in counts:
            counts[col] = 0.0
    return counts[["active", "frozen", "withdrawn", "non_member"]].reset_index()


def outcome_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean, median and 5-95% range of the outcome figures per scenario (successful runs only)."""
    ok = runs[runs["status"] == "ok"]
    rows = []
    for name, group in ok.groupby("scenario", sort=False):
        for fig in OUTCOME_FIGURES:
            values = group[fig].astype(float).dropna()
            rows.append(
                {
                    "scenario": name,
                    "figure": fig,
                    "mean": values.mean(),
                    "median": values.median(),
                    "p05": values.quantile(0.05) if len(values) else np.nan,
                    "p95": values.quantile(0.95) if len(values) else np.nan,
                }
            )
        rows.append(
            {
                "scenario": name,
                "figure": "collapsed",
                "mean": group["collapsed"].astype(float).mean(),
                "median": np.nan,
                "p05": np.nan,
                "p95": np.nan,
            }
        )
    return pd.DataFrame(rows)


def format_run_summary(runs: pd.DataFrame, members: pd.DataFrame) -> str:
    """The short text summary printed after ``csto-sim run``."""
    lines = []
    status = member_status_table(members)
    outcomes = outcome_table(runs)
    for name in runs["scenario"].unique():
        n = int((runs["scenario"] == name).sum())
        failed = int(((runs["scenario"] == name) & (runs["status"] == "error")).sum())
        lines.append(f"Scenario {name}: {n} runs" + (f" ({failed} failed)" if failed else ""))
        table = status[status["scenario"] == name].drop(columns="scenario").set_index("member")
        lines.append("  share of runs ending in each status:")
        lines.extend(
            "    " + row
            for row in (table * 100)
            .round(0)
            .astype(int)
            .astype(str)
            .add("%")
            .to_string()
            .splitlines()
        )
        fig = outcomes[outcomes["scenario"] == name].set_index("figure")
        lines.append("  outcome figures (mean, median, 5-95% range over runs):")
        for f in OUTCOME_FIGURES:
            r = fig.loc[f]
            lines.append(
                f"    {f:<30} {r['mean']:8.3f} {r['median']:8.3f}   [{r['p05']:.3f}, {r['p95']:.3f}]"
            )
        lines.append(f"    {'collapse probability':<30} {fig.loc['collapsed', 'mean']:8.3f}")
    return "\n".join(lines)
