"""The dashboard (csto_sim/viz/app.py), rendered without a browser as Mesa tests its own.

The page is rendered with ``solara.render`` inside an ``AppLayout`` (which hosts the
sidebar, as ``solara run`` does); the test finds the sliders and buttons, moves a slider,
resets and steps the model, and checks that the figures and tables follow. The same page in
a real browser: ``test_dashboard_browser.py``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator

import numpy as np
import pytest
from conftest import BASELINE, HINDCAST, ROOT
from matplotlib.colors import to_hex
from matplotlib.markers import MarkerStyle

from csto_sim import CSTOModel, load_scenario
from csto_sim.viz.style import POLE_COLOURS, STATUS_MARKERS

solara = pytest.importorskip("solara")
ipywidgets = pytest.importorskip("ipywidgets")
v = pytest.importorskip("ipyvuetify")
app = pytest.importorskip("csto_sim.viz.app")  # needs the viz extra (mesa[viz], solara)

pytestmark = [
    # the page's own components must pass solara's hook checker
    pytest.mark.filterwarnings("error:.*found despite early return:UserWarning"),
]


def _widgets(root) -> Iterator:
    """Every widget below ``root``, through children and any other widget-valued trait."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        w = stack.pop()
        if id(w) in seen:
            continue
        seen.add(id(w))
        yield w
        for name in w.trait_names():
            value = getattr(w, name, None)
            values = (
                value
                if isinstance(value, list | tuple)
                else value.values()
                if isinstance(value, dict)
                else [value]
            )
            stack.extend(x for x in values if isinstance(x, ipywidgets.Widget))


def _markdown(box) -> str:
    """The HTML of every table on the page (Markdown rendered by the app)."""
    return "\n".join(
        w.unsafe_innerHTML
        for w in _widgets(box)
        if "solara-markdown" in (getattr(w, "attributes", None) or {}).get("class", "")
    )


def _images(box) -> list[bytes]:
    return [bytes(w.value) for w in _widgets(box) if isinstance(w, ipywidgets.Image)]


@pytest.fixture
def dashboard():
    """The rendered page: (reactive model, root widget, render context)."""
    model = solara.reactive(app.DashboardModel())

    @solara.component
    def Page():
        with solara.AppLayout():
            app.Dashboard(model)

    box, rc = solara.render(Page(), handle_error=False)
    yield model, box, rc
    rc.close()


def _click(rc, label: str) -> None:
    rc.find(v.Btn, children=[label]).widget.click()


def _sliders(rc) -> dict[str, object]:
    """The sidebar's sliders by the label's name part (the label is ``name: value``)."""
    return {s.widget.label.rpartition(": ")[0]: s.widget for s in rc.find(v.Slider)}


def _slider(rc, start: str):
    return next(w for label, w in _sliders(rc).items() if label.startswith(start))


def test_sidebar_has_a_scenario_choice_and_a_slider_per_parameter(dashboard):
    model, _, rc = dashboard
    select = rc.find(v.Select, label="scenario").widget
    stems = {p.stem for p in (ROOT / "scenarios").glob("*.toml")}
    assert set(select.items) == stems
    assert select.v_model == app.DEFAULT_SCENARIO == select.items[0]
    labels = _sliders(rc)
    for name in app.TUNED:
        assert name in labels, f"no slider for {name}"
        assert labels[name].v_model == pytest.approx(model.value.params[name])
        assert labels[name].min <= labels[name].v_model <= labels[name].max
    assert any(label.startswith("Russia's strength") for label in labels)
    assert any(label.startswith("run") for label in labels)


def test_sliders_show_their_values(dashboard):
    _, _, rc = dashboard
    slider = _slider(rc, "freeze_threshold")
    assert slider.label == f"freeze_threshold: {slider.v_model:.3f}"
    slider.v_model = 0.61
    assert _slider(rc, "freeze_threshold").label == "freeze_threshold: 0.610"
    strength = _slider(rc, "Russia's strength")
    strength.v_model = 0.5
    assert strength.label.endswith(": 0.50")
    assert _slider(rc, "run").label == "run (seed of ensemble run i): 0"


def test_step_advances_the_model_and_redraws_plots_and_tables(dashboard):
    model, box, rc = dashboard
    first = model.value
    images = _images(box)
    assert len(images) == 4  # network, alignment, cohesion, requests and responses
    assert f"year {first.year:.2f}" in _markdown(box)
    for _ in range(4):
        _click(rc, "Step")
    assert model.value is first and first.t == 4
    after = _images(box)
    assert all(a != b for a, b in zip(images, after, strict=True)), "a plot did not update"
    text = _markdown(box)
    assert f"year {first.year:.2f}" in text
    assert "Event log" in text
    log = first.event_log
    if log:
        assert log[-1]["kind"] in text
    frame = first.datacollector.get_model_vars_dataframe()
    assert len(frame) == 5 and frame["year"].is_monotonic_increasing


def test_steps_per_click_slider_sets_how_far_step_goes(dashboard):
    model, _, rc = dashboard
    _slider(rc, "steps per click").v_model = 3
    assert _slider(rc, "steps per click").label == "steps per click: 3"
    _click(rc, "Step")
    assert model.value.t == 3


def test_figures_are_redrawn_after_a_step_not_when_a_slider_moves(dashboard, monkeypatch):
    _, _, rc = dashboard
    drawn = []
    monkeypatch.setattr(app, "figure_png", lambda fig: drawn.append(fig) or b"")
    _slider(rc, "freeze_threshold").v_model = 0.5
    assert drawn == []
    _click(rc, "Step")
    assert len(drawn) == 4


def test_every_time_axis_is_in_years():
    model = app.DashboardModel()
    for _ in range(6):
        model.step()
    years = model.datacollector.get_model_vars_dataframe()["year"].to_numpy()
    start, end = model.spec.time.start, model.spec.time.end
    _, *timed = app.panels()
    assert timed, "no time figures"
    for draw in timed:
        fig = draw(model)
        for ax in fig.axes:
            assert ax.get_xlim() == (start, end)
            data = [line for line in ax.lines if line.get_transform() == ax.transData]
            assert data and all(set(line.get_xdata()) <= set(years) for line in data)
            np.testing.assert_allclose(data[0].get_xdata(), years)
        assert fig.axes[-1].get_xlabel() == "year"


def test_title_and_no_solara_badge(dashboard):
    _, _, rc = dashboard
    assert rc.find(v.ToolbarTitle).widget.children == [app.TITLE]
    settings = solara.server.settings.theme
    assert settings.title == app.TITLE and settings.show_banner is False


def test_importing_the_app_warns_nothing():
    """Mesa 3.3's hook warning (its ComponentsView) is silenced; the page's own raise none."""
    code = "import csto_sim.viz.app"
    done = subprocess.run(
        [sys.executable, "-W", "error::UserWarning", "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr


def test_slider_and_scenario_changes_apply_on_reset(dashboard):
    model, box, rc = dashboard
    first = model.value
    _slider(rc, "freeze_threshold").v_model = 0.61
    _slider(rc, "Russia's strength").v_model = 0.5
    _click(rc, "Reset")
    second = model.value
    assert second is not first
    assert second.params["freeze_threshold"] == pytest.approx(0.61)
    assert second.leader_strength == 0.5
    base = load_scenario(BASELINE)
    pole = base.alliance.leader_pole
    assert second.spec.poles[pole].strength == [[y, s * 0.5] for y, s in base.poles[pole].strength]
    assert second.spec.poles["China"] == base.poles["China"]

    rc.find(v.Select, label="scenario").widget.v_model = "russia_weakened"
    _click(rc, "Reset")
    third = model.value
    assert third.spec.name == "russia_weakened"
    assert third.params["freeze_threshold"] == pytest.approx(0.61)
    assert "russia_weakened" in _markdown(box)
    _click(rc, "Step")
    assert third.t == 1


def test_dashboard_run_i_is_ensemble_run_i():
    dash = app.DashboardModel(run=3)
    ref = CSTOModel(load_scenario(BASELINE), run=3)
    assert dash.seed == ref.seed
    dash.run_model()
    ref.run_model()
    assert dash.member_table() == ref.member_table()
    assert dash.event_log == ref.event_log


def test_sliders_left_where_they_start_leave_the_parameters_drawn():
    """Reset passes every slider: those not moved leave run r of any scenario its own
    posterior draw (as `csto-sim run` and CSTOModel give it); a moved one is fixed."""
    values = {k: getattr(s, "value", None) for k, s in app.model_params().items()}
    values["scenario_name"] = "baseline"
    dash = app.DashboardModel(**(values | {"run": 5}))
    assert dash.params == CSTOModel(load_scenario(BASELINE), run=5).params
    hindcast = app.DashboardModel(**(values | {"scenario_name": HINDCAST.stem, "run": 1}))
    assert hindcast.params == CSTOModel(load_scenario(HINDCAST), run=1).params
    assert hindcast.params["freeze_threshold"] != values["freeze_threshold"]
    moved = values["freeze_threshold"] + 0.01
    fixed = app.DashboardModel(**(values | {"run": 5, "freeze_threshold": moved}))
    assert fixed.params["freeze_threshold"] == moved
    assert {k: v for k, v in fixed.params.items() if k != "freeze_threshold"} == {
        k: v for k, v in dash.params.items() if k != "freeze_threshold"
    }


def test_parameters_and_seed_reach_the_model():
    model = app.DashboardModel(rng=123, response_stake=7.0, pole_pull_rate=0.1)
    assert model.seed == 123
    assert model.params["response_stake"] == 7.0 and model.params["pole_pull_rate"] == 0.1
    assert app.DashboardModel(rng="123").seed == 123
    with pytest.raises(ValueError, match="no scenario file"):
        app.DashboardModel(scenario_name="no_such_scenario")


def test_network_is_coloured_by_dominant_pole_and_shaped_by_status():
    model = app.DashboardModel()  # statuses at the start are where the run's history left them
    for steps in (0, 8):
        for _ in range(steps):
            model.step()
        ax = app.network_figure(model).axes[0]
        nodes = [c for c in ax.collections if len(c.get_offsets()) == 1]
        assert len(nodes) == len(model.members)
        poles = model.spec.pole_names
        for agent, node in zip(model.members, nodes, strict=True):
            dominant = poles[int(np.argmax(agent.alignment))]
            assert to_hex(node.get_facecolor()[0]) == POLE_COLOURS[dominant].lower()
            marker = MarkerStyle(STATUS_MARKERS[agent.status])
            shape = marker.get_path().transformed(marker.get_transform()).vertices
            np.testing.assert_allclose(node.get_paths()[0].vertices, shape)
    # the layout is fixed: the same positions for the same model
    again = app.network_figure(model).axes[0]
    assert [tuple(c.get_offsets()[0]) for c in again.collections if len(c.get_offsets()) == 1] == [
        tuple(n.get_offsets()[0]) for n in nodes
    ]


def test_tables_are_markdown():
    model = app.DashboardModel()
    assert "no threat events yet" in app.event_markdown(model)
    for _ in range(20):
        model.step()
    members = app.member_markdown(model)
    assert all(a.name in members for a in model.members)
    events = app.event_markdown(model, last=5)
    rows = [line for line in events.splitlines() if re.match(r"\| \d{4}\.\d\d \|", line)]
    assert len(rows) == min(5, len(model.event_log))


@pytest.mark.slow
def test_module_exposes_a_page_for_solara_run():
    """``solara run`` serves ``Page``: each session gets its own run of the default scenario."""
    assert {"scenario_name", "run", "leader_strength", *app.TUNED} == set(app.model_params())

    @solara.component
    def Two():
        with solara.AppLayout():
            app.Page()
            app.Page()

    box, rc = solara.render(Two(), handle_error=False)
    try:
        assert len(_images(box)) == 8
        rc.find(v.Btn, children=["Step"])[0].widget.click()
        years = re.findall(r"year (\d{4}\.\d\d)", _markdown(box))
        assert len(set(years)) == 2, "the two pages share one model"
    finally:
        rc.close()


def test_names_from_a_scenario_reach_the_page_as_text_not_html():
    name = '<img src=x onerror="alert(1)">a|b'
    page = app.markdown_html(f"| member |\n|---|\n| {app._cell(name)} |")
    assert "<img" not in page and "&lt;img" in page
    assert page.count("<td>") == 1  # the | stays inside its cell
