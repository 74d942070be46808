"""Publication-quality figures of a results folder, read from the saved tables only.

Nothing here runs the model: every figure is drawn from the tables of a results folder
(``timeseries``, ``alliance``, ``runs``, ``members``, Parquet or CSV) and its
``manifest.json``. Figures are built as :class:`matplotlib.figure.Figure` objects, without
pyplot, so plotting leaves no global state behind and works the same in scripts, on a
cluster and in notebooks (where a returned figure displays itself).

Each ``*_figure`` function builds one figure and returns it; each ``plot_*`` function saves
its figures and returns the paths; :func:`plot_all` writes every figure into
``DIR/figures/``. Poles keep one colour in every figure (:data:`POLE_COLOURS`, the
colour-blind safe Okabe-Ito palette), and so do scenarios (:func:`scenario_colours`).
"""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.legend_handler import HandlerTuple
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FormatStrFormatter, MultipleLocator, PercentFormatter

from csto_sim.experiments.results import Results, ResultsError, read_manifest, weight_columns
from csto_sim.viz.network import draw_network, network_legends
from csto_sim.viz.style import (
    DPI,
    FORMATS,
    METADATA,
    POLE_COLOURS,
    STATUS_COLOURS,
    STATUS_LABELS,
    STATUS_MARKERS,
    check_format,
    house_style,
    pole_colours,
    scenario_colours,
    styled,
    text_colour,
)

__all__ = [
    "FIGURES",
    "SCENARIO_FIGURES",
    "FORMATS",
    "POLE_COLOURS",
    "STATUS_MARKERS",
    "Results",
    "cohesion_figure",
    "composition_figure",
    "differences_figure",
    "exit_heatmap_figure",
    "fan_chart_figure",
    "network_figure",
    "outcomes_figure",
    "plot_all",
    "plot_figure",
    "pole_colours",
    "scenario_colours",
]

_FAN_BANDS: tuple[tuple[float, float, float], ...] = ((0.05, 0.95, 0.15), (0.25, 0.75, 0.35))
"""(lower quantile, upper quantile, opacity) of the shaded bands of a fan chart."""

_MAX_STRIP_POINTS = 300
"""At most this many runs per scenario are drawn as dots over a box plot."""


# ---------------------------------------------------------------------------------------------
# Figure helpers


def _slug(name: str) -> str:
    """A file-name-safe version of a scenario name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "scenario"


def _out_dir(results: Results, out_dir: str | Path | None) -> Path:
    out = Path(out_dir) if out_dir is not None else results.root / "figures"
    out.mkdir(parents=True, exist_ok=True)
    return out


def _save(fig: Figure, out: Path, stem: str, fmt: str) -> Path:
    """Save a figure as ``out/stem.fmt`` and release it."""
    path = out / f"{stem}.{fmt}"
    with house_style():
        fig.savefig(path, dpi=DPI, metadata=METADATA[fmt])
    fig.clear()
    return path


def _grid(n: int, max_cols: int = 3) -> tuple[int, int]:
    """(rows, columns) of a grid of small multiples for ``n`` panels."""
    cols = min(n, max_cols) if n > 0 else 1
    return max(1, math.ceil(n / cols)), cols


def _small_multiples(n: int, width: float = 3.6, height: float = 2.6) -> tuple[Figure, list[Axes]]:
    """A figure with ``n`` panels sharing both axes; spare grid cells are hidden."""
    rows, cols = _grid(n)
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


def _no_data(ax: Axes, text: str = "no successful runs") -> None:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color="0.4")


def _year_axis(ax: Axes, start: float, end: float) -> None:
    """Years on x: the simulated span, ticks on round years (every 1, 2, 5, 10... years)."""
    span = max(end - start, 1.0)
    step = next((s for s in (1, 2, 5, 10, 20, 25, 50) if span / s <= 6), 100)
    ax.set_xlim(start, end)
    ax.xaxis.set_major_locator(MultipleLocator(step))
    ax.xaxis.set_major_formatter(FormatStrFormatter("%d"))


def _pole_patches(colours: dict[str, str]) -> list[Patch]:
    """Legend entries for filled areas of each pole's colour."""
    return [Patch(facecolor=c, label=p) for p, c in colours.items()]


def _title(fig: Figure, title: str, subtitle: str) -> None:
    """A two-part figure title, each part wrapped to the figure's width."""
    width = max(30, int(fig.get_figwidth() * 10.5))  # characters of 12 pt text per line
    text = "\n".join(textwrap.fill(part, width) for part in (title, subtitle))
    fig.suptitle(text, fontsize=12)


def _percent(share: float) -> str:
    """A share as a percentage: one decimal below 10% unless whole (2.5%, 45%, 100%)."""
    pct = 100 * share
    return f"{pct:.0f}%" if pct >= 10 or float(pct).is_integer() else f"{pct:.1f}%"


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
    rows, cols = _grid(n)
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
            if i % _grid(len(members))[1] == 0:
                below[i].set_ylabel("not\nactive", rotation=0, ha="right", va="center", fontsize=7)
        if table.empty or member not in table.index.get_level_values(0):
            _no_data(ax)
            continue
        panels.append((ax, member, table.xs(member, level="member")))
    for ax in [*axes, *below]:
        _year_axis(ax, *res.span(scenario))
    axes[0].set_ylim(0, 1)
    if not members:
        _no_data(axes[0], "no member's alignment changes")
    note = f"; no panel for {', '.join(dropped.values())}" if dropped else ""
    return fig, panels, shares if strips else pd.DataFrame(), note


# ---------------------------------------------------------------------------------------------
# 1. Fan charts of alignment


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
    res = Results.open(results)
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
    _title(
        fig,
        f"Alignment toward each pole over time: {scenario}",
        f"{res.runs_label(scenario)}; line: median across runs, shading: middle 50% and 90%"
        f"{'; strip: share of runs frozen or withdrawn' if not shares.empty else ''}{note}",
    )
    return fig


# ---------------------------------------------------------------------------------------------
# 2. Cohesion over time


def _cohesion_quantiles(res: Results, name: str) -> pd.DataFrame:
    """Cohesion quantiles (5%, 25%, 50%, 75%, 95%) over runs by year; empty without runs."""
    data = res.read("alliance", ["year", "cohesion"], scenario=name)
    if data.empty:
        return pd.DataFrame()
    return data.groupby("year")["cohesion"].quantile([0.05, 0.25, 0.5, 0.75, 0.95]).unstack()


def _cohesion_band(ax: Axes, q: pd.DataFrame, colour: str, dash: object, label: str) -> None:
    """A scenario's median line over its 50% and 90% bands."""
    ax.fill_between(q.index, q[0.05], q[0.95], color=colour, alpha=0.12, lw=0)
    ax.fill_between(q.index, q[0.25], q[0.75], color=colour, alpha=0.25, lw=0)
    ax.plot(q.index, q[0.5], color=colour, ls=dash, lw=1.8, label=label)


@styled
def cohesion_figure(results: str | Path | Results) -> Figure:
    """Alliance cohesion over time: one panel per scenario, each drawn over the reference (the
    first scenario) in grey, so that scenarios with the same path stay visible."""
    res = Results.open(results)
    names = res.scenarios
    styles = scenario_colours(names)
    quant = {name: _cohesion_quantiles(res, name) for name in names}
    single = len(names) == 1
    fig, axes = _small_multiples(
        len(names), width=7.0 if single else 3.8, height=4 if single else 2.5
    )
    reference = quant[names[0]]
    for ax, name in zip(axes, names, strict=True):
        colour, dash = styles[name]
        ax.set_title(
            name + (" (reference)" if name == names[0] and len(names) > 1 else ""), color=colour
        )
        if quant[name].empty:
            _no_data(ax)
            continue
        if name != names[0] and not reference.empty:
            ax.fill_between(
                reference.index, reference[0.05], reference[0.95], color="0.5", alpha=0.12, lw=0
            )
            ax.plot(reference.index, reference[0.5], color="0.45", lw=1.2, ls=(0, (1.5, 1.5)))
        _cohesion_band(ax, quant[name], colour, dash, name)
    for ax in axes:
        _year_axis(ax, *res.full_span)
    axes[0].set_ylim(0, 1)
    fig.supylabel("cohesion index (0-1)")
    handles = [
        (
            Patch(facecolor="0.3", alpha=0.12),
            Patch(facecolor="0.3", alpha=0.25),
            Line2D([], [], color="0.2", lw=1.8),
        ),
        (
            Patch(facecolor="0.5", alpha=0.12),
            Line2D([], [], color="0.45", lw=1.2, ls=(0, (1.5, 1.5))),
        ),
    ]
    labels = [
        "scenario: median, middle 50% and 90% of runs",
        f"reference ({names[0]}): median and 90% of runs",
    ]
    keep = 1 if single else 2  # one scenario: no reference to draw against
    fig.legend(
        handles[:keep],
        labels[:keep],
        handler_map={tuple: HandlerTuple(ndivide=1)},
        loc="outside lower center",
        ncols=keep,
        frameon=False,
        handlelength=3.5,
    )
    _title(
        fig,
        "Alliance cohesion over time" + ("" if single else ", each scenario against the reference"),
        f"{res.runs_label()}; line: median across runs, shading: middle 50% and 90% of runs",
    )
    return fig


# ---------------------------------------------------------------------------------------------
# 3. End-of-run outcomes


OUTCOME_PANELS: tuple[tuple[str, str, str], ...] = (
    ("cohesion_final", "Cohesion at the end", "cohesion index (0-1)"),
    ("response_rate", "Requests for help answered", "share of requests (0-1)"),
    ("unanswered_severity", "Threats left unanswered by anyone", "total severity (severity units)"),
    ("n_active_final", "Active members at the end", "members (count)"),
    ("n_frozen_final", "Frozen members at the end", "members (count)"),
    ("n_withdrawn_final", "Withdrawn members at the end", "members (count)"),
)
"""(runs column, panel title, y label) of the outcome figure's panels; a column of whole
numbers is drawn as the share of runs at each value, any other as a box plot."""


def _box_strip(
    ax: Axes, values: list[np.ndarray], styles: list[tuple[str, str]], rng: np.random.Generator
) -> None:
    """Box plots with the runs drawn as jittered dots (at most a few hundred per box)."""
    positions = np.arange(1, len(values) + 1)
    keep = [i for i, v in enumerate(values) if len(v)]
    if keep:
        ax.boxplot(
            [values[i] for i in keep],
            positions=positions[keep],
            widths=0.55,
            showfliers=False,
            medianprops={"color": "black", "lw": 1.6},
            boxprops={"color": "0.25"},
            whiskerprops={"color": "0.25"},
            capprops={"color": "0.25"},
        )
    for i, v in enumerate(values):
        if not len(v):
            continue
        shown = rng.choice(v, _MAX_STRIP_POINTS, replace=False) if len(v) > _MAX_STRIP_POINTS else v
        x = positions[i] + rng.uniform(-0.18, 0.18, len(shown))
        ax.scatter(x, shown, s=9, color=styles[i][0], alpha=0.55, lw=0, zorder=3)


def _pad_constant(ax: Axes, values: list[np.ndarray]) -> None:
    """Limits around a value that is the same in every run (else matplotlib zooms into noise)."""
    every = np.concatenate([np.zeros(0), *values])
    if len(every) and np.ptp(every) < 1e-9:
        pad = max(abs(float(every[0])) * 0.1, 0.05)
        ax.set_ylim(every[0] - pad, every[0] + pad)


def _is_count(values: list[np.ndarray]) -> bool:
    """True when every value is a whole number (a count, or a 0/1 flag)."""
    every = np.concatenate([np.zeros(0), *values])
    return bool(len(every)) and bool(np.all(np.mod(every, 1) == 0))


def _share_dots(ax: Axes, values: list[np.ndarray], styles: list[tuple[str, str]]) -> None:
    """Whole-number outcomes: at each scenario and value, a dot whose area is the share of runs
    with that value, labelled with the share; the axis has integer ticks only."""
    every = np.concatenate(values)
    lo, hi = int(every.min()), int(every.max())
    for i, v in enumerate(values, start=1):
        if not len(v):
            continue
        counts, shares = np.unique(v, return_counts=True)
        shares = shares / len(v)
        ax.scatter(
            np.full(len(counts), i),
            counts,
            s=420 * shares,
            color=styles[i - 1][0],
            alpha=0.8,
            lw=0,
            zorder=3,
        )
        for count, share in zip(counts, shares, strict=True):
            ax.annotate(
                _percent(share),
                (i, count),
                xytext=(9, 0),
                textcoords="offset points",
                va="center",
                fontsize=6.5,
                color="0.2",
            )
    ax.set_ylim(lo - 0.6, hi + 0.6)
    ax.yaxis.set_major_locator(MultipleLocator(1 if hi - lo <= 8 else math.ceil((hi - lo) / 8)))
    ax.yaxis.set_major_formatter(FormatStrFormatter("%d"))


@styled
def outcomes_figure(results: str | Path | Results) -> Figure:
    """Distributions of end-of-run outcomes per scenario: box plots with the runs as dots, and
    for whole-number outcomes the share of runs at each value."""
    res = Results.open(results)
    runs = res.read("runs", ["scenario", "status", *(c for c, _, _ in OUTCOME_PANELS)])
    runs = runs[runs["status"] == "ok"]
    names = res.scenarios
    styles = scenario_colours(names)
    cols = 3 if len(names) <= 7 else 2  # many scenarios: wider panels, room for the labels
    width = min(16.0, max(10.5, (0.55 * len(names) + 1.2) * cols))
    fig = Figure(figsize=(width, 3.75 * (6 // cols)), layout="constrained")
    axes = fig.subplots(6 // cols, cols, sharex=True, squeeze=False).ravel()
    rng = np.random.default_rng(0)
    long_names = max((len(n) for n in names), default=0) * len(names) > 45
    for ax, (col, title, ylabel) in zip(axes, OUTCOME_PANELS, strict=True):
        values = [
            runs.loc[runs["scenario"] == n, col].astype(float).dropna().to_numpy() for n in names
        ]
        dropped = int(runs[col].isna().sum())
        why = "without requests" if col == "response_rate" else "without a value"
        ax.set_title(title + (f"\n({dropped} runs {why} left out)" if dropped else ""))
        ax.set_ylabel(ylabel)
        ax.grid(axis="x", visible=False)
        if _is_count(values):
            _share_dots(ax, values, [styles[n] for n in names])
        else:
            _box_strip(ax, values, [styles[n] for n in names], rng)
            _pad_constant(ax, values)
        for i, v in enumerate(values, start=1):
            if not len(v):
                ax.text(i, 0.5, "no data", transform=ax.get_xaxis_transform(), ha="center")
        rotate = {"rotation": 25, "ha": "right", "rotation_mode": "anchor"} if long_names else {}
        ax.set_xticks(np.arange(1, len(names) + 1), names, **rotate)
        ax.set_xlim(0.4, len(names) + 0.75)
        ax.xaxis.set_tick_params(labelbottom=True)
    fig.supxlabel("scenario")
    _title(
        fig,
        "End-of-run outcomes by scenario",
        f"{res.runs_label()}; boxes: median, quartiles, whiskers 1.5 IQR, dots: runs; "
        "counts: dot area and label give the share of runs",
    )
    return fig


# ---------------------------------------------------------------------------------------------
# 4. Exit heat map


def exit_shares(results: str | Path | Results) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Share of runs in which each member ends frozen or withdrawn, and ends withdrawn.

    Both tables have members as rows and scenarios as columns (NaN where a scenario has no
    such member or no successful runs).
    """
    res = Results.open(results)
    members = res.read("members", ["scenario", "member", "status_final"])
    status = members["status_final"]
    members = members.assign(
        out=status.isin(["frozen", "withdrawn"]).astype(float),
        withdrawn=status.eq("withdrawn").astype(float),
    )
    shares = members.groupby(["member", "scenario"])[["out", "withdrawn"]].mean()
    order = {"index": res.all_members, "columns": res.scenarios}
    out = shares["out"].unstack("scenario").reindex(**order)
    withdrawn = shares["withdrawn"].unstack("scenario").reindex(**order)
    return out, withdrawn


HEATMAP_PATHS: dict[str, str] = {
    "frozen_at_start": f"{STATUS_LABELS['frozen']} at the start",
    "withdrawn_at_start": f"{STATUS_LABELS['withdrawn']} at the start",
    "froze": "froze during the run",
    "withdrew": "withdrew during the run",
}
"""The membership paths of the exit heat map's panels (rows of ``summary.csv``, written by
the report: ``"<member> <path>"`` with statistics ``p``, ``ci_low``, ``ci_high``)."""


SUMMARY_COLUMNS: list[str] = ["scenario", "measure", "statistic", "value"]
"""The columns of ``summary.csv`` (written by the comparison report)."""


def _summary(res: Results) -> pd.DataFrame:
    """``summary.csv`` of a results folder (written by the comparison report), or empty. The
    ``figure`` column of folders written before it was called ``measure`` is renamed."""
    path = res.root / "summary.csv"
    if not path.exists():
        return pd.DataFrame(columns=SUMMARY_COLUMNS)
    text = dict.fromkeys(["scenario", "measure", "figure", "statistic"], str)
    try:
        frame = pd.read_csv(path, dtype=text).rename(columns={"figure": "measure"})
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise ResultsError(f"{path}: not a readable CSV table ({type(exc).__name__})") from None
    missing = [c for c in SUMMARY_COLUMNS if c not in frame.columns]
    if missing:
        raise ResultsError(f"{path}: no column {missing[0]!r} (rewrite it: csto-sim compare)")
    return frame


def member_path_shares(results: str | Path | Results) -> pd.DataFrame:
    """The report's probabilities of each membership path with their 95% intervals, from
    ``summary.csv``: columns ``member, scenario, path, p, ci_low, ci_high`` (empty without
    a summary)."""
    res = Results.open(results)
    summary = _summary(res)
    split = summary["measure"].str.rsplit(" ", n=1, expand=True)
    if split.shape[1] < 2:
        return pd.DataFrame(columns=["member", "scenario", "path", "p", "ci_low", "ci_high"])
    rows = summary.assign(member=split[0], path=split[1])
    rows = rows[
        rows["path"].isin(list(HEATMAP_PATHS)) & rows["statistic"].isin(["p", "ci_low", "ci_high"])
    ]
    wide = rows.pivot_table(
        index=["member", "scenario", "path"], columns="statistic", values="value", aggfunc="first"
    )
    return wide.reindex(columns=["p", "ci_low", "ci_high"]).reset_index()


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
def exit_heatmap_figure(results: str | Path | Results) -> Figure:
    """Heat maps (member x scenario) of how often each member is frozen or withdrawn at the
    start of the projection and how often it freezes or withdraws during it, each cell the
    share of runs with its 95% interval: the numbers of the report (``summary.csv``)."""
    res = Results.open(results)
    shares = member_path_shares(res)
    members, scenarios = res.all_members, res.scenarios
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
        cells = shares[shares["path"] == path]
        if cells.empty:
            _no_data(ax, "no summary.csv (run csto-sim compare)")
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
    first, end = res.full_span
    covers = "parameters and dice" if res.manifest.get("posterior") else "dice only"
    _title(
        fig,
        f"Frozen or withdrawn at the start ({first:g}), and freezes and withdrawals during "
        f"the run (to {end:g})",
        f"{res.runs_label()}; cell: share of runs [95% interval; {covers}]",
    )
    return fig


# ---------------------------------------------------------------------------------------------
# 5. Relations network


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
    res = Results.open(results)
    names = (
        res.scenarios
        if scenarios is None
        else [scenarios]
        if isinstance(scenarios, str)
        else list(scenarios)
    )
    rows, cols = _grid(len(names))
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
    _title(
        fig,
        "Relations network and final alignment" + (" by scenario" if len(names) > 1 else ""),
        f"{res.runs_label()}; caption: dominant pole (mean final weight), most common final "
        "status (share of runs)",
    )
    return fig


# ---------------------------------------------------------------------------------------------
# 6. Mean alignment composition


@styled
def composition_figure(results: str | Path | Results, scenario: str) -> Figure:
    """Mean alignment composition over time as stacked areas, one panel per member; under each
    panel the share of runs in which the member is frozen or withdrawn."""
    res = Results.open(results)
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
    handles = [*_pole_patches({p: colours[p] for p in poles}), *_status_handles(shares)]
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), frameon=False)
    _title(
        fig,
        f"Mean alignment composition over time: {scenario}",
        f"{res.runs_label(scenario)}; stacked mean weight on each pole across runs"
        f"{'; strip: share of runs frozen or withdrawn' if not shares.empty else ''}{note}",
    )
    return fig


# ---------------------------------------------------------------------------------------------
# All figures


# ---------------------------------------------------------------------------------------------
# 5. Answers and levers

_LEVELS: tuple[tuple[str, str], ...] = (
    ("none", "#d9d9d9"),
    ("statement", "#c6dbef"),
    ("mission", "#6baed6"),
    ("deployment", "#2171b5"),
    ("peacekeeping", "#08306b"),
)
"""Response levels in order, with the colour of their bar segment (light to dark)."""


@styled
def responses_figure(results: str | Path | Results) -> Figure:
    """How far the alliance answered requests, by scenario: the share of requests that got
    each level at most (pooled over runs), and the share whose collective answer a member
    vetoed."""
    res = Results.open(results)
    cols = [f"level_{name}" for name, _ in _LEVELS[1:]]
    runs = res.read("runs", ["scenario", "status", "requests", "vetoed", *cols])
    runs = runs[runs["status"] == "ok"]
    names = res.scenarios
    totals = runs.groupby("scenario")[["requests", "vetoed", *cols]].sum().reindex(names)
    asked = totals["requests"].where(totals["requests"] > 0)
    shares = totals[cols].div(asked, axis=0)
    shares.insert(0, "level_none", 1.0 - shares.sum(axis=1))
    fig = Figure(figsize=(9, 1.2 + 0.55 * len(names)), layout="constrained")
    ax = fig.subplots()
    y = np.arange(len(names))[::-1]
    left = np.zeros(len(names))
    for (name, colour), col in zip(_LEVELS, shares.columns, strict=True):
        width = shares[col].fillna(0.0).to_numpy()
        ax.barh(y, width, left=left, color=colour, label=name, height=0.7)
        left += width
    vetoed = (totals["vetoed"] / asked).to_numpy()
    for yi, share in zip(y, vetoed, strict=True):
        if np.isfinite(share):
            ax.text(1.01, yi, f"vetoed {_percent(share)}", va="center", fontsize="small")
    ax.set_yticks(y, names)
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("share of requests, by how far the alliance answered")
    ax.grid(axis="y", visible=False)
    ax.legend(ncols=len(_LEVELS), loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    _title(
        fig,
        "How far the alliance answered requests",
        f"{res.runs_label()}; pooled over runs; a deployment or more answers a request "
        "(a mission, for a mediated clash between members)",
    )
    return fig


def _targets(res: Results) -> pd.DataFrame:
    """The paired differences of each scenario's named targets, from ``summary.csv``."""
    wide = _paired(res)
    if wide.empty:
        return pd.DataFrame()
    rows = [
        wide[(wide["scenario"] == name) & (wide["measure"] == key)]
        for name in res.scenarios
        for key in res.contents(name).get("targets", [])
    ]
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


@styled
def levers_figure(results: str | Path | Results) -> Figure:
    """Each scenario's paired difference to the reference on the outcomes it names as its
    targets, with 95% intervals; in standard deviations of the outcome over runs, so that
    outcomes of different units share an axis (the labels give the differences in units)."""
    res = Results.open(results)
    data = _targets(res)
    fig = Figure(figsize=(9, 1.5 + 0.32 * max(len(data), 3)), layout="constrained")
    ax = fig.subplots()
    if data.empty:
        ax.set_axis_off()
        _no_data(ax, "no scenario names targets (or no summary.csv: run compare)")
        _title(fig, "What each scenario did to the outcomes it targets", res.runs_label())
        return fig
    sd = data["paired_sd_unpaired"].where(data["paired_sd_unpaired"] > 0)
    mid = data["paired_mean_difference"] / sd
    low, high = data["paired_ci_low"] / sd, data["paired_ci_high"] / sd
    y = np.arange(len(data))[::-1]
    styles = scenario_colours(res.scenarios)
    for yi, row, m, lo, hi in zip(y, data.itertuples(), mid, low, high, strict=True):
        colour = styles[row.scenario][0]
        ax.errorbar(m, yi, xerr=[[m - lo], [hi - m]], fmt="o", color=colour, capsize=3)
    labels = [
        f"{r.scenario}: {r.measure} ({r.paired_mean_difference:+.3g})" for r in data.itertuples()
    ]
    ax.set_yticks(y, labels)
    ax.axvline(0.0, color="black", lw=0.8)
    ax.set_xlabel("paired difference to the reference, in standard deviations over runs")
    ax.grid(axis="y", visible=False)
    _title(
        fig,
        "What each scenario did to the outcomes it targets, against the reference",
        f"{res.runs_label()}; dots: mean paired difference; bars: 95% bootstrap interval",
    )
    return fig


DIFFERENCE_PANELS: dict[str, str] = {
    "collapsed": "chance of collapse",
    "n_withdrawn_final": "members withdrawn at the end",
    "n_frozen_final": "members frozen at the end",
    "cohesion_final": "cohesion at the end (index 0-1)",
    "response_rate": "share of requests answered",
    "unanswered_severity": "severity left unanswered by anyone",
}
"""Outcomes of the differences figure (``runs`` columns) and their panel titles; outcomes
the summary lacks are left out."""


def _paired(res: Results) -> pd.DataFrame:
    """The report's paired differences (``summary.csv``): one row per scenario and outcome
    with ``paired_mean_difference``, ``paired_ci_low``, ``paired_ci_high``."""
    summary = _summary(res)
    paired = summary[summary["statistic"].str.startswith("paired_")]
    if paired.empty:
        return pd.DataFrame()
    return paired.pivot_table(
        index=["scenario", "measure"], columns="statistic", values="value", aggfunc="first"
    ).reset_index()


@styled
def differences_figure(results: str | Path | Results) -> Figure:
    """Each scenario's paired difference to the reference on the headline outcomes (collapse,
    withdrawn, frozen and active members, cohesion, response rate, unanswered severity), with
    the report's 95% intervals; one panel per outcome, in its own units."""
    res = Results.open(results)
    data = _paired(res)
    panels = [f for f in DIFFERENCE_PANELS if not data.empty and f in set(data["measure"])]
    others = [n for n in res.scenarios if not data.empty and n in set(data["scenario"])]
    reference = next((n for n in res.scenarios if n not in others), "the reference")
    rows, cols = _grid(max(len(panels), 1), 3)
    fig = Figure(
        figsize=(4.2 * cols + 1.6, rows * (0.5 * max(len(others), 2) + 1.0) + 1.4),
        layout="constrained",
    )
    axes = fig.subplots(rows, cols, sharey=True, squeeze=False).ravel()
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    if not panels:
        axes[0].set_visible(True)
        _no_data(axes[0], "no paired differences (one scenario, or no summary.csv: run compare)")
        return fig
    styles = scenario_colours(res.scenarios)
    y = np.arange(len(others))[::-1]
    for ax, measure in zip(axes, panels, strict=False):
        rows_of = data[data["measure"] == measure].set_index("scenario").reindex(others)
        for yi, (name, r) in zip(y, rows_of.iterrows(), strict=True):
            m, lo, hi = r["paired_mean_difference"], r["paired_ci_low"], r["paired_ci_high"]
            if not np.isfinite(m):
                continue
            colour = styles[name][0]
            face = colour if lo > 0 or hi < 0 else "white"
            ax.errorbar(
                m, yi, xerr=[[m - lo], [hi - m]], fmt="o", color=colour, capsize=3, mfc=face
            )
            ax.annotate(
                f"{m:+.2f} [{lo:+.2f}, {hi:+.2f}]",
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
        level = rows_of["paired_reference_mean"].dropna()
        ref = f" ({reference}: {level.iloc[0]:.2f})" if len(level) else ""
        ax.set_title(DIFFERENCE_PANELS[measure] + ref, fontsize="medium")
        ax.set_yticks(y, others)
        ax.set_ylim(-0.8, len(others) - 0.4)
        ax.grid(axis="y", visible=False)
        ax.margins(x=0.15)
    covers = "parameters and dice" if res.manifest.get("posterior") else "the dice only"
    fig.supxlabel(f"paired difference to {reference} (scenario minus {reference}, run by run)")
    _title(
        fig,
        f"How each scenario differs from {reference} (paired differences, 95% intervals)",
        f"{res.runs_label()}; intervals cover {covers}; filled dot: the interval excludes zero",
    )
    return fig


FIGURES: dict[str, Callable[[Results], Figure]] = {
    "cohesion": cohesion_figure,
    "outcomes": outcomes_figure,
    "exit_heatmap": exit_heatmap_figure,
    "responses": responses_figure,
    "levers": levers_figure,
    "differences": differences_figure,
    "network": network_figure,
}
"""Figures of all scenarios together, by file stem."""

SCENARIO_FIGURES: dict[str, Callable[[Results, str], Figure]] = {
    "alignment_fan": fan_chart_figure,
    "alignment_stack": composition_figure,
}
"""Figures drawn once per scenario (``<stem>_<scenario>``), by file stem."""


def plot_figure(
    results_dir: str | Path | Results,
    stem: str,
    out_dir: str | Path | None = None,
    fmt: str = "png",
) -> list[Path]:
    """Save one of :data:`FIGURES` (one file) or :data:`SCENARIO_FIGURES` (one per scenario)
    into ``out_dir`` (default ``results_dir/figures``); returns the paths written."""
    res, fmt = Results.open(results_dir), check_format(fmt)
    out = _out_dir(res, out_dir)
    if stem in FIGURES:
        return [_save(FIGURES[stem](res), out, stem, fmt)]
    if stem not in SCENARIO_FIGURES:
        known = ", ".join([*FIGURES, *SCENARIO_FIGURES])
        raise ValueError(f"unknown figure {stem!r}; choose one of {known}")
    draw = SCENARIO_FIGURES[stem]
    return [_save(draw(res, name), out, f"{stem}_{_slug(name)}", fmt) for name in res.scenarios]


def plot_all(
    results_dir: str | Path, out_dir: str | Path | None = None, fmt: str = "png"
) -> list[Path]:
    """Draw every figure of a results folder into ``out_dir`` (default ``results_dir/figures``).

    Returns the paths written: cohesion, outcomes and exit heat map for all scenarios
    together, the relations network of every scenario in one figure, then per scenario the
    alignment fan chart and stacked composition.
    """
    res = Results.open(results_dir)
    return [
        p for stem in [*FIGURES, *SCENARIO_FIGURES] for p in plot_figure(res, stem, out_dir, fmt)
    ]


_INDEX_LABELS = {
    "S1": "first-order (S1)",
    "ST": "total (ST)",
    "mu_star": "mean absolute effect (mu*)",
    "sigma": "spread of effects (sigma)",
}


@styled
def sensitivity_figure(indices: pd.DataFrame, title: str) -> Figure:
    """Bar charts of sensitivity indices with confidence intervals, one panel per outcome."""
    outcomes = list(dict.fromkeys(indices["outcome"]))
    kinds = list(dict.fromkeys(indices["index"]))
    factors = list(dict.fromkeys(indices["factor"]))
    fig = Figure(
        figsize=(
            6.0 * min(len(outcomes), 2),
            0.38 * len(factors) * math.ceil(len(outcomes) / 2) + 2.2,
        ),
        layout="constrained",
    )
    axes = fig.subplots(math.ceil(len(outcomes) / 2), min(len(outcomes), 2), squeeze=False).ravel()
    colours = ["#0072B2", "#E69F00"]
    height = 0.8 / len(kinds)
    y = np.arange(len(factors))
    for ax, outcome in zip(axes, outcomes, strict=False):
        sub = indices[indices["outcome"] == outcome]
        for j, kind in enumerate(kinds):
            rows = sub[sub["index"] == kind].set_index("factor").reindex(factors)
            err = rows["conf"].fillna(0.0).to_numpy()
            ax.barh(
                y + (j - (len(kinds) - 1) / 2) * height,
                rows["value"].to_numpy(),
                height=height,
                xerr=err,
                color=colours[j % 2],
                error_kw={"elinewidth": 0.8, "capsize": 2},
                label=_INDEX_LABELS.get(kind, kind),
            )
        ax.set_yticks(y, factors)
        ax.invert_yaxis()
        ax.axvline(0, color="#555555", linewidth=0.6)
        ax.set_title(outcome)
        ax.set_xlabel(
            "index (share of output variance)" if "S1" in kinds else "effect (outcome units)"
        )
    for ax in axes[len(outcomes) :]:
        ax.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(
        handles,
        labels,
        loc="outside lower center",
        ncols=len(kinds),
        title="index (bars: 95% confidence)",
    )
    _title(fig, title, "factors on the left; bars: estimate, whiskers: 95% confidence interval")
    return fig


def plot_sensitivity(out: str | Path, fmt: str = "png") -> Path:
    """Draw ``indices.csv`` of a sensitivity folder into ``figures/sensitivity.FMT``."""
    out = Path(out)
    fmt = check_format(fmt)
    indices = pd.read_csv(out / "indices.csv")
    info = read_manifest(out)
    title = (
        f"Sensitivity of outcomes: {info['scenario']} ({info['method']}, "
        f"{info['points']} points x {info['replicas']} runs)"
    )
    target = out / "figures"
    target.mkdir(parents=True, exist_ok=True)
    return _save(sensitivity_figure(indices, title), target, "sensitivity", fmt)


@styled
def identifiability_figure(trials: pd.DataFrame, ident: pd.DataFrame) -> Figure:
    """Each parameter's searched range, the range of the best trials, and the best value."""
    fig = Figure(figsize=(7.5, 0.32 * len(ident) + 1.8), layout="constrained")
    ax = fig.subplots()
    y = np.arange(len(ident))
    ax.barh(y, 1.0, left=0.0, color="#DDDDDD", label="searched range")
    span = (ident["searched_high"] - ident["searched_low"]).replace(0, 1.0)
    low = (ident["top_min"] - ident["searched_low"]) / span
    high = (ident["top_max"] - ident["searched_low"]) / span
    best = (ident["best"] - ident["searched_low"]) / span
    ax.barh(
        y,
        high - low,
        left=low,
        color="#56B4E9",
        label=f"best {int(ident['trials_in_top'].iloc[0])} trials",
    )
    ax.plot(best, y, "D", color="#D55E00", label="best trial")
    ax.set_yticks(y, ident["parameter"])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("position within the searched range (0 = low end, 1 = high end)")
    fig.legend(loc="outside lower center", ncols=3)
    _title(
        fig,
        f"How well history pins the parameters down ({len(trials)} trials)",
        "narrow blue bars: the historical patterns constrain the parameter; wide: they do not",
    )
    return fig


def _figures_dir(out: Path) -> Path:
    """``out/figures``, created if missing."""
    target = out / "figures"
    target.mkdir(parents=True, exist_ok=True)
    return target


def plot_identifiability(out: str | Path, fmt: str = "png") -> Path:
    """Draw ``identifiability.csv`` of a calibration folder into ``figures/identifiability.FMT``."""
    out = Path(out)
    fmt = check_format(fmt)
    trials = pd.read_csv(out / "trials.csv")
    ident = pd.read_csv(out / "identifiability.csv")
    return _save(identifiability_figure(trials, ident), _figures_dir(out), "identifiability", fmt)


@styled
def posterior_figure(samples: pd.DataFrame, ident: pd.DataFrame, span: str = "2002-2014") -> Figure:
    """Each parameter's weighted posterior histogram over its prior range (uniform prior:
    a flat histogram means history says nothing about the parameter)."""
    names = list(ident["parameter"])
    rows, cols = _grid(len(names), 4)
    fig = Figure(figsize=(3.0 * cols, 1.9 * rows + 1.2), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    w = samples["weight"].to_numpy()
    for ax, (_, r) in zip(axes, ident.iterrows(), strict=False):
        lo, hi = r["prior_low"], r["prior_high"]
        ax.hist(
            samples[r["parameter"]],
            bins=15,
            range=(lo, hi),
            weights=w,
            density=True,
            color="#56B4E9",
        )
        ax.axhline(1.0 / (hi - lo), color="#444444", lw=1, ls="--")
        ax.set_xlim(lo, hi)
        ax.set_yticks([])
        ax.set_title(f"{_short_name(r['parameter'])}\nwidth {r['width']:.2f}", fontsize=8)
    for ax in axes[len(names) :]:
        ax.set_axis_off()
    _title(
        fig,
        f"Posterior of the parameters and uncertain judgements, fitted on {span} "
        f"({len(samples)} samples)",
        "bars: weighted posterior density; dashed: the uniform prior; width: posterior sd / "
        "prior sd; 'judged': a judgement of the registry",
    )
    return fig


@styled
def posterior_pairs_figure(samples: pd.DataFrame, ident: pd.DataFrame, k: int = 6) -> Figure:
    """Pairwise scatter of the ``k`` parameters history pins down best (narrowest width)."""
    names = list(ident["parameter"])[:k]
    fig = Figure(figsize=(1.5 * k + 0.5, 1.5 * k + 1.0), layout="constrained")
    axes = fig.subplots(k, k)
    w = samples["weight"].to_numpy()
    size = 12 * w / w.max()
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            ax = axes[i, j]
            if i == j:
                ax.hist(samples[a], bins=15, weights=w, color="#56B4E9")
            elif i > j:
                ax.scatter(samples[b], samples[a], s=size, color="#0072B2", lw=0)
            else:
                ax.set_axis_off()
                continue
            ax.tick_params(labelsize=6)
            if i == k - 1:
                ax.set_xlabel(_short_name(b), fontsize=7)
            if j == 0 and i > 0:
                ax.set_ylabel(_short_name(a), fontsize=7)
    _title(
        fig,
        "Posterior pairs: the parameters history pins down best",
        "points sized by weight; diagonal: weighted marginal",
    )
    return fig


def _short_name(name: str) -> str:
    """A parameter's or judgement's name short enough for a panel title."""
    if not name.startswith("@"):
        return name
    parts = name[1:].split(".")
    if "event" in parts:  # hindcast.event.DATE.KIND.MEMBER.FIELD
        i = parts.index("event")
        return "judged " + " ".join([*parts[i + 1 : i + 2], *parts[i + 3 :]])
    return "judged " + ".".join(parts[1:])


def plot_posterior(out: str | Path, fmt: str = "png", span: str = "2002-2014") -> list[Path]:
    """Draw ``posterior.csv`` and ``identifiability.csv`` of a posterior folder (a fit on
    the years ``span``) into ``figures/posterior.FMT`` and ``figures/posterior_pairs.FMT``."""
    out = Path(out)
    fmt = check_format(fmt)
    samples = pd.read_csv(out / "posterior.csv")
    ident = pd.read_csv(out / "identifiability.csv")
    target = _figures_dir(out)
    return [
        _save(posterior_figure(samples, ident, span), target, "posterior", fmt),
        _save(posterior_pairs_figure(samples, ident), target, "posterior_pairs", fmt),
    ]
