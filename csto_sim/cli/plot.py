"""``csto-sim plot``: redraw the figures of a results folder."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from csto_sim.cli.common import EXIT_OK, EXIT_USAGE, plot_format_option, say

if TYPE_CHECKING:
    from csto_sim.analysis.comparison import Comparison


def add_parser(sub) -> None:
    p = sub.add_parser(
        "plot",
        help="redraw the figures of a results folder",
        description="Draw the outcome figures from the saved results in DIR into DIR/figures.",
    )
    p.add_argument("results", type=Path, metavar="DIR", help="results folder")
    plot_format_option(p)


def draw(results: Path | Comparison, fmt: str, quiet: bool = False) -> int:
    """Draw every figure of a results folder (or of its comparison, computed once); print
    their paths unless ``quiet``."""
    from csto_sim.viz.figures import plot_all

    try:
        paths = plot_all(results, fmt=fmt)
    except OSError as exc:  # a folder it may not write in, a full disk
        where = getattr(results, "results", None)
        folder = where.root if where is not None else results
        say(f"cannot write the figures in {Path(folder) / 'figures'}: {exc.strerror or exc}")
        return EXIT_USAGE
    if not quiet:
        for p in paths:
            print(p)
    return EXIT_OK


def run(args: argparse.Namespace, argv: list[str]) -> int:
    return draw(args.results, args.plot_format)
