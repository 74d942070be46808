"""An interactive dashboard of one model run, built with Solara and Mesa's model controller.

Start it with ``csto-sim dashboard`` or ``solara run csto_sim/viz/app.py`` (the ``viz`` extra
ships the page's scripts and fonts: it works offline). The sidebar chooses a scenario file
(``scenarios/*.toml`` of the working folder, else the one beside the package), the run (run
``i`` has the seed of run ``i`` of an ensemble), the leader pole's strength and the main
behavioural parameters; *Reset* builds a model of them, *Step* and play advance it. The page
shows the relations network, the members' alignment and commitment, alliance cohesion,
requests and responses by year, the members' state and the latest threat events. Served, the
file starts the first page's draw (a particle filter: seconds; :mod:`csto_sim.viz.draws`)
before it imports the rest; imports are absolute, as ``solara run`` runs it as a script.
"""

from __future__ import annotations

import functools
import html
import io
import math
import threading
import warnings
from collections.abc import Callable
from typing import Any

from csto_sim.viz.draws import DEFAULT_SCENARIO, drawn, first_draw, scenario_files

if __name__ == "__main__":
    # Served (``solara run`` runs this file as a script when the server starts): the first
    # page's draw, most of its wait, is made (or taken from ``csto-sim dashboard``, which
    # made it while the server started) while the server starts and the browser loads it.
    threading.Thread(target=first_draw, name="first-draw", daemon=True).start()


# The page (its imports take a second or two: served, the first draw has started by now) ------

import markdown  # noqa: E402
import pandas as pd  # noqa: E402
import solara  # noqa: E402
import solara.server.settings  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from csto_sim.abm.model import CSTOModel  # noqa: E402
from csto_sim.core.parameters import MAIN_PARAMETERS, parameter_table  # noqa: E402
from csto_sim.viz.network import draw_network  # noqa: E402
from csto_sim.viz.style import house_style, pole_colours, styled  # noqa: E402

with warnings.catch_warnings():
    # Mesa 3.3's ComponentsView (not used here) calls a hook after an early return, and
    # solara's hook checker warns when the module defines it: Mesa's warning, not ours.
    hook = r"(?s).*ComponentsView: .use_state. found despite early return"
    warnings.filterwarnings("ignore", hook, UserWarning)
    from mesa.visualization import Slider
    from mesa.visualization.solara_viz import ModelController
    from mesa.visualization.utils import update_counter

TITLE = "CSTO alliance cohesion"
"""The page's title (browser tab and app bar)."""

TUNED: tuple[str, ...] = MAIN_PARAMETERS
"""The behavioural parameters that get a slider (the others keep the scenario's values)."""

FIGSIZE, SERIES_FIGSIZE, FIGURE_DPI = (7.0, 4.0), (7.0, 3.0), 110
"""Figure sizes in inches (the alignment figure, the network's width; an alliance series) and
the PNGs' resolution; the page scales figures to the width of its columns."""

PLAY_INTERVAL_MS = 150
"""Pause between steps while playing."""

PAGE_CSS = """
.csto-sidebar .v-slider--horizontal { margin-left: 0; }
.csto-sidebar .v-input__slot { flex-wrap: wrap; }
.csto-sidebar .v-input__slot > .v-label { width: 100%; margin-bottom: -6px; }
"""
"""Styles of the page: each slider's label (with its value) on a line above a full-width track."""

STEPS = Slider("steps per click", 1, 1, 40, 1)
"""How many steps *Step* (and each frame of play) advances."""

EVENTS_SHOWN = 12
"""How many of the latest threat events the event log lists."""


# The model as the dashboard builds it --------------------------------------------------------


class DashboardModel(CSTOModel):
    """A :class:`CSTOModel` built from keyword arguments only, as Mesa's controller rebuilds it.

    Args:
        scenario_name: a scenario file of the scenarios folder, by stem (``baseline``).
        run: the run index; run ``i`` has the seed of run ``i`` of an ensemble of the scenario.
        leader_strength: multiplier on the leader pole's strength series (1 = as in the file).
        rng: an integer seed replacing the run's derived seed (Mesa convention).
        response_base ... alignment_shift_ignored: behavioural parameters (``None``, or the
            value its slider starts at: run ``run``'s draw, as in ``csto-sim run``; the
            controller passes every slider, so only a moved one fixes its parameter).

    The CSTO scenario is ``spec`` (``scenario`` is Mesa's own attribute).
    """

    def __init__(
        self,
        scenario_name: str = DEFAULT_SCENARIO,
        run: int = 0,
        leader_strength: float = 1.0,
        rng: Any = None,
        *,
        response_base: float | None = None,
        response_capacity: float | None = None,
        response_stake: float | None = None,
        commitment_alignment_weight: float | None = None,
        freeze_threshold: float | None = None,
        exit_cost_weight: float | None = None,
        pole_pull_rate: float | None = None,
        alignment_shift_ignored: float | None = None,
    ):
        given = locals()  # the behavioural parameters are the keyword-only arguments
        moved = {k: float(given[k]) for k in TUNED if given[k] is not None}
        params = {k: x for k, x in moved.items() if x != _SLIDER_STARTS.get(k)}
        spec, past = drawn(scenario_name, int(run))
        spec = spec.with_parameters(**params).with_leader_strength(float(leader_strength))
        if isinstance(rng, str):  # a seed typed into a text box
            rng = int(rng) if rng.strip() else None
        super().__init__(
            scenario=spec, run=int(run), rng=rng, collect=True, posterior="none", history_run=past
        )
        self.scenario_name = scenario_name
        self.leader_strength = float(leader_strength)


def _slider_step(low: float, high: float) -> float:
    """A round step giving about a hundred positions between low and high."""
    return 10 ** math.floor(math.log10((high - low) / 100)) if high > low else 0.01


_SLIDER_STARTS: dict[str, float] = {}
"""The value each parameter's slider starts at (:func:`model_params`): a model given it draws
the parameter instead, since the controller passes every slider, moved or not."""


def model_params(scenario: str = DEFAULT_SCENARIO) -> dict[str, Any]:
    """The sidebar inputs: scenario, run, leader strength and a slider per tuned parameter,
    starting at run 0's draw and spanning the parameter's plausible range (and that value).
    A slider left where it starts leaves its parameter drawn for whatever run and scenario
    are chosen (:class:`DashboardModel`)."""
    values = drawn(scenario, 0)[0].parameters.model_dump()
    table = {row["name"]: row for row in parameter_table()}
    spec: dict[str, Any] = {
        "scenario_name": {
            "type": "Select",
            "value": scenario,
            "values": list(scenario_files()),
            "label": "scenario",
        },
        "run": Slider("run (seed of ensemble run i)", 0, 0, 199, 1),
        "leader_strength": Slider("Russia's strength (x the scenario's)", 1.0, 0.2, 2.0, 0.05),
    }
    for name in TUNED:
        value = float(values[name])
        low = min(float(table[name]["low"]), value)
        high = max(float(table[name]["high"]), value)
        spec[name] = Slider(name, value, low, high, _slider_step(low, high), dtype=float)
        _SLIDER_STARTS[name] = value
    return spec


# Figures (matplotlib, without pyplot) --------------------------------------------------------


def network_figure(model: CSTOModel) -> Figure:
    """The relations network now: fill by dominant pole, shape by status (as in the saved
    figures, :func:`csto_sim.viz.network.draw_network`)."""
    spec = model.spec
    dominant = {
        a.name: (spec.pole_names[int(a.alignment.argmax())], float(a.alignment.max()))
        for a in model.members
    }
    with house_style():
        fig = Figure(figsize=(FIGSIZE[0], FIGSIZE[0]), layout="constrained")
        ax, key = fig.subplots(2, 1, height_ratios=[5.2, 1.3])
        status = {a.name: a.status for a in model.members}
        drawing = (spec.relations, spec.member_names, spec.alliance.leader, dominant, status)
        draw_network(ax, key, *drawing, pole_colours(spec.pole_names), "status")
        ax.set_title(f"Relations network, {model.year:.2f}", fontsize=10)
    return fig


def history_frame(model: CSTOModel) -> pd.DataFrame:
    """Every member's recorded state by year (from the model's DataCollector)."""
    agents = model.datacollector.get_agent_vars_dataframe().reset_index()
    years = model.datacollector.get_model_vars_dataframe()["year"]
    step = agents.columns[0]  # the first index level, "Step" (named and typed by Mesa version)
    year_of = dict(zip(agents[step].unique(), years.to_numpy(), strict=False))
    agents["year"] = agents[step].map(year_of)
    return agents


@styled
def alignment_figure(model: CSTOModel) -> Figure:
    """Each member's weight on the leader's pole and its commitment, over the years so far."""
    frame = history_frame(model)
    pole = model.spec.alliance.leader_pole
    col = f"w_{pole.lower()}"
    fig = Figure(figsize=FIGSIZE, layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True)
    for i, (member, rows) in enumerate(frame.groupby("member", sort=False)):
        colour = f"C{i % 10}"
        top.plot(rows["year"], rows[col], color=colour, lw=1.5, label=member)
        bottom.plot(rows["year"], rows["commitment"], color=colour, lw=1.5)
        now = rows.iloc[-1]
        top.plot([now["year"]], [now[col]], "o", color=colour, ms=3)
        bottom.plot([now["year"]], [now["commitment"]], "o", color=colour, ms=3)
    bottom.axhline(model.params["freeze_threshold"], color="0.3", ls="--", lw=1)
    top.set_ylabel(f"weight on {pole}")
    bottom.set_ylabel("commitment")
    for ax in (top, bottom):
        ax.set_ylim(0, 1)
    _year_axis(bottom, model)
    fig.legend(loc="outside lower center", ncols=6, frameon=False)
    top.set_title(f"Weight on {pole} and commitment (dashed: freeze threshold)")
    return fig


@styled
def series_figure(
    model: CSTOModel, series: dict[str, str], title: str, unit: bool = False
) -> Figure:
    """Alliance-level series of the run so far (``series``: reporter -> colour) by year."""
    frame = model.datacollector.get_model_vars_dataframe()
    fig = Figure(figsize=SERIES_FIGSIZE, layout="constrained")
    ax = fig.subplots()
    for name, colour in series.items():
        ax.plot(frame["year"], frame[name], color=colour, lw=1.5, label=name)
        ax.plot(frame["year"].iloc[-1:], frame[name].iloc[-1:], "o", color=colour, ms=3)
    if unit:
        ax.set_ylim(0, 1)
    else:
        ax.set_ylim(0, max(1.0, float(frame[list(series)].to_numpy().max()) * 1.1))
        ax.yaxis.get_major_locator().set_params(integer=True)
    _year_axis(ax, model)
    ax.set_title(title)
    if len(series) > 1:
        ax.legend(loc="upper left", frameon=False)
    return fig


def _year_axis(ax, model: CSTOModel) -> None:
    """The x axis of a time figure: years, from the scenario's start to its end."""
    ax.set_xlim(model.spec.time.start, model.spec.time.end)
    ax.set_xlabel("year")


def _cell(text: object) -> str:
    """A name from the user's scenario as Markdown table text: HTML escaped (the tables are
    put into the page as HTML) and ``|`` escaped (it would split the cell)."""
    return html.escape(str(text)).replace("|", "\\|")


def member_markdown(model: CSTOModel) -> str:
    """The members' state now as a Markdown table."""
    poles = [_cell(p) for p in model.spec.pole_names]
    lines = [
        f"**{_cell(model.spec.name)}**, year {model.year:.2f}, cohesion {model.cohesion:.3f}, "
        f"requests {model.requests}, responses {model.responses}",
        "",
        "| member | status | commitment | trust | " + " | ".join(poles) + " |",
        "|---|---|---|---|" + "---|" * len(poles),
    ]
    for row in model.member_table():
        weights = " | ".join(f"{row[f'w_{p.lower()}']:.2f}" for p in model.spec.pole_names)
        lines.append(
            f"| {_cell(row['member'])} | {row['status']} | {row['commitment']:.2f} | {row['trust']:.2f} | {weights} |"
        )
    return "\n".join(lines)


def event_markdown(model: CSTOModel, last: int = EVENTS_SHOWN) -> str:
    """The latest threat events as a Markdown table, newest first."""
    events = model.event_log[-last:][::-1]
    if not events:
        return "**Event log**: no threat events yet."
    lines = [
        f"**Event log** (latest {len(events)} of {len(model.event_log)})",
        "",
        "| year | kind | member | counterpart | severity | asked | answer (vetoes) | answered | outside help |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    yes = {True: "yes", False: "no"}
    for e in events:
        vetoes = f" ({e['vetoes']})" if e["vetoes"] else ""
        answer = e["level"] + vetoes if e["requested"] else "-"
        lines.append(
            f"| {e['year']:.2f} | {e['kind']} | {_cell(e['member'])} | "
            f"{_cell(e['counterpart'] or '-')} | {e['severity']:.2f} | {yes[e['requested']]} | "
            f"{answer} | {yes[e['responded']]} | {yes[e['helped']]} |"
        )
    return "\n".join(lines)


# Solara components (re-rendered after every step through Mesa's update counter) --------------


def figure_png(fig: Figure) -> bytes:
    """A figure as PNG bytes, drawn once (no tight bounding box: constrained layout fits it)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=FIGURE_DPI)
    return buffer.getvalue()


@solara.component
def FigureView(model: CSTOModel, draw: Callable[[CSTOModel], Figure]):
    """A figure of the model now, as wide as its column (redrawn after a step or reset only)."""
    steps = update_counter.get()
    png = solara.use_memo(lambda: figure_png(draw(model)), [model, steps])
    solara.Image(png, format="png", width="100%")


def markdown_html(text: str) -> str:
    """Markdown (with tables) as HTML."""
    return markdown.markdown(text, extensions=["tables"])


@solara.component
def ModelTable(model: CSTOModel, markdown_of: Callable[[CSTOModel], str]):
    """A table of the model now (the members' state, the event log), redrawn after a step: its
    Markdown shown as HTML in solara's Markdown style (solara.Markdown would fetch KaTeX from
    the CDN, which the shipped assets lack)."""
    update_counter.get()
    classes = ["solara-markdown", "rendered_html", "jp-RenderedHTMLCommon"]  # solara's style
    solara.HTML(unsafe_innerHTML=markdown_html(markdown_of(model)), classes=classes)


def _decimals(step: float) -> int:
    """Decimals that show a value on a slider of this step."""
    return max(0, -math.floor(math.log10(step))) if step > 0 else 2


@solara.component
def ValueSlider(slider: Slider, value: float, on_value: Callable[[float], None]):
    """A slider whose label shows its value (``freeze_threshold: 0.26``)."""
    shown = f"{value:.{_decimals(slider.step)}f}" if slider.is_float_slider else f"{value}"
    kind = solara.SliderFloat if slider.is_float_slider else solara.SliderInt
    bounds = {"min": slider.min, "max": slider.max, "step": slider.step}
    kind(f"{slider.label}: {shown}", value=value, on_value=on_value, thumb_label=False, **bounds)


@solara.component
def ParameterInputs(spec: dict[str, Any], values: solara.Reactive[dict[str, Any]]):
    """The scenario choice and a slider per numeric input; changes apply on *Reset*."""
    for name, item in spec.items():

        def set_value(value: Any, name: str = name) -> None:
            values.set({**values.value, name: value})

        if isinstance(item, Slider):
            ValueSlider(item, values.value.get(name, item.value), set_value)
        else:
            now = values.value.get(name, item["value"])
            solara.Select(item["label"], values=item["values"], value=now, on_value=set_value)
    solara.Text("Reset builds a new run with these values.", style={"font-size": "0.8em"})


def panels() -> list[Callable[[CSTOModel], Figure]]:
    """The figures of the page: the network (left, above the members' table), then the time
    series (right); the event log runs below both."""
    return [
        network_figure,
        alignment_figure,
        functools.partial(
            series_figure, series={"cohesion": "black"}, title="Alliance cohesion", unit=True
        ),
        functools.partial(
            series_figure,
            series={"requests": "#0072B2", "responses": "#D55E00"},
            title="Requests for help and responses (cumulative)",
        ),
    ]


@solara.component
def Dashboard(model: solara.Reactive[DashboardModel]):
    """The page: controls and parameters in the sidebar, the figures and tables in two columns;
    Mesa's ``ModelController`` runs *Reset* (a model of the sidebar's values), play and *Step*."""
    spec = solara.use_memo(model_params, [])
    values = solara.use_reactive(
        {k: v.value if isinstance(v, Slider) else v["value"] for k, v in spec.items()}
    )
    play_interval = solara.use_reactive(PLAY_INTERVAL_MS)
    steps = solara.use_reactive(1)
    threads = solara.use_reactive(False)
    solara.Title(TITLE)
    with solara.AppBar():
        solara.AppBarTitle(TITLE)
    solara.Style(PAGE_CSS)
    with solara.Sidebar(), solara.Column(classes=["csto-sidebar"]):
        with solara.Card("Controls"):
            ValueSlider(STEPS, steps.value, steps.set)
            ModelController(
                model,
                model_parameters=values,
                play_interval=play_interval,
                render_interval=steps,
                use_threads=threads,
            )
        with solara.Card("Model parameters"):
            ParameterInputs(spec, values)
    network, *plots = panels()
    with solara.ColumnsResponsive(default=12, medium=6, wrap=True):
        with solara.Column():
            FigureView(model.value, network)
            ModelTable(model.value, member_markdown)
        with solara.Column():
            for draw in plots:
                FigureView(model.value, draw)
    ModelTable(model.value, event_markdown)


@solara.component
def Page():
    """The page ``solara run`` serves: a new run of the default scenario per browser session."""
    model = solara.use_reactive(solara.use_memo(DashboardModel, []))
    Dashboard(model)


# The server's page template: the title before the app loads, and no "This website runs on
# Solara" badge (it covers the event log). Read per request, so setting them here is enough.
solara.server.settings.theme.title = TITLE
solara.server.settings.theme.show_banner = False

# At a host name other than "localhost" over http (127.0.0.1; the machine's name with --host
# 0.0.0.0), solara warns at every page load that its session cookie is SameSite=Lax, not None
# (which needs https; solara wants it for pages framed by another site). Lax is right for this
# page, opened directly, and solara has no setting for it: that one warning is ignored.
warnings.filterwarnings(
    "ignore", "Cookies with samesite=none require https", UserWarning, "solara.server.starlette"
)
