"""Commands as a user types them: the same report from CSV and Parquet, library errors mapped
to one line naming the option."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import BASELINE, SCENARIOS

from csto_sim.cli import main
from csto_sim.experiments.results import read_table


def _named(tmp_path: Path, name: str, base: Path) -> Path:
    path = tmp_path / f"s{name}.toml"
    path.write_text(f'extends = "{base.as_posix()}"\nname = "{name}"\n', encoding="utf-8")
    return path


@pytest.mark.slow  # two comparisons, each with its conditioned histories
def test_compare_csv_with_numeric_scenario_names_gives_the_parquet_report(tmp_path, capsys):
    one = _named(tmp_path, "1", BASELINE)
    two = _named(tmp_path, "2", SCENARIOS / "russia_weakened.toml")
    common = ["compare", str(one), str(two), "--runs", "12", "--workers", "1", "--quiet"]
    assert main([*common, "--out", str(tmp_path / "pq"), "--no-plots"]) == 0
    assert main([*common, "--out", str(tmp_path / "csv"), "--format", "csv"]) == 0
    pq_report = (tmp_path / "pq" / "report.md").read_text()
    csv_report = (tmp_path / "csv" / "report.md").read_text()
    assert csv_report == pq_report
    assert "| 2 " in pq_report  # the paired table compares scenario "2" with "1"
    paired = pd.read_csv(tmp_path / "csv" / "summary.csv", dtype={"scenario": str})
    assert set(paired["scenario"]) == {"1", "2"}
    assert (tmp_path / "csv" / "figures" / "cohesion.png").exists()


def test_csv_text_columns_stay_text(tmp_path):
    one = _named(tmp_path, "7", BASELINE)
    assert (
        main(
            [
                "run",
                str(one),
                "--runs",
                "3",
                "--workers",
                "1",
                "--quiet",
                "--format",
                "csv",
                "--out",
                str(tmp_path / "r"),
            ]
        )
        == 0
    )
    runs = read_table(tmp_path / "r", "runs")
    events = read_table(tmp_path / "r", "events")
    assert runs["scenario"].tolist() == ["7", "7", "7"]
    assert (runs["error"] == "").all() and (events["label"] == "").any()
    assert runs["cohesion_final"].dtype == float


def test_library_errors_name_the_option(tmp_path, capsys):
    args = ["sensitivity", str(BASELINE), "--samples", "4", "--out", str(tmp_path / "s")]
    assert main([*args, "--params", "no_such=0:1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("csto-sim: --params: unknown factor 'no_such'")
    assert main([*args, "--params", "freeze_threshold=0.6:0.2"]) == 2
    assert "--params: freeze_threshold: the low end" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:  # refused as the command line is read
        main([*args, "--outcome", "cohesion"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "argument --outcome: invalid choice: 'cohesion'" in err[0]


def test_sobol_samples_that_are_not_a_power_of_two_are_refused_in_one_line(tmp_path, capsys):
    out = tmp_path / "s"
    args = ["sensitivity", str(BASELINE), "--samples", "100", "--out", str(out)]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "csto-sim: --samples: Sobol' sampling needs a power of two, not 100 (try 64 or 128)"
    ]
    assert not out.exists()


def test_compare_names_the_files_that_share_a_name(tmp_path, capsys):
    twin = tmp_path / "twin.toml"
    twin.write_text(f'extends = "{BASELINE.as_posix()}"\nname = "baseline"\n')
    assert main(["compare", str(BASELINE), str(twin), "--runs", "2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"csto-sim: scenarios: {BASELINE} and {twin} share the name 'baseline'; give each its own"
    ]


def test_a_reader_that_stops_early_ends_the_command_quietly():
    """`csto-sim params | head -1`: the closed pipe ends the command with 141, as a shell
    gives a command whose reader left, without a BrokenPipeError traceback."""
    import os
    import subprocess
    import sys

    from conftest import ROOT

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    code = "from csto_sim.cli import console; console()"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "params"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    proc.stdout.close()  # the reader leaves before the first line
    err = proc.stderr.read()
    assert proc.wait() == 141 and b"Traceback" not in err, err
