"""Figures of a results folder: every file written, pole colours fixed, results-only reading."""

from __future__ import annotations

import ast
import colorsys
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import BASELINE, ROOT
from matplotlib.collections import PathCollection, PolyCollection
from matplotlib.colors import to_hex, to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from csto_sim.experiments.ensemble import run_ensemble
from csto_sim.experiments.results import Results, read_table
from csto_sim.viz import figures
from csto_sim.viz.figures import POLE_COLOURS, plot_all
from csto_sim.viz.outcomes import _share_dots

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
    per_scenario = ("alignment_fan", "alignment_stack")
    shared = {
        f"{stem}.{fmt}"
        for stem in (
            "cohesion",
            "outcomes",
            "exit_heatmap",
            "responses",
            "differences",  # no scenario names targets: no levers figure
            "network",
        )
    }
    return shared | {f"{stem}_{n}.{fmt}" for stem in per_scenario for n in names}


def drawn_share(png: Path) -> float:
    """The share of a PNG's pixels that are not (near) white."""
    from matplotlib.image import imread

    pixels = imread(png)[..., :3]
    return float((pixels.min(axis=-1) < 0.9).mean())


def _names(results: Path) -> list[str]:
    return [s["name"] for s in json.loads((results / "manifest.json").read_text())["scenarios"]]


@pytest.mark.parametrize("fmt", ["png", pytest.param("svg", marks=pytest.mark.slow)])
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
            assert drawn_share(path) > 0.04, path  # drawn content, not a blank canvas
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


def _spread(results: Path, name: str) -> pd.Series:
    """Each member's largest range of an alignment weight over years and runs."""
    ts = read_table(results, "timeseries")
    ts = ts[ts["scenario"] == name]
    weights = ts.filter(like="w_").groupby(ts["member"])
    return (weights.max() - weights.min()).max(axis=1)


def _legend_colours(fig: Figure) -> dict[str, str]:
    """Label -> colour (hex, no alpha) of each entry of a figure's legends."""
    out = {}
    for legend in fig.legends:
        for handle, text in zip(legend.legend_handles, legend.get_texts(), strict=True):
            colour = handle.get_facecolor() if isinstance(handle, Patch) else handle.get_color()
            out[text.get_text()] = to_hex(colour, keep_alpha=False).upper()
    return out


def test_figures_use_the_pole_colours(results: Path) -> None:
    name = _names(results)[1]
    fan = figures.fan_chart_figure(results, name)
    panels = [ax for ax in fan.axes if ax.get_title()]
    lines = [ln for ax in panels for ln in ax.get_lines() if ln.get_label() in FIXED]
    assert len(lines) == 4 * len(panels)  # four poles in each member panel
    for line in lines:
        assert to_hex(line.get_color()).upper() == FIXED[line.get_label()]
    legend = _legend_colours(fan)
    assert {p: legend[p] for p in FIXED} == FIXED  # the real colours, not grey swatches

    stack = figures.composition_figure(results, name)
    areas = [c for ax in stack.axes for c in ax.collections if isinstance(c, PolyCollection)]
    areas = [a for a in areas if not a.get_label().startswith("_")]
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


def test_alignment_figures_drop_uninformative_members_and_mark_exits(results: Path) -> None:
    name = _names(results)[0]
    contents = json.loads((results / "manifest.json").read_text())["scenarios"][0]["contents"]
    members, poles = list(contents["members"]), list(contents["poles"])
    spread = _spread(results, name)
    ts = read_table(results, "timeseries", ["scenario", "status"])
    statuses = set(ts.loc[ts["scenario"] == name, "status"]) - {"active"}
    assert statuses and set(members) & set(poles)  # the fixture has both cases
    for build in (figures.fan_chart_figure, figures.composition_figure):
        fig = build(results, name)
        titles = {ax.get_title() for ax in fig.axes if ax.get_visible() and ax.get_title()}
        assert titles and not titles & set(poles)  # a pole's own state: no panel
        assert all(spread[m] >= 0.03 for m in titles)  # constant members: no panel
        assert all(m in fig._suptitle.get_text() for m in set(members) - titles)
        labels = set(_legend_colours(fig))
        assert {f"{s} (share of runs)" for s in statuses} <= labels


def test_cohesion_draws_each_scenario_over_the_reference(results: Path) -> None:
    names = _names(results)
    fig = figures.cohesion_figure(results)
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title().split(" (")[0] for ax in panels] == names
    styles = figures.scenario_colours(names)
    for ax, name in zip(panels, names, strict=True):
        own = [ln for ln in ax.get_lines() if ln.get_label() == name]
        assert len(own) == 1 and to_hex(own[0].get_color()).upper() == styles[name][0].upper()
        assert len(ax.get_lines()) == (1 if name == names[0] else 2)  # the reference drawn too


def test_scenario_colours_differ_in_hue() -> None:
    colours = [c for c, _ in figures.scenario_colours([f"s{i}" for i in range(6)]).values()]
    assert len(set(colours)) == 6
    hues = [colorsys.rgb_to_hsv(*to_rgb(c))[0] * 360 for c in colours if c != "#000000"]
    gaps = [min(abs(a - b), 360 - abs(a - b)) for i, a in enumerate(hues) for b in hues[:i]]
    assert min(gaps) >= 30  # no two shades of one hue among six scenarios


def _count_axes(fig: Figure) -> list:
    return [ax for ax in fig.axes if ax.get_ylabel() == "members (count)"]


def test_outcomes_draw_counts_with_integer_ticks(results: Path) -> None:
    fig = figures.outcomes_figure(results)
    counts = _count_axes(fig)
    assert len(counts) == 3
    for ax in counts:
        assert not [c for c in ax.collections if isinstance(c, PolyCollection)]  # no boxes
        lo, hi = ax.get_ylim()
        ticks = [t for t in ax.get_yticks() if lo <= t <= hi]
        assert ticks and all(float(t).is_integer() for t in ticks)
        dots = [c for c in ax.collections if isinstance(c, PathCollection)]
        shares = [float(t.get_text().rstrip("%")) for t in ax.texts if t.get_text().endswith("%")]
        assert len(dots) == len(_names(results))
        assert sum(shares) == pytest.approx(100 * len(dots), abs=len(shares))


def test_a_figure_with_nothing_drawn_is_not_saved(tmp_path: Path) -> None:
    from csto_sim.viz.canvas import no_data, save_figure

    fig = Figure()
    no_data(fig.subplots(), "nothing to compare")
    with pytest.raises(ValueError, match="nothing drawn") as info:
        save_figure(fig, tmp_path, "empty", "png")
    assert not list(tmp_path.iterdir())
    from csto_sim.cli.common import usage_message  # one line at the command line, exit 2

    assert usage_message(info.value) == f"{tmp_path}: empty: {info.value.message}"


@pytest.mark.parametrize("name", ["plot_sensitivity", "plot_identifiability", "plot_posterior"])
def test_fit_figures_of_empty_or_missing_tables_name_them(tmp_path: Path, name: str) -> None:
    """A fit's figure handed an empty frame (or a folder without its table) is one line
    naming the table, not pandas' error; nothing is drawn."""
    from csto_sim.viz import fits

    plot = getattr(fits, name)
    with pytest.raises(ValueError, match=r"\.csv: missing: nothing to draw"):
        plot(tmp_path)
    frames = {
        "plot_sensitivity": {"indices": pd.DataFrame()},
        "plot_identifiability": {"trials": pd.DataFrame(), "ident": pd.DataFrame()},
        "plot_posterior": {"samples": pd.DataFrame(), "ident": pd.DataFrame()},
    }[name]
    with pytest.raises(ValueError, match="no rows: nothing to draw"):
        plot(tmp_path, **frames)
    assert not (tmp_path / "figures").exists() or not list((tmp_path / "figures").iterdir())


def test_constant_count_gets_one_integer_tick() -> None:
    fig = Figure()
    ax = fig.subplots()
    _share_dots(ax, [np.full(7, 5.0)], [("#000000", "-")])
    lo, hi = ax.get_ylim()
    assert [t for t in ax.get_yticks() if lo <= t <= hi] == [5.0]
    assert [t.get_text() for t in ax.texts] == ["100%"]


def test_network_is_one_figure_with_status_shares(results: Path) -> None:
    names = _names(results)
    fig = figures.network_figure(results)
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title().split("\n")[0] for ax in panels] == names
    members = read_table(results, "members")
    first = members[members["scenario"] == names[0]]
    shares = first.groupby("member")["status_final"].value_counts(normalize=True)
    captions = [t.get_text() for t in panels[0].texts if "\n" in t.get_text()]
    for member in first["member"].unique():
        (text,) = [c for c in captions if c.startswith(member + "\n")]
        status, share = text.split("\n")[-1].rsplit(" ", 1)
        assert shares[member, status.replace("not a member", "non_member")] == pytest.approx(
            float(share.rstrip("%")) / 100, abs=0.006
        )
    ties = [ln for ax in panels for ln in ax.get_lines()]
    assert ties
    for line in ties:  # greys: no tie looks like a pole
        r, g, b = to_rgb(line.get_color())
        assert r == g == b
    full = [ln.get_linewidth() for ln in panels[1].get_lines()]
    assert full and max(full) < 1.0  # the same graph again is drawn faint


def test_reads_csv_results(results: Path, tmp_path: Path) -> None:
    copy = tmp_path / "csv"
    copy.mkdir()
    shutil.copy(results / "manifest.json", copy / "manifest.json")
    for table in json.loads((results / "manifest.json").read_text())["tables"]:  # all: a
        read_table(results, table).to_csv(
            copy / f"{table}.csv", index=False
        )  # missing one is refused
    name = _names(results)[0]
    paths = [
        *figures.plot_figure(copy, "exit_heatmap"),
        *figures.plot_figure(copy, "outcomes"),
        *figures.plot_figure(copy, "network"),
    ]
    assert all(p.is_file() and p.stat().st_size > 1000 for p in paths)
    parquet = Results.open(results).final_alignment(name)
    csv = Results.open(copy).final_alignment(name)
    pd.testing.assert_frame_equal(parquet, csv, check_index_type=False)


def test_plots_never_import_the_model() -> None:
    imported = set()
    viz = Path(figures.__file__).parent
    drawing = ("figures", "canvas", "alignment", "outcomes", "differences", "relations", "fits")
    trees = [ast.parse((viz / f"{name}.py").read_text()) for name in drawing]
    every = [node for tree in trees for node in ast.walk(tree)]
    for node in every:
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
    # worded by the registry of measures, each difference in its unit
    assert [label.split(" (")[0] for label in labels] == [
        "lever: share of clash requests answered",
        "lever: Armenia: answered requests",
    ]
    assert labels[0].endswith(" share of requests)") and labels[1].endswith(" requests)")
    assert "of the difference between two independent runs" in fig.axes[0].get_xlabel()


def test_percent_labels_round_before_choosing_decimals() -> None:
    from csto_sim.viz.canvas import percent_label

    assert [percent_label(x) for x in (0.07000000000000001, 0.025, 0.455, 1.0)] == [
        "7%",
        "2.5%",
        "46%",
        "100%",
    ]


def test_a_damaged_table_is_named_in_one_line(results: Path, tmp_path, capsys):
    """A truncated Parquet table ends plot with one line naming the file, exit 2."""
    import shutil

    from csto_sim.cli import main

    broken = tmp_path / "broken"
    shutil.copytree(results, broken)
    chunk = sorted((broken / "runs").glob("*.parquet"))[0]
    chunk.write_bytes(chunk.read_bytes()[: chunk.stat().st_size // 2])
    assert main(["plot", str(broken)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"{chunk}: damaged" in err[0]


def test_a_plot_that_fails_writes_nothing_and_a_new_format_replaces_the_old(
    results: Path, tmp_path: Path
) -> None:
    """Figures are drawn before any is saved: a folder without a table one of them needs
    gets no figures (it got four, then the error); plotting in another format leaves no
    figures of the earlier one in the folder's own figures/."""
    from csto_sim.experiments.results import ResultsError

    partial = tmp_path / "partial"
    shutil.copytree(results, partial, ignore=shutil.ignore_patterns("figures"))
    manifest = json.loads((partial / "manifest.json").read_text())
    manifest["tables"].pop("timeseries")
    (partial / "manifest.json").write_text(json.dumps(manifest))
    shutil.rmtree(partial / "timeseries")
    with pytest.raises(ResultsError, match="timeseries"):
        plot_all(partial)
    assert not (partial / "figures").exists()
    copy = tmp_path / "copy"
    shutil.copytree(results, copy, ignore=shutil.ignore_patterns("figures"))
    first = plot_all(copy, fmt="png")
    (copy / "figures" / "notes.txt").write_text("mine")  # not a figure: kept
    second = plot_all(copy, fmt="svg")
    assert sorted(p.name for p in (copy / "figures").iterdir()) == sorted(
        ["notes.txt", *(p.name for p in second)]
    )
    assert len(first) == len(second)
