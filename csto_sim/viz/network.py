"""Drawing the relations network: one picture for the saved figures and the dashboard.

Members sit on a circle, the leader at the top; ties are solid dark grey when friendly and
dashed grey when hostile, as wide as their weight (greys, so that they never look like a
pole); a member is filled with its dominant pole's colour and shaped by its membership status.
A figure of many scenarios draws the ties in full once and faintly where they repeat.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import networkx as nx
import numpy as np
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from csto_sim.viz.style import STATUS_LABELS, STATUS_MARKERS, TIE_NEGATIVE, TIE_POSITIVE


def signed_graph(relations: dict[str, dict[str, float]], nodes: Iterable[str]) -> nx.Graph:
    """The undirected signed relations network of a scenario's manifest entry."""
    g = nx.Graph()
    g.add_nodes_from(nodes)
    for a, ties in relations.items():
        for b, weight in ties.items():
            g.add_edge(a, b, weight=float(weight))
    return g


def circle_layout(nodes: Sequence[str], leader: str | None) -> dict[str, np.ndarray]:
    """A deterministic circular layout, clockwise from the top, the leader first."""
    order = [leader, *(n for n in nodes if n != leader)] if leader in nodes else list(nodes)
    if len(order) == 1:
        return {order[0]: np.zeros(2)}
    step = 2 * math.pi / len(order)
    return {
        n: np.array([math.cos(math.pi / 2 - i * step), math.sin(math.pi / 2 - i * step)])
        for i, n in enumerate(order)
    }


def draw_tie(
    ax: Axes,
    a: np.ndarray,
    b: np.ndarray,
    weight: float,
    labels: list[np.ndarray],
    faint: bool = False,
) -> None:
    """One relation: solid dark grey if positive, dashed grey if negative, width by |weight|.

    Its weight is written on it, at the middle unless another label is there already
    (chords across the circle all meet at its centre), then further along. A ``faint`` tie
    (drawn in full elsewhere in the figure) is thin, light and unlabelled.
    """
    positive = weight >= 0
    ax.plot(
        [a[0], b[0]],
        [a[1], b[1]],
        color=TIE_POSITIVE if positive else TIE_NEGATIVE,
        ls="-" if positive else (0, (4, 2.5)),
        lw=0.8 if faint else 0.8 + 5 * abs(weight),
        alpha=0.25 if faint else 0.85,
        solid_capstyle="round",
        zorder=1,
    )
    if faint:
        return
    a, b = np.asarray(a), np.asarray(b)
    spots = [a + t * (b - a) for t in (0.5, 0.35, 0.65, 0.25, 0.75)]
    at = next((p for p in spots if all(np.linalg.norm(p - q) > 0.2 for q in labels)), spots[0])
    labels.append(at)
    ax.text(
        at[0],
        at[1],
        f"{weight:+.1f}",
        ha="center",
        va="center",
        fontsize=7.5,
        color="0.15",
        bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "0.8", "lw": 0.5},
        zorder=2,
    )


def draw_node(
    ax: Axes,
    xy: np.ndarray,
    pole: str | None,
    status: str,
    colours: dict[str, str],
    size: float = 900,
) -> None:
    """A member: filled with its dominant pole's colour (light grey without one), shaped by its
    status."""
    ax.scatter(
        [xy[0]],
        [xy[1]],
        s=size,
        marker=STATUS_MARKERS.get(status, "o"),
        c=[colours[pole] if pole else "0.85"],
        edgecolors="black",
        linewidths=1.2,
        zorder=3,
    )


def label_node(ax: Axes, xy: np.ndarray, caption: str, fontsize: float = 9) -> None:
    """A member's caption, placed outside the circle of nodes."""
    outward = np.asarray(xy, dtype=float)
    norm = float(np.linalg.norm(outward))
    dx, dy = (outward / norm) if norm > 1e-9 else (0.0, -1.0)
    ax.annotate(
        caption,
        xy,
        xytext=(24 * dx, 24 * dy),
        textcoords="offset points",
        ha=_anchor(dx, "left", "right"),
        va=_anchor(dy, "bottom", "top"),
        fontsize=fontsize,
        zorder=4,
        bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.85},
    )


def _anchor(component: float, positive: str, negative: str) -> str:
    """Text alignment for a caption offset along one axis by ``component`` (a unit vector's)."""
    return positive if component > 0.35 else negative if component < -0.35 else "center"


def network_legends(
    key: Axes, poles: list[str], colours: dict[str, str], statuses: Iterable[str], what: str
) -> None:
    """Legends for pole colours, status shapes and tie styles, side by side in ``key``."""
    key.set_axis_off()
    pole_handles = [
        Line2D([], [], marker="o", ls="", ms=9, mfc=colours[p], mec="black", label=p) for p in poles
    ]
    status_handles = [
        Line2D([], [], marker=m, ls="", ms=9, mfc="white", mec="black", label=STATUS_LABELS[s])
        for s, m in STATUS_MARKERS.items()
        if s in set(statuses)
    ] or [Line2D([], [], marker="o", ls="", ms=9, mfc="0.85", mec="black", label="no runs")]
    tie_handles = [
        Line2D([], [], color=TIE_POSITIVE, lw=2.5, label="positive tie"),
        Line2D([], [], color=TIE_NEGATIVE, lw=2.5, ls=(0, (4, 2.5)), label="negative tie"),
    ]
    spec = [
        (pole_handles, "dominant pole (fill)"),
        (status_handles, f"{what} (shape)"),
        (tie_handles, "relation (width: |weight|,\nlabel: weight)"),
    ]
    for i, (handles, title) in enumerate(spec):
        legend = key.legend(
            handles=handles,
            title=title,
            loc="upper center",
            bbox_to_anchor=((i + 0.5) / 3, 1.0),
            ncols=2 if len(handles) > 2 else 1,
            frameon=False,
        )
        key.add_artist(legend)


def caption(
    node: str, pole: str | None, share: float, status: str = "", status_share: float | None = None
) -> str:
    """``Armenia / Russia 53% / frozen 56%``: the dominant pole and its weight, then the status
    shown and how common it is (omitted when ``status_share`` is None)."""
    lines = [node, f"{pole} {share:.0%}" if pole else "(no data)"]
    if status_share is not None and status:
        lines.append(f"{STATUS_LABELS.get(status, status)} {status_share:.0%}")
    return "\n".join(lines)


def draw_network(
    ax: Axes,
    key: Axes | None,
    relations: Mapping[str, Mapping[str, float]],
    nodes: Sequence[str],
    leader: str | None,
    dominant: Mapping[str, tuple[str | None, float]],
    status: Mapping[str, str],
    colours: dict[str, str],
    status_meaning: str,
    status_share: Mapping[str, float] | None = None,
    faint_ties: bool = False,
    scale: float = 1.0,
) -> None:
    """The whole network on ``ax`` with its legends on ``key`` (none when ``key`` is None).

    ``dominant`` gives each member's dominant pole and that pole's weight (pole None: no
    data); ``status`` each member's status and ``status_share``, if given, how common that
    status is (written under the member); ``status_meaning`` says which status the shapes
    show (for example "most common final status"). ``faint_ties`` draws the ties thin and
    unlabelled (shown in full elsewhere); ``scale`` shrinks nodes and captions for small panels.
    """
    g = signed_graph(relations, nodes)
    pos = circle_layout(list(g.nodes), leader)
    ax.set_axis_off()
    ax.set_aspect("equal")
    labels: list[np.ndarray] = []  # where the weight labels went, to keep them apart
    for a, b, data in g.edges(data=True):
        draw_tie(ax, pos[a], pos[b], data["weight"], labels, faint=faint_ties)
    shares = status_share or {}
    for node in g.nodes:
        pole, share = dominant.get(node, (None, 0.0))
        draw_node(ax, pos[node], pole, status.get(node, ""), colours, size=900 * scale**2)
        text = caption(node, pole, share, status.get(node, ""), shares.get(node))
        label_node(ax, pos[node], text, fontsize=9 * scale)
    xy = np.array(list(pos.values()))
    ax.set_xlim(xy[:, 0].min() - 0.6, xy[:, 0].max() + 0.6)
    pad = 0.35 + (0.2 if shares else 0.0)  # room for the captions at the top and bottom
    ax.set_ylim(xy[:, 1].min() - pad, xy[:, 1].max() + pad)
    if key is not None:
        network_legends(key, list(colours), colours, status.values(), status_meaning)
