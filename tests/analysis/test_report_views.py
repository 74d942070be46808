"""``csto-sim compare`` as a user meets it: with one scenario and with two it writes a report
without this machine's paths, one precision per table, and only figures with drawn content."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import BASELINE, standalone_text

from csto_sim.cli import main

NUMBER = re.compile(r"(?<![\w.])[-+]?\d+\.(\d+)(?![\w.])")


def _tables(report: str) -> list[list[str]]:
    """The rows of the report's Markdown tables of numbers (not those of descriptions or
    definitions)."""
    tables, current = [], []
    for line in [*report.splitlines(), ""]:
        if line.startswith("|"):
            current.append(line)
        elif current:
            if not re.search(r"description|definition", current[0]):
                tables.append(current[2:])
            current = []
    return tables


@pytest.mark.parametrize("count", [1, pytest.param(2, marks=pytest.mark.slow)])
def test_compare_writes_a_clean_report_and_drawn_figures(tmp_path, monkeypatch, count):
    from matplotlib.image import imread

    files = [tmp_path / "standalone.toml", tmp_path / "weak.toml"]
    files[0].write_text(standalone_text().replace('name = "baseline"', 'name = "base"', 1))
    files[1].write_text(
        'extends = "standalone.toml"\nname = "weak"\n[poles.Russia]\nstrength = 0.3\n'
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # absolute paths everywhere: none may reach the report
    out = tmp_path / "out"
    args = ["compare", *map(str, files[:count]), "--runs", "6", "--workers", "1"]
    assert main([*args, "--out", str(out), "--quiet", "--posterior", "none"]) == 0
    report = (out / "report.md").read_text(encoding="utf-8")
    assert str(tmp_path) not in report and str(Path.home()) not in report
    assert not re.search(r"-0\.0+(?!\d)", report)  # never a negative zero
    tables = _tables(report)
    assert len(tables) >= 4
    for rows in tables:
        digits = {len(d) for row in rows for d in NUMBER.findall(row)}
        assert len(digits) <= 1, rows  # one precision per table
    drawn = sorted((out / "figures").glob("*.png"))
    names = {p.name for p in drawn}
    assert ("differences.png" in names) == (count > 1)
    assert "levers.png" not in names  # no scenario names targets
    for png in drawn:
        pixels = imread(png)[..., :3]
        assert (pixels.min(axis=-1) < 0.9).mean() > 0.02, png  # not a blank canvas


def test_compare_refuses_an_unknown_reference_before_running(tmp_path):
    """csto_sim.compare checks ``reference`` against the scenarios' names first, as the
    command line does: nothing runs and no folder is written."""
    from csto_sim import compare
    from csto_sim.analysis.comparison import UnknownReference

    with pytest.raises(UnknownReference, match="no scenario named 'basline' \\(have: baseline"):
        compare([BASELINE], 2, tmp_path / "out", reference="basline")
    assert not (tmp_path / "out").exists()
