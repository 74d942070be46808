"""``csto-sim validate``: the 2002-2024 hindcast scored against history, period by period."""

from __future__ import annotations

import argparse
import copy
from pathlib import Path

import pandas as pd

from csto_sim.analysis.statistics import blocks_of
from csto_sim.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    ensemble_options,
    failed,
    posterior_from_args,
    run_from_args,
    say,
)
from csto_sim.core.scenario import load_scenario, scenario_from_data
from csto_sim.experiments.results import read_table
from csto_sim.hindcast import outcomes
from csto_sim.hindcast.build import hindcast_scenario
from csto_sim.hindcast.nulls import NULL_MODELS, NullModel
from csto_sim.hindcast.patterns import NEEDED, format_table, load_tables, score
from csto_sim.inference.posterior import NAMED, Posterior, load_posterior, name_of

MODEL = "model"
"""The full model's name in the score tables."""


def add_parser(sub) -> None:
    p = sub.add_parser(
        "validate",
        help="score the 2002-2024 hindcast against the CSTO's history",
        description="Run the hindcast (built from the data shipped with the package, or "
        "--scenario) --runs times, and the same runs of each null model; score the "
        "historical patterns and every recorded request, response and exit, for the fitted "
        "period (2002-2014) and the held-out period (2015-2024), against base-rate and "
        "persistence forecasters. Runs draw from the validation posterior (fitted on "
        "2002-2014 only, so 2015-2024 is out of sample) unless --posterior says otherwise, "
        "whatever the scenario names. Exit 0 when every gating pattern passes, 1 otherwise.",
    )
    p.add_argument(
        "--scenario",
        type=Path,
        default=None,
        help="a hindcast scenario file (default: the built-in one)",
    )
    p.add_argument("--no-nulls", action="store_true", help="do not run and score the null models")
    ensemble_options(p, 200)


def run(args: argparse.Namespace, argv: list[str]) -> int:
    lacking = [t for t in NEEDED if t not in args.tables]
    if lacking:
        say(f"--tables: validate scores {','.join(NEEDED)}; add {','.join(lacking)}")
        return EXIT_USAGE
    if args.scenario is not None:
        scenario = load_scenario(args.scenario)
        if scenario.history is not None or not hindcast_span(scenario):
            say(
                f"--scenario: {args.scenario} is not a hindcast of the record (validate "
                f"scores runs over {RECORD[0]}-{RECORD[1] - 1}, such as "
                "scenarios/hindcast_2002_2024.toml; compare or run take projections)"
            )
            return EXIT_USAGE
    else:
        scenario = scenario_from_data(hindcast_scenario(), "csto_sim/hindcast/build.py")
    posterior = posterior_from_args(args, [scenario], default="validation")
    result = run_from_args(args, argv, "validate", [scenario], posterior=posterior)
    if result.failed:
        return failed(result)
    out = result.out
    tables = {MODEL: load_tables(out)}
    if not args.no_nulls:
        quiet = copy.copy(args)
        quiet.quiet = True
        for null in NULL_MODELS:
            where = out / "nulls" / null.name
            own = null_posterior(null, posterior, args.runs_per_draw)
            done = run_from_args(
                quiet, argv, "validate", [null.scenario(scenario)], posterior=own, out=where
            )
            if done.failed:
                return failed(done)
            tables[null.name] = load_tables(where)
    runs = None if posterior is None else read_table(out, "runs", ["run", "draw", "sample"])
    text = report(tables, out, posterior, refitted(posterior), runs)
    print(text)
    print(f"Results and validation tables in {out}/")
    patterns = pd.read_csv(out / "validation.csv")
    return EXIT_OK if patterns.loc[patterns["gating"], "passed"].all() else EXIT_FAILED


RECORD = (2002, 2025)
"""The years a hindcast must cover: the record from its start to the end of 2024."""


def hindcast_span(scenario) -> bool:
    """Whether ``scenario`` runs over the whole record (:data:`RECORD`)."""
    return scenario.time.start <= RECORD[0] and scenario.time.end >= RECORD[1]


def refitted(posterior: Posterior | None) -> bool:
    """Whether the null models draw from their own refitted posteriors: when the full
    model's runs draw from the shipped validation posterior."""
    return posterior is not None and name_of(posterior.source) == "validation"


def null_posterior(null: NullModel, posterior: Posterior | None, runs_per_draw: int):
    """What a null model's runs draw from: its refitted posterior (with the shipped
    validation posterior), else the full model's samples with its mechanism held off (an
    ablation), else nothing."""
    if refitted(posterior):
        return load_posterior(null.posterior, runs_per_draw).fixing(null.parameters)
    return None if posterior is None else posterior.fixing(null.parameters)


def report(
    tables: dict[str, dict[str, pd.DataFrame]],
    out: Path,
    posterior: Posterior | None = None,
    refit: bool = False,
    runs: pd.DataFrame | None = None,
) -> str:
    """Score every model, write ``validation.csv`` (patterns), ``outcomes.csv`` (each case's
    forecasts), ``brier.csv`` and ``validation.txt`` into ``out``; returns the text, which
    opens with the parameters the runs used. With the model's ``runs`` (their ``draw`` and
    ``sample``), the margins' intervals over runs resample together the runs of one
    posterior sample."""
    table = score(tables[MODEL])
    table.to_csv(out / "validation.csv", index=False)
    cases = outcomes.recorded_cases()
    scored = {name: outcomes.forecasts(t, cases) for name, t in tables.items()}
    wide = scored[MODEL].rename(columns={"forecast": MODEL})
    for name, f in scored.items():
        wide[name] = f["forecast"]
    wide.to_csv(out / "outcomes.csv", index=False)
    brier = outcomes.brier_table(scored)
    brier.to_csv(out / "brier.csv")
    if posterior is None:
        used = "Runs at the scenario's own parameters (--posterior none): the dice only"
    else:
        name = name_of(posterior.source)
        which = f"the {name} posterior" if name in NAMED else f"the posterior {name}"
        used = f"Runs over {which} (sha256 {posterior.digest()[:12]}): its parameters and the dice"
    parts = [
        used,
        format_table(table),
        outcomes.format_cases(scored),
        outcomes.format_brier(brier),
    ]
    hits = {name: outcomes.case_hits(t, cases) for name, t in tables.items()}
    lines = [
        "Held-out period, all cases: how much lower the model's Brier score is",
        f"  {'':<31} {'margin':>7}  {'95% over runs':<17} {'95% over cases':<17}",
    ]
    blocks = None if runs is None else blocks_of(runs.set_index("run").loc[hits[MODEL].index])
    for name in [*hits][1:]:
        d, lo, hi, clo, chi = outcomes.brier_margin(
            hits[MODEL], hits[name], cases, "held_out", blocks=blocks
        )
        clear = "  clear of zero" if clo > 0 or chi < 0 else ""
        lines.append(
            f"  than {name:<26} {d:+.3f}  [{lo:+.3f}, {hi:+.3f}]  [{clo:+.3f}, {chi:+.3f}]{clear}"
        )
    for name in outcomes.FORECASTERS:
        lines.append(
            f"  than {name:<26} {brier.loc[name, ('held_out', 'all')] - brier.loc[MODEL, ('held_out', 'all')]:+.3f}"
        )
    lines.append(
        "  (over runs: dice and the posterior's parameter draws, the runs of one posterior"
        " sample resampled together"
        if posterior is not None
        else "  (over runs: the dice only, at the scenario's parameters"
    )
    lines.append(
        "   over cases: the record's cases resampled; a margin is clear of zero when that"
        " interval excludes it; exit cases count only runs where the member is at risk;"
    )
    lines.append(
        "   null models refitted like the model, each drawing from its own posterior)"
        if refit
        else "   null models: the model's own draws with one mechanism off, not refitted)"
    )
    parts.append("\n".join(lines))
    text = "\n\n".join(parts)
    (out / "validation.txt").write_text(text + "\n")
    return text
