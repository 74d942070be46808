"""``csto-sim posterior``: a Bayesian calibration on the fitted period (ABC with pyabc)."""

from __future__ import annotations

import argparse
from pathlib import Path

from csto_sim.cli.common import (
    EXIT_OK,
    EXIT_USAGE,
    dask_option,
    hindcast_folder,
    positive,
    say,
    workers_option,
)
from csto_sim.experiments.executors import dask_executor


def add_parser(sub) -> None:
    p = sub.add_parser(
        "posterior",
        help="Bayesian calibration on 2002-2014 or 2002-2024 (ABC with pyabc): posterior samples",
        description="Approximate Bayesian computation (pyabc) over the searched behavioural "
        "parameters and uncertain judgements, fitted to the recorded requests, responses and "
        "exits of 2002-2014 only (--period fit: the validation posterior) or of 2002-2024 "
        "(--period whole: the production posterior). "
        "Generations are stored in DIR/abc.db, so an interrupted calibration resumes from "
        "the last finished one. Writes posterior.csv (weighted samples, the file --posterior "
        "takes), populations.csv, identifiability.csv and figures. Needs the calibration extra.",
    )
    p.add_argument(
        "--simulations",
        type=positive,
        default=10_000,
        help="simulations in all, each --replicas hindcast runs (default 10000)",
    )
    p.add_argument(
        "--population", type=positive, default=400, help="particles per generation (default 400)"
    )
    p.add_argument(
        "--replicas", type=positive, default=10, help="hindcast runs per simulation (default 10)"
    )
    p.add_argument(
        "--period",
        choices=("fit", "whole"),
        default="fit",
        help="what the fit sees: the fitted period 2002-2014 (the validation posterior, "
        "tested on 2015-2024 by validate) or the whole record 2002-2024 (the production "
        "posterior, for projections) (default fit)",
    )
    p.add_argument(
        "--batch",
        type=positive,
        default=50,
        help="particles simulated together in one batch of BATCH x REPLICAS hindcast runs "
        "(default 50; changes the speed and the random draws, not the method)",
    )
    p.add_argument(
        "--out", type=Path, default=None, help="results folder (default: results/posterior/...)"
    )
    p.add_argument(
        "--leave-out",
        action="append",
        default=[],
        metavar="CASE",
        help="fit without this fitted-period case or event label (repeatable): a "
        "leave-one-event-out fit, to predict the event with the posterior that did not see it "
        "(default: none left out)",
    )
    workers_option(p)
    dask_option(p)


def run(args: argparse.Namespace, argv: list[str]) -> int:
    from csto_sim.hindcast.posterior import fit_posterior, identifiability, observed
    from csto_sim.viz.figures import plot_posterior

    try:
        observed(args.leave_out, args.period)
    except ValueError as exc:
        say(f"--leave-out: {exc}")
        return EXIT_USAGE
    out = hindcast_folder(
        args,
        "posterior",
        population=args.population,
        replicas=args.replicas,
        leave_out=args.leave_out,
        batch=args.batch,
        period=args.period,
    )
    with dask_executor(args.dask, args.workers) as executor:
        samples = fit_posterior(
            out,
            simulations=args.simulations,
            population=args.population,
            replicas=args.replicas,
            workers=args.workers,
            executor=executor,
            leave_out=args.leave_out,
            batch=args.batch,
            period=args.period,
        )
    ident = identifiability(samples)
    ident.to_csv(out / "identifiability.csv", index=False)
    plot_posterior(out, span="2002-2024" if args.period == "whole" else "2002-2014")
    print(ident.round(3).to_string(index=False))
    print(
        f"posterior samples in {out / 'posterior.csv'} (use: --posterior {out / 'posterior.csv'})"
    )
    return EXIT_OK
