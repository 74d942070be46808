"""The summary ``csto-sim run`` prints: tables with one header row, counts as counts, shares
in percent."""

from __future__ import annotations

import pandas as pd
from conftest import BASELINE

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
        }
    )
    members = pd.DataFrame(
        {
            "scenario": "s",
            "member": ["A", "Bb", "A", "Bb", "A", "Bb"],
            "status_final": ["active", "frozen", "active", "withdrawn", "frozen", "frozen"],
        }
    )
    assert summary(runs, members).splitlines() == [
        "s: 4 runs (1 failed)",
        "",
        "Share of runs in which each member ends in each status:",
        "  member  active  frozen  withdrawn",
        "  A          67%     33%         0%",
        "  Bb          0%     67%        33%",
        "",
        "Outcomes over runs (5% and 95% are percentiles; runs differ in their dice):",
        "  outcome               mean  median    5%   95%",
        "  cohesion_final        0.35    0.35  0.31  0.40",
        "  requests               4.0       3     2     7",
        "  response_rate          42%     42%   34%   49%",
        "  unanswered_severity   11.9    12.2   9.8  13.8",
        "  collapse probability   33%",
    ]


def test_run_prints_the_summary(tmp_path, capsys):
    args = ["run", str(BASELINE), "--runs", "10", "--workers", "1", "--out", str(tmp_path / "r")]
    assert main([*args, "--tables", "runs,members"]) == 0
    out = capsys.readouterr().out.splitlines()
    status = out.index("  member      active  frozen  withdrawn")  # one header row
    assert out[status + 1].startswith("  Russia ") and out[status + 1].endswith("%")
    assert "parameter draws" in "\n".join(out)  # the baseline draws from the posterior
    outcome = next(line for line in out if line.startswith("  n_active_final "))
    assert all(cell.replace(".", "", 1).isdigit() for cell in outcome.split()[1:])
    assert all(cell.isdigit() for cell in outcome.split()[3:])  # percentiles of a count


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
