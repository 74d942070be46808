"""``csto-sim forecast``: a file of dated yes/no questions answered by a projection."""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import pandas as pd

from csto_sim.analysis.forecast import ForecastError, answer, check_questions, load_questions
from csto_sim.analysis.prose import MIN_ESS
from csto_sim.cli.common import (
    EXIT_USAGE,
    ensemble_options,
    ensemble_spec,
    failed,
    posterior_from_args,
    run_from_args,
    say,
)
from csto_sim.core.finite import check_finite
from csto_sim.core.scenario import load_scenario
from csto_sim.experiments.store import record_derived


def add_parser(sub) -> None:
    p = sub.add_parser(
        "forecast",
        help="answer a file of dated questions with probabilities",
        description="Run the projection QUESTIONS names --runs times (over its posterior, its "
        "histories conditioned on the record) and write forecast.csv to --out: per question "
        "the probability that it resolves yes, its 90% interval (Monte Carlo: a bootstrap "
        "over the posterior samples the runs use), the posterior and the parameters the "
        "scenario fixes, the histories the filter simulated and accepted and their "
        "effective sample size, the date and the commit.",
    )
    p.add_argument("questions", type=Path, help="question file (TOML)")
    p.add_argument(
        "--scenario",
        type=Path,
        default=None,
        help="ask the questions of this projection instead of the one the file names "
        "(for example scenarios/russia_weakened.toml; default: the file's scenario)",
    )
    ensemble_options(p, 1000, label="SCENARIO+QUESTIONS")


NEEDS = ("timeseries", "events")
"""The tables the answers are read from (beside ``runs``)."""


def run(args: argparse.Namespace, argv: list[str]) -> int:
    lacking = [t for t in NEEDS if t not in args.tables]
    if lacking:
        say(f"--tables: forecast reads {', '.join(NEEDS)}; add {', '.join(lacking)}")
        return EXIT_USAGE
    questions, scenario_path = load_questions(args.questions)
    if args.scenario is None and not scenario_path.is_file():
        raise ForecastError(args.questions, "scenario", f"no scenario file {scenario_path}")
    scenario = load_scenario(args.scenario or scenario_path)
    check_questions(questions, scenario, args.questions)
    posterior_from_args(args, [scenario])  # names a renamed posterior once
    out = args.out if args.out is not None else default_out(args, scenario, args.questions)
    if not args.overwrite and (other := _other_questions(out, [q.id for q in questions.questions])):
        say(
            f"--out: {out / 'forecast.csv'} answers other questions ({other}); --overwrite "
            "replaces the folder, or choose another --out"
        )
        return EXIT_USAGE
    result = run_from_args(args, argv, "forecast", [scenario], out=out)
    if result.failed:
        return failed(result)
    out = result.out
    table = answer(questions, out, scenario.name)
    check_finite(table, out / "forecast.csv").to_csv(out / "forecast.csv", index=False)
    record_derived(out, ["forecast.csv"])
    if not args.quiet:
        print(format_forecast(table))
        print(f"Forecast in {out / 'forecast.csv'}")
    if warning := too_few(table):
        say(warning)
    return failed(result)


def _other_questions(out: Path, ids: list[str]) -> str:
    """The first question ids of a ``forecast.csv`` already in ``out`` when they are not
    ``ids`` (another question file's forecast, which writing would replace); else ""."""
    path = out / "forecast.csv"
    if not path.is_file():
        return ""
    try:
        held = pd.read_csv(path, usecols=["id"], dtype=str)["id"].tolist()
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError):
        return "an unreadable file"
    return "" if held == ids else ", ".join(held[:3]) + (", ..." if len(held) > 3 else "")


def default_out(args: argparse.Namespace, scenario, questions: Path) -> Path:
    """The default folder: the ensemble's, one per question file (named from the scenario,
    the file's stem and a digest of both), so a second question file asked of the same
    projection writes its own ``forecast.csv`` instead of replacing the first's."""
    digest = hashlib.sha256(questions.read_bytes()).hexdigest()
    label = f"{scenario.name}+{questions.stem}"
    return ensemble_spec(args, [scenario]).folder("forecast", label=label, questions=digest)


def format_forecast(table) -> str:
    """The forecast as lines: what it was made from, then per question the probability and
    its interval in percent."""
    first = table.iloc[0]
    if pd.isna(first["ess"]):
        ess = "not conditioned"
    else:
        ess = (
            f"{first['histories']:.0f} histories simulated, {first['accepted']:.0f} accepted, "
            f"effective sample size {first['ess']:g}"
        )
    if first["posterior"] == "none":
        drawn, over = "the scenario's own parameters (no posterior)", "runs (dice only)"
    else:
        drawn = (
            f"{first['draws']} draws of {first['samples']} posterior samples ({first['posterior']})"
        )
        over = "posterior samples (parameters and dice)"
    lines = [
        f"{first['scenario']}: {first['runs']} runs over {drawn}, {ess}; commit {first['commit']}"
    ]
    if isinstance(first["fixed"], str) and first["fixed"]:
        lines.append(f"set by the scenario, not drawn: {first['fixed']}")
    lines.append(f"probability [90% interval: Monte Carlo, bootstrap over {over}]")
    for _, row in table.iterrows():
        lines.append(
            f"  {100 * row['probability']:5.1f}% [{100 * row['low']:.1f}, {100 * row['high']:.1f}]"
            f"  {row['id']}: {row['question']}"
        )
    return "\n".join(lines)


def too_few(table) -> str:
    """A warning when too few histories hold the record to forecast from; else ""."""
    ess = table.iloc[0]["ess"]
    if pd.isna(ess) or ess >= MIN_ESS:
        return ""
    return (
        f"too few histories hold the record (effective sample size {ess:g} < {MIN_ESS}): "
        "these probabilities rest on a handful of histories; do not read them as a forecast "
        "(more --runs)"
    )
