"""``csto-sim run``: one scenario many times, summarised."""

from __future__ import annotations

import argparse

import pandas as pd

from csto_sim.analysis.report import OUTCOME_FIGURES, member_status_table, write_report
from csto_sim.cli.common import (
    ensemble_options,
    failed,
    posterior_from_args,
    run_from_args,
    say,
    scenario_file,
)
from csto_sim.core.scenario import Scenario, load_scenario
from csto_sim.experiments.results import read_manifest

STATUSES: tuple[str, ...] = ("active", "frozen", "withdrawn", "non_member")
"""The final statuses of the members table, in the order the summary shows them."""


def add_parser(sub) -> None:
    p = sub.add_parser(
        "run",
        help="run one scenario many times and summarise it",
        description="Run SCENARIO --runs times, print who ends active/frozen/withdrawn, cohesion, "
        "requests and responses, and write timeseries, events, runs, manifest and a report to "
        "--out.",
    )
    scenario_file(p)
    ensemble_options(p, 100, history=True)


def run(args: argparse.Namespace, argv: list[str]) -> int:
    scenario = load_scenario(args.scenario)
    note_drawn_parameters(args, [scenario])
    result = run_from_args(args, argv, "run", [scenario])
    out = result.out
    if "members" in args.tables:  # what the report needs beside runs
        write_report(out)
    if not args.quiet:
        print(summary(result.read("runs"), result.read("members")))
        for name, c in (read_manifest(out).get("conditioning") or {}).items():
            print(
                f"{name}: histories conditioned on the record: {c['histories']} simulated, "
                f"effective sample size {c['ess']:g}, {c['distinct']} distinct continued"
            )
        written = ", report.md and summary.csv" if "members" in args.tables else ""
        print(f"Results{written} in {out}/")
    return failed(result)


def note_drawn_parameters(args: argparse.Namespace, scenarios: list[Scenario]) -> None:
    """Say, for each scenario, which parameters of the posterior the runs draw from it sets
    itself (away from the defaults): they stay fixed at its values, the others are drawn."""
    posterior = posterior_from_args(args, scenarios)
    if posterior is None:
        return
    for s in scenarios:
        fixed = posterior.fixed_by(s)
        if fixed:
            say(
                f"note: {s.source}: parameters {', '.join(fixed)}: set here, so fixed at these "
                "values in every run; the posterior's other parameters are drawn"
            )


def summary(runs: pd.DataFrame, members: pd.DataFrame) -> str:
    """What ``run`` prints: per scenario, the share of runs in which each member ends in each
    status, and the spread of the outcome figures over runs, as tables with one header row."""
    blocks = []
    for name, group in runs.groupby("scenario", sort=False):
        n, errors = len(group), int((group["status"] == "error").sum())
        differ = "dice and posterior parameter draws" if "draw" in group else "dice"
        blocks += [
            f"{name}: {n} runs" + (f" ({errors} failed)" if errors else ""),
            "",
            "Share of runs in which each member ends in each status:",
            status_table(members[members["scenario"] == name]),
            "",
            f"Outcomes over runs (5% and 95% are percentiles; runs differ in their {differ}):",
            outcome_table(group[group["status"] == "ok"]),
            "",
        ]
    return "\n".join(blocks).rstrip()


def status_table(members: pd.DataFrame) -> str:
    """Members by final status, in whole percent (``non_member`` only when a member ends
    outside the alliance)."""
    table = member_status_table(members).drop(columns="scenario").set_index("member")
    table = table[[s for s in STATUSES if table[s].any() or s != "non_member"]]
    cells = (table * 100).round().astype(int).astype(str) + "%"
    return _table(cells.reset_index())


def outcome_table(runs: pd.DataFrame) -> str:
    """Mean, median, 5% and 95% of each outcome figure; counts as counts, shares in percent,
    the rest to two decimals (one at ten and above)."""
    rows = [_figure(name, runs[name]) for name in OUTCOME_FIGURES if name in runs]
    if "collapsed" in runs:
        rows.append(["collapse probability", _percent(runs["collapsed"].mean()), "", "", ""])
    return _table(pd.DataFrame(rows, columns=["outcome", "mean", "median", "5%", "95%"]))


def _figure(name: str, values: pd.Series) -> list[str]:
    values = values.dropna()
    if values.empty:
        return [name, "-", "-", "-", "-"]
    counts = pd.api.types.is_integer_dtype(values)
    share = name.endswith("_rate") or pd.api.types.is_bool_dtype(values)
    method = "nearest" if counts else "linear"  # a count's percentiles are counts that occurred
    stats = [values.mean(), values.median(), *values.quantile([0.05, 0.95], interpolation=method)]
    if share:
        return [name, *(_percent(v) for v in stats)]
    if counts:
        return [name, f"{stats[0]:.1f}", f"{stats[1]:g}", *(f"{v:.0f}" for v in stats[2:])]
    digits = 2 if max(abs(v) for v in stats) < 10 else 1
    return [name, *(f"{v:.{digits}f}" for v in stats)]


def _percent(value: float) -> str:
    return f"{100 * value:.0f}%"


def _table(cells: pd.DataFrame) -> str:
    """A table of strings with one header row: the first column left-aligned, the others
    right-aligned."""
    rows = [list(cells.columns), *cells.astype(str).values.tolist()]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        line = [c.rjust(w) for c, w in zip(row, widths, strict=True)]
        line[0] = row[0].ljust(widths[0])
        lines.append("  " + "  ".join(line).rstrip())
    return "\n".join(lines)
