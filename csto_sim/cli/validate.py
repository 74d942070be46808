"""``csto-sim validate``: the 2002-2024 hindcast scored against the historical patterns."""

from __future__ import annotations

import argparse
from pathlib import Path

from csto_sim.cli.common import EXIT_FAILED, EXIT_OK, ensemble_options, failed, run_from_args
from csto_sim.core.scenario import load_scenario, scenario_from_data
from csto_sim.hindcast.build import hindcast_scenario
from csto_sim.hindcast.patterns import (
    format_brier,
    format_table,
    load_tables,
    request_forecasts,
    score,
)


def add_parser(sub) -> None:
    p = sub.add_parser(
        "validate",
        help="score the 2002-2024 hindcast against the CSTO's history",
        description="Run the hindcast (built from the data shipped with the package, or "
        "--scenario) --runs times and score the historical patterns: the share of runs that "
        "reproduce each. Exit 0 when every gating pattern passes, 1 otherwise.",
    )
    p.add_argument(
        "--scenario",
        type=Path,
        default=None,
        help="a hindcast scenario file (default: the built-in one)",
    )
    ensemble_options(p, 200)


def run(args: argparse.Namespace, argv: list[str]) -> int:
    if args.scenario is not None:
        scenario = load_scenario(args.scenario)
    else:
        scenario = scenario_from_data(hindcast_scenario(), "csto_sim/hindcast/build.py")
    out = args.out or Path("results") / "validate"
    result = run_from_args(args, argv, [scenario], out)
    tables = load_tables(out)
    table = score(tables)
    table.to_csv(out / "validation.csv", index=False)
    forecasts = request_forecasts(tables)
    forecasts.to_csv(out / "requests.csv", index_label="label")
    text = format_table(table) + "\n\n" + format_brier(forecasts)
    (out / "validation.txt").write_text(text + "\n")
    print(text)
    print(f"Results and validation table in {out}/")
    if result.failed:
        return failed(result)
    return EXIT_OK if table.loc[table["gating"], "passed"].all() else EXIT_FAILED
