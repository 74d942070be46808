"""The summary ``csto-sim run`` prints: tables with one header row and one precision, the
registry's titles, the chance of collapse with its interval."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import BASELINE, synthetic_comparison

from csto_sim.cli import main
from csto_sim.cli.run import summary
from csto_sim.experiments.results import read_table


def test_summary_tables_format_each_kind_of_figure():
    runs = pd.DataFrame(
        {
            "scenario": "s",
            "status": ["ok", "ok", "ok", "error"],
            "cohesion_final": [0.31, 0.35, 0.4, float("nan")],
            "requests": [2, 3, 7, 0],
            "response_rate": [0.5, 1 / 3, float("nan"), float("nan")],
            "unanswered_severity": [9.5, 12.25, 14.0, 0.0],
            "collapsed": [False, True, False, False],
            "collapse_year": [float("nan"), 2030.0, float("nan"), float("nan")],
        }
    )
    members = pd.DataFrame(
        {
            "scenario": "s",
            "run": [0, 0, 1, 1, 2, 2],
            "member": ["A", "Bb", "A", "Bb", "A", "Bb"],
            "status_final": ["active", "frozen", "active", "withdrawn", "frozen", "frozen"],
        }
    )
    assert summary(synthetic_comparison(runs, members, reference="s")).splitlines() == [
        "s: 4 runs (1 failed)",
        "",
        "Share of runs in which each member ends in each status:",
        "  member  active  frozen  withdrawn",
        "  A          67%     33%         0%",
        "  Bb          0%     67%        33%",
        "",
        "Outcomes over runs (5% and 95% are percentiles; runs differ in their dice):",
        "  outcome                               mean  median     5%     95%",
        "  cohesion at the end                  0.353   0.350  0.314   0.395",
        "  requests for help                    4.000   3.000  2.100   6.600",
        "  share of requests answered           0.417   0.417  0.342   0.492",
        "  severity left unanswered by anyone  11.917  12.250  9.775  13.825",
        "",
        "Chance of collapse by the end year: 0.33 [0.06, 0.79] (95% interval over the dice)",
    ]


def test_run_prints_the_summary(tmp_path, capsys):
    args = ["run", str(BASELINE), "--runs", "10", "--workers", "1", "--out", str(tmp_path / "r")]
    assert main([*args, "--tables", "runs,members"]) == 0
    out = capsys.readouterr().out.splitlines()
    status = out.index("  member      active  frozen  withdrawn")  # one header row
    assert out[status + 1].startswith("  Belarus ") and out[status + 1].endswith("%")
    assert not any(line.startswith("  Russia ") for line in out)  # the leader never leaves
    assert "parameter draws" in "\n".join(out)  # the baseline draws from the posterior
    outcome = next(line for line in out if line.startswith("  active members at the end "))
    cells = outcome.split()[-4:]
    assert all(len(c.split(".")[1]) == 3 for c in cells)  # one precision per table


@pytest.mark.slow
def test_parameters_set_over_a_posterior_are_named_as_fixed(tmp_path, capsys):
    variant = tmp_path / "variant.toml"
    variant.write_text(
        f'extends = "{BASELINE.as_posix()}"\nname = "variant"\n'
        "[parameters]\nfreeze_threshold = 0.5\nresponse_budget = 2.0\n",
        encoding="utf-8",
    )
    args = ["run", str(variant), "--runs", "2", "--workers", "1", "--quiet", "--tables", "runs"]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"csto-sim: note: {variant}: parameters freeze_threshold: set here, so")
    assert "fixed at these values in every run" in err
    assert "response_budget" not in err  # not in the posterior: the file's value is used anyway
    runs = read_table(tmp_path / "a", "runs")
    assert "sample" in runs  # the other parameters are drawn
    assert main([*args, "--out", str(tmp_path / "b"), "--posterior", "none"]) == 0
    assert capsys.readouterr().err == ""
