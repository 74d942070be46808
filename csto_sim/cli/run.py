"""``csto-sim run``: one scenario many times, summarised."""

from __future__ import annotations

import argparse

import pandas as pd

from csto_sim.analysis import prose
from csto_sim.analysis.comparison import Comparison
from csto_sim.analysis.measures import fmt, measure, table_digits
from csto_sim.analysis.report import write_report
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
    comparison = Comparison.of(out)
    members = "members" in args.tables  # what the report needs beside runs
    if members:
        write_report(comparison)
    if not args.quiet:
        print(summary(comparison, members))
        for name, c in (read_manifest(out).get("conditioning") or {}).items():
            of = f" of {c['samples']} posterior samples" if "samples" in c else ""
            print(
                f"{name}: histories conditioned on the record: {c['histories']} simulated, "
                f"effective sample size {c['ess']:g}, {c['distinct']} distinct continued{of}"
            )
        written = ", report.md and summary.csv" if "members" in args.tables else ""
        print(f"Results{written} in {out}/")
    return failed(result)


def note_drawn_parameters(args: argparse.Namespace, scenarios: list[Scenario]) -> None:
    """Say, for each scenario, which parameters of the posterior the runs draw from it sets
    itself (even at a default value): they stay fixed at its values, the others are drawn."""
    posterior = posterior_from_args(args, scenarios)
    if posterior is None:
        return
    for s in scenarios:
        fixed = posterior.fixed_by(s)
        if fixed:
            start = " from the projection's start (its history keeps the draw)" * bool(s.history)
            say(
                f"note: {s.source}: parameters {', '.join(fixed)}: set here, so fixed at these "
                f"values in every run{start}; the posterior's other parameters are drawn"
            )


def summary(c: Comparison, members: bool = True) -> str:
    """What ``run`` prints: per scenario, the share of runs in which each member ends in each
    status (with ``members``), the spread of the outcomes over runs and the chance of
    collapse, from the comparison the report renders."""
    blocks = []
    differ = "dice and posterior parameter draws" if c.posterior else "dice"
    for name in c.names:
        runs = c.runs[c.runs["scenario"] == name]
        errors = int((runs["status"] == "error").sum())
        blocks += [f"{name}: {len(runs)} runs" + (f" ({errors} failed)" if errors else ""), ""]
        if members:
            blocks += [
                "Share of runs in which each member ends in each status:",
                status_table(c.status_final[c.status_final["scenario"] == name]),
                "",
            ]
        collapse = c.collapse[(c.collapse["scenario"] == name) & (c.collapse["when"] == "by_end")]
        blocks += [
            f"Outcomes over runs (5% and 95% are percentiles; runs differ in their {differ}):",
            outcome_table(c.means[c.means["scenario"] == name]),
            "",
            *(
                "Chance of collapse by the end year: "
                f"{prose.probability(r.p, r.ci_low, r.ci_high)} (95% interval over the {differ})"
                for r in collapse.itertuples()
            ),
            "",
        ]
    return "\n".join(blocks).rstrip()


def status_table(status: pd.DataFrame) -> str:
    """Members by final status, in whole percent (``non_member`` only when a member ends
    outside the alliance)."""
    table = status.drop(columns="scenario").set_index("member")
    table = table[[s for s in STATUSES if table[s].any() or s != "non_member"]]
    cells = (table * 100).round().astype(int).astype(str) + "%"
    return _table(cells.reset_index())


def outcome_table(means: pd.DataFrame) -> str:
    """Mean, median, 5% and 95% of each outcome over runs, in one precision (the registry's
    finest for these measures)."""
    digits = table_digits(list(means["measure"]))
    rows = [
        [measure(r.measure).title, *(fmt(v, digits) for v in (r.mean, r.median, r.p05, r.p95))]
        for r in means.itertuples()
    ]
    return _table(pd.DataFrame(rows, columns=["outcome", "mean", "median", "5%", "95%"]))


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
