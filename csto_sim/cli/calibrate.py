"""``csto-sim calibrate``: search the behavioural parameters against the hindcast (optuna)."""

from __future__ import annotations

import argparse
from pathlib import Path

from csto_sim.cli.common import EXIT_OK, dask_option, positive, seed, workers_option
from csto_sim.experiments.executors import dask_executor


def add_parser(sub) -> None:
    p = sub.add_parser(
        "calibrate",
        help="search the behavioural parameters to fit the hindcast's historical patterns (optuna)",
        description="Search the behavioural parameters that best reproduce the validation "
        "patterns (scored as distances from history) with optuna; trials are stored in "
        "DIR/study.db so an interrupted search resumes. Writes best.toml (a [parameters] "
        "fragment other scenarios can extend), trials.csv, identifiability.csv and a plot. "
        "Needs the analysis extra.",
    )
    p.add_argument("--trials", type=positive, default=200, help="trials in all (default 200)")
    p.add_argument(
        "--runs", type=positive, default=200, help="hindcast runs per trial (default 200)"
    )
    p.add_argument(
        "--sampler", choices=["tpe", "cmaes"], default="tpe", help="optuna sampler (default tpe)"
    )
    p.add_argument(
        "--seed", type=seed, default=2002, help="ensemble seed of every trial (default 2002)"
    )
    p.add_argument(
        "--out", type=Path, default=None, help="results folder (default: results/calibrate/...)"
    )
    workers_option(p)
    dask_option(p)


def run(args: argparse.Namespace, argv: list[str]) -> int:
    from csto_sim.cli.common import hindcast_folder
    from csto_sim.hindcast.calibration import best_fragment, calibrate, identifiability
    from csto_sim.viz.figures import plot_identifiability

    out = hindcast_folder(args, "calibrate", runs=args.runs, seed=args.seed, sampler=args.sampler)
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
    table.to_csv(out / "trials.csv", index=False)
    ident = identifiability(table)
    ident.to_csv(out / "identifiability.csv", index=False)
    (out / "best.toml").write_text(best_fragment(table))
    plot_identifiability(out)
    best = table.iloc[0]
    print(
        f"{len(table)} trials; best pattern score {best['score']:.4f} (trial {int(best['trial'])})"
    )
    default = table[table["trial"] == 0]
    if len(default):
        print(f"the defaults (trial 0) score {float(default['score'].iloc[0]):.4f}")
    columns = ["parameter", "best", "top_min", "top_max", "width"]
    print(ident[columns].round(3).to_string(index=False))
    print(f'best parameters in {out / "best.toml"} (use: extends = "{out / "best.toml"}")')
    return EXIT_OK
