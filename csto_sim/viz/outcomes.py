"""Outcomes by scenario: cohesion over time, end-of-run distributions, answers."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.legend_handler import HandlerTuple
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FormatStrFormatter, MultipleLocator, PercentFormatter

from csto_sim.experiments.results import Results
from csto_sim.viz.canvas import (
    comparison_of,
    no_data,
    percent_label,
    results_of,
    small_multiples,
    spread_covers,
    suptitle,
    year_axis,
)
from csto_sim.viz.style import (
    scenario_colours,
    styled,
)

_MAX_STRIP_POINTS = 300
"""At most this many runs per scenario are drawn as dots over a box plot."""


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
    res = results_of(results)
    names = res.scenarios
    styles = scenario_colours(names)
    quant = {name: _cohesion_quantiles(res, name) for name in names}
    single = len(names) == 1
    fig, axes = small_multiples(
        len(names), width=7.0 if single else 3.8, height=4 if single else 2.5
    )
    reference = quant[names[0]]
    for ax, name in zip(axes, names, strict=True):
        colour, dash = styles[name]
        ax.set_title(
            name + (" (reference)" if name == names[0] and len(names) > 1 else ""), color=colour
        )
        if quant[name].empty:
            no_data(ax)
            continue
        if name != names[0] and not reference.empty:
            ax.fill_between(
                reference.index, reference[0.05], reference[0.95], color="0.5", alpha=0.12, lw=0
            )
            ax.plot(reference.index, reference[0.5], color="0.45", lw=1.2, ls=(0, (1.5, 1.5)))
        _cohesion_band(ax, quant[name], colour, dash, name)
    for ax in axes:
        year_axis(ax, *res.full_span)
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
    suptitle(
        fig,
        "Alliance cohesion over time" + ("" if single else ", each scenario against the reference"),
        f"{res.runs_label()}; {spread_covers(res)}; line: median across runs, shading: "
        "middle 50% and 90% of runs",
    )
    return fig


OUTCOME_PANELS: tuple[tuple[str, str, str], ...] = (
    ("cohesion_final", "Cohesion at the end", "cohesion index (0-1)"),
    ("response_rate", "Requests for help answered", "share of requests (0-1)"),
    (
        "unanswered_severity",
        "Severity left unanswered by anyone",
        "total severity (severity units)",
    ),
    ("n_active_final", "Active members at the end (the leader included)", "members (count)"),
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
                percent_label(share),
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
def outcomes_figure(comparison) -> Figure:
    """Distributions of end-of-run outcomes per scenario: box plots with the runs as dots, and
    for whole-number outcomes the share of runs at each value."""
    c = comparison_of(comparison)
    res, runs, names = c.results, c.ok, c.names
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
        noun = "run" if dropped == 1 else "runs"
        left = f"\n({dropped} {noun} {why} left out, all scenarios)" if dropped else ""
        ax.set_title(title + left)
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
    suptitle(
        fig,
        "End-of-run outcomes by scenario",
        f"{res.runs_label()}; {spread_covers(res)}; boxes: median, quartiles, whiskers "
        "1.5 IQR, dots: runs; "
        "counts: dot area and label give the share of runs",
    )
    return fig


_LEVELS: tuple[tuple[str, str], ...] = (
    ("none", "#d9d9d9"),
    ("statement", "#c6dbef"),
    ("mission", "#6baed6"),
    ("deployment", "#2171b5"),
    ("peacekeeping", "#08306b"),
)
"""Response levels in order, with the colour of their bar segment (light to dark)."""


@styled
def responses_figure(comparison) -> Figure:
    """How far the alliance answered requests, by scenario: the share of requests whose
    answer was each level (pooled over runs), and the share whose collective answer a member
    vetoed."""
    c = comparison_of(comparison)
    res, names = c.results, c.names
    table = c.responses.set_index("scenario").reindex(names)
    shares = table[[f"level_{name}" for name, _ in _LEVELS]]
    fig = Figure(figsize=(9, 1.2 + 0.55 * len(names)), layout="constrained")
    ax = fig.subplots()
    y = np.arange(len(names))[::-1]
    left = np.zeros(len(names))
    for (name, colour), col in zip(_LEVELS, shares.columns, strict=True):
        width = shares[col].fillna(0.0).to_numpy()
        ax.barh(y, width, left=left, color=colour, label=name, height=0.7)
        left += width
    vetoed = table["vetoed"].to_numpy() if "vetoed" in table else np.full(len(names), np.nan)
    for yi, share in zip(y, vetoed, strict=True):
        if np.isfinite(share):
            ax.text(1.01, yi, f"vetoed {percent_label(share)}", va="center", fontsize="small")
    ax.set_yticks(y, names)
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("share of requests, by how far the alliance answered")
    ax.grid(axis="y", visible=False)
    ax.legend(ncols=len(_LEVELS), loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    suptitle(
        fig,
        "How far the alliance answered requests",
        f"{res.runs_label()}; pooled over runs; a deployment or more answers a request "
        "(a mission, for a mediated clash between members)",
    )
    return fig
