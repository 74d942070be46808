"""Figures of a results folder: every file written, pole colours fixed, results-only reading."""

from __future__ import annotations

import ast
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import BASELINE, ROOT
from matplotlib.collections import PathCollection, PolyCollection
from matplotlib.colors import to_hex

from csto_sim.experiments.ensemble import run_ensemble
from csto_sim.viz import figures
from csto_sim.viz.figures import POLE_COLOURS, plot_all

WEAKENED = ROOT / "scenarios" / "russia_weakened.toml"

FIXED = {"Russia": "#D55E00", "EU": "#0072B2", "China": "#009E73", "Turkey": "#CC79A7"}


def _second_scenario(tmp: Path) -> Path:
    """russia_weakened.toml if the repository has it, else a variant of the baseline."""
    if WEAKENED.exists():
        return WEAKENED
    variant = tmp / "variant.toml"
    variant.write_text(
        f'extends = "{BASELINE.as_posix()}"\nname = "variant"\n[poles.Russia]\nstrength = 0.5\n'
    )
    return variant


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small results folder: two scenarios of six runs each."""
    tmp = tmp_path_factory.mktemp("plots")
    out = tmp / "results"
    run_ensemble(
        [BASELINE, _second_scenario(tmp)],
        runs=6,
        out=out,
        workers=1,
        overwrite=True,
        progress=False,
    )
    return out


def _expected(names: list[str], fmt: str) -> set[str]:
    per_scenario = ("alignment_fan", "alignment_stack", "network")
    shared = {
        f"{stem}.{fmt}"
        for stem in ("cohesion", "outcomes", "exit_heatmap", "responses", "levers", "differences")
    }
    return shared | {f"{stem}_{n}.{fmt}" for stem in per_scenario for n in names}


def _names(results: Path) -> list[str]:
    return [s["name"] for s in json.loads((results / "manifest.json").read_text())["scenarios"]]


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_plot_all_writes_every_figure(results: Path, fmt: str) -> None:
    paths = plot_all(results, fmt=fmt)
    names = _names(results)
    assert len(names) == 2
    assert {p.name for p in paths} == _expected(names, fmt)
    for path in paths:
        assert path.parent == results / "figures"
        assert path.is_file() and path.stat().st_size > 1000, path
        head = path.read_bytes()[:64]
        if fmt == "png":
            assert head.startswith(b"\x89PNG"), path
        else:
            assert b"<svg" in path.read_bytes()[:2000] or head.startswith(b"<?xml"), path


def test_out_dir_and_format_checked(results: Path, tmp_path: Path) -> None:
    (path,) = figures.plot_figure(results, "cohesion", out_dir=tmp_path / "figs", fmt="pdf")
    assert path == tmp_path / "figs" / "cohesion.pdf"
    assert path.read_bytes().startswith(b"%PDF")
    with pytest.raises(ValueError, match="png, svg, pdf"):
        plot_all(results, out_dir=tmp_path, fmt="jpg")


def test_pole_colours_are_fixed() -> None:
    assert {p: c.upper() for p, c in POLE_COLOURS.items()} == FIXED
    colours = figures.pole_colours(["Turkey", "India", "Russia", "Iran"])
    assert colours["Russia"] == FIXED["Russia"] and colours["Turkey"] == FIXED["Turkey"]
    # other poles get the rest of Okabe-Ito, in order and never a fixed pole's colour
    assert colours["India"] == "#E69F00" and colours["Iran"] == "#56B4E9"
    assert figures.pole_colours(["Turkey", "India", "Russia", "Iran"]) == colours


def _pole_of(label: str) -> str:
    return label.split(" ")[0]


def test_figures_use_the_pole_colours(results: Path) -> None:
    name = _names(results)[1]
    fan = figures.fan_chart_figure(results, name)
    lines = [ln for ax in fan.axes for ln in ax.get_lines() if ln.get_label() in FIXED]
    assert len(lines) == 4 * 6  # four poles in each of six member panels
    for line in lines:
        assert to_hex(line.get_color()).upper() == FIXED[line.get_label()]
    legend = [h for h in fan.legends[0].legend_handles if h.get_label().endswith("(median)")]
    assert {_pole_of(h.get_label()): to_hex(h.get_color()).upper() for h in legend} == FIXED

    stack = figures.composition_figure(results, name)
    areas = [c for ax in stack.axes for c in ax.collections if isinstance(c, PolyCollection)]
    assert areas
    for area in areas:
        assert to_hex(area.get_facecolor()[0], keep_alpha=False).upper() == FIXED[area.get_label()]

    net = figures.network_figure(results, name)
    fills = {
        to_hex(c.get_facecolor()[0], keep_alpha=False).upper()
        for c in net.axes[0].collections
        if isinstance(c, PathCollection)
    }
    assert fills and fills <= set(FIXED.values())


def test_exit_shares_match_members_table(results: Path) -> None:
    out, withdrawn = figures.exit_shares(results)
    members = pd.read_parquet(results / "members.parquet")
    ends_out = members["status_final"].isin(["frozen", "withdrawn"])
    expected = ends_out.groupby([members["member"], members["scenario"]]).mean()
    for (member, scenario), share in expected.items():
        assert out.loc[member, scenario] == pytest.approx(share)
    assert ((withdrawn <= out) | withdrawn.isna()).all().all()


def test_reads_csv_results(results: Path, tmp_path: Path) -> None:
    copy = tmp_path / "csv"
    copy.mkdir()
    shutil.copy(results / "manifest.json", copy / "manifest.json")
    for table in ("runs", "timeseries", "alliance", "members", "events"):
        pd.read_parquet(results / f"{table}.parquet").to_csv(copy / f"{table}.csv", index=False)
    name = _names(results)[0]
    paths = [
        *figures.plot_figure(copy, "exit_heatmap"),
        *figures.plot_figure(copy, "outcomes"),
        *figures.plot_figure(copy, "network"),
    ]
    assert all(p.is_file() and p.stat().st_size > 1000 for p in paths)
    parquet = figures.Results.open(results).final_alignment(name)
    csv = figures.Results.open(copy).final_alignment(name)
    pd.testing.assert_frame_equal(parquet, csv, check_index_type=False)


def test_plots_never_import_the_model() -> None:
    tree = ast.parse(Path(figures.__file__).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            imported.add(("." * node.level) + (node.module or ""))
        elif isinstance(node, ast.Import):
            imported.update(a.name for a in node.names)
    assert not {m for m in imported if "model" in m or "ensemble" in m or "dynamics" in m}


def test_levers_figure_shows_the_targets_of_each_scenario(tmp_path: Path) -> None:
    lever = tmp_path / "lever.toml"
    lever.write_text(
        f'extends = "{BASELINE.as_posix()}"\nname = "lever"\n'
        'targets = ["clash_answer_rate", "Armenia answered"]\n[alliance]\ndecision = "leader"\n'
    )
    from csto_sim.analysis.report import compare

    compare([BASELINE, lever], runs=6, out=tmp_path / "r", workers=1, progress=False)
    fig = figures.levers_figure(tmp_path / "r")
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert [label.split(" (")[0] for label in labels] == [
        "lever: clash_answer_rate",
        "lever: Armenia answered",
    ]
