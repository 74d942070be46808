"""``csto-sim swing``: per posterior dimension, how far history pins it down and how much
it moves a scenario's collapse probability."""

from __future__ import annotations

import argparse
from pathlib import Path

from csto_sim.analysis.swing import (
    RECORD_RUNS,
    differences_table,
    sweep,
    sweep_differences,
    sweep_table,
    swing,
    swing_table,
)
from csto_sim.cli.common import (
    EXIT_USAGE,
    out_is_input,
    posterior_from_args,
    posterior_option,
    say,
    workers_option,
)
from csto_sim.cli.options import out_file, runs, seed
from csto_sim.core.scenario import load_scenario
from csto_sim.hindcast.posterior import Fit
from csto_sim.inference.conditioning import BLOCK, PARTICLES
from csto_sim.inference.posterior import PosteriorError


def add_parser(sub) -> None:
    p = sub.add_parser(
        "swing",
        help="per posterior dimension: posterior/prior sd and the headline's swing",
        description="For each dimension of the posterior (searched parameters and uncertain "
        "judgements): its posterior/prior standard deviation, and SCENARIO's collapse "
        "probability with the dimension fixed at its posterior 5% and 95% quantiles (the "
        "others drawn from the posterior, the same seeds). With --judgements: for each "
        "hand-set judgement the scenario rests on (fixed in the registry, with a range), "
        "SCENARIO's collapse probability with it at the low and the high end of its range; "
        "given more scenarios, the first's collapse probability and each other's difference "
        "from it (each scenario's own row of a judgement moving with the others'). "
        "The posterior/prior sd is given twice: as fitted, and with the samples weighed by "
        "SCENARIO's record as its conditioned runs take them. "
        "Prints the table (Markdown) and writes it to --out as CSV.",
    )
    p.add_argument(
        "--judgements",
        action="store_true",
        help="sweep the hand-set judgements over their registry ranges instead",
    )
    p.add_argument(
        "--judgement",
        action="append",
        default=[],
        metavar="ID",
        help="with --judgements: sweep only this registry id, or over several scenarios a "
        "judgement as the table names it (*.leader_distraction) (repeatable; default: all)",
    )
    p.add_argument(
        "scenario",
        type=Path,
        nargs="+",
        help="scenario file (for example scenarios/baseline.toml); with --judgements, more "
        "scenarios to sweep their difference from the first",
    )
    p.add_argument(
        "--runs", type=runs, default=200, help="runs per end of each dimension (default 200)"
    )
    p.add_argument(
        "--record-runs",
        type=runs,
        default=None,
        help="runs whose particle filters weigh the posterior by the record for the 'with the "
        f"record' column ({RECORD_RUNS // BLOCK * PARTICLES:,} histories at the default "
        f"{RECORD_RUNS})",
    )
    p.add_argument(
        "--seed", type=seed, default=None, help="ensemble seed (default: the scenario's)"
    )
    p.add_argument(
        "--out", type=out_file, default=None, help="CSV file for the table (default: none)"
    )
    workers_option(p)
    posterior_option(p)


def run(args: argparse.Namespace, argv: list[str]) -> int:
    if args.judgement and not args.judgements:
        say("--judgement: sweeps one judgement of --judgements; add --judgements")
        return EXIT_USAGE
    if args.record_runs is not None and args.judgements:
        say("--record-runs: weighs the table of posterior dimensions; --judgements has none")
        return EXIT_USAGE
    if len(args.scenario) > 1 and not args.judgements:
        say("scenario: several scenarios are swept with --judgements")
        return EXIT_USAGE
    posterior_file = Path(args.posterior) if args.posterior else None
    if out_is_input(args.out, *args.scenario, posterior_file):
        return EXIT_USAGE
    scenarios = [load_scenario(path) for path in args.scenario]
    scenario = scenarios[0]
    posterior = posterior_from_args(args, scenarios)
    if posterior is None:
        raise PosteriorError("none has no dimensions to swing; name a posterior")
    if args.judgements:
        several = len(scenarios) > 1
        try:
            if several:
                table = sweep_differences(
                    scenario, scenarios[1:], posterior, args.runs, args.seed, args.workers,
                    only=args.judgement,
                )  # fmt: skip
            else:
                table = sweep(
                    scenario, posterior, args.runs, args.seed, args.workers, only=args.judgement
                )
        except ValueError as exc:
            say(f"--judgement: {exc}")
            return EXIT_USAGE
        label = posterior_label(posterior)
        show = differences_table if several else sweep_table
        text = show(table, scenario.name, args.runs, label)
    else:
        prior = Fit("fit").prior  # every dimension, the answer chance's reference prior
        table = swing(
            scenario,
            posterior,
            prior.ranges,
            args.runs,
            args.seed,
            args.workers,
            prior_sd=prior.sd(),
            record_runs=args.record_runs or RECORD_RUNS,
        )
        text = swing_table(table, scenario.name, args.runs, posterior_label(posterior))
    print(text)  # before the file: what was computed is shown even if writing fails
    if args.out is not None:
        table.to_csv(args.out, index=False)
    return 0


def posterior_label(posterior) -> str:
    """The posterior's file name (``posterior_production.csv``), as the tables name it."""
    return Path(posterior.source).name if posterior.source else "given"
