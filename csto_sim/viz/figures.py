"""Publication-quality figures of a results folder, drawn from saved results only.

Nothing here runs the model. Figures of a comparison's numbers (membership paths, targets,
paired differences, answers, outcome distributions) render one
:class:`~csto_sim.analysis.comparison.Comparison`; figures of trajectories (cohesion and
alignment over time, the relations network) read the results dataset. Figures are built as
:class:`matplotlib.figure.Figure` objects without pyplot, so plotting leaves no global state
and works the same in scripts, on a cluster and in notebooks.

Each ``*_figure`` function builds one figure and returns it; :func:`plot_figure` saves one,
:func:`plot_all` every figure into ``DIR/figures/``. Poles keep one colour in every figure
(:data:`POLE_COLOURS`, the colour-blind safe Okabe-Ito palette), and so do scenarios
(:func:`scenario_colours`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from matplotlib.figure import Figure

from csto_sim.analysis.comparison import Comparison
from csto_sim.experiments.results import Results
from csto_sim.viz.alignment import composition_figure, fan_chart_figure
from csto_sim.viz.canvas import EmptyFigureError, has_data, save_figure, slug
from csto_sim.viz.differences import (
    differences_figure,
    exit_heatmap_figure,
    levers_figure,
)
from csto_sim.viz.fits import plot_identifiability, plot_posterior, plot_sensitivity
from csto_sim.viz.outcomes import cohesion_figure, outcomes_figure, responses_figure
from csto_sim.viz.relations import network_figure
from csto_sim.viz.style import FORMATS, POLE_COLOURS, check_format, pole_colours, scenario_colours

__all__ = [
    "FIGURES",
    "FORMATS",
    "POLE_COLOURS",
    "SCENARIO_FIGURES",
    "cohesion_figure",
    "composition_figure",
    "differences_figure",
    "exit_heatmap_figure",
    "fan_chart_figure",
    "levers_figure",
    "network_figure",
    "outcomes_figure",
    "plot_all",
    "plot_figure",
    "plot_identifiability",
    "plot_posterior",
    "plot_sensitivity",
    "pole_colours",
    "responses_figure",
    "scenario_colours",
]

FIGURES: dict[str, Callable[[Comparison], Figure]] = {
    "cohesion": cohesion_figure,
    "outcomes": outcomes_figure,
    "exit_heatmap": exit_heatmap_figure,
    "responses": responses_figure,
    "network": network_figure,
}
"""Figures of all scenarios together, by file stem."""

COMPARED: dict[str, Callable[[Comparison], Figure]] = {
    "levers": levers_figure,
    "differences": differences_figure,
}
"""Figures of the differences to the reference: drawn when there is another scenario (and,
for ``levers``, when a scenario names targets)."""

SCENARIO_FIGURES: dict[str, Callable[[Comparison, str], Figure]] = {
    "alignment_fan": fan_chart_figure,
    "alignment_stack": composition_figure,
}
"""Figures drawn once per scenario (``<stem>_<scenario>``), by file stem."""


def _stems(c: Comparison) -> list[str]:
    """The figures a comparison has something to draw in."""
    compared = [s for s in COMPARED if c.others and (s != "levers" or any(c.targets.values()))]
    return [*FIGURES, *compared, *SCENARIO_FIGURES]


def plot_figure(
    results: str | Path | Results | Comparison,
    stem: str,
    out_dir: str | Path | None = None,
    fmt: str = "png",
) -> list[Path]:
    """Save one figure (one file, or one per scenario for :data:`SCENARIO_FIGURES`) into
    ``out_dir`` (default ``DIR/figures``); returns the paths written."""
    c, fmt = _comparison(results), check_format(fmt)
    return _save(_draw(c, stem), _folder(c, out_dir), fmt)


def _draw(c: Comparison, stem: str) -> list[tuple[Figure, str]]:
    """A figure's drawings in memory, with their file stems (one per scenario for
    :data:`SCENARIO_FIGURES`)."""
    if stem in FIGURES or stem in COMPARED:
        return [((FIGURES.get(stem) or COMPARED[stem])(c), stem)]
    if stem not in SCENARIO_FIGURES:
        known = ", ".join([*FIGURES, *COMPARED, *SCENARIO_FIGURES])
        raise ValueError(f"unknown figure {stem!r}; choose one of {known}")
    return [(SCENARIO_FIGURES[stem](c, n), f"{stem}_{slug(n)}") for n in c.names]


def _folder(c: Comparison, out_dir: str | Path | None) -> Path:
    return Path(out_dir) if out_dir is not None else c.results.root / "figures"


def _save(drawn: list[tuple[Figure, str]], out: Path, fmt: str) -> list[Path]:
    """Save drawings only when all have something drawn: a failure writes nothing."""
    empty = next((name for fig, name in drawn if not has_data(fig)), None)
    if empty is not None:
        for fig, _ in drawn:
            fig.clear()
        raise EmptyFigureError(out, empty, "the figure has nothing drawn (no finished runs?)")
    out.mkdir(parents=True, exist_ok=True)
    return [save_figure(fig, out, name, fmt) for fig, name in drawn]


def plot_all(
    results: str | Path | Results | Comparison,
    out_dir: str | Path | None = None,
    fmt: str = "png",
) -> list[Path]:
    """Draw every figure that has something to show into ``out_dir`` (default
    ``DIR/figures``) and return the paths: cohesion, outcomes, exit heat map, answers and
    the relations network for all scenarios together; with other scenarios than the
    reference, their paired differences (and the targets they name); then per scenario
    the alignment fan chart and stacked composition."""
    c, fmt = _comparison(results), check_format(fmt)
    drawn = [item for stem in _stems(c) for item in _draw(c, stem)]  # before any file
    out = _folder(c, out_dir)
    paths = _save(drawn, out, fmt)
    if out_dir is None:  # the folder's own figures: none left from an earlier plot
        for old in out.iterdir():
            if old.suffix[1:] in FORMATS and old not in paths:
                old.unlink()
    return paths


def _comparison(results: str | Path | Results | Comparison) -> Comparison:
    return results if isinstance(results, Comparison) else Comparison.of(results)
