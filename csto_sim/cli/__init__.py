"""The ``csto-sim`` command line: one module per command, each with its parser and its action.

User errors (a bad scenario file, a bad option, a results folder in the way) print one line
naming the file and key or option and exit with code 2, never a traceback; an ensemble
interrupted by Ctrl-C exits 130, one stopped by SIGTERM 143, each with the command that
resumes it.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys

from csto_sim import __version__
from csto_sim.cli import (
    calibrate,
    check,
    compare,
    dashboard,
    discover,
    forecast,
    params,
    plot,
    posterior,
    run,
    score,
    sensitivity,
    show,
    swing,
    validate,
)
from csto_sim.cli.common import (
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    EXIT_USAGE,
    Parser,
    say,
    usage_message,
)
from csto_sim.experiments.ensemble import Interrupted
from csto_sim.experiments.executors import Terminated, end_workers, stop_on_sigterm

COMMANDS = {
    "run": run,
    "compare": compare,
    "validate": validate,
    "forecast": forecast,
    "score": score,
    "plot": plot,
    "sensitivity": sensitivity,
    "calibrate": calibrate,
    "posterior": posterior,
    "swing": swing,
    "discover": discover,
    "dashboard": dashboard,
    "check": check,
    "show": show,
    "params": params,
}
"""Every command and its module (``add_parser(sub)`` and ``run(args, argv)``), in help order."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command (what ``--help`` shows)."""
    parser = Parser(
        prog="csto-sim",
        description="Agent-based model of alliance cohesion in the CSTO: run scenario files many "
        "times and compare their fragmentation outcomes.",
    )
    parser.add_argument("--version", action="version", version=f"csto-sim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    for module in COMMANDS.values():
        module.add_parser(sub)
    return parser


EXIT_BROKEN_PIPE = 141
"""The exit code when the reader of standard output stopped early (128 + SIGPIPE, as a shell
gives a command a closed pipe ends)."""


def console() -> None:
    """The ``csto-sim`` console script: :func:`main`, then exit with its code. A command
    that was interrupted or terminated exits at once once it has said so (its workers
    ended, its finished chunks on disk): the interpreter's own shutdown could wait for the
    worker pool's management thread, which a killed worker can leave waiting forever."""
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:  # a reader that stopped early (| head): not an error of ours
        os._exit(EXIT_BROKEN_PIPE)  # at once: the interpreter's exit would flush again
    if code in (EXIT_INTERRUPTED, EXIT_TERMINATED):
        sys.stderr.flush()
        _release_semaphores()
        os._exit(code)
    sys.exit(code)


def _release_semaphores() -> None:
    """Give back the worker pool's semaphores before the quick exit, which skips the
    interpreter's finalizers: else multiprocessing's resource tracker prints a warning of
    leaked semaphores after the command's one line."""
    from multiprocessing import util

    run = getattr(util, "_run_finalizers", None)  # private: absent, the warning is all we lose
    if run is not None:
        run(0)  # the finalizers the exit would run (the semaphores' among them)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``csto-sim`` console script; returns the exit code."""
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    try:
        with stop_on_sigterm():
            return COMMANDS[args.command].run(args, argv)
    except Interrupted as exc:
        end_workers()
        if exc.out is None:  # in memory (swing, evaluate): nothing to continue from
            say(f"{exc.reason} after {exc.done} of {exc.total} runs; nothing is saved")
        else:
            again = [a for a in argv if a != "--overwrite"]  # it would start over
            resume = "" if "--resume" in again else " --resume"
            say(
                f"{exc.reason}; {exc.done} of {exc.total} runs are saved in {exc.out}. "
                f"Continue with: csto-sim {shlex.join(again)}{resume}"
            )
        return EXIT_TERMINATED if exc.reason == "terminated" else EXIT_INTERRUPTED
    except Terminated:
        end_workers()
        say("terminated")
        return EXIT_TERMINATED
    except KeyboardInterrupt:
        end_workers()
        say("interrupted")
        return EXIT_INTERRUPTED
    except Exception as exc:
        message = usage_message(exc)
        if message is None:
            raise
        say(message)
        return EXIT_USAGE


__all__ = ["COMMANDS", "build_parser", "console", "main"]
