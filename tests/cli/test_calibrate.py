"""``csto-sim calibrate`` writes best.toml, a scenario that runs as it is, from any folder, and
that scenarios in other folders extend."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from conftest import BASELINE, HINDCAST

from csto_sim import load_scenario
from csto_sim.cli import main

pytest.importorskip("optuna")

CALIBRATE = ["calibrate", "--trials", "2", "--runs", "10", "--workers", "1", "--out", "results/cal"]


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A user's folder with copies of the baseline and its history, as the working directory."""
    folder = tmp_path / "project"
    (folder / "scenarios").mkdir(parents=True)
    for path in (BASELINE, HINDCAST):
        shutil.copy(path, folder / "scenarios" / path.name)
    monkeypatch.chdir(folder)
    return folder


def test_best_toml_runs_from_anywhere_and_other_files_extend_it(
    project, tmp_path, capsys, monkeypatch
):
    assert main(CALIBRATE) == 0
    said = capsys.readouterr()
    out = said.out
    assert "the defaults (trial 0) score" in out
    assert "only 1 trial(s) in the top 5%: a width of 0 here says nothing" in said.err
    assert "  csto-sim run results/cal/best.toml\n" in out
    best_file = project / "results" / "cal" / "best.toml"
    assert f'  extends = "{best_file.as_posix()}"\n' in out
    for name in ("trials.csv", "identifiability.csv", "figures/identifiability.png"):
        assert (best_file.parent / name).exists(), name
    trials = pd.read_csv(best_file.parent / "trials.csv")
    best = load_scenario(best_file)
    assert best.name == "hindcast_2002_2024_calibrated"
    assert best.description.startswith("hindcast_2002_2024 with the behavioural parameters")
    assert best.posterior == ""  # the best trial's point, not posterior draws
    assert best.time.start == load_scenario(HINDCAST).time.start  # the hindcast it fitted
    assert best.parameters.freeze_threshold == pytest.approx(
        trials.loc[0, "freeze_threshold"], abs=1e-4
    )

    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "mine").mkdir(parents=True)
    mine = elsewhere / "mine" / "variant.toml"
    mine.write_text(
        'extends = "../../project/results/cal/best.toml"\nname = "variant"\n'
        "[parameters]\nfreeze_threshold = 0.3\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(elsewhere)
    assert main(["check", str(best_file), str(mine)]) == 0
    runs = ["--runs", "4", "--workers", "1", "--quiet", "--tables", "runs"]
    assert main(["run", str(best_file), *runs, "--out", "a"]) == 0
    assert main(["run", "mine/variant.toml", *runs, "--out", "b"]) == 0
    variant = load_scenario(mine)
    assert variant.parameters.freeze_threshold == 0.3
    assert variant.parameters.exit_cost_weight == best.parameters.exit_cost_weight


def test_best_toml_extends_a_projection_by_a_relative_path(project, tmp_path, capsys):
    assert main(CALIBRATE) == 0
    assert "--extends scenarios/baseline.toml" not in capsys.readouterr().out
    assert main([*CALIBRATE, "--extends", "scenarios/baseline.toml"]) == 0
    assert "csto-sim run results/cal/best.toml" in capsys.readouterr().out
    assert len(pd.read_csv("results/cal/trials.csv")) == 2  # no new trials
    text = (project / "results" / "cal" / "best.toml").read_text()
    assert 'extends = "../../scenarios/baseline.toml"\n' in text
    moved = shutil.copytree(project, tmp_path / "moved")  # the folder moves as a whole
    best = load_scenario(moved / "results" / "cal" / "best.toml")
    assert best.name == "baseline_calibrated" and best.posterior == ""
    assert best.history is not None and best.history.source.startswith(str(moved))


def test_a_bad_extends_fails_before_the_search(project, capsys):
    assert main([*CALIBRATE, "--extends", "scenarios/basline.toml"]) == 2
    assert "scenarios/basline.toml: no such file" in capsys.readouterr().err
    assert not (project / "results" / "cal" / "study.db").exists()


def test_without_the_repository_best_toml_extends_a_copy_of_the_hindcast(tmp_path, monkeypatch):
    import csto_sim
    from csto_sim.cli.calibrate import bundled_hindcast

    assert bundled_hindcast(tmp_path / "a") == HINDCAST.resolve()  # in the repository
    monkeypatch.setattr(csto_sim, "__file__", str(tmp_path / "site" / "csto_sim" / "__init__.py"))
    copy = bundled_hindcast(tmp_path / "out")
    assert copy == tmp_path / "out" / HINDCAST.name
    assert load_scenario(copy).digest() == load_scenario(HINDCAST).digest()
