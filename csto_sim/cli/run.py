"""``csto-sim run``: one scenario many times, summarised."""

from __future__ import annotations

import argparse
from pathlib import Path

from csto_sim.analysis.report import format_run_summary
from csto_sim.cli.common import (
    ensemble_options,
    failed,
    history_option,
    posterior_option,
    run_from_args,
)
from csto_sim.core.scenario import load_scenario


def add_parser(sub) -> None:
    p = sub.add_parser(
        "run",
        help="run one scenario many times and summarise it",
        description="Run SCENARIO --runs times, print who ends active/frozen/withdrawn, cohesion, "
        "requests and responses, and write timeseries, events, runs and manifest to --out.",
    )
    p.add_argument("scenario", type=Path, help="scenario file (TOML)")
    ensemble_options(p, 100)
    history_option(p)
    posterior_option(p)


def run(args: argparse.Namespace, argv: list[str]) -> int:
    from csto_sim.cli.common import ensemble_folder

    scenario = load_scenario(args.scenario)
    out = ensemble_folder(args, "run", [scenario])
    result = run_from_args(args, argv, [scenario], out)
    if not args.quiet:
        print(format_run_summary(result.read("runs"), result.read("members")))
        print(f"Results in {out}/")
    return failed(result)
