"""The ``csto-sim`` command line: run, compare and check scenarios.

User errors (a bad scenario file, a bad option, a results folder in the way) print one line
naming the file and key or option, and exit with code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from . import __version__
from .ensemble import (
    DaskUnavailable,
    Interrupted,
    ResultsExistError,
    ResumeMismatchError,
    dask_executor,
    default_workers,
    run_ensemble,
)
from .report import format_run_summary, write_report
from .results import ResultsError
from .scenario import ScenarioError, load_scenario
from .sensitivity import SensitivityError

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command (what ``--help`` shows)."""
    parser = _Parser(
        prog="csto-sim",
        description="Agent-based model of alliance cohesion in the CSTO: run scenario files many "
        "times and compare their fragmentation outcomes.",
    )
    parser.add_argument("--version", action="version", version=f"csto-sim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    def ensemble_options(p: argparse.ArgumentParser, default_runs: int) -> None:
        p.add_argument(
            "--runs",
            type=_positive,
            default=default_runs,
            help=f"runs per scenario (default {default_runs})",
        )
        p.add_argument(
            "--seed",
            type=_seed,
            default=None,
            help="ensemble seed; run i of every scenario gets the same derived seed (default: the first scenario's seed)",
        )
        p.add_argument(
            "--out", type=Path, default=None, help="results folder (default: results/NAME)"
        )
        p.add_argument(
            "--workers",
            type=_positive,
            default=None,
            help="local worker processes (default: all cores; 1 runs in-process)",
        )
        p.add_argument(
            "--resume", action="store_true", help="continue an interrupted ensemble in --out"
        )
        p.add_argument("--overwrite", action="store_true", help="replace results already in --out")
        p.add_argument(
            "--format",
            choices=["parquet", "csv"],
            default="parquet",
            help="table format (default parquet)",
        )
        p.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
        p.add_argument(
            "--engine",
            choices=["batch", "agents"],
            default="batch",
            help="batch: replicas advanced together as arrays (default, fast); agents: one Mesa model "
            "per run (the reference); both give the same results",
        )

    def analysis_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--seed", type=_seed, default=None, help="seed (default: the scenario's)")
        p.add_argument("--out", type=Path, default=None, help="results folder")
        p.add_argument(
            "--workers",
            type=_positive,
            default=None,
            help="local worker processes (default: all cores)",
        )
        p.add_argument(
            "--dask",
            metavar="ADDRESS",
            default=None,
            help="run on Dask: 'local' or tcp://host:port",
        )
        p.add_argument(
            "--resume", action="store_true", help="continue an interrupted analysis in --out"
        )
        p.add_argument("--quiet", action="store_true", help="no progress bar")
        p.add_argument(
            "--plot-format", choices=["png", "svg", "pdf"], default="png", help="figure format"
        )

    run = sub.add_parser(
        "run",
        help="run one scenario many times and summarise it",
        description="Run SCENARIO --runs times, print who ends active/frozen/withdrawn, cohesion, "
        "requests and responses, and write timeseries, events, runs and manifest to --out.",
    )
    run.add_argument("scenario", type=Path, help="scenario file (TOML)")
    ensemble_options(run, 100)

    compare = sub.add_parser(
        "compare",
        help="run several scenarios with common random numbers and compare them",
        description="Run every SCENARIO --runs times (run i of every scenario shares its seed), "
        "write the tables, report.md, summary.csv and figures to --out, and print the report.",
    )
    compare.add_argument(
        "scenarios", type=Path, nargs="+", metavar="SCENARIO", help="scenario files (TOML)"
    )
    ensemble_options(compare, 200)
    compare.add_argument(
        "--dask",
        metavar="ADDRESS",
        default=None,
        help="run on Dask: 'local' starts a LocalCluster, tcp://host:port uses an existing scheduler "
        "(needs the dask extra: pip install 'csto-sim[dask]')",
    )
    compare.add_argument(
        "--reference", default=None, help="scenario name to compare against (default: the first)"
    )
    compare.add_argument(
        "--plot-format",
        choices=["png", "svg", "pdf"],
        default="png",
        help="figure format (default png)",
    )
    compare.add_argument("--no-plots", action="store_true", help="skip the figures")

    validate = sub.add_parser(
        "validate",
        help="score the 2002-2024 hindcast against the CSTO's history",
        description="Run the hindcast (built from the data shipped with the package, or --scenario) "
        "--runs times and score the historical patterns: the share of runs that reproduce each. "
        "Exit 0 when every gating pattern passes, 1 otherwise.",
    )
    validate.add_argument(
        "--scenario",
        type=Path,
        default=None,
        help="a hindcast scenario file (default: the built-in one)",
    )
    ensemble_options(validate, 200)

    plot = sub.add_parser(
        "plot",
        help="redraw the figures of a results folder",
        description="Draw the outcome figures from the saved results in DIR into DIR/figures.",
    )
    plot.add_argument("results", type=Path, metavar="DIR", help="results folder")
    plot.add_argument(
        "--plot-format", choices=["png", "svg", "pdf"], default="png", help="figure format"
    )

    sens = sub.add_parser(
        "sensitivity",
        help="global sensitivity analysis of a scenario's outcomes (SALib)",
        description="Sample the factors (behavioural parameters and Russia's post-war strength, "
        "as multiplier leader_strength) with a Sobol' or Morris design, run each point for --replicas "
        "runs with common seeds, and write indices.csv and a bar chart to --out. "
        "Needs the analysis extra: pip install 'csto-sim[analysis]'.",
    )
    sens.add_argument("scenario", type=Path, help="scenario file (TOML)")
    sens.add_argument("--method", choices=["sobol", "morris"], default="sobol")
    sens.add_argument(
        "--samples", type=_positive, default=256, help="base sample size N (default 256)"
    )
    sens.add_argument(
        "--params",
        nargs="+",
        metavar="NAME[=LOW:HIGH]",
        default=None,
        help="factors and ranges (default: leader_strength and nine behavioural parameters, "
        "each over its plausible range from parameters.py)",
    )
    sens.add_argument(
        "--outcome",
        nargs="+",
        default=None,
        metavar="NAME",
        help="outcomes: p_collapse, cohesion_final, n_active_final, unanswered_severity (default: all)",
    )
    sens.add_argument(
        "--replicas", type=_positive, default=20, help="runs per sample point (default 20)"
    )
    analysis_options(sens)

    cal = sub.add_parser(
        "calibrate",
        help="search the behavioural parameters to fit the hindcast's historical patterns (optuna)",
        description="Search the behavioural parameters that best reproduce the validation patterns "
        "(scored as distances from history) with optuna; trials are stored in DIR/study.db so an "
        "interrupted search resumes. Writes best.toml (a [parameters] fragment other scenarios can "
        "extend), trials.csv, identifiability.csv and a plot. Needs the analysis extra.",
    )
    cal.add_argument("--trials", type=_positive, default=200, help="trials in all (default 200)")
    cal.add_argument(
        "--runs", type=_positive, default=200, help="hindcast runs per trial (default 200)"
    )
    cal.add_argument(
        "--sampler", choices=["tpe", "cmaes"], default="tpe", help="optuna sampler (default tpe)"
    )
    cal.add_argument(
        "--seed", type=_seed, default=2002, help="ensemble seed of every trial (default 2002)"
    )
    cal.add_argument(
        "--out", type=Path, default=None, help="results folder (default: results/calibrate)"
    )
    cal.add_argument(
        "--workers",
        type=_positive,
        default=None,
        help="parallel trial processes (default: all cores)",
    )

    disc = sub.add_parser(
        "discover",
        help="scenario discovery: where in parameter space an outcome becomes likely (PRIM)",
        description="Sample the factors with a Latin hypercube, run each point for --replicas runs, and "
        "find boxes of inputs where the outcome is likely with PRIM; prints each box's coverage and "
        "density and writes boxes.csv. Needs the analysis extra.",
    )
    disc.add_argument("scenario", type=Path, help="scenario file (TOML)")
    disc.add_argument(
        "--outcome", default="collapsed", help="collapsed, or exit:MEMBER (default collapsed)"
    )
    disc.add_argument("--samples", type=_positive, default=400, help="sample points (default 400)")
    disc.add_argument(
        "--params", nargs="+", metavar="NAME[=LOW:HIGH]", default=None, help="factors and ranges"
    )
    disc.add_argument(
        "--replicas", type=_positive, default=20, help="runs per sample point (default 20)"
    )
    disc.add_argument(
        "--interest",
        type=float,
        default=0.5,
        help="a point is a case when the outcome's probability is at least this",
    )
    analysis_options(disc)

    dashboard = sub.add_parser(
        "dashboard",
        help="open the interactive dashboard of one model run (needs the viz extra)",
        description="Start the Solara dashboard (csto_sim/app.py) in the browser: choose a scenario, "
        "move the parameter sliders, reset and step one run. Needs: pip install 'csto-sim[viz]'.",
    )
    dashboard.add_argument(
        "--host", default="localhost", help="host to listen on (default localhost)"
    )
    dashboard.add_argument("--port", type=_positive, default=8765, help="port (default 8765)")

    check = sub.add_parser(
        "check",
        help="validate scenario files without running them",
        description="Load and validate each SCENARIO (with its extends chain); exit 2 at the first problem.",
    )
    check.add_argument(
        "scenarios", type=Path, nargs="+", metavar="SCENARIO", help="scenario files (TOML)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``csto-sim`` console script; returns the exit code."""
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    try:
        if args.command == "check":
            return _check(args)
        if args.command == "run":
            return _run(args, argv)
        if args.command == "compare":
            return _compare(args, argv)
        if args.command == "validate":
            return _validate(args, argv)
        if args.command == "plot":
            return _plot(args.results, args.plot_format)
        if args.command == "dashboard":
            return _dashboard(args)
        if args.command == "sensitivity":
            return _sensitivity(args)
        if args.command == "calibrate":
            return _calibrate(args)
        if args.command == "discover":
            return _discover(args)
    except SensitivityError as exc:
        print(f"csto-sim: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ImportError as exc:
        print(
            f"csto-sim: {exc.name or exc}: not installed; pip install 'csto-sim[analysis]'",
            file=sys.stderr,
        )
        return EXIT_USAGE
    except ResultsError as exc:
        print(f"csto-sim: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except DaskUnavailable as exc:
        print(f"csto-sim: --dask: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ScenarioError as exc:
        print(f"csto-sim: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (ResultsExistError, ResumeMismatchError) as exc:
        print(f"csto-sim: --out: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Interrupted as exc:
        print(
            f"\ncsto-sim: {exc.reason}; {exc.done} of {exc.total} runs are saved in {exc.out}. "
            f"Continue with: csto-sim {shlex.join(argv)}{'' if '--resume' in argv else ' --resume'}",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    raise AssertionError(f"unhandled command {args.command}")


def _check(args: argparse.Namespace) -> int:
    for path in args.scenarios:
        s = load_scenario(path)
        print(
            f"{path}: ok ({s.name}: {len(s.members)} members, {s.time.start:g}-{s.time.end:g}, {len(s.events)} scripted events)"
        )
    return EXIT_OK


def _ensemble(args: argparse.Namespace, argv: list[str], scenarios: list, out: Path, executor=None):
    return run_ensemble(
        scenarios,
        runs=args.runs,
        out=out,
        seed=args.seed,
        workers=args.workers,
        executor=executor,
        resume=args.resume,
        overwrite=args.overwrite,
        fmt=args.format,
        progress=False if args.quiet else None,
        command=shlex.join(["csto-sim", *argv]),
        engine=args.engine,
    )


def _failed(result) -> int:
    if result.failed:
        print(
            f"csto-sim: {result.failed} of {result.total} runs failed (see runs table, status = error)",
            file=sys.stderr,
        )
        return EXIT_FAILED
    return EXIT_OK


def _run(args: argparse.Namespace, argv: list[str]) -> int:
    scenario = load_scenario(args.scenario)
    out = args.out or Path("results") / scenario.name
    result = _ensemble(args, argv, [scenario], out)
    if not args.quiet:
        print(format_run_summary(result.read("runs"), result.read("members")))
        print(f"Results in {out}/")
    return _failed(result)


def _compare(args: argparse.Namespace, argv: list[str]) -> int:
    scenarios = [load_scenario(p) for p in args.scenarios]
    names = [s.name for s in scenarios]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        print(
            f"csto-sim: scenarios: two files share the name {dupes[0]!r}; give each a distinct name",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if args.reference is not None and args.reference not in names:
        print(
            f"csto-sim: --reference: no scenario named {args.reference!r} (have: {', '.join(names)})",
            file=sys.stderr,
        )
        return EXIT_USAGE
    out = args.out or Path("results") / "compare"
    with dask_executor(args.dask, args.workers) as executor:
        result = _ensemble(args, argv, scenarios, out, executor)
    report = write_report(out, args.reference)
    if not args.no_plots:
        _plot(out, args.plot_format, quiet=True)
    if not args.quiet:
        print(report)
        print(f"Results, report.md, summary.csv and figures in {out}/")
    return _failed(result)


def _validate(args: argparse.Namespace, argv: list[str]) -> int:
    from .history import hindcast_scenario
    from .scenario import scenario_from_data
    from .validate import format_table, load_tables, score

    if args.scenario is not None:
        scenario = load_scenario(args.scenario)
    else:
        scenario = scenario_from_data(hindcast_scenario(), "csto_sim/history.py")
    out = args.out or Path("results") / "validate"
    result = _ensemble(args, argv, [scenario], out)
    table = score(load_tables(out))
    table.to_csv(out / "validation.csv", index=False)
    text = format_table(table)
    (out / "validation.txt").write_text(text + "\n")
    print(text)
    print(f"Results and validation table in {out}/")
    if result.failed:
        return _failed(result)
    return EXIT_OK if table.loc[table["gating"], "passed"].all() else EXIT_FAILED


def _bar(total: int, quiet: bool):
    from tqdm.auto import tqdm

    bar = tqdm(total=total, disable=quiet or not sys.stderr.isatty(), unit="point", file=sys.stderr)

    def update(done: int, _total: int) -> None:
        bar.update(done - bar.n)

    return bar, update


def _sensitivity(args: argparse.Namespace) -> int:
    from .plots import plot_sensitivity
    from .sensitivity import Design, parse_factors, sensitivity

    scenario = load_scenario(args.scenario)
    factors = parse_factors(args.params)
    out = args.out or Path("results") / f"sensitivity-{scenario.name}"
    points = len(Design.make(factors, args.method, args.samples, 0).X)
    bar, update = _bar(points, args.quiet)
    with bar, dask_executor(args.dask, args.workers) as executor:
        table = sensitivity(
            scenario,
            out,
            method=args.method,
            samples=args.samples,
            factors=factors,
            outcomes=args.outcome,
            replicas=args.replicas,
            seed=args.seed,
            workers=args.workers,
            executor=executor,
            resume=args.resume,
            progress=update,
        )
    plot_sensitivity(out, fmt=args.plot_format)
    wide = table.pivot_table(index=["outcome", "factor"], columns="index", values="value").round(3)
    print(wide.to_string())
    print(f"{points} sample points x {args.replicas} runs; indices.csv and figures in {out}/")
    return EXIT_OK


def _calibrate(args: argparse.Namespace) -> int:
    from .calibrate import best_fragment, calibrate, identifiability
    from .plots import plot_identifiability

    out = args.out or Path("results") / "calibrate"
    table = calibrate(
        args.trials,
        out,
        runs=args.runs,
        seed=args.seed,
        workers=args.workers or default_workers(),
        sampler=args.sampler,
    )
    table.to_csv(out / "trials.csv", index=False)
    ident = identifiability(table)
    ident.to_csv(out / "identifiability.csv", index=False)
    (out / "best.toml").write_text(best_fragment(table))
    plot_identifiability(out)
    default = table[table["trial"] == 0]
    print(
        f"{len(table)} trials; best pattern score {table['score'].iloc[0]:.4f} (trial {int(table['trial'].iloc[0])})"
    )
    if len(default):
        print(f"the defaults (trial 0) score {float(default['score'].iloc[0]):.4f}")
    print(
        ident[["parameter", "best", "top_min", "top_max", "width"]].round(3).to_string(index=False)
    )
    print(f'best parameters in {out / "best.toml"} (use: extends = "{out / "best.toml"}")')
    return EXIT_OK


def _discover(args: argparse.Namespace) -> int:
    from .discover import discover, format_boxes, outcome_column
    from .sensitivity import parse_factors

    scenario = load_scenario(args.scenario)
    factors = parse_factors(args.params)
    outcome_column(args.outcome, scenario.member_names)
    out = args.out or Path("results") / f"discover-{scenario.name}"
    bar, update = _bar(args.samples, args.quiet)
    with bar, dask_executor(args.dask, args.workers) as executor:
        boxes = discover(
            scenario,
            out,
            outcome=args.outcome,
            samples=args.samples,
            factors=factors,
            replicas=args.replicas,
            interest=args.interest,
            seed=args.seed,
            workers=args.workers,
            executor=executor,
            resume=args.resume,
            progress=update,
        )
    import pandas as pd

    points = pd.read_parquet(out / "points.parquet")
    column = outcome_column(args.outcome, scenario.member_names)
    cases = int((points[column] >= args.interest).sum())
    print(f"Outcome {args.outcome} (probability >= {args.interest:g} over {args.replicas} runs):")
    print(format_boxes(boxes, cases, len(points)))
    print(f"boxes.csv and points.parquet in {out}/")
    return EXIT_OK


def _dashboard(args: argparse.Namespace) -> int:
    import importlib.util
    import subprocess

    if importlib.util.find_spec("solara") is None:
        print(
            "csto-sim: dashboard: solara is not installed; pip install 'csto-sim[viz]'",
            file=sys.stderr,
        )
        return EXIT_USAGE
    app = Path(__file__).with_name("app.py")
    cmd = [
        sys.executable,
        "-m",
        "solara",
        "run",
        str(app),
        "--host",
        args.host,
        "--port",
        str(args.port),
    ]
    try:
        return subprocess.call(cmd)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


def _plot(root: Path, fmt: str, quiet: bool = False) -> int:
    from .plots import plot_all

    paths = plot_all(root, fmt=fmt)
    if not quiet:
        for p in paths:
            print(p)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
