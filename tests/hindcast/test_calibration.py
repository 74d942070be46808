"""Calibration (optuna, resumable) and scenario discovery (PRIM) through their commands."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("optuna")
pytest.importorskip("prim")

from conftest import ROOT

from csto_sim.analysis.discovery import find_boxes  # noqa: E402
from csto_sim.cli import main  # noqa: E402
from csto_sim.hindcast.calibration import calibrate, identifiability, trials_table  # noqa: E402


def test_calibration_starts_from_the_defaults_and_resumes(tmp_path):
    out = tmp_path / "cal"
    first = calibrate(3, out, runs=10, workers=1)
    assert len(first) == 3 and 0 in set(first["trial"])  # the defaults are trial 0
    again = calibrate(5, out, runs=10, workers=1)
    assert len(again) == 5  # two more trials, none repeated
    assert set(first["trial"]) <= set(again["trial"])
    table = trials_table(out)
    ident = identifiability(table, top=0.4)
    assert {"parameter", "best", "top_min", "top_max", "width"} <= set(ident.columns)
    assert (ident["width"].between(0, 1)).all()


def test_prim_finds_a_planted_box():
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.random((600, 3)), columns=["a", "b", "c"])
    y = ((x["a"] > 0.6) & (x["b"] < 0.3)).to_numpy()
    boxes = find_boxes(x, y)
    first = boxes[boxes["box"] == 1].set_index("factor")
    assert set(first.index) == {"a", "b"}
    assert first.loc["a", "low"] == pytest.approx(0.6, abs=0.05)
    assert first.loc["b", "high"] == pytest.approx(0.3, abs=0.05)
    assert first["density"].iloc[0] > 0.9 and first["coverage"].iloc[0] > 0.8


@pytest.mark.slow  # the discover command on 240 runs, in a process of its own
def test_discover_reports_boxes_for_collapse(tmp_path):
    out = tmp_path / "d"
    cmd = [
        sys.executable, "-m", "csto_sim.cli", "discover", str(ROOT / "scenarios" / "russia_weakened.toml"),
        "--outcome", "collapsed", "--samples", "40", "--replicas", "6", "--workers", "1",
        "--params", "leader_strength=0.3:1.2", "freeze_threshold", "exit_cost_weight",
        "--out", str(out), "--quiet",
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "Box 1: coverage" in done.stdout and "density" in done.stdout
    boxes = pd.read_csv(out / "boxes.csv")
    assert len(boxes) and boxes["coverage"].between(0, 1).all()


def test_bad_analysis_options_exit_2(tmp_path, capsys):
    base = str(ROOT / "scenarios" / "baseline.toml")
    assert main(["discover", base, "--outcome", "exit:Narnia", "--out", str(tmp_path / "x")]) == 2
    assert main(["sensitivity", base, "--params", "nope=0:1", "--out", str(tmp_path / "y")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "--outcome" in err[0] and "--params" in err[1]
