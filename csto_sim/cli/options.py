"""Every option value checked when the command line is read, before any work starts: the
bounds of each numeric option in one table (:data:`BOUNDS`) and the types argparse calls.

A value out of its bound is one line naming the option and the bound, exit 2 (the parser's
error). The bounds keep a command from running forever or allocating what no machine holds.
"""

from __future__ import annotations

import argparse
import math
import re
from pathlib import Path

from csto_sim.core.files import SEED_MAX, short
from csto_sim.experiments.ensemble import MAX_RUNS
from csto_sim.experiments.executors import MAX_WORKERS

BOUNDS: dict[str, tuple[int, int]] = {
    "runs": (1, MAX_RUNS),
    "seed": (0, SEED_MAX),
    "workers": (1, MAX_WORKERS),
    "runs_per_draw": (1, MAX_RUNS),
    "replicas": (1, MAX_RUNS),
    "samples": (1, 2**20),
    "trials": (1, 100_000),
    "simulations": (1, 1_000_000),
    "recovery": (0, 10_000),
    "port": (1, 65535),
}
"""The smallest and the largest value of each whole-number option: runs per scenario (and
per draw, per sample point), an ensemble seed (a table's 64-bit integer), local worker
processes, sample points of sensitivity and discover, calibration trials, reference-table
simulations and recovery tests of posterior, the dashboard's port."""


def whole(text: str) -> int:
    """A whole number (no bound)."""
    try:
        return int(text)
    except ValueError:  # also the digits past Python's limit of int()
        raise argparse.ArgumentTypeError(
            f"expected a whole number, got {short(repr(text), 40)}"
        ) from None


def bounded(kind: str):
    """The argparse type of a whole number within ``BOUNDS[kind]``."""
    low, high = BOUNDS[kind]

    def check(text: str) -> int:
        value = whole(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"expected a whole number from {low:,} to {high:,}, got {short(f'{value:,}', 40)}"
            )
        return value

    check.__name__ = kind  # argparse names the type in some messages
    return check


runs = bounded("runs")
seed = bounded("seed")
workers = bounded("workers")
runs_per_draw = bounded("runs_per_draw")
replicas = bounded("replicas")
samples = bounded("samples")
trials = bounded("trials")
simulations = bounded("simulations")
recovery = bounded("recovery")
port = bounded("port")


def fraction(text: str, open_ends: bool = False) -> float:
    """A finite number in [0, 1] (in (0, 1) with ``open_ends``)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    inside = 0.0 < value < 1.0 if open_ends else 0.0 <= value <= 1.0
    if not inside:
        ends = "strictly between 0 and 1" if open_ends else "from 0 to 1"
        raise argparse.ArgumentTypeError(f"expected a share {ends}, got {short(repr(text), 40)}")
    return value


def share(text: str) -> float:
    """A share strictly between 0 and 1 (posterior's ``--accept``)."""
    return fraction(text, open_ends=True)


def folder(text: str) -> Path:
    """A results folder: not empty, and not an existing file (refused before any work)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a folder, got an empty path")
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{short(text, 200)} is a file, not a folder")
    if path.is_symlink() and not path.exists():
        raise argparse.ArgumentTypeError(f"{short(text, 200)} is a link to a missing folder")
    return path


def dask_address(text: str) -> str:
    """``local``, or a scheduler's address with its port (``tcp://host:8786``, ``host:8786``):
    its form is checked as the command line is read, whether it answers when connecting."""
    if text == "local" or re.fullmatch(r"([a-z]+://)?[^\s:/]+:\d{1,5}", text):
        return text
    raise argparse.ArgumentTypeError(
        f"expected 'local' or a scheduler's address with its port such as tcp://host:8786, "
        f"got {short(repr(text), 60)}"
    )


def out_file(text: str) -> Path:
    """A file to write (a CSV): not empty, not a folder, in a folder that exists, and one
    this process can write (tried by opening it to append, which changes nothing; a file
    that was not there is removed again), so a long command does not fail at its end."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a file, got an empty path")
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{short(text, 200)} is a folder, not a file")
    if not path.parent.is_dir():
        raise argparse.ArgumentTypeError(
            f"{short(text, 200)}: no folder {short(str(path.parent), 200)} to write it in"
        )
    existed = path.exists()
    if existed and not path.is_file():  # a FIFO would block the opening below
        raise argparse.ArgumentTypeError(f"{short(text, 200)} is not a regular file")
    try:
        with path.open("a"):
            pass
    except OSError as exc:
        raise argparse.ArgumentTypeError(
            f"{short(text, 200)}: cannot write it ({exc.strerror or exc})"
        ) from None
    if not existed:
        path.unlink(missing_ok=True)
    return path


__all__ = [
    "BOUNDS",
    "bounded",
    "dask_address",
    "folder",
    "fraction",
    "out_file",
    "port",
    "recovery",
    "replicas",
    "runs",
    "runs_per_draw",
    "samples",
    "seed",
    "share",
    "simulations",
    "trials",
    "whole",
    "workers",
]
