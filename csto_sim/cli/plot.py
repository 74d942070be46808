"""``csto-sim plot``: redraw the figures of a results folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from csto_sim.cli.common import EXIT_OK, plot_format_option


def add_parser(sub) -> None:
    p = sub.add_parser(
        "plot",
        help="redraw the figures of a results folder",
        description="Draw the outcome figures from the saved results in DIR into DIR/figures.",
    )
    p.add_argument("results", type=Path, metavar="DIR", help="results folder")
    plot_format_option(p)


def draw(root: Path, fmt: str, quiet: bool = False) -> int:
    """Draw every figure of a results folder; print their paths unless ``quiet``. A folder
    without ``summary.csv`` (made by ``run``) gets one first: some figures draw its numbers."""
    from csto_sim.analysis.report import write_summary
    from csto_sim.viz.figures import plot_all

    if not (root / "summary.csv").exists():
        write_summary(root)
    paths = plot_all(root, fmt=fmt)
    if not quiet:
        for p in paths:
            print(p)
    return EXIT_OK


def run(args: argparse.Namespace, argv: list[str]) -> int:
    return draw(args.results, args.plot_format)
