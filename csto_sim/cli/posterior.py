"""``csto-sim posterior``: the Bayesian calibration on 2002-2014 or 2002-2024 (regression ABC)."""

from __future__ import annotations

import argparse

from csto_sim.cli.common import (
    EXIT_OK,
    EXIT_USAGE,
    hindcast_folder,
    hindcast_options,
    say,
)
from csto_sim.cli.options import recovery, share, simulations
from csto_sim.core.finite import check_finite
from csto_sim.experiments.executors import dask_executor
from csto_sim.experiments.store import ResultsExistError
from csto_sim.hindcast.nulls import NULL_MODELS

MIN_ESS = 50
"""An effective sample size of the posterior's weights below this is said to be too few."""


def add_parser(sub) -> None:
    p = sub.add_parser(
        "posterior",
        help="Bayesian calibration on 2002-2014 or 2002-2024 (regression ABC): posterior samples",
        description="Approximate Bayesian computation over the searched behavioural "
        "parameters and uncertain judgements: hindcast runs from the prior (the reference "
        "table), summaries learned by regression, the runs nearest the record kept and "
        "regression-adjusted. The record is the recorded requests, responses and exits and the "
        "measured UN votes, trade and arms shares of 2002-2014 only (--period fit: the "
        "validation posterior) or of 2002-2024 (--period whole: the production posterior). "
        "The table is stored in DIR/reference in chunks, so an interrupted calibration "
        "resumes and a larger --simulations extends it. Writes posterior.csv (weighted "
        "samples, the file --posterior takes), identifiability.csv, figures, and with "
        "--recovery the recovery check (recovery.csv).",
    )
    p.add_argument(
        "--simulations",
        type=simulations,
        default=40_000,
        help="hindcast runs in the reference table (default 40000)",
    )
    p.add_argument(
        "--accept",
        type=share,
        default=0.033,
        help="share of the searched table kept nearest the record (default 0.033: about "
        "1000 samples of 40000 simulations)",
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
        "--recovery",
        type=recovery,
        default=0,
        metavar="TESTS",
        help="also check that the method recovers known parameters: TESTS histories "
        "simulated from prior draws, each fitted against the same table (default 0: no check)",
    )
    p.add_argument(
        "--null",
        choices=[m.name for m in NULL_MODELS],
        default=None,
        help="fit a null model (its mechanism switched off, over the dimensions it keeps) "
        "with the same method and budget: what validate scores the model against (default: "
        "none, the full model)",
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
    hindcast_options(p, "posterior")


def run(args: argparse.Namespace, argv: list[str]) -> int:
    from csto_sim.hindcast import posterior
    from csto_sim.viz.fits import PRIOR_DENSITY, plot_posterior

    try:
        posterior.observed(args.leave_out, args.period)
    except ValueError as exc:
        say(f"--leave-out: {exc}")
        return EXIT_USAGE
    null = args.null or ""
    fit = posterior.Fit(args.period, tuple(args.leave_out), null)
    out = hindcast_folder(
        args, "posterior", leave_out=args.leave_out, period=args.period, null=null
    )
    with dask_executor(args.dask, args.workers) as executor:
        pool = {"workers": args.workers, "executor": executor}
        try:
            samples = posterior.fit_posterior(out, args.simulations, args.accept, fit, **pool)
            check = (
                posterior.recovery(out, args.simulations, args.recovery, args.accept, fit, **pool)
                if args.recovery
                else None
            )
        except ResultsExistError as exc:  # a table of another fit (no --overwrite here)
            say(f"--out: {exc}; use another --out")
            return EXIT_USAGE
        except ValueError as exc:  # a reference table too small to fit from
            say(f"--simulations: {exc}")
            return EXIT_USAGE
    ident = posterior.identifiability(samples, null)
    check_finite(ident, out / "identifiability.csv").to_csv(
        out / "identifiability.csv", index=False
    )
    prior = posterior.prior_density(null, args.period)
    prior.to_csv(out / PRIOR_DENSITY, index=False)
    span = "2002-2024" if args.period == "whole" else "2002-2014"
    plot_posterior(out, span=span, samples=samples, ident=ident, prior=prior)
    print(ident.round(3).to_string(index=False))
    print(f"median width (posterior sd / prior sd): {ident['width'].median():.2f}")
    if warning := too_few(samples["weight"].to_numpy()):
        say(warning)
    if check is not None:
        check_finite(check, out / "recovery.csv").to_csv(out / "recovery.csv", index=False)
        got = posterior.recovery_summary(check)
        print(
            f"recovery over {args.recovery} simulated histories: {got['covered']:.1%} of true "
            f"values inside their 90% intervals, median width {got['width']:.2f}"
        )
    print(
        f"posterior samples in {out / 'posterior.csv'} (use: --posterior {out / 'posterior.csv'})"
    )
    return EXIT_OK


def too_few(weights) -> str | None:
    """The warning for a posterior whose weights' effective sample size is below
    :data:`MIN_ESS` (its widths would read as history pinning every dimension), else None."""
    ess = weights.sum() ** 2 / (weights**2).sum()
    if ess >= MIN_ESS:
        return None
    return (
        f"the posterior rests on {len(weights)} samples (effective size {ess:.1f}): its "
        f"widths say nothing below {MIN_ESS}; use more --simulations or a larger --accept"
    )
