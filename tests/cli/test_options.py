"""Every option checked before work starts: a value out of its bound (csto_sim/cli/options.py),
an --out in the way, or bad factor ranges is one line naming the option, exit 2, at once."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import BASELINE, HINDCAST, ROOT, SCENARIOS

from csto_sim.cli import main
from csto_sim.cli.options import BOUNDS

QUESTIONS = ROOT / "forecasts" / "questions_2026_2030.toml"
FORECAST = ROOT / "forecasts" / "forecast_2026_2030.csv"
HUGE = "9" * 30
RUN = ["run", str(BASELINE)]
DISCOVER = ["discover", str(BASELINE)]


def one_line(capsys, argv: list[str]) -> str:
    """The one line of a command refused with exit 2."""
    try:
        code = main(argv)
    except SystemExit as exc:  # the parser's own errors
        code = exc.code
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2, err
    assert len(err) == 1 and "Traceback" not in err[0], err
    return err[0]


@pytest.mark.parametrize(
    ("argv", "option"),
    [
        ([*RUN, "--seed", HUGE], "--seed"),
        ([*RUN, "--workers", HUGE], "--workers"),
        ([*RUN, "--runs-per-draw", HUGE], "--runs-per-draw"),
        ([*RUN, "--runs", "9" * 5000], "--runs"),  # past int()'s digit limit: quoted short
        (["sensitivity", str(BASELINE), "--replicas", HUGE], "--replicas"),
        ([*DISCOVER, "--samples", HUGE], "--samples"),
        ([*DISCOVER, "--interest", "nan"], "--interest"),
        ([*DISCOVER, "--interest", "inf"], "--interest"),
        ([*DISCOVER, "--interest", "-1"], "--interest"),
        (["calibrate", "--trials", HUGE], "--trials"),
        (["calibrate", "--runs", HUGE], "--runs"),
        (["posterior", "--simulations", HUGE], "--simulations"),
        (["posterior", "--recovery", HUGE], "--recovery"),
        (["swing", str(BASELINE), "--seed", "-1"], "--seed"),
        ([*DISCOVER, "--params", "request_base=0:inf"], "--params"),
        ([*DISCOVER, "--params", "request_base=nan:1"], "--params"),
        ([*DISCOVER, "--params", "freeze_threshold=0:5"], "--params"),  # past a hard bound
        (["sensitivity", str(BASELINE), "--params", "memory_halflife=-1:0"], "--params"),
        ([*DISCOVER, "--params", "leader_strength=-5:-1"], "--params"),
        (["forecast", str(QUESTIONS), "--tables", "events"], "--tables"),  # answers need both
        (["swing", str(BASELINE), "--judgement", "baseline.leverage.Russia"], "--judgement"),
        (["swing", str(BASELINE), "--judgements", "--record-runs", "50"], "--record-runs"),
        (["swing", str(BASELINE), "--record-runs", "0"], "--record-runs"),
        ([*DISCOVER, "--params", "leader_strength=0.5:1", "leader_strength=1:2"], "--params"),
        ([*RUN, "--resume", "--overwrite"], "--overwrite"),  # they contradict each other
        (["sensitivity", str(BASELINE), "--outcome", "foo"], "--outcome"),
        (["validate", "--runs", "2", "--tables", "runs,members,alliance"], "--tables"),
        (["sensitivity", str(BASELINE), "--dask", "nonsense"], "--dask"),
        ([*DISCOVER, "--dask", "tcp://host"], "--dask"),  # no port
        ([*RUN, "--tables", ",,"], "--tables"),  # no table at all
        (["compare", str(BASELINE), "--tables", "runs,members"], "--tables"),  # figures need more
        ([*RUN, "--posterior", ""], "--posterior"),
    ],
)
def test_a_bad_option_value_names_the_option(capsys, argv, option):
    line = one_line(capsys, argv)
    assert f"{option}:" in line and len(line) < 200, line


def test_every_bound_is_said_with_the_option():
    """One table of bounds; the messages quote them."""
    assert BOUNDS["runs"] == (1, 1_000_000) and BOUNDS["seed"][1] == 2**63 - 1
    assert all(low <= high for low, high in BOUNDS.values())


@pytest.mark.parametrize(
    "argv",
    [
        RUN,
        ["compare", str(BASELINE), str(SCENARIOS / "russia_weakened.toml")],
        ["validate"],
        ["forecast", str(QUESTIONS)],
        ["sensitivity", str(BASELINE)],
        DISCOVER,
        ["calibrate"],
        ["posterior"],
    ],
)
def test_an_out_that_is_a_file_is_refused_before_any_work(tmp_path, capsys, argv):
    (tmp_path / "f").write_text("x")
    line = one_line(capsys, [*argv, "--out", str(tmp_path / "f")])
    assert line.endswith(f"argument --out: {tmp_path / 'f'} is a file, not a folder")
    (tmp_path / "link").symlink_to(tmp_path / "gone" / "deeper")
    line = one_line(capsys, [*argv, "--out", str(tmp_path / "link")])
    assert line.endswith(f"argument --out: {tmp_path / 'link'} is a link to a missing folder")


@pytest.mark.parametrize(
    "argv", [["swing", str(BASELINE)], ["score", str(FORECAST), str(FORECAST)]]
)
def test_a_csv_out_that_is_a_folder_or_has_no_folder_is_refused_before_any_work(
    tmp_path, capsys, argv
):
    assert "is a folder, not a file" in one_line(capsys, [*argv, "--out", str(tmp_path)])
    missing = tmp_path / "no" / "x.csv"
    assert "no folder" in one_line(capsys, [*argv, "--out", str(missing)])
    # a place no one can write (root included): refused as the command line is read
    assert "cannot write it" in one_line(capsys, [*argv, "--out", "/proc/x.csv"])
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)  # opening it to try it would wait for a reader forever
    assert "not a regular file" in one_line(capsys, [*argv, "--out", str(fifo)])


def test_a_csv_out_that_names_an_input_is_refused_and_the_input_kept(tmp_path, capsys):
    scenario = tmp_path / "mine.toml"
    scenario.write_text(BASELINE.read_text().replace('"hindcast', f'"{SCENARIOS}/hindcast'))
    before = scenario.read_text()
    argv = ["swing", str(scenario), "--judgements", "--runs", "2", "--out", str(scenario)]
    assert "is an input of this command" in one_line(capsys, argv)
    assert scenario.read_text() == before


def test_an_out_that_is_an_input_under_another_name_is_refused(tmp_path, capsys):
    """A hard link is the same file: writing it would replace the input."""
    scenario = tmp_path / "mine.toml"
    scenario.write_text(BASELINE.read_text().replace('"hindcast', f'"{SCENARIOS}/hindcast'))
    before = scenario.read_text()
    os.link(scenario, tmp_path / "link.csv")
    argv = ["swing", str(scenario), "--judgements", "--runs", "2"]
    assert "is an input of this command" in one_line(
        capsys, [*argv, "--out", str(tmp_path / "link.csv")]
    )
    assert scenario.read_text() == before


def test_calibrate_refuses_a_missing_extends_before_anything(tmp_path, capsys):
    out = tmp_path / "c"
    line = one_line(
        capsys, ["calibrate", "--extends", str(tmp_path / "no.toml"), "--out", str(out)]
    )
    assert "no.toml: no such file" in line
    assert not out.exists()


def test_validate_refuses_a_projection_scenario(capsys):
    line = one_line(capsys, ["validate", "--scenario", str(BASELINE), "--runs", "2"])
    assert line.startswith("csto-sim: --scenario:") and "not a hindcast" in line
    assert HINDCAST.name in line


def test_the_installed_command_says_it_in_one_line(tmp_path):
    (tmp_path / "f").write_text("x")
    done = subprocess.run(
        [sys.executable, "-m", "csto_sim", "posterior", "--out", str(tmp_path / "f")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        f"csto-sim posterior: error: argument --out: {tmp_path / 'f'} is a file, not a folder"
    ]


def test_a_target_the_report_does_not_compare_is_refused_by_check_and_run(tmp_path, capsys):
    """A misspelt target was accepted and reported as 'not measured' after the runs."""
    mine = tmp_path / "t.toml"
    mine.write_text(f'extends = "{BASELINE.as_posix()}"\nname = "t"\ntargets = ["cohesion_fnal"]\n')
    for argv in (
        ["check", str(mine)],
        ["run", str(mine), "--runs", "1", "--out", str(tmp_path / "o")],
    ):
        line = one_line(capsys, argv)
        assert "targets[0]: 'cohesion_fnal' is not an outcome" in line
        assert "did you mean 'cohesion_final'" in line
    assert not (tmp_path / "o").exists()


def test_figures_that_cannot_be_written_are_one_line(tmp_path, capsys, monkeypatch):
    """A folder the user may not write in (or a full disk) while drawing: no traceback."""
    import csto_sim.viz.figures as figures

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(figures, "plot_all", refuse)
    argv = ["compare", str(BASELINE), "--runs", "2", "--workers", "1", "--quiet"]
    line = one_line(capsys, [*argv, "--out", str(tmp_path / "c")])
    assert line.startswith("csto-sim: cannot write the figures in") and "Permission denied" in line
    assert (tmp_path / "c" / "report.md").exists()  # the tables and the report are saved


def test_an_interrupt_while_the_package_loads_is_one_line(capsys, monkeypatch):
    """Ctrl-C in the first second (the imports) ended in a traceback."""
    import csto_sim.cli
    from csto_sim.__main__ import console

    def interrupted():
        raise KeyboardInterrupt

    monkeypatch.setattr(csto_sim.cli, "console", interrupted)
    with pytest.raises(SystemExit) as info:
        console()
    assert info.value.code == 130
    assert capsys.readouterr().err.strip().splitlines() == ["csto-sim: interrupted"]
