"""The house style of every figure: pole, scenario and status colours, the rc settings, and
the file formats. Shared by the saved figures and the dashboard."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ParamSpec

import matplotlib as mpl
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

_P = ParamSpec("_P")

POLE_COLOURS: dict[str, str] = {
    "Russia": "#D55E00",  # Okabe-Ito vermillion
    "EU": "#0072B2",  # blue
    "China": "#009E73",  # bluish green
    "Turkey": "#CC79A7",  # reddish purple
}
"""The fixed colour of each pole in every figure (Okabe-Ito, colour-blind safe)."""

_POLE_FALLBACK: tuple[str, ...] = ("#E69F00", "#56B4E9", "#F0E442", "#000000")
"""The rest of the Okabe-Ito palette, handed out in order to poles not in POLE_COLOURS."""

_OVERFLOW_GREYS: tuple[str, ...] = ("#999999", "#666666", "#BBBBBB", "#444444")

_SCENARIO_PALETTE: tuple[str, ...] = (
    "#000000",  # black: the first scenario (the reference of a comparison)
    "#CC6677",  # Tol muted: rose
    "#332288",  # indigo
    "#117733",  # green
    "#88CCEE",  # cyan
    "#AA4499",  # purple
    "#44AA99",  # teal
    "#999933",  # olive
    "#882255",  # wine
    "#DDCC77",  # sand
    "#661100",  # dark brown (Tol)
    "#6699CC",  # steel blue (Tol)
)
"""Scenario colours: black, then Paul Tol's muted qualitative palette (colour-blind safe, one
hue each, so no two scenarios get two shades of one colour), paired with the line styles below."""

_SCENARIO_DASHES: tuple[Any, ...] = ("-", (0, (5, 2)), (0, (1.5, 1.5)), (0, (6, 2, 1.5, 2)))

STATUS_MARKERS: dict[str, str] = {
    "active": "o",
    "frozen": "s",
    "withdrawn": "v",
    "non_member": "D",
}
"""Marker of each membership status in the network figure."""

STATUS_COLOURS: dict[str, str] = {
    "frozen": "#A6A6A6",
    "withdrawn": "#3A3A3A",
    "non_member": "#DADADA",
}
"""Fill of the share of runs in each status other than active (greys: no pole colour)."""

STATUS_LABELS: dict[str, str] = {
    "active": "active",
    "frozen": "frozen",
    "withdrawn": "withdrawn",
    "non_member": "not a member",
}

TIE_POSITIVE = "#3A3A3A"  # near black, solid: no pole colour is grey
TIE_NEGATIVE = "#8C8C8C"  # mid grey, drawn dashed

FORMATS: tuple[str, ...] = ("png", "svg", "pdf")
"""File formats of the saved figures."""

DPI = 200
STYLE: dict[str, Any] = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "legend.title_fontsize": 8,
    "figure.titlesize": 12,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.5,
    "svg.fonttype": "none",  # text stays text (editable) in SVG
    "svg.hashsalt": "csto-sim",  # reproducible SVG ids
    "pdf.fonttype": 42,  # embedded TrueType (editable) in PDF
}
METADATA: dict[str, dict[str, Any]] = {
    "png": {},
    "svg": {"Date": None},
    "pdf": {"CreationDate": None},
}
"""Drop creation dates so the same results give byte-identical SVG and PDF files."""


def pole_colours(poles: Iterable[str]) -> dict[str, str]:
    """A colour for each pole: the fixed ones, then the rest of Okabe-Ito in order, then greys."""
    colours: dict[str, str] = {}
    spare = [c for c in _POLE_FALLBACK if c not in POLE_COLOURS.values()]
    extra = 0
    for pole in dict.fromkeys(poles):
        if pole in POLE_COLOURS:
            colours[pole] = POLE_COLOURS[pole]
        elif extra < len(spare):
            colours[pole] = spare[extra]
            extra += 1
        else:
            colours[pole] = _OVERFLOW_GREYS[(extra - len(spare)) % len(_OVERFLOW_GREYS)]
            extra += 1
    return colours


def scenario_colours(names: Sequence[str]) -> dict[str, tuple[str, str]]:
    """A (colour, line style) for each scenario, in order: black and solid first.

    Colour and line style both change from one scenario to the next, so identical curves
    drawn over each other stay visible and the lines tell apart without colour too.
    """
    return {
        name: (
            _SCENARIO_PALETTE[i % len(_SCENARIO_PALETTE)],
            _SCENARIO_DASHES[i % len(_SCENARIO_DASHES)],
        )
        for i, name in enumerate(names)
    }


def text_colour(background: Any) -> str:
    """Black or white, whichever reads better on ``background``."""
    r, g, b = to_rgb(background)
    return "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white"


@contextmanager
def house_style() -> Iterator[None]:
    """The house style, applied only while a figure is built and saved."""
    with mpl.rc_context(STYLE):
        yield


def styled(build: Callable[_P, Figure]) -> Callable[_P, Figure]:
    """Build a figure in the house style (rc settings are read when artists are made)."""

    @functools.wraps(build)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> Figure:
        with house_style():
            return build(*args, **kwargs)

    return wrapper


def check_format(fmt: str) -> str:
    """A figure format, lower case without the dot; a ``ValueError`` for one not in :data:`FORMATS`."""
    fmt = fmt.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ValueError(f"figure format must be one of {', '.join(FORMATS)}; got {fmt!r}")
    return fmt
