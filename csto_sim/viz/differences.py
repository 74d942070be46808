"""Figures of a comparison's numbers: membership paths, targets and paired differences.

Each renders one :class:`~csto_sim.analysis.comparison.Comparison`: the numbers and
intervals of the report, worded by the registry of measures.
"""

from __future__ import annotations

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from csto_sim.analysis.comparison import Comparison
from csto_sim.analysis.measures import fmt, measure
from csto_sim.analysis.prose import covers
from csto_sim.viz.canvas import comparison_of, grid_shape, no_data, suptitle
from csto_sim.viz.style import STATUS_LABELS, scenario_colours, styled, text_colour

HEATMAP_PATHS: dict[str, str] = {
    "frozen_at_start": f"{STATUS_LABELS['frozen']} at the start",
    "withdrawn_at_start": f"{STATUS_LABELS['withdrawn']} at the start",
    "froze": "froze during the run",
    "withdrew": "withdrew during the run",
}
"""The membership paths of the exit heat map's panels (the comparison's ``paths``)."""

DIFFERENCE_PANELS: tuple[str, ...] = (
    "collapsed",
    "n_withdrawn_final",
    "n_frozen_final",
    "cohesion_final",
    "response_rate",
    "unanswered_severity",
)
"""Outcomes of the differences figure, one panel each, titled by the registry."""


def _heat_panel(
    ax: Axes,
    cells: pd.DataFrame,
    members: list[str],
    scenarios: list[str],
    cmap: mpl.colors.Colormap,
) -> mpl.image.AxesImage:
    """One panel of the exit heat map: members x scenarios, cells "p [low-high]"."""
    grid = cells.pivot(index="member", columns="scenario", values="p")
    grid = grid.reindex(index=members, columns=scenarios)
    values = grid.to_numpy(dtype=float)
    image = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, vmin=0, vmax=1, aspect="auto")
    bounds = cells.set_index(["member", "scenario"])
    for (i, j), value in np.ndenumerate(values):
        if np.isnan(value):
            ax.text(j, i, "n/a", ha="center", va="center", color="0.4", fontsize="small")
            continue
        low, high = bounds.loc[(members[i], scenarios[j]), ["ci_low", "ci_high"]]
        text = f"{100 * value:.0f}%\n[{100 * low:.0f}-{100 * high:.0f}]"
        colour = text_colour(cmap(value))
        ax.text(j, i, text, ha="center", va="center", color=colour, fontsize="small")
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    return image


@styled
def exit_heatmap_figure(comparison) -> Figure:
    """Heat maps (member x scenario) of how often each member is frozen or withdrawn at the
    start of the projection and how often it freezes or withdraws during it, each cell the
    share of runs with its 95% interval: the comparison's membership paths."""
    c = comparison_of(comparison)
    members = list(dict.fromkeys(c.paths["member"]))
    scenarios = c.names
    n_rows, n_cols = len(members), len(scenarios)
    fig = Figure(
        figsize=(max(10.0, 2.0 * (1.05 * n_cols + 1.6)), max(6.0, 2 * (0.55 * n_rows + 0.8) + 1.6)),
        layout="constrained",
    )
    axes = fig.subplots(2, 2, sharex=True, sharey=True, squeeze=False).ravel()
    cmap = mpl.colormaps["YlOrBr"].with_extremes(bad="0.92")
    image = None
    rotate = {"rotation": 25, "ha": "right", "rotation_mode": "anchor"} if n_cols > 3 else {}
    for ax, (path, title) in zip(axes, HEATMAP_PATHS.items(), strict=True):
        ax.set_title(title)
        cells = c.paths[c.paths["path"] == path]
        if cells["p"].isna().all():
            no_data(ax, "no timeseries table: the start is unknown")
            ax.set_axis_off()
            continue
        image = _heat_panel(ax, cells, members, scenarios, cmap)
        ax.set_xticks(range(n_cols), scenarios, **rotate)
        ax.set_yticks(range(n_rows), members)
    if image is not None:
        bar = fig.colorbar(
            image, ax=list(axes), format=PercentFormatter(1.0, decimals=0), shrink=0.6
        )
        bar.set_label("share of runs")
    first, end = c.span
    suptitle(
        fig,
        f"Frozen or withdrawn at the start ({first:g}), and freezes and withdrawals during "
        f"the run (to {end:g})",
        f"{c.results.runs_label()}; cell: share of runs [95% interval; {covers(c, short=True)}]; "
        f"without {', '.join(sorted(set(c.leaders.values())))} (the leader)",
    )
    return fig


def targets(c: Comparison) -> pd.DataFrame:
    """The paired differences of the outcomes each scenario names as its targets, with a
    ``key`` column (``measure``, or ``"<member> <measure>"``) and the registry's ``words``."""
    both = pd.concat([c.paired.assign(member=""), c.paired_members], ignore_index=True)
    if both.empty:
        return both
    both["key"] = (both["member"] + " " + both["measure"]).str.strip()
    rows = [
        both[(both["scenario"] == name) & (both["key"] == key)]
        for name in c.others
        for key in c.targets.get(name, [])
    ]
    return pd.concat(rows, ignore_index=True) if rows else both.iloc[:0]


@styled
def levers_figure(comparison) -> Figure:
    """Each scenario's paired difference to the reference on the outcomes it names as its
    targets, with 95% intervals; in standard deviations of the outcome over runs, so that
    outcomes of different units share an axis (the labels give the differences in units)."""
    c = comparison_of(comparison)
    data = targets(c)
    fig = Figure(figsize=(9, 1.5 + 0.32 * max(len(data), 3)), layout="constrained")
    ax = fig.subplots()
    if data.empty:
        ax.set_axis_off()
        no_data(ax, "no scenario other than the reference names targets")
        suptitle(fig, "What each scenario did to the outcomes it targets", c.results.runs_label())
        return fig
    sd = data["sd_unpaired"].where(data["sd_unpaired"] > 0)
    mid = data["mean_difference"] / sd
    low, high = data["ci_low"] / sd, data["ci_high"] / sd
    y = np.arange(len(data))[::-1]
    styles = scenario_colours(c.names)
    for yi, row, m, lo, hi in zip(y, data.itertuples(), mid, low, high, strict=True):
        colour = styles[row.scenario][0]
        face = colour if row.ci_low > 0 or row.ci_high < 0 else "white"
        ax.errorbar(m, yi, xerr=[[m - lo], [hi - m]], fmt="o", color=colour, capsize=3, mfc=face)
    ax.set_yticks(y, [_target_label(r, c) for r in data.itertuples()])
    ax.axvline(0.0, color="black", lw=0.8)
    ax.set_xlabel(
        "paired difference to the reference, in standard deviations\n"
        "of the difference between two independent runs"
    )
    ax.grid(axis="y", visible=False)
    suptitle(
        fig,
        "What each scenario did to the outcomes it targets, against the reference",
        f"{c.results.runs_label()}; dots: mean paired difference (filled: its interval "
        f"excludes zero); bars: 95% bootstrap interval ({covers(c, short=True)})",
    )
    return fig


def _target_label(r, c: Comparison) -> str:
    """``scenario: member's outcome (+0.12 unit)``, worded by the registry of measures."""
    m = measure(r.measure, {p.lower(): p for p in c.results.all_poles}, member=bool(r.member))
    what = m.title if not r.member else f"{r.member}: {m.title}"
    return f"{r.scenario}: {what} ({fmt(r.mean_difference, m.digits, sign=True)} {m.unit})"


def _difference_panel(ax: Axes, rows: pd.DataFrame, c: Comparison, digits: int) -> None:
    """One outcome's paired differences, a row per scenario; filled: the interval excludes 0."""
    styles = scenario_colours(c.names)
    y = np.arange(len(c.others))[::-1]
    for yi, (name, r) in zip(y, rows.iterrows(), strict=True):
        m, lo, hi = r["mean_difference"], r["ci_low"], r["ci_high"]
        if not np.isfinite(m):
            continue
        colour = styles[name][0]
        face = colour if lo > 0 or hi < 0 else "white"
        ax.errorbar(m, yi, xerr=[[m - lo], [hi - m]], fmt="o", color=colour, capsize=3, mfc=face)
        ax.annotate(
            f"{fmt(m, digits, True)} [{fmt(lo, digits, True)}, {fmt(hi, digits, True)}]",
            (m, yi),
            xytext=(0, -11),
            textcoords="offset points",
            ha="center",
            va="top",
            fontsize="x-small",
            color="0.25",
            bbox={"fc": "white", "ec": "none", "pad": 0.4, "alpha": 0.8},
        )
    ax.axvline(0.0, color="black", lw=0.8)
    ax.set_yticks(y, c.others)
    ax.set_ylim(-0.8, len(c.others) - 0.4)
    ax.grid(axis="y", visible=False)
    ax.margins(x=0.15)


@styled
def differences_figure(comparison) -> Figure:
    """Each scenario's paired difference to the reference on the headline outcomes (collapse,
    withdrawn and frozen members, cohesion, response rate, unanswered severity), with the
    report's 95% intervals; one panel per outcome, in its own units."""
    c = comparison_of(comparison)
    data, ref = c.paired, c.reference
    panels = [m for m in DIFFERENCE_PANELS if not data.empty and m in set(data["measure"])]
    rows, cols = grid_shape(max(len(panels), 1), 3)
    fig = Figure(
        figsize=(4.2 * cols + 1.6, rows * (0.5 * max(len(c.others), 2) + 1.0) + 1.4),
        layout="constrained",
    )
    axes = fig.subplots(rows, cols, sharey=True, squeeze=False).ravel()
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    if not panels:
        axes[0].set_visible(True)
        no_data(axes[0], f"no other scenario than {ref}: nothing to compare")
        return fig
    for ax, name in zip(axes, panels, strict=False):
        m = measure(name)
        mine = data[data["measure"] == name].set_index("scenario").reindex(c.others)
        _difference_panel(ax, mine, c, m.digits)
        level = mine["reference_mean"].dropna()
        shown = f" ({ref}: {fmt(level.iloc[0], m.digits)})" if len(level) else ""
        ax.set_title(f"{m.title} ({m.unit}){shown}", fontsize="medium")
    fig.supxlabel(f"paired difference to {ref} (scenario minus {ref}, run by run)")
    suptitle(
        fig,
        f"How each scenario differs from {ref} (paired differences, 95% intervals)",
        f"{c.results.runs_label()}; intervals cover {covers(c, short=True)}; filled dot: the interval "
        "excludes zero",
    )
    return fig
