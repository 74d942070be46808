"""Alignment over time, one panel per member: fan charts and stacked composition."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.legend_handler import HandlerTuple
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import PercentFormatter

from csto_sim.experiments.results import Results, weight_columns
from csto_sim.viz.canvas import (
    grid_shape,
    no_data,
    pole_patches,
    results_of,
    spread_covers,
    suptitle,
    year_axis,
)
from csto_sim.viz.style import (
    STATUS_COLOURS,
    STATUS_LABELS,
    pole_colours,
    styled,
)

_FAN_BANDS: tuple[tuple[float, float, float], ...] = ((0.05, 0.95, 0.15), (0.25, 0.75, 0.35))
"""(lower quantile, upper quantile, opacity) of the shaded bands of a fan chart."""


_CONSTANT = 0.03
"""A member whose every plotted weight stays within this range over years and runs carries no
information in an alignment figure and gets no panel."""


_OUT_STATUSES: tuple[str, ...] = ("frozen", "withdrawn", "non_member")
"""Statuses drawn in the strip under a member's panel, stacked in this order."""


def _uninformative(table: pd.DataFrame, poles: Sequence[str]) -> dict[str, str]:
    """Members (first index level of ``table``) without an alignment panel, with the reason:
    a member that is itself a pole (its weight toward itself says nothing), or one whose every
    column stays within :data:`_CONSTANT`."""
    if table.empty:
        return {}
    grouped = table.groupby(level="member", sort=False)
    spread = (grouped.max() - grouped.min()).max(axis=1)
    mean = grouped.mean()
    reasons = {}
    for member in mean.index:
        top = int(np.argmax(mean.loc[member].to_numpy()))
        level = f"mean weight {mean.loc[member].iloc[top]:.2f} toward {poles[top]}"
        if member in poles:
            reasons[member] = f"{member} (a pole itself; {level})"
        elif spread[member] < _CONSTANT:
            reasons[member] = f"{member} (constant: {level})"
    return reasons


def _status_shares(res: Results, scenario: str) -> pd.DataFrame:
    """Share of runs in each status other than active, by (member, year); columns in
    :data:`_OUT_STATUSES` order, only those that occur."""
    frame = res.read("timeseries", ["member", "year", "status"], scenario=scenario)
    if frame.empty:
        return pd.DataFrame()
    shares = pd.crosstab([frame["member"], frame["year"]], frame["status"], normalize="index")
    return shares.reindex(columns=[s for s in _OUT_STATUSES if s in shares.columns])


def _member_grid(n: int, strips: bool) -> tuple[Figure, list[Axes], list[Axes]]:
    """Small multiples of ``n`` members sharing both axes, each with a thin status strip below
    when ``strips``; spare cells are hidden. Returns the figure, the panels and the strips."""
    rows, cols = grid_shape(n)
    ratios = [4.0, 1.0] if strips else [1.0]
    fig = Figure(
        figsize=(3.6 * cols + 0.8, (3.2 if strips else 2.6) * rows + 1.4), layout="constrained"
    )
    fig.get_layout_engine().set(wspace=0.07, hspace=0.04)
    grid = fig.add_gridspec(rows * len(ratios), cols, height_ratios=ratios * rows)
    panels: list[Axes] = []
    below: list[Axes] = []
    for i in range(rows * cols):
        r, c = divmod(i, cols)
        ax = fig.add_subplot(
            grid[r * len(ratios), c],
            sharex=panels[0] if panels else None,
            sharey=panels[0] if panels else None,
        )
        panels.append(ax)
        if strips:
            below.append(
                fig.add_subplot(grid[r * 2 + 1, c], sharex=ax, sharey=below[0] if below else None)
            )
    for ax in [*panels[n:], *below[n:]]:
        ax.set_visible(False)
    for i in range(n):
        last = below[i] if strips else panels[i]
        if strips:
            panels[i].xaxis.set_tick_params(labelbottom=False)
        if i + cols >= n:
            last.set_xlabel("year")
        else:
            last.xaxis.set_tick_params(labelbottom=False)
        if i % cols:
            for ax in (panels[i], *(below[i : i + 1] if strips else [])):
                ax.yaxis.set_tick_params(labelleft=False)
    return fig, panels[:n], below[:n]


def _status_strip(ax: Axes, shares: pd.DataFrame | None) -> None:
    """Stacked shares of runs frozen, withdrawn (and not a member) over time, in greys."""
    ax.set_ylim(0, 1)
    ax.set_yticks([0, 1])
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.grid(axis="y", visible=False)
    if shares is None or shares.empty or not shares.to_numpy().any():
        ax.text(
            0.5,
            0.5,
            "active in every run",
            transform=ax.transAxes,
            ha="center",
            va="center",
            fontsize=7,
            color="0.4",
        )
        return
    ax.stackplot(
        shares.index.to_numpy(),
        shares.to_numpy().T,
        colors=[STATUS_COLOURS[s] for s in shares.columns],
        lw=0,
    )


def _status_handles(shares: pd.DataFrame) -> list[Patch]:
    """Legend entries of the status strips."""
    return [
        Patch(facecolor=STATUS_COLOURS[s], label=f"{STATUS_LABELS[s]} (share of runs)")
        for s in shares.columns
    ]


def _alignment_panels(
    res: Results, scenario: str, table: pd.DataFrame
) -> tuple[Figure, list[tuple[Axes, str, pd.DataFrame]], pd.DataFrame, str]:
    """The member grid of an alignment figure: members whose ``table`` rows (indexed by member
    first) carry no information (:func:`_uninformative`) are left out and named in the returned
    note; under each panel a strip of the share of runs frozen or withdrawn when any member
    ever is."""
    dropped = _uninformative(table, res.poles(scenario))
    members = [m for m in res.members(scenario) if m not in dropped]
    shares = _status_shares(res, scenario)
    if not shares.empty:  # only the members drawn, only the statuses they take
        shares = shares[shares.index.get_level_values("member").isin(members)]
        shares = shares.loc[:, shares.gt(0).any()]
    strips = not shares.empty and bool(shares.to_numpy().any())
    fig, axes, below = _member_grid(max(len(members), 1), strips)
    panels = []
    for i, (ax, member) in enumerate(zip(axes, members, strict=False)):
        ax.set_title(member)
        if strips:
            rows = shares.xs(member, level="member") if member in shares.index else None
            _status_strip(below[i], rows)
            if i % grid_shape(len(members))[1] == 0:
                below[i].set_ylabel("not\nactive", rotation=0, ha="right", va="center", fontsize=7)
        if table.empty or member not in table.index.get_level_values(0):
            no_data(ax)
            continue
        panels.append((ax, member, table.xs(member, level="member")))
    for ax in [*axes, *below]:
        year_axis(ax, *res.span(scenario))
    axes[0].set_ylim(0, 1)
    if not members:
        no_data(axes[0], "no member's alignment changes")
    note = f"; no panel for {', '.join(dropped.values())}" if dropped else ""
    return fig, panels, shares if strips else pd.DataFrame(), note


def _alignment_quantiles(results: Results, scenario: str, qs: Sequence[float]) -> pd.DataFrame:
    """Quantiles over runs of each member's weights, indexed by (member, year, quantile)."""
    cols = weight_columns(results.poles(scenario))
    frame = results.read("timeseries", ["member", "year", *cols], scenario=scenario)
    if frame.empty:
        return frame
    return frame.groupby(["member", "year"])[cols].quantile(list(qs)).sort_index()


@styled
def fan_chart_figure(results: str | Path | Results, scenario: str) -> Figure:
    """Each member's alignment weights over time: median and 50%/90% bands, one colour per pole;
    under each panel the share of runs in which the member is frozen or withdrawn."""
    res = results_of(results)
    colours = pole_colours(res.all_poles)
    poles = res.poles(scenario)
    lows_highs = sorted({q for lo, hi, _ in _FAN_BANDS for q in (lo, hi)} | {0.5})
    quant = _alignment_quantiles(res, scenario, lows_highs)
    fig, panels, shares, note = _alignment_panels(res, scenario, quant)
    for ax, _, q in panels:
        years = q.xs(0.5, level=-1).index.to_numpy()
        for pole, col in zip(poles, weight_columns(poles), strict=True):
            colour = colours[pole]
            for lo, hi, alpha in _FAN_BANDS:
                ax.fill_between(
                    years,
                    q.xs(lo, level=-1)[col],
                    q.xs(hi, level=-1)[col],
                    color=colour,
                    alpha=alpha,
                    lw=0,
                )
            ax.plot(years, q.xs(0.5, level=-1)[col], color=colour, lw=1.6, label=pole)
    fig.supylabel("alignment weight (share)")
    handles = [
        (
            *(Patch(facecolor=colours[p], alpha=a) for _, _, a in _FAN_BANDS),
            Line2D([], [], color=colours[p], lw=2),
        )
        for p in poles
    ]
    labels = list(poles)
    handles += _status_handles(shares)
    labels += [h.get_label() for h in _status_handles(shares)]
    fig.legend(
        handles,
        labels,
        handler_map={tuple: HandlerTuple(ndivide=1)},
        loc="outside lower center",
        ncols=len(handles),
        frameon=False,
        handlelength=3,
    )
    suptitle(
        fig,
        f"Security alignment toward each pole over time: {scenario}",
        f"{res.runs_label(scenario)}; {spread_covers(res)}; line: median across runs, "
        "shading: middle 50% and 90%"
        f"{'; strip: share of runs frozen or withdrawn' if not shares.empty else ''}{note}",
    )
    return fig


@styled
def composition_figure(results: str | Path | Results, scenario: str) -> Figure:
    """Mean alignment composition over time as stacked areas, one panel per member; under each
    panel the share of runs in which the member is frozen or withdrawn."""
    res = results_of(results)
    colours = pole_colours(res.all_poles)
    poles = res.poles(scenario)
    cols = weight_columns(poles)
    frame = res.read("timeseries", ["member", "year", *cols], scenario=scenario)
    mean = frame.groupby(["member", "year"], sort=False)[cols].mean().sort_index()
    fig, panels, shares, note = _alignment_panels(res, scenario, mean)
    for ax, _, m in panels:
        ax.stackplot(
            m.index.to_numpy(),
            m.to_numpy().T,
            colors=[colours[p] for p in poles],
            labels=poles,
            lw=0,
        )
        ax.grid(False)
    fig.supylabel("mean alignment weight (share)")
    handles = [*pole_patches({p: colours[p] for p in poles}), *_status_handles(shares)]
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), frameon=False)
    suptitle(
        fig,
        f"Mean security alignment composition over time: {scenario}",
        f"{res.runs_label(scenario)}; stacked mean weight on each pole across runs"
        f"{'; strip: share of runs frozen or withdrawn' if not shares.empty else ''}{note}",
    )
    return fig
