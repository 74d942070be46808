"""The figures that draw the report's numbers, from the one comparison: paired differences
against the reference and the exit heat map (start status apart from freezes and
withdrawals during the run)."""

from __future__ import annotations

import pytest
from conftest import standalone_text
from matplotlib.container import ErrorbarContainer

from csto_sim.analysis.comparison import Comparison
from csto_sim.analysis.measures import measure
from csto_sim.analysis.report import compare
from csto_sim.cli import main
from csto_sim.experiments.ensemble import run_ensemble
from csto_sim.viz import figures
from csto_sim.viz.differences import DIFFERENCE_PANELS, HEATMAP_PATHS


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


@pytest.mark.slow
def test_plot_all_writes_the_differences_figure(folder):
    paths = {p.name: p for p in figures.plot_all(folder)}
    for name in ("differences.png", "exit_heatmap.png"):
        assert paths[name].is_file() and paths[name].stat().st_size > 10_000


def test_differences_figure_draws_the_reports_intervals(folder):
    c = Comparison.of(folder)
    fig = figures.differences_figure(c)
    fig.draw_without_rendering()
    paired = c.paired.set_index("measure")
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert len(panels) == len(DIFFERENCE_PANELS)
    for ax, outcome in zip(panels, DIFFERENCE_PANELS, strict=True):
        assert ax.get_title().startswith(measure(outcome).title)  # the registry's wording
        (bar,) = [b for b in ax.containers if isinstance(b, ErrorbarContainer)]
        segment = bar.lines[2][0].get_segments()[0]  # the horizontal interval line
        low, high = sorted(segment[:, 0])
        row = paired.loc[outcome]
        assert (low, high) == pytest.approx((row["ci_low"], row["ci_high"]))
    assert [t.get_text() for t in panels[0].get_yticklabels()] == ["weak"]


def test_exit_heatmap_draws_the_reports_membership_numbers(folder):
    c = Comparison.of(folder)
    fig = figures.exit_heatmap_figure(c)
    titles = [ax.get_title() for ax in fig.axes[:4]]
    assert titles == list(HEATMAP_PATHS.values())
    members = list(dict.fromkeys(c.paths["member"]))
    assert "Russia" not in members and len(members) == 5  # the leader never leaves
    for ax, path in zip(fig.axes[:4], HEATMAP_PATHS, strict=True):
        rows = c.paths[c.paths["path"] == path].set_index(["member", "scenario"])
        expected = [
            f"{100 * r.p:.0f}%\n[{100 * r.ci_low:.0f}-{100 * r.ci_high:.0f}]"
            for m in members
            for r in [rows.loc[(m, n)] for n in c.names]
        ]
        assert [t.get_text() for t in ax.texts] == expected
    start = c.paths.set_index(["scenario", "member", "path"])["p"]
    assert start["base", "Armenia", "frozen_at_start"] == 1.0


@pytest.mark.slow
def test_plot_draws_a_run_folder_from_its_comparison_not_from_summary_csv(tmp_path):
    base = tmp_path / "standalone.toml"
    base.write_text(standalone_text())
    out = tmp_path / "run"
    run_ensemble([base], runs=4, out=out, workers=1, progress=False)
    (out / "summary.csv").write_text("garbage,x\n1,2\n")  # no view reads another's output
    assert main(["plot", str(out)]) == 0
    fig = figures.exit_heatmap_figure(out)
    assert all(ax.axison for ax in fig.axes[:4])  # every panel has data
    drawn = {p.name for p in (out / "figures").iterdir()}
    assert "differences.png" not in drawn and "levers.png" not in drawn  # nothing to compare
