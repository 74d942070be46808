"""The cases of issue 28 about posterior files and references, tried as a user would: each ends
with exit code 2 and one line naming the file (or exit 0 where the input is valid), no
traceback. The damaged registry is tried in ``tests/core/test_judgements.py``."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import ROOT, standalone_text

from csto_sim.cli import main


def _standalone(tmp_path, extra: str = ""):
    path = tmp_path / "standalone.toml"
    path.write_text(standalone_text() + extra, encoding="utf-8")
    return path


def _run(tmp_path, scenario, posterior) -> list[str]:
    args = ["run", str(scenario), "--runs", "2", "--workers", "1", "--quiet"]
    return [*args, "--posterior", str(posterior), "--out", str(tmp_path / "out")]


def test_a_fifo_as_posterior_is_refused_at_once(tmp_path):
    """Refused before it is opened (reading a FIFO waits for a writer forever); this passed
    before issue 28's change too (the hand-made check it replaces)."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    args = [sys.executable, "-m", "csto_sim", *_run(tmp_path, _standalone(tmp_path), fifo)]
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"csto-sim: --posterior: {fifo}: not a regular file (a posterior file is read from a "
        "regular file)"
    ]


def test_weights_near_the_largest_float_run(tmp_path, capsys):
    posterior = tmp_path / "big.csv"
    posterior.write_text("response_base,weight\n-5,1e308\n-6,1e308\n-7,1.7976931348623157e308\n")
    assert main(_run(tmp_path, _standalone(tmp_path), posterior)) == 0
    assert "Traceback" not in capsys.readouterr().err


def test_a_huge_integer_in_a_parameter_column_is_one_line(tmp_path, capsys):
    """An OverflowError traceback before."""
    posterior = tmp_path / "huge.csv"
    posterior.write_text(f"response_base,collapse_min_active\n-5,{10**400}\n")
    assert main(_run(tmp_path, _standalone(tmp_path), posterior)) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(
        f"csto-sim: --posterior: {posterior}: line 2, column 'collapse_min_active': expected a "
        "finite number, got '1000"
    ), line


def test_a_description_that_starts_with_an_at_sign_is_text(tmp_path, capsys):
    """Text, kept as written (this passed before issue 28's change too)."""
    scenario = _standalone(tmp_path, "")
    text = scenario.read_text(encoding="utf-8")
    scenario.write_text(
        text.replace('description = "', 'description = "@about this: ', 1), encoding="utf-8"
    )
    assert '"@about this: ' in scenario.read_text(encoding="utf-8")
    assert main(["run", str(scenario), "--runs", "2", "--workers", "1", "--quiet",
                 "--posterior", "none", "--out", str(tmp_path / "out")]) == 0  # fmt: skip
    assert "Traceback" not in capsys.readouterr().err
    assert main(["show", str(scenario)]) == 0
    assert 'description = "@about this: ' in capsys.readouterr().out


def test_a_number_given_text_that_starts_with_an_at_sign_is_one_line(tmp_path, capsys):
    """Taken as a reference to the judgement ' not an id' before."""
    scenario = _standalone(tmp_path, '\n[parameters]\nresponse_base = "@ not an id"\n')
    assert main(["check", str(scenario)]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(
        f"csto-sim: {scenario}: parameters.response_base: expected a number or a reference"
    ), line


def test_a_damaged_posterior_a_scenario_names_blames_the_scenario(tmp_path, capsys):
    """``check`` reads it too (it said ok), and ``run`` named --posterior, which was not given."""
    (tmp_path / "bad.csv").write_text("response_base,weight\nnan,1\n")
    scenario = tmp_path / "standalone.toml"
    text = standalone_text().replace('posterior = "production"', 'posterior = "bad.csv"', 1)
    scenario.write_text(text, encoding="utf-8")
    expected = f"csto-sim: {scenario}: posterior: {tmp_path / 'bad.csv'}: line 2"
    for argv in (["check", str(scenario)], _run(tmp_path, scenario, "x")[:-4]):
        assert main(argv) == 2
        (line,) = capsys.readouterr().err.splitlines()
        assert line.startswith(expected), line
