"""What the commands share: exit codes, option types and groups, and turning library errors
into one line naming the option at fault."""

from __future__ import annotations

import argparse
import errno
import math
import os
import shlex
import sys
from pathlib import Path

from csto_sim.analysis.comparison import UnknownReference
from csto_sim.analysis.forecast import ForecastError
from csto_sim.analysis.sensitivity import AnalysisError, check_ends, check_factors, factor_ranges
from csto_sim.analysis.statistics import check_targets
from csto_sim.cli.options import (
    dask_address,
    folder,
    replicas,
    runs,
    runs_per_draw,
    seed,
    workers,
)
from csto_sim.core.files import InputError
from csto_sim.core.scenario import ScenarioError
from csto_sim.experiments.engines import ENGINES, EngineError
from csto_sim.experiments.ensemble import MAX_RUNS, Ensemble, EnsembleError, EnsembleResult, run
from csto_sim.experiments.executors import DaskUnavailable, dask_executor
from csto_sim.experiments.results import ResultsError
from csto_sim.experiments.store import (
    FewerRunsError,
    FolderError,
    ResultsExistError,
    ResumeMismatchError,
    Store,
    default_folder,
)
from csto_sim.experiments.tables import TABLES, check_tables
from csto_sim.inference.posterior import RUNS_PER_DRAW, PosteriorError, choose_posterior, renamed

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_TERMINATED = 0, 1, 2, 130, 143

FLAGS: dict[str, str] = {
    "factors": "--params",
    "outcomes": "--outcome",
    "outcome": "--outcome",
    "method": "--method",
}
"""The option behind each library argument an :class:`AnalysisError` can name."""


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def table_list(text: str) -> tuple[str, ...]:
    """Comma-separated table names (``runs`` is always written)."""
    names = [t.strip() for t in text.split(",") if t.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"expected table names separated by commas, got {text!r}")
    try:
        return check_tables(names)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def ensemble_options(
    p: argparse.ArgumentParser, default_runs: int, history: bool = False, label: str = ""
) -> None:
    """Options of every command that runs an ensemble: runs, seed, folder (named
    ``label`` instead of the scenarios), workers, tables, format and engine,
    ``--with-history`` if ``history``, and the posterior the runs draw from
    (:func:`posterior_option`)."""
    p.add_argument(
        "--runs",
        type=runs,
        default=default_runs,
        help=f"runs per scenario (default {default_runs}, at most {MAX_RUNS:,})",
    )
    p.add_argument(
        "--seed",
        type=seed,
        default=None,
        help="ensemble seed; run i of every scenario gets the same derived seed "
        "(default: the first scenario's seed)",
    )
    p.add_argument(
        "--out",
        type=folder,
        default=None,
        help=f"results folder (default: results/COMMAND/{label or 'SCENARIO[+N-more]'}-HASH, "
        "named from the scenarios and the settings but not --runs, so more runs extend the "
        "same folder)",
    )
    workers_option(p)
    keep = p.add_mutually_exclusive_group()  # one continues the folder, the other replaces it
    keep.add_argument(
        "--resume", action="store_true", help="continue an interrupted ensemble in --out"
    )
    keep.add_argument("--overwrite", action="store_true", help="replace results already in --out")
    p.add_argument(
        "--tables",
        type=table_list,
        default=TABLES,
        metavar="T1,T2",
        help=f"tables to write, of {','.join(TABLES)} (default all; runs is always written)",
    )
    p.add_argument(
        "--format",
        choices=["parquet", "csv"],
        default="parquet",
        help="table format (default parquet; csv writes a CSV copy of each table beside "
        "the Parquet chunks it is made from)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    p.add_argument(
        "--engine",
        choices=list(ENGINES),
        default="batch",
        help="batch: replicas advanced together as arrays (fast); agents: one Mesa model per run "
        "(the reference); both give the same results (default batch)",
    )
    if history:
        history_option(p)
    posterior_option(p)


def posterior_option(p: argparse.ArgumentParser) -> None:
    """``--posterior FILE`` and ``--runs-per-draw``: runs over posterior parameter samples."""
    p.add_argument(
        "--posterior",
        default=None,
        metavar="NAME|FILE|none",
        help="draw each block of runs' behavioural parameters (and uncertain judgements) from "
        "a posterior: production (fitted on 2002-2024), validation (fitted on 2002-2014), or "
        "a sample file (posterior.csv of csto-sim posterior), so intervals cover parameters "
        "and dice; none: the scenarios' own parameters, dice only (default: the posterior "
        "the scenarios name; the bundled projections name production)",
    )
    p.add_argument(
        "--runs-per-draw",
        type=runs_per_draw,
        default=RUNS_PER_DRAW,
        help=f"consecutive runs that share one posterior sample (default {RUNS_PER_DRAW}); in "
        "a projection conditioned on its record, consecutive histories of its filter, and each "
        "run takes the sample of the history it continues",
    )


def posterior_from_args(args: argparse.Namespace, scenarios: list, default: str | None = None):
    """The posterior the runs draw from (``--posterior``, else ``default``, else the
    scenarios'), or None; an old posterior name is noted in one line."""
    given = getattr(args, "posterior", None)
    notice = renamed([given, *(s.posterior for s in scenarios)])
    if notice and not getattr(args, "quiet", False) and not getattr(args, "renamed_said", False):
        say(notice)
        args.renamed_said = True
    return choose_posterior(scenarios, given or default, args.runs_per_draw)


def history_option(p: argparse.ArgumentParser) -> None:
    """``--with-history``: tables over the whole span of projections that continue a history."""
    p.add_argument(
        "--with-history",
        action="store_true",
        help="write each run over its whole span: the history a projection continues "
        "(2002-2024) before its own years, with a period column (default: the scenario's years)",
    )


def workers_option(p: argparse.ArgumentParser) -> None:
    """``--workers``."""
    p.add_argument(
        "--workers",
        type=workers,
        default=None,
        help="local worker processes (default: all cores; 1 runs in-process)",
    )


def dask_option(p: argparse.ArgumentParser) -> None:
    """``--dask``."""
    p.add_argument(
        "--dask",
        type=dask_address,
        metavar="ADDRESS",
        default=None,
        help="run on Dask: 'local' starts a LocalCluster, tcp://host:port uses an existing "
        "scheduler (needs the dask extra: pip install 'csto-sim[dask]'; default: local worker "
        "processes, see --workers)",
    )


def pool_options(p: argparse.ArgumentParser) -> None:
    """``--workers`` and ``--dask``: where the work runs."""
    workers_option(p)
    dask_option(p)


def hindcast_options(p: argparse.ArgumentParser, command: str) -> None:
    """Options of the commands that fit the built-in hindcast (calibrate, posterior): the
    results folder (see :func:`hindcast_folder`) and where the work runs."""
    p.add_argument(
        "--out", type=folder, default=None, help=f"results folder (default: results/{command}/...)"
    )
    pool_options(p)


def plot_format_option(p: argparse.ArgumentParser) -> None:
    """``--plot-format``."""
    p.add_argument(
        "--plot-format",
        choices=["png", "svg", "pdf"],
        default="png",
        help="figure format (default png)",
    )


def analysis_options(p: argparse.ArgumentParser) -> None:
    """Options of the commands that evaluate sampled points (sensitivity, discover)."""
    p.add_argument(
        "--params",
        nargs="+",
        metavar="NAME[=LOW:HIGH]",
        default=None,
        help="factors and ranges (default: leader_strength and nine behavioural parameters, "
        "each over its plausible range from parameters.py)",
    )
    p.add_argument(
        "--replicas", type=replicas, default=20, help="runs per sample point (default 20)"
    )
    p.add_argument("--seed", type=seed, default=None, help="seed (default: the scenario's)")
    p.add_argument(
        "--out",
        type=folder,
        default=None,
        help="results folder (default: results/COMMAND/SCENARIO-HASH, named from the settings)",
    )
    pool_options(p)
    p.add_argument(
        "--resume", action="store_true", help="continue an interrupted analysis in --out"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def parse_factors(specs: list[str] | None) -> dict[str, tuple[float, float]]:
    """Factors from ``NAME`` or ``NAME=LOW:HIGH`` strings (default ranges where none is given)."""
    if not specs:
        return factor_ranges()
    out: dict[str, tuple[float, float]] = {}
    for spec in specs:
        name, _, rng = spec.partition("=")
        if name in out:
            raise AnalysisError("factors", f"{name!r} is given twice; give each factor once")
        if not rng:
            out.update(factor_ranges([name]))
            continue
        try:
            low, high = (float(x) for x in rng.split(":"))
            if not (math.isfinite(low) and math.isfinite(high)):
                raise ValueError
        except ValueError:
            raise AnalysisError(
                "factors", f"{spec!r}: expected NAME=LOW:HIGH with finite numbers"
            ) from None
        out[name] = (low, high)
    return check_factors(out)


def ensemble_spec(args: argparse.Namespace, scenarios: list, posterior=None) -> Ensemble:
    """The ensemble the shared ensemble options describe (``posterior`` overrides
    ``--posterior``); scenarios whose targets the report cannot compare are refused."""
    spec = Ensemble.of(
        scenarios,
        args.runs,
        args.seed,
        engine=args.engine,
        tables=args.tables,
        with_history=getattr(args, "with_history", False),
        posterior=posterior if posterior is not None else getattr(args, "posterior", None),
        runs_per_draw=getattr(args, "runs_per_draw", RUNS_PER_DRAW),
    )
    for s in spec.scenarios:
        check_targets(s)
    return spec


def run_from_args(
    args: argparse.Namespace,
    argv: list[str],
    command: str,
    scenarios: list,
    executor=None,
    posterior=None,
    out: Path | None = None,
) -> EnsembleResult:
    """Run the ensemble of the shared ensemble options (``posterior`` overrides
    ``--posterior``) into ``out``, else ``--out``, else the command's default folder (see
    :func:`ensemble_folder`), said once the folder is accepted; ``result.out`` is the
    folder."""
    spec = ensemble_spec(args, scenarios, posterior)
    if out is None:
        out = args.out if args.out is not None else spec.folder(command)
    return run(
        spec,
        Store(out, spec.tables, args.format),
        workers=args.workers,
        executor=executor,
        resume=args.resume,
        overwrite=args.overwrite,
        progress=False if args.quiet else None,
        command=shlex.join(["csto-sim", *argv]),
        on_start=None if args.quiet else lambda root, held: starting(root, grows(held, args.runs)),
    )


def ensemble_folder(
    args: argparse.Namespace, command: str, scenarios: list, posterior=None
) -> Path:
    """``--out``, else the default folder of the ensemble these options run (see
    :meth:`~csto_sim.experiments.ensemble.Ensemble.folder`; ``posterior`` overrides
    ``--posterior``)."""
    if args.out is not None:
        return args.out
    return ensemble_spec(args, scenarios, posterior).folder(command)


def output_folder(args: argparse.Namespace, command: str, names: list[str], settings: dict) -> Path:
    """``--out``, else the default folder of a command named from ``names`` and the
    ``settings`` that make its results differ (see
    :func:`~csto_sim.experiments.store.default_folder`); said on standard error unless
    ``--quiet``."""
    out = args.out if args.out is not None else default_folder(command, names, settings)
    return starting(out, quiet=getattr(args, "quiet", False))


def analysis_folder(args: argparse.Namespace, command: str, scenario, **settings) -> Path:
    """``--out``, else the default folder of a sensitivity or discovery analysis of
    ``scenario``: named from it, its contents, the factors, ``--replicas``, the seed and
    ``settings`` (what the analysis' own manifest checks)."""
    return output_folder(
        args,
        command,
        [scenario.name],
        settings
        | {
            "scenario": scenario.digest(),
            "factors": check_ends(scenario, parse_factors(args.params)),
            "replicas": args.replicas,
            "seed": scenario.seed if args.seed is None else args.seed,
        },
    )


def hindcast_folder(args: argparse.Namespace, command: str, **settings) -> Path:
    """``--out``, else the default folder of a calibration on the built-in hindcast: named
    from the hindcast, its contents and ``settings`` (not the simulations or trials, which a
    rerun with more continues)."""
    from csto_sim.core.scenario import scenario_from_data
    from csto_sim.hindcast.build import hindcast_scenario

    if args.out is not None:
        return starting(args.out)
    hindcast = scenario_from_data(hindcast_scenario(), "csto_sim/hindcast/build.py")
    return output_folder(args, command, [hindcast.name], settings | {"hindcast": hindcast.digest()})


def starting(out: Path, note: str = "", quiet: bool = False) -> Path:
    """Say where the results go, with a ``note`` (unless ``quiet``); returns ``out``."""
    if not quiet:
        say(f"results folder: {out}/{note}")
    return out


def grows(held: int | None, runs: int) -> str:
    """The note of an ensemble that grows from ``held`` runs per scenario (if it does)."""
    return "" if held is None else f" (extending its {held:,} runs per scenario to {runs:,})"


def failed(result: EnsembleResult) -> int:
    """Exit code of an ensemble: 1 (with a message) if any run failed."""
    if result.failed:
        say(f"{result.failed} of {result.total} runs failed (see runs table, status = error)")
        return EXIT_FAILED
    return EXIT_OK


def run_analysis(args: argparse.Namespace, total: int, analysis, scenario, out: Path, **options):
    """Run ``analysis(scenario, out, **options)`` (sensitivity or discovery) with the shared
    analysis options, a progress bar over ``total`` points, and Dask if asked. Over a
    posterior, each point's runs draw the parameters it does not vary (said in one line)."""
    if scenario.posterior and not args.quiet:
        say(
            f"note: the parameters the points do not vary are drawn from the posterior "
            f"{Path(scenario.posterior).name!r} the scenario names, run by run as csto-sim run "
            'draws them (posterior = "" in the file: its own values)'
        )
    bar, update = progress_bar(total, args.quiet)
    with bar, dask_executor(args.dask, args.workers) as executor:
        return analysis(
            scenario,
            out,
            factors=parse_factors(args.params),
            replicas=args.replicas,
            seed=args.seed,
            workers=args.workers,
            executor=executor,
            resume=args.resume,
            progress=update,
            **options,
        )


def scenario_file(p: argparse.ArgumentParser) -> None:
    """The positional ``scenario`` argument: one scenario file."""
    p.add_argument("scenario", type=Path, help="scenario file (TOML)")


def scenario_files(p: argparse.ArgumentParser) -> None:
    """The positional ``SCENARIO...`` argument."""
    p.add_argument(
        "scenarios", type=Path, nargs="+", metavar="SCENARIO", help="scenario files (TOML)"
    )


def progress_bar(total: int, quiet: bool):
    """A progress bar and a ``progress(done, total)`` callback that moves it."""
    from tqdm.auto import tqdm

    bar = tqdm(total=total, disable=quiet or not sys.stderr.isatty(), unit="point", file=sys.stderr)

    def update(done: int, _total: int) -> None:
        bar.update(done - bar.n)

    return bar, update


def say(message: str) -> None:
    """One line on standard error, prefixed with the program's name."""
    print(f"csto-sim: {message}", file=sys.stderr)


def out_is_input(out: Path | None, *inputs: str | Path | None) -> bool:
    """Whether ``--out`` names one of the command's input files, by its path or as the
    same file under another name (a hard link); said in one line if so."""
    if out is None:
        return False
    same = out.resolve() in {Path(p).resolve() for p in inputs if p}
    if not same and out.is_file():
        same = any(p and Path(p).is_file() and os.path.samefile(out, p) for p in inputs)
    if same:
        say(f"--out: {out} is an input of this command; write the table elsewhere")
    return same


USAGE_ERRORS: tuple[tuple[type[Exception], str], ...] = (
    (FewerRunsError, "--runs: {exc} (or another --out, or --overwrite)"),
    (ResumeMismatchError, "--out: {exc}, or another --out"),
    (ResultsExistError, "--out: {exc} (--overwrite replaces them)"),
    (FolderError, "--out: {exc}"),
    (UnknownReference, "--reference: {exc}"),
    (DaskUnavailable, "--dask: {exc}"),
    (EngineError, "--engine: {exc}"),
    (ScenarioError, "{exc}"),
    (ForecastError, "{exc}"),
    (ResultsError, "{exc}"),
    (EnsembleError, "{exc}"),
    (PosteriorError, "--posterior: {exc}"),
    (InputError, "{exc}"),
)
"""Library errors that are the user's, and the line that names the option at fault."""


def usage_message(exc: BaseException) -> str | None:
    """The one-line message of a user error, naming the option at fault; None for other errors."""
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        where = f" {exc.filename}" if exc.filename else ""
        return f"cannot write{where}: the disk is full"
    if isinstance(exc, AnalysisError):
        return f"{FLAGS.get(exc.argument, exc.argument)}: {exc}"
    if isinstance(exc, ImportError):
        return f"{exc.name or exc}: not installed; pip install 'csto-sim[analysis]'"
    for kind, template in USAGE_ERRORS:
        if isinstance(exc, kind):
            return template.format(exc=exc)
    return None
