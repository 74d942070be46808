"""An interactive dashboard of one model run, built with Mesa's SolaraViz.

Start it from the repository folder with ``solara run csto_sim/viz/app.py`` (needs the ``viz``
extra: ``pip install -e '.[viz]'``). The sidebar chooses a scenario file (``scenarios/*.toml``
of the working folder, else the one beside the package), the run index (run ``i`` has the
seed of run ``i`` of an ensemble), a multiplier on the leader pole's strength (Russia's
strength after the war) and the main behavioural parameters; *Reset* builds a new model
with them, *Step* and the play button advance it. The page shows the relations network
(fill: dominant pole, shape and outline: status), each member's alignment with the
leader's pole and its commitment, alliance cohesion, requests and responses, the members'
state and the latest threat events.

The model is :class:`DashboardModel`, a thin :class:`~csto_sim.abm.model.CSTOModel` that
SolaraViz can rebuild by keyword: it loads the chosen file, scales the leader pole's
strength and calls ``CSTOModel(scenario=..., run=..., rng=..., **parameters)``.

Imports are absolute (``csto_sim.x``) because ``solara run`` loads this file as a script.
"""

from __future__ import annotations

import math
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
import solara
from matplotlib.figure import Figure
from mesa.visualization import Slider, SolaraViz, make_plot_component
from mesa.visualization.utils import update_counter

from csto_sim.abm.model import CSTOModel
from csto_sim.core.parameters import MAIN_PARAMETERS, parameter_table
from csto_sim.core.scenario import Scenario, load_scenario
from csto_sim.viz.network import draw_network
from csto_sim.viz.style import house_style, pole_colours

DEFAULT_SCENARIO = "baseline"
"""The scenario the dashboard opens with (a file stem in the scenarios folder)."""

TUNED: tuple[str, ...] = MAIN_PARAMETERS
"""The behavioural parameters that get a slider (the others keep the scenario's values)."""

FIGSIZE = (7.0, 4.0)
"""Size (inches) of every figure, chosen to fit one cell of SolaraViz's grid."""

EVENTS_SHOWN = 12
"""How many of the latest threat events the event log lists."""


# ---------------------------------------------------------------------------------------------
# Scenario files


def scenario_dir() -> Path:
    """The folder of scenario files: ``$CSTO_SCENARIOS``, else ``./scenarios``, else beside the package."""
    candidates = [Path(p) for p in [os.environ.get("CSTO_SCENARIOS")] if p] + [
        Path.cwd() / "scenarios",
        Path(__file__).resolve().parents[1] / "scenarios",
    ]
    for folder in candidates:
        if folder.is_dir() and any(folder.glob("*.toml")):
            return folder
    raise FileNotFoundError(
        "no scenario files found: run from the repository folder or set CSTO_SCENARIOS "
        f"(looked in {', '.join(str(c) for c in candidates)})"
    )


def scenario_files() -> dict[str, Path]:
    """Scenario files by name (file stem), sorted, the default first."""
    files = {p.stem: p for p in sorted(scenario_dir().glob("*.toml"))}
    if DEFAULT_SCENARIO in files:
        files = {DEFAULT_SCENARIO: files[DEFAULT_SCENARIO]} | files
    return files


@lru_cache(maxsize=32)
def _load(path: str, mtime: float) -> Scenario:
    return load_scenario(path)


def load_named(name: str) -> Scenario:
    """Load a scenario of the scenarios folder by file stem (cached until the file changes)."""
    files = scenario_files()
    if name not in files:
        raise ValueError(f"no scenario file {name!r}.toml in {scenario_dir()}")
    path = files[name]
    return _load(str(path), path.stat().st_mtime)


# ---------------------------------------------------------------------------------------------
# The model as the dashboard builds it


class DashboardModel(CSTOModel):
    """A :class:`CSTOModel` built from keyword arguments only, as SolaraViz rebuilds models.

    Args:
        scenario_name: a scenario file of the scenarios folder, by stem (``baseline``).
        run: the run index; run ``i`` has the seed of run ``i`` of an ensemble of the scenario.
        leader_strength: multiplier on the leader pole's strength series (1 = as in the file).
        rng: an integer seed replacing the run's derived seed (Mesa convention).
        response_base ... alignment_shift_ignored: behavioural parameters (``None``: the
            scenario's value).

    The CSTO scenario is stored as ``spec`` (``scenario`` is Mesa's own attribute).
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
        given = {
            "response_base": response_base,
            "response_capacity": response_capacity,
            "response_stake": response_stake,
            "commitment_alignment_weight": commitment_alignment_weight,
            "freeze_threshold": freeze_threshold,
            "exit_cost_weight": exit_cost_weight,
            "pole_pull_rate": pole_pull_rate,
            "alignment_shift_ignored": alignment_shift_ignored,
        }
        params = {k: float(v) for k, v in given.items() if v is not None}
        spec = load_named(scenario_name).with_leader_strength(float(leader_strength))
        if isinstance(rng, str):  # a seed typed into a text box
            rng = int(rng) if rng.strip() else None
        super().__init__(scenario=spec, run=int(run), rng=rng, collect=True, **params)
        self.scenario_name = scenario_name
        self.leader_strength = float(leader_strength)


def _slider_step(low: float, high: float) -> float:
    """A round step giving about a hundred positions between low and high."""
    return 10 ** math.floor(math.log10((high - low) / 100)) if high > low else 0.01


def model_params(scenario: str = DEFAULT_SCENARIO) -> dict[str, Any]:
    """The sidebar inputs: scenario, run, leader strength and a slider per tuned parameter.

    Sliders start at the scenario's values and span the parameters' plausible ranges
    (widened to include the value).
    """
    values = load_named(scenario).parameters.model_dump()
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
    return spec


# ---------------------------------------------------------------------------------------------
# Figures (matplotlib, without pyplot)


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
        draw_network(
            ax,
            key,
            spec.relations,
            spec.member_names,
            spec.alliance.leader,
            dominant,
            {a.name: a.status for a in model.members},
            pole_colours(spec.pole_names),
            "status",
        )
        ax.set_title(f"Relations network, {model.year:.2f}", fontsize=10)
    return fig


def history_frame(model: CSTOModel) -> pd.DataFrame:
    """Every member's recorded state by year (from the model's DataCollector)."""
    agents = model.datacollector.get_agent_vars_dataframe().reset_index()
    years = model.datacollector.get_model_vars_dataframe()["year"]
    step = agents.columns[
        0
    ]  # the first index level: "Step" (its name and type vary by Mesa version)
    year_of = dict(zip(agents[step].unique(), years.to_numpy(), strict=False))
    agents["year"] = agents[step].map(year_of)
    return agents


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
    bottom.set_xlabel("year")
    for ax in (top, bottom):
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
    start, end = model.spec.time.start, model.spec.time.end
    bottom.set_xlim(start, end)
    fig.legend(loc="outside lower center", ncols=4, fontsize=7, frameon=False)
    top.set_title(
        f"Weight on {pole} and commitment (dashed: freeze, dotted: leave threshold)", fontsize=10
    )
    return fig


def member_markdown(model: CSTOModel) -> str:
    """The members' state now as a Markdown table."""
    poles = model.spec.pole_names
    lines = [
        f"**{model.spec.name}**, year {model.year:.2f}, cohesion {model.cohesion:.3f}, "
        f"requests {model.requests}, responses {model.responses}",
        "",
        "| member | status | commitment | trust | " + " | ".join(poles) + " |",
        "|---|---|---|---|" + "---|" * len(poles),
    ]
    for row in model.member_table():
        weights = " | ".join(f"{row[f'w_{p.lower()}']:.2f}" for p in poles)
        lines.append(
            f"| {row['member']} | {row['status']} | {row['commitment']:.2f} | {row['trust']:.2f} | {weights} |"
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
            f"| {e['year']:.2f} | {e['kind']} | {e['member']} | {e['counterpart'] or '-'} | "
            f"{e['severity']:.2f} | {yes[e['requested']]} | {answer} | "
            f"{yes[e['responded']]} | {yes[e['helped']]} |"
        )
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Solara components (re-rendered after every step through Mesa's update counter)


@solara.component
def NetworkView(model: CSTOModel):
    """The relations network, coloured by dominant pole and shaped by status."""
    update_counter.get()
    solara.FigureMatplotlib(network_figure(model), format="png", bbox_inches="tight")


@solara.component
def AlignmentView(model: CSTOModel):
    """Alignment with the leader's pole and commitment of every member over time."""
    update_counter.get()
    solara.FigureMatplotlib(alignment_figure(model), format="png", bbox_inches="tight")


@solara.component
def MemberTable(model: CSTOModel):
    """The members' state now."""
    update_counter.get()
    solara.Markdown(member_markdown(model))


@solara.component
def EventLog(model: CSTOModel):
    """The latest threat events."""
    update_counter.get()
    solara.Markdown(event_markdown(model))


def _styled_plot(title: str, unit: bool = False):
    """A post-processing step for Mesa's plot components: title, size and, for shares, [0, 1]."""

    def post_process(ax) -> None:
        ax.set_title(title, fontsize=10)
        ax.figure.set_size_inches(*FIGSIZE)
        ax.grid(alpha=0.3)
        if unit:
            ax.set_ylim(0, 1)

    return post_process


def components() -> list:
    """The dashboard's components, all on one page."""
    return [
        NetworkView,
        AlignmentView,
        make_plot_component(
            {"cohesion": "black"}, post_process=_styled_plot("Alliance cohesion", unit=True)
        ),
        make_plot_component(
            {"requests": "#0072B2", "responses": "#D55E00"},
            post_process=_styled_plot("Requests for help and responses (cumulative)"),
        ),
        MemberTable,
        EventLog,
    ]


def make_page(model: DashboardModel | solara.Reactive | None = None):
    """The dashboard element (SolaraViz) for a model, by default the default scenario's run 0."""
    return SolaraViz(
        model if model is not None else DashboardModel(),
        components=components(),
        model_params=model_params(),
        name="CSTO alliance cohesion",
    )


page = make_page()
page  # noqa: B018  (solara run looks for `page`)
