"""``csto-sim discover``: PRIM boxes of inputs where an outcome is likely."""

from __future__ import annotations

import argparse

from csto_sim.cli.common import (
    EXIT_OK,
    analysis_folder,
    analysis_options,
    run_analysis,
    scenario_file,
)
from csto_sim.cli.options import fraction, samples
from csto_sim.core.scenario import load_scenario


def add_parser(sub) -> None:
    p = sub.add_parser(
        "discover",
        help="scenario discovery: where in parameter space an outcome becomes likely (PRIM)",
        description="Sample the factors with a Latin hypercube, run each point for --replicas "
        "runs, and find boxes of inputs where the outcome is likely with PRIM; prints each box's "
        "coverage and density and writes boxes.csv. Needs the analysis extra.",
    )
    scenario_file(p)
    p.add_argument(
        "--outcome", default="collapsed", help="collapsed, or exit:MEMBER (default collapsed)"
    )
    p.add_argument("--samples", type=samples, default=400, help="sample points (default 400)")
    p.add_argument(
        "--interest",
        type=fraction,
        default=0.5,
        help="a point is a case when the outcome's probability is at least this (default 0.5)",
    )
    analysis_options(p)


def run(args: argparse.Namespace, argv: list[str]) -> int:
    from csto_sim.analysis.discovery import discover, format_boxes, outcome_column

    scenario = load_scenario(args.scenario)
    column = outcome_column(args.outcome, scenario.member_names)
    out = analysis_folder(args, "discover", scenario, samples=args.samples)
    boxes = run_analysis(
        args,
        args.samples,
        discover,
        scenario,
        out,
        outcome=args.outcome,
        samples=args.samples,
        interest=args.interest,
    )
    import pandas as pd

    points = pd.read_parquet(out / "points.parquet")
    cases = int((points[column] >= args.interest).sum())
    print(f"Outcome {args.outcome} (probability >= {args.interest:g} over {args.replicas} runs):")
    print(format_boxes(boxes, cases, len(points)))
    print(f"boxes.csv and points.parquet in {out}/")
    return EXIT_OK
