"""``csto-sim sensitivity``: Sobol' or Morris indices of a scenario's outcomes (SALib)."""

from __future__ import annotations

import argparse

from csto_sim.cli.common import (
    EXIT_OK,
    EXIT_USAGE,
    analysis_folder,
    analysis_options,
    parse_factors,
    plot_format_option,
    run_analysis,
    say,
    scenario_file,
)
from csto_sim.cli.options import samples
from csto_sim.core.scenario import load_scenario
from csto_sim.experiments.evaluate import OUTCOMES


def add_parser(sub) -> None:
    p = sub.add_parser(
        "sensitivity",
        help="global sensitivity analysis of a scenario's outcomes (SALib)",
        description="Sample the factors (behavioural parameters and Russia's post-war strength, "
        "as multiplier leader_strength) with a Sobol' or Morris design, run each point for "
        "--replicas runs with common seeds, and write indices.csv and a bar chart to --out. "
        "Needs the analysis extra: pip install 'csto-sim[analysis]'.",
    )
    scenario_file(p)
    p.add_argument(
        "--method",
        choices=["sobol", "morris"],
        default="sobol",
        help="Sobol' first-order and total indices, or Morris elementary effects (default sobol)",
    )
    p.add_argument(
        "--samples",
        type=samples,
        default=256,
        help="base sample size N (default 256; a power of two for sobol)",
    )
    p.add_argument(
        "--outcome",
        nargs="+",
        choices=OUTCOMES,
        default=None,
        metavar="NAME",
        help=f"outcomes: {', '.join(OUTCOMES)} (default: all)",
    )
    analysis_options(p)
    plot_format_option(p)


def run(args: argparse.Namespace, argv: list[str]) -> int:
    from csto_sim.analysis.sensitivity import Design, sensitivity
    from csto_sim.viz.figures import plot_sensitivity

    if args.method == "sobol" and args.samples & (args.samples - 1):
        lower = 1 << (args.samples.bit_length() - 1)
        say(
            f"--samples: Sobol' sampling needs a power of two, not {args.samples} (try {lower} or {2 * lower})"
        )
        return EXIT_USAGE
    scenario = load_scenario(args.scenario)
    out = analysis_folder(args, "sensitivity", scenario, method=args.method, samples=args.samples)
    points = len(Design.make(parse_factors(args.params), args.method, args.samples, 0).X)
    table = run_analysis(
        args,
        points,
        sensitivity,
        scenario,
        out,
        method=args.method,
        samples=args.samples,
        outcomes=args.outcome,
    )
    plot_sensitivity(out, fmt=args.plot_format, indices=table)
    wide = table.pivot_table(index=["outcome", "factor"], columns="index", values="value").round(3)
    print(wide.to_string())
    print(f"{points} sample points x {args.replicas} runs; indices.csv and figures in {out}/")
    return EXIT_OK
