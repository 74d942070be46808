"""The figures that draw the report's numbers: paired differences against the reference
and the exit heat map (start status apart from freezes and withdrawals during the run)."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
from conftest import standalone_text
from matplotlib.container import ErrorbarContainer

from csto_sim.analysis.report import compare, comparison
from csto_sim.cli import main
from csto_sim.experiments.ensemble import run_ensemble
from csto_sim.viz import figures


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A comparison of a standalone baseline (Armenia frozen at the start) and a variant."""
    tmp = tmp_path_factory.mktemp("differences")
    (tmp / "standalone.toml").write_text(
        standalone_text().replace('name = "baseline"', 'name = "base"', 1)
    )
    (tmp / "weak.toml").write_text(
        'extends = "standalone.toml"\nname = "weak"\n[poles.Russia]\nstrength = 0.3\n'
    )
    out = tmp / "out"
    compare([tmp / "standalone.toml", tmp / "weak.toml"], runs=12, out=out, workers=1)
    return out


def test_plot_all_writes_the_differences_figure(folder):
    paths = {p.name: p for p in figures.plot_all(folder)}
    for name in ("differences.png", "exit_heatmap.png"):
        assert paths[name].is_file() and paths[name].stat().st_size > 10_000


def test_differences_figure_draws_the_reports_intervals(folder):
    fig = figures.differences_figure(folder)
    fig.draw_without_rendering()
    paired = comparison(folder)["paired"].set_index("measure")
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert len(panels) == len(figures.DIFFERENCE_PANELS)
    for ax, outcome in zip(panels, figures.DIFFERENCE_PANELS, strict=True):
        assert ax.get_title().startswith(figures.DIFFERENCE_PANELS[outcome])
        (bar,) = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
        segment = bar.lines[2][0].get_segments()[0]  # the horizontal interval line
        low, high = sorted(segment[:, 0])
        row = paired.loc[outcome]
        assert (low, high) == pytest.approx((row["ci_low"], row["ci_high"]))
    assert [t.get_text() for t in panels[0].get_yticklabels()] == ["weak"]


def test_exit_heatmap_draws_the_reports_membership_numbers(folder):
    drawn = figures.member_path_shares(folder).set_index(["scenario", "member", "path"])
    report = comparison(folder)["paths"].set_index(["scenario", "member", "path"])
    joined = drawn.join(report, how="inner", suffixes=("", "_report"))
    assert len(joined) == 2 * 6 * len(figures.HEATMAP_PATHS)
    for col in ("p", "ci_low", "ci_high"):
        np.testing.assert_allclose(joined[col], joined[f"{col}_report"])
    assert drawn.loc[("base", "Armenia", "frozen_at_start"), "p"] == 1.0
    fig = figures.exit_heatmap_figure(folder)
    titles = [ax.get_title() for ax in fig.axes[:4]]
    assert titles == list(figures.HEATMAP_PATHS.values())
    cells = [t.get_text() for t in fig.axes[0].texts]
    assert "100%\n[" in cells[-1]  # Armenia (last row), last scenario: frozen at the start


def test_plot_writes_the_summary_the_figures_draw_for_a_run_folder(tmp_path):
    base = tmp_path / "standalone.toml"
    base.write_text(standalone_text())
    out = tmp_path / "run"
    run_ensemble([base], runs=4, out=out, workers=1, progress=False)
    assert not (out / "summary.csv").exists()
    assert main(["plot", str(out)]) == 0
    summary = pd.read_csv(out / "summary.csv")
    assert "Armenia frozen_at_start" in set(summary["measure"])
    fig = figures.exit_heatmap_figure(out)
    assert all(ax.axison for ax in fig.axes[:4])  # every panel has data


@pytest.mark.slow  # a comparison and its figures
def test_plot_reads_an_older_summary_whose_measure_column_is_called_figure(folder, tmp_path):
    old = tmp_path / "old"
    shutil.copytree(folder, old, ignore=shutil.ignore_patterns("figures"))
    summary = pd.read_csv(old / "summary.csv")
    summary.rename(columns={"measure": "figure"}).to_csv(old / "summary.csv", index=False)
    assert main(["plot", str(old)]) == 0
    assert (old / "figures" / "differences.png").is_file()
    pd.testing.assert_frame_equal(
        figures.member_path_shares(old), figures.member_path_shares(folder)
    )
    fig = figures.differences_figure(old)
    drawn = [ax for ax in fig.axes if ax.get_visible() and ax.containers]
    assert len(drawn) == len(figures.DIFFERENCE_PANELS)
