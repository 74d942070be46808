"""``csto-sim score``: Brier and log scores of a forecast once its questions resolve."""

from __future__ import annotations

import argparse
from pathlib import Path

from csto_sim.analysis.forecast import read_forecast, read_resolutions, score
from csto_sim.cli.common import EXIT_OK, EXIT_USAGE, out_is_input
from csto_sim.cli.options import out_file
from csto_sim.core.finite import check_finite


def add_parser(sub) -> None:
    p = sub.add_parser(
        "score",
        help="score a forecast against what happened",
        description="Score FORECASTS (a forecast.csv, or the results folder of csto-sim "
        "forecast) against RESOLUTIONS (a CSV with columns id and outcome: yes or no, empty "
        "while unresolved): per resolved question the Brier score (p - o)^2 and the log score "
        "-ln(probability given to what happened), both lower is better, and their means.",
    )
    p.add_argument("forecasts", type=Path, help="forecast.csv or its results folder")
    p.add_argument("resolutions", type=Path, help="resolutions file (CSV: id, outcome)")
    p.add_argument("--out", type=out_file, default=None, help="also write the scores to this CSV")


def run(args: argparse.Namespace, argv: list[str]) -> int:
    if out_is_input(args.out, args.forecasts / "forecast.csv", args.forecasts, args.resolutions):
        return EXIT_USAGE
    forecast = read_forecast(args.forecasts)
    scored = score(forecast, read_resolutions(args.resolutions, list(forecast["id"])))
    check_finite(scored, args.out or "scores", at=("id",))
    if args.out is not None:
        scored.to_csv(args.out, index=False)
    pending = len(forecast) - len(scored)
    print(f"{len(scored)} of {len(forecast)} questions resolved ({pending} pending)")
    for _, row in scored.iterrows():
        print(
            f"  {row['id']}: p = {row['probability']:.3f}, outcome {'yes' if row['outcome'] else 'no'}, "
            f"Brier {row['brier']:.4f}, log score {row['log_score']:.4f}"
        )
    if len(scored):
        print(
            f"mean Brier {scored['brier'].mean():.4f}, mean log score {scored['log_score'].mean():.4f}"
        )
    return EXIT_OK
