"""What every figure shares: saving, grids, year axes, titles and labels."""

from __future__ import annotations

import math
import re
import textwrap
from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FormatStrFormatter, MultipleLocator

from csto_sim.core.files import InputError
from csto_sim.experiments.results import Results
from csto_sim.viz.style import DPI, METADATA, house_style


class EmptyFigureError(InputError, ValueError):
    """A figure of tables that hold nothing to draw (one line naming it: exit 2 at the CLI)."""


def slug(name: str) -> str:
    """A file-name-safe version of a scenario name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "scenario"


def has_data(fig: Figure) -> bool:
    """Whether a figure has data drawn (not only titles and notes)."""
    return any(ax.get_visible() and ax.has_data() for ax in fig.axes)


def save_figure(fig: Figure, out: Path, stem: str, fmt: str) -> Path:
    """Save a figure as ``out/stem.fmt`` and release it; a figure without drawn data (only
    titles and notes) is refused, never saved as an empty picture."""
    if not has_data(fig):
        fig.clear()
        raise EmptyFigureError(
            out, stem, "the figure has nothing drawn (no finished runs?); not saved"
        )
    path = out / f"{stem}.{fmt}"
    with house_style():
        fig.savefig(path, dpi=DPI, metadata=METADATA[fmt])
    fig.clear()
    return path


def grid_shape(n: int, max_cols: int = 3) -> tuple[int, int]:
    """(rows, columns) of a grid of small multiples for ``n`` panels."""
    cols = min(n, max_cols) if n > 0 else 1
    return max(1, math.ceil(n / cols)), cols


def small_multiples(n: int, width: float = 3.6, height: float = 2.6) -> tuple[Figure, list[Axes]]:
    """A figure with ``n`` panels sharing both axes; spare grid cells are hidden."""
    rows, cols = grid_shape(n)
    fig = Figure(figsize=(width * cols + 0.8, height * rows + 1.3), layout="constrained")
    fig.get_layout_engine().set(wspace=0.07, hspace=0.06)  # keep end and start years apart
    grid = fig.subplots(rows, cols, sharex=True, sharey=True, squeeze=False)
    axes = list(grid.ravel())
    for ax in axes[n:]:
        ax.set_visible(False)
    for i, ax in enumerate(axes[:n]):
        # shared axes hide inner tick labels; keep x labels under panels with none below
        if i + cols >= n:
            ax.xaxis.set_tick_params(labelbottom=True)
            ax.set_xlabel("year")
    return fig, axes[:n]


def no_data(ax: Axes, text: str = "no successful runs") -> None:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color="0.4")


def year_axis(ax: Axes, start: float, end: float) -> None:
    """Years on x: the simulated span, ticks on round years (every 1, 2, 5, 10... years)."""
    span = max(end - start, 1.0)
    step = next((s for s in (1, 2, 5, 10, 20, 25, 50) if span / s <= 6), 100)
    ax.set_xlim(start, end)
    ax.xaxis.set_major_locator(MultipleLocator(step))
    ax.xaxis.set_major_formatter(FormatStrFormatter("%d"))


def pole_patches(colours: dict[str, str]) -> list[Patch]:
    """Legend entries for filled areas of each pole's colour."""
    return [Patch(facecolor=c, label=p) for p, c in colours.items()]


def suptitle(fig: Figure, title: str, subtitle: str) -> None:
    """A two-part figure title, each part wrapped to the figure's width."""
    width = max(30, int(fig.get_figwidth() * 10.5))  # characters of 12 pt text per line
    text = "\n".join(textwrap.fill(part, width) for part in (title, subtitle))
    fig.suptitle(text, fontsize=12)


def percent_label(share: float) -> str:
    """A share as a percentage: one decimal below 10% unless whole (2.5%, 45%, 100%)."""
    pct = round(100 * share, 1)  # 7.000000000000001 is 7%
    return f"{pct:.0f}%" if pct >= 10 or pct.is_integer() else f"{pct:.1f}%"


def comparison_of(results):
    """A :class:`~csto_sim.analysis.comparison.Comparison` of a results folder (passed through
    when it is one already)."""
    from csto_sim.analysis.comparison import Comparison

    return results if isinstance(results, Comparison) else Comparison.of(results)


def results_of(results) -> Results:
    """The results reader of a folder, a reader or a comparison."""
    return getattr(results, "results", None) or Results.open(results)


def spread_covers(results: Results) -> str:
    """What the spread across an ensemble's runs covers: parameters and dice when its runs
    draw from a posterior, else the dice only."""
    if results.manifest.get("posterior"):
        return "runs differ in parameters (posterior draws) and dice"
    return "runs differ in dice only (one parameter set)"
