"""The relations network of each scenario, with final alignment and status."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from csto_sim.experiments.results import Results
from csto_sim.viz.canvas import grid_shape, results_of, suptitle
from csto_sim.viz.network import draw_network, network_legends
from csto_sim.viz.style import (
    STATUS_MARKERS,
    pole_colours,
    styled,
)


def modal_status(results: Results, scenario: str) -> pd.DataFrame:
    """Each member's most common final status over runs (ties broken by the order of statuses)
    and the share of runs that end in it: columns ``status`` and ``share``, indexed by member."""
    frame = results.read("members", ["member", "status_final"], scenario=scenario)
    if frame.empty:
        return pd.DataFrame(columns=["status", "share"])
    counts = frame.groupby("member")["status_final"].value_counts().unstack(fill_value=0)
    counts = counts.reindex(columns=[s for s in STATUS_MARKERS if s in counts.columns])
    top = counts.idxmax(axis=1)
    return pd.DataFrame({"status": top, "share": counts.max(axis=1) / counts.sum(axis=1)})


def _dominant_pole(align: pd.DataFrame, node: str) -> str | None:
    """The pole with the largest mean final weight of a member (None without data)."""
    if node not in align.index or not align.loc[node].notna().any():
        return None
    return str(align.loc[node].idxmax())


def _structure(res: Results, scenario: str) -> str:
    """What the input graph of a scenario is made of (its members, leader and relations), as a
    comparable string."""
    spec = res.contents(scenario)
    parts = (res.members(scenario), spec.get("alliance", {}).get("leader"), spec.get("relations"))
    return repr(parts)


def _network_panel(res: Results, scenario: str, ax: Axes, faint: bool, scale: float) -> set[str]:
    """One scenario's network on ``ax``; returns the statuses it shows."""
    spec = res.contents(scenario)
    align = res.final_alignment(scenario)
    dominant = {}
    for node in res.members(scenario):
        pole = _dominant_pole(align, node)
        dominant[node] = (pole, float(align.loc[node, pole]) if pole else 0.0)
    modal = modal_status(res, scenario)
    draw_network(
        ax,
        None,
        spec.get("relations", {}),
        res.members(scenario),
        spec.get("alliance", {}).get("leader"),
        dominant,
        modal["status"].to_dict(),
        pole_colours(res.poles(scenario)),
        "",
        status_share=modal["share"].to_dict(),
        faint_ties=faint,
        scale=scale,
    )
    return set(modal["status"])


@styled
def network_figure(
    results: str | Path | Results, scenarios: str | Sequence[str] | None = None
) -> Figure:
    """The relations network once per scenario (all, or those named), in one figure: node
    colour is the dominant pole of the mean final alignment, node shape the most common final
    status (its share of runs in the caption). Ties are drawn in full the first time a graph
    appears and faintly where a later scenario has the same one."""
    res = results_of(results)
    names = (
        res.scenarios
        if scenarios is None
        else [scenarios]
        if isinstance(scenarios, str)
        else list(scenarios)
    )
    rows, cols = grid_shape(len(names))
    scale = 1.0 if len(names) == 1 else 0.75
    size = 6.5 if len(names) == 1 else 4.6
    fig = Figure(figsize=(size * cols, size * rows + 1.8), layout="constrained")
    grid = fig.add_gridspec(rows + 1, cols, height_ratios=[size] * rows + [1.3])
    first: dict[str, str] = {}
    statuses: set[str] = set()
    for i, name in enumerate(names):
        ax = fig.add_subplot(grid[divmod(i, cols)])
        structure = _structure(res, name)
        seen = structure in first
        statuses |= _network_panel(res, name, ax, seen, scale)
        note = f"relations as in {first[structure]}" if seen else "relations (weights on ties)"
        ax.set_title(f"{name}\n{note}", fontsize=10)
        first.setdefault(structure, name)
    key = fig.add_subplot(grid[rows, :])
    colours = {p: c for p, c in pole_colours(res.all_poles).items()}
    network_legends(key, list(colours), colours, statuses, "most common final status")
    suptitle(
        fig,
        "Relations network and final alignment" + (" by scenario" if len(names) > 1 else ""),
        f"{res.runs_label()}; caption: dominant pole (mean final weight), most common final "
        "status (share of runs)",
    )
    return fig
