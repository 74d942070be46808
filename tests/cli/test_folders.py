"""Default results folders: one naming rule for every command, named from the scenarios and
the settings but not from --runs (more runs extend a folder), said at the start and the end;
an explicit --out keeps its semantics."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import BASELINE, SCENARIOS

from csto_sim.cli import build_parser, main
from csto_sim.cli.common import analysis_folder, ensemble_folder, hindcast_folder
from csto_sim.core.scenario import load_scenario
from csto_sim.experiments.results import latest, read_table

WEAK = SCENARIOS / "russia_weakened.toml"
ARMENIA = SCENARIOS / "armenia_eu_path.toml"
FAST = ["--workers", "1", "--no-plots"]
NAME = re.compile(r"^[A-Za-z0-9_.+-]+-[0-9a-f]{6}$")


def said(capsys) -> list[str]:
    """The results folders the command said (start of standard error, end of standard out)."""
    out, err = capsys.readouterr()
    starts = re.findall(r"results folder: (\S+)/", err)
    ends = re.findall(r" in (results/\S+)/", out)
    return starts + ends


def runs_of(folder: Path) -> int:
    return json.loads((folder / "manifest.json").read_text())["runs"]


@pytest.fixture
def here(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.slow
def test_compare_folders_differ_by_scenarios_and_more_runs_extend_one(here, capsys):
    assert main(["compare", str(BASELINE), str(WEAK), "--runs", "4", *FAST]) == 0
    first = said(capsys)
    assert len(set(first)) == 1 and len(first) == 2  # at the start and at the end
    pair = Path(first[0])
    assert pair.parent == Path("results/compare") and pair.name.startswith("baseline+1-more-")
    assert NAME.match(pair.name)
    assert "4 runs each" in (pair / "report.md").read_text()
    # another set of scenarios: another folder, nothing refused
    assert main(["compare", str(BASELINE), str(ARMENIA), str(WEAK), "--runs", "4", *FAST]) == 0
    trio = Path(said(capsys)[0])
    assert trio != pair and trio.name.startswith("baseline+2-more-")
    # more runs: the same folder grows, and the report is written for the new count
    assert main(["compare", str(BASELINE), str(WEAK), "--runs", "6", *FAST]) == 0
    assert set(said(capsys)) == {str(pair)}
    assert runs_of(pair) == 6 and "6 runs each" in (pair / "report.md").read_text()
    assert len(read_table(pair, "runs")) == 12
    assert latest(here / "results", "compare") == here / pair
    # fewer runs: one line naming --runs, exit 2
    assert main(["compare", str(BASELINE), str(WEAK), "--runs", "5", *FAST]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("csto-sim: --runs:") and "holds 6 runs" in err[0]


@pytest.mark.slow  # five runs of the command
def test_run_folders_follow_the_settings_not_the_runs(here, capsys):
    base = ["run", str(BASELINE), "--workers", "1"]
    folders = {}
    for key, extra in {
        "a": ["--runs", "3"],
        "a_more": ["--runs", "5"],
        "seed": ["--runs", "3", "--seed", "9"],
        "csv": ["--runs", "5", "--format", "csv"],
        "dice": ["--runs", "3", "--posterior", "none"],
        "tables": ["--runs", "3", "--tables", "runs,members"],
    }.items():
        assert main([*base, *extra]) == 0, key
        where = set(said(capsys))
        assert len(where) == 1, (key, where)
        folders[key] = where.pop()
    assert folders["a"] == folders["a_more"] == folders["csv"]  # the format re-exports
    assert runs_of(Path(folders["a"])) == 5 and (Path(folders["a"]) / "runs.csv").exists()
    others = [v for k, v in folders.items() if k not in ("a_more", "csv")]
    assert len(set(others)) == len(others)  # every other setting: its own folder
    assert all(Path(f).parent == Path("results/run") for f in others)
    assert main([*base, "--runs", "5", "--quiet"]) == 0  # the same command: nothing to say
    assert capsys.readouterr() == ("", "")


@pytest.mark.slow  # four whole commands
def test_an_explicit_out_keeps_resume_refusal_and_overwrite(here, capsys):
    out = here / "mine"
    args = ["run", str(BASELINE), "--runs", "3", "--workers", "1", "--quiet", "--out", str(out)]
    assert main(args) == 0
    seeds = set(read_table(out, "runs")["seed"])
    assert main([*args, "--seed", "4"]) == 2  # other settings: refused, naming them
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "other seed" in err[0] and "--overwrite" in err[0]
    assert main([*args, "--seed", "4", "--resume"]) == 2
    assert "resume with the same ones" in capsys.readouterr().err
    assert main([*args, "--seed", "4", "--overwrite"]) == 0
    assert not seeds & set(read_table(out, "runs")["seed"])
    bigger = [*args[:3], "5", *args[4:], "--seed", "4"]
    assert main(bigger) == 0 and runs_of(out) == 5  # more runs extend --out too
    assert not (here / "results").exists()  # nothing written outside --out


def _args(*argv: str):
    return build_parser().parse_args(list(argv))


def test_every_command_names_its_default_folder_by_the_same_rule(here, capsys):
    scenario = load_scenario(BASELINE)
    validate = ensemble_folder(_args("validate", "--runs", "5"), "validate", [scenario])
    assert validate == ensemble_folder(_args("validate", "--runs", "50"), "validate", [scenario])
    assert validate.parent == Path("results/validate") and NAME.match(validate.name)

    def analysis(*argv: str) -> Path:
        args = _args(argv[0], str(BASELINE), *argv[1:])
        return analysis_folder(args, argv[0], scenario, samples=args.samples)

    sens = analysis("sensitivity", "--samples", "8")
    assert sens == analysis("sensitivity", "--samples", "8")
    assert sens.parent == Path("results/sensitivity") and sens.name.startswith("baseline-")
    assert sens != analysis("sensitivity", "--samples", "16")
    assert sens != analysis("sensitivity", "--samples", "8", "--replicas", "5")
    assert analysis("discover", "--samples", "8").parent == Path("results/discover")

    def posterior(*argv: str) -> Path:
        args = _args("posterior", *argv)
        return hindcast_folder(
            args, "posterior", leave_out=args.leave_out, period=args.period, null=args.null or ""
        )

    fit = posterior("--period", "fit")
    assert fit == posterior("--period", "fit", "--simulations", "99")  # more extend the table
    assert fit != posterior("--period", "whole")
    assert fit != posterior("--null", "no_learning")
    assert fit.parent == Path("results/posterior") and fit.name.startswith("hindcast_2002_2024-")
    assert "results folder: results/posterior/" in capsys.readouterr().err
