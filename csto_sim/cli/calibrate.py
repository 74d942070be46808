"""``csto-sim calibrate``: search the behavioural parameters against the hindcast (optuna)."""

from __future__ import annotations

import argparse
import os
import shlex
from pathlib import Path

import pandas as pd
import tomli_w

import csto_sim
from csto_sim.cli.common import EXIT_OK, hindcast_folder, hindcast_options, say
from csto_sim.cli.options import runs, seed, trials
from csto_sim.core.finite import check_finite
from csto_sim.core.scenario import MAX_NAME, Scenario, load_scenario
from csto_sim.experiments.executors import dask_executor

HINDCAST_FILE = "hindcast_2002_2024.toml"
"""The bundled scenario file of the hindcast the calibration fits (``python -m
csto_sim.hindcast.build`` writes it; a test keeps it equal to what is calibrated)."""


MIN_TOP = 5
"""Fewer trials than this in the top 5% and the widths are not read (said so)."""


def add_parser(sub) -> None:
    p = sub.add_parser(
        "calibrate",
        help="search the behavioural parameters to fit the hindcast's historical patterns (optuna)",
        description="Search the behavioural parameters that best reproduce the validation "
        "patterns (scored as distances from history) with optuna; trials are stored in "
        "DIR/study.db so an interrupted search resumes. Writes best.toml, a scenario that "
        "extends the hindcast (or --extends) with the best trial's parameters, so it runs as it "
        "is and other scenarios can extend it; trials.csv, identifiability.csv and a plot. "
        "Needs the analysis extra.",
    )
    p.add_argument("--trials", type=trials, default=200, help="trials in all (default 200)")
    p.add_argument("--runs", type=runs, default=200, help="hindcast runs per trial (default 200)")
    p.add_argument(
        "--sampler", choices=["tpe", "cmaes"], default="tpe", help="optuna sampler (default tpe)"
    )
    p.add_argument(
        "--seed", type=seed, default=2002, help="ensemble seed of every trial (default 2002)"
    )
    p.add_argument(
        "--extends",
        type=Path,
        default=None,
        metavar="SCENARIO",
        help="the scenario best.toml extends with the best parameters, for example a projection "
        "(default: the hindcast fitted, scenarios/hindcast_2002_2024.toml); the same command "
        "with another --extends rewrites best.toml without new trials",
    )
    hindcast_options(p, "calibrate")


def run(args: argparse.Namespace, argv: list[str]) -> int:
    from csto_sim.hindcast.calibration import best_fragment, calibrate, identifiability
    from csto_sim.viz.figures import plot_identifiability

    if args.extends is not None:
        load_scenario(args.extends)  # a bad --extends fails before anything, not after
    out = hindcast_folder(args, "calibrate", runs=args.runs, seed=args.seed, sampler=args.sampler)
    base = args.extends or bundled_hindcast(out)
    with dask_executor(args.dask, args.workers) as executor:
        table = calibrate(
            args.trials,
            out,
            runs=args.runs,
            seed=args.seed,
            workers=args.workers,
            sampler=args.sampler,
            executor=executor,
        )
    check_finite(table, out / "trials.csv").to_csv(out / "trials.csv", index=False)
    ident = identifiability(table)
    check_finite(ident, out / "identifiability.csv").to_csv(
        out / "identifiability.csv", index=False
    )
    best_toml = out / "best.toml"
    best_toml.write_text(best_scenario(table, base, out) + best_fragment(table), encoding="utf-8")
    load_scenario(best_toml)
    plot_identifiability(out, trials=table, ident=ident)
    best = table.iloc[0]
    print(
        f"{len(table)} trials; best pattern score {best['score']:.4f} (trial {int(best['trial'])})"
    )
    default = table[table["trial"] == 0]
    if len(default):
        print(f"the defaults (trial 0) score {float(default['score'].iloc[0]):.4f}")
    columns = ["parameter", "best", "top_min", "top_max", "width"]
    print(ident[columns].round(3).to_string(index=False))
    top = int(ident["trials_in_top"].iloc[0]) if len(ident) else 0
    print(
        f"width: the range of the best {top} trials (the top 5%) as a share of the searched range"
    )
    if top < MIN_TOP:
        say(
            f"only {top} trial(s) in the top 5%: a width of 0 here says nothing about what "
            f"history pins down; run {20 * MIN_TOP} or more --trials"
        )
    print(usage(best_toml, argv, args.extends is None))
    return EXIT_OK


def bundled_hindcast(out: Path) -> Path:
    """The hindcast scenario file the calibration fits: the bundled one, or (when the package
    runs without its repository) a copy written into ``out``."""
    bundled = Path(csto_sim.__file__).resolve().parents[1] / "scenarios" / HINDCAST_FILE
    if bundled.is_file():
        return bundled
    from csto_sim.hindcast.build import hindcast_toml

    out.mkdir(parents=True, exist_ok=True)
    (out / HINDCAST_FILE).write_text(hindcast_toml(), encoding="utf-8")
    return out / HINDCAST_FILE


def best_scenario(table: pd.DataFrame, base: Path, out: Path) -> str:
    """The head of best.toml: a scenario that extends ``base`` (by a path relative to ``out``,
    where best.toml lies) at point parameters (no posterior draws)."""
    scenario: Scenario = load_scenario(base)
    best = table.iloc[0]
    trial = (
        f"the best of {len(table)} trials: trial {int(best['trial'])}, "
        f"pattern score {best['score']:.4f}"
    )
    default = table.loc[table["trial"] == 0, "score"]
    defaults = f"; the defaults score {float(default.iloc[0]):.4f}" if len(default) else ""
    head = {
        "name": f"{scenario.name[: MAX_NAME - 11]}_calibrated",
        "description": f"{scenario.name} with the behavioural parameters of a calibration "
        f"({trial}{defaults}; 0 is a perfect fit)",
        "extends": relative(base, out),
        "posterior": "",
    }
    return (
        "# Written by csto-sim calibrate. Its parameters are one point (the best trial), so it\n"
        '# runs at them, not at draws from the posterior (posterior = "").\n'
        + tomli_w.dumps(head)
        + "\n"
    )


def relative(path: Path, folder: Path) -> str:
    """``path`` relative to ``folder`` when the two share a folder below the file system's
    root (a results folder in the repository: ../../scenarios/...), else absolute."""
    path, folder = path.resolve(), folder.resolve()
    try:
        common = Path(os.path.commonpath([path, folder]))
    except ValueError:  # another drive
        return path.as_posix()
    if common == Path(common.anchor):
        return path.as_posix()
    return Path(os.path.relpath(path, folder)).as_posix()


def usage(best_toml: Path, argv: list[str], hindcast: bool) -> str:
    """How to run best.toml, extend it from another file and, after a calibration of the
    hindcast, carry its parameters into a projection."""
    lines = [
        f"best parameters in {best_toml}, a scenario that runs as it is:",
        f"  csto-sim run {shlex.quote(str(best_toml))}",
        "a scenario of yours takes them with (a path relative to your file, or this absolute one):",
        f'  extends = "{best_toml.resolve().as_posix()}"',
    ]
    if hindcast:
        example = Path(csto_sim.__file__).resolve().parents[1] / "scenarios" / "baseline.toml"
        projection = os.path.relpath(example) if example.is_file() else "PROJECTION.toml"
        lines += [
            "a projection with them instead of the hindcast (reuses the finished trials):",
            f"  {shlex.join(['csto-sim', *argv, '--extends', projection])}",
        ]
    return "\n".join(lines)
