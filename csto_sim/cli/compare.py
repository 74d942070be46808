"""``csto-sim compare``: several scenarios with common random numbers, a report and figures."""

from __future__ import annotations

import argparse

from csto_sim.analysis.comparison import Comparison
from csto_sim.analysis.report import write_report
from csto_sim.cli.common import (
    EXIT_USAGE,
    dask_option,
    ensemble_options,
    failed,
    plot_format_option,
    run_from_args,
    say,
    scenario_files,
)
from csto_sim.cli.plot import draw
from csto_sim.cli.run import note_drawn_parameters
from csto_sim.core.scenario import load_scenario
from csto_sim.experiments.executors import dask_executor


def add_parser(sub) -> None:
    p = sub.add_parser(
        "compare",
        help="run several scenarios with common random numbers and compare them",
        description="Run every SCENARIO --runs times (run i of every scenario shares its seed), "
        "write the tables, report.md, summary.csv and figures to --out, and print the report.",
    )
    scenario_files(p)
    ensemble_options(p, 200, history=True)
    dask_option(p)
    p.add_argument(
        "--reference", default=None, help="scenario name to compare against (default: the first)"
    )
    plot_format_option(p)
    p.add_argument("--no-plots", action="store_true", help="skip the figures")


FIGURE_TABLES = ("members", "alliance", "timeseries")
"""The tables the figures read (beside ``runs``)."""


def run(args: argparse.Namespace, argv: list[str]) -> int:
    lacking = [t for t in FIGURE_TABLES if t not in args.tables]
    if lacking and not args.no_plots:
        say(
            f"--tables: the figures read {', '.join(FIGURE_TABLES)}; add {', '.join(lacking)}, "
            "or --no-plots"
        )
        return EXIT_USAGE
    scenarios = [load_scenario(p) for p in args.scenarios]
    names = [s.name for s in scenarios]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        files = [str(p) for p, n in zip(args.scenarios, names, strict=True) if n == dupes[0]]
        say(f"scenarios: {' and '.join(files)} share the name {dupes[0]!r}; give each its own")
        return EXIT_USAGE
    if args.reference is not None and args.reference not in names:
        say(f"--reference: no scenario named {args.reference!r} (have: {', '.join(names)})")
        return EXIT_USAGE
    note_drawn_parameters(args, scenarios)
    with dask_executor(args.dask, args.workers) as executor:
        result = run_from_args(args, argv, "compare", scenarios, executor)
    out = result.out
    comparison = Comparison.of(out, args.reference)
    report = write_report(comparison)
    if not args.no_plots and draw(comparison, args.plot_format, quiet=True):
        return EXIT_USAGE  # said in one line; the tables and the report are saved
    if not args.quiet:
        print(report)
        print(f"Results, report.md, summary.csv and figures in {out}/")
    return failed(result)
