"""Figures of fits and analyses: sensitivity indices, identifiability, posteriors."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from csto_sim.experiments.results import read_manifest
from csto_sim.viz.canvas import EmptyFigureError, grid_shape, save_figure, suptitle
from csto_sim.viz.style import (
    check_format,
    styled,
)

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
    suptitle(fig, title, "factors on the left; bars: estimate, whiskers: 95% confidence interval")
    return fig


def plot_sensitivity(
    out: str | Path, fmt: str = "png", indices: pd.DataFrame | None = None
) -> Path:
    """Draw a sensitivity folder's ``indices`` (as computed; default: its ``indices.csv``)
    into ``figures/sensitivity.FMT``."""
    out = Path(out)
    fmt = check_format(fmt)
    indices = _given(out, indices, "indices.csv")
    info = read_manifest(out)
    title = (
        f"Sensitivity of outcomes: {info['scenario']} ({info['method']}, "
        f"{info['points']} points x {info['replicas']} runs)"
    )
    target = out / "figures"
    target.mkdir(parents=True, exist_ok=True)
    return save_figure(sensitivity_figure(indices, title), target, "sensitivity", fmt)


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
    suptitle(
        fig,
        f"How well history pins the parameters down ({len(trials)} trials)",
        "narrow blue bars: the historical patterns constrain the parameter; wide: they do not",
    )
    return fig


def _given(out: Path, frame: pd.DataFrame | None, name: str, optional: bool = False):
    """``frame`` as computed, else the folder's CSV ``name`` (None if ``optional`` and
    missing or empty): commands hand their frames over, a redraw of a folder reads them. A
    required one missing or without rows is an :class:`EmptyFigureError` naming it."""
    if frame is None and optional and not (out / name).is_file():
        return None
    if frame is None and not (out / name).is_file():
        raise EmptyFigureError(out, name, "missing: nothing to draw")
    frame = pd.read_csv(out / name) if frame is None else frame
    if frame.empty and not optional:
        raise EmptyFigureError(out, name, "no rows: nothing to draw")
    return None if frame.empty else frame


def figures_dir(out: Path) -> Path:
    """``out/figures``, created if missing."""
    target = out / "figures"
    target.mkdir(parents=True, exist_ok=True)
    return target


def plot_identifiability(
    out: str | Path,
    fmt: str = "png",
    trials: pd.DataFrame | None = None,
    ident: pd.DataFrame | None = None,
) -> Path:
    """Draw a calibration folder's ``trials`` and ``ident`` (as computed; default: its
    ``trials.csv`` and ``identifiability.csv``) into ``figures/identifiability.FMT``."""
    out = Path(out)
    fmt = check_format(fmt)
    trials = _given(out, trials, "trials.csv")
    ident = _given(out, ident, "identifiability.csv")
    return save_figure(
        identifiability_figure(trials, ident), figures_dir(out), "identifiability", fmt
    )


@styled
def posterior_figure(
    samples: pd.DataFrame,
    ident: pd.DataFrame,
    span: str = "2002-2014",
    prior: pd.DataFrame | None = None,
) -> Figure:
    """Each parameter's weighted posterior histogram over its prior range, with the prior's
    density dashed (``prior``: ``parameter, left, right, density`` per bin; uniform where it
    has no rows): a histogram that follows the prior means history says nothing about the
    parameter."""
    names = list(ident["parameter"])
    rows, cols = grid_shape(len(names), 4)
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
        _prior_line(ax, r["parameter"], lo, hi, prior)
        ax.set_xlim(lo, hi)
        ax.set_yticks([])
        ax.set_title(f"{_short_name(r['parameter'])}\nwidth {r['width']:.2f}", fontsize=8)
    for ax in axes[len(names) :]:
        ax.set_axis_off()
    suptitle(
        fig,
        f"Posterior of the parameters and uncertain judgements, fitted on {span} "
        f"({len(samples)} samples)",
        "bars: weighted posterior density; dashed: the prior; width: posterior sd / "
        "prior sd; 'judged': a judgement of the registry",
    )
    return fig


def _prior_line(ax, name: str, lo: float, hi: float, prior: pd.DataFrame | None) -> None:
    """The prior's density of ``name`` as a dashed step line (flat where ``prior`` has none)."""
    rows = None if prior is None else prior[prior["parameter"] == name]
    if rows is None or rows.empty:
        ax.axhline(1.0 / (hi - lo), color="#444444", lw=1, ls="--")
        return
    edges = np.append(rows["left"].to_numpy(), rows["right"].iloc[-1])
    ax.stairs(rows["density"].to_numpy(), edges, color="#444444", lw=1, ls="--")


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
    suptitle(
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


PRIOR_DENSITY = "prior_density.csv"
"""The prior's density per dimension in a posterior folder (``parameter, left, right,
density``), as ``csto-sim posterior`` writes it."""


def plot_posterior(
    out: str | Path,
    fmt: str = "png",
    span: str = "2002-2014",
    samples: pd.DataFrame | None = None,
    ident: pd.DataFrame | None = None,
    prior: pd.DataFrame | None = None,
) -> list[Path]:
    """Draw a posterior folder's ``samples``, ``ident`` and ``prior`` density (a fit on the
    years ``span``; as computed, default: its ``posterior.csv``, ``identifiability.csv`` and,
    if there, ``prior_density.csv``) into ``figures/posterior.FMT`` and
    ``figures/posterior_pairs.FMT``."""
    out = Path(out)
    fmt = check_format(fmt)
    samples = _given(out, samples, "posterior.csv")
    ident = _given(out, ident, "identifiability.csv")
    prior = _given(out, prior, PRIOR_DENSITY, optional=True)
    target = figures_dir(out)
    return [
        save_figure(posterior_figure(samples, ident, span, prior), target, "posterior", fmt),
        save_figure(posterior_pairs_figure(samples, ident), target, "posterior_pairs", fmt),
    ]
