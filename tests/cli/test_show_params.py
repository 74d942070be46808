"""``csto-sim show`` prints a scenario that loads and runs as the original; ``csto-sim params``
lists the parameter registry."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
from conftest import BASELINE, BUNDLED

from csto_sim import load_scenario
from csto_sim.cli import main
from csto_sim.core.parameters import Parameters, parameter_table
from csto_sim.experiments.results import read_table


def show(capsys, path: Path) -> str:
    assert main(["show", str(path)]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_show_prints_a_scenario_with_the_same_content(tmp_path, capsys, path):
    saved = tmp_path / "shown.toml"  # another folder: history and posterior must still resolve
    saved.write_text(show(capsys, path), encoding="utf-8")
    original, again = load_scenario(path), load_scenario(saved)
    assert again.digest() == original.digest()
    assert again.judged == original.judged  # judgements stay references (posterior draws)
    assert again.posterior == original.posterior
    assert "\nextends" not in saved.read_text()  # the chain is merged


@pytest.mark.slow  # two ensembles of a projection
def test_a_shown_variant_runs_identically(tmp_path, capsys):
    variant = tmp_path / "mine" / "variant.toml"
    variant.parent.mkdir()
    variant.write_text(
        f'extends = "{BASELINE.as_posix()}"\nname = "variant"\n'
        "[parameters]\nfreeze_threshold = 0.5599999999999999\n",
        encoding="utf-8",
    )
    text = show(capsys, variant)
    assert "freeze_threshold = 0.56\n" in text  # numbers as a person writes them
    saved = tmp_path / "saved.toml"
    saved.write_text(text, encoding="utf-8")
    assert main(["check", str(saved)]) == 0
    common = ["--runs", "6", "--workers", "1", "--quiet", "--tables", "runs,members"]
    assert main(["run", str(variant), *common, "--out", str(tmp_path / "a")]) == 0
    assert main(["run", str(saved), *common, "--out", str(tmp_path / "b")]) == 0
    for table in ("runs", "members"):
        pd.testing.assert_frame_equal(
            read_table(tmp_path / "a", table), read_table(tmp_path / "b", table)
        )


def test_show_of_a_bad_scenario_is_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text(f'extends = "{BASELINE.as_posix()}"\n[members.Armenai]\n', encoding="utf-8")
    assert main(["show", str(bad)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip() == (
        f"csto-sim: {bad}: members.Armenai: unknown member (did you mean 'Armenia'?); "
        "a new member needs alignment, commitment and capability"
    )


def params(capsys, *args: str) -> str:
    assert main(["params", *args]) == 0
    return capsys.readouterr().out


def test_params_lists_every_parameter_with_its_registry_entry(capsys):
    table = pd.read_csv(io.StringIO(params(capsys, "--format", "csv")))
    assert list(table.columns) == ["name", "default", "unit", "low", "high", "meaning"]
    registry = {row["name"]: row for row in parameter_table()}
    defaults = Parameters().model_dump()
    for row in table.itertuples():
        name, _, kind = row.name.partition(".")
        value = defaults[name][kind] if kind else defaults[name]
        assert row.default == pytest.approx(value), row.name
        assert (row.unit, row.meaning) == (registry[name]["unit"], registry[name]["meaning"])
        assert (row.low, row.high) == (registry[name]["low"], registry[name]["high"])
    assert {n.partition(".")[0] for n in table["name"]} == set(Parameters.model_fields)
    assert "charter_fit.interstate_war" in set(table["name"])  # one row per kind


def test_params_filters_by_name_or_meaning(capsys):
    text = params(capsys, "FREEZE")
    names = [line.split()[0] for line in text.splitlines()[1:]]
    assert "freeze_threshold" in names
    assert all("freez" in line.lower() for line in text.splitlines()[1:])
    assert len(names) < len(parameter_table())
    md = params(capsys, "trust", "--format", "md").splitlines()
    assert md[0] == "| name | default | unit | low | high | meaning |" and md[1].startswith("|---")
    assert all(line.count(" | ") == 5 for line in md[2:]) and len(md) > 2


def test_params_without_a_match_suggests_a_name(capsys):
    assert main(["params", "respnse_base"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        "csto-sim: params: no parameter name or meaning contains 'respnse_base' "
        "(did you mean 'response_base'?)"
    )


def test_show_keeps_which_parameters_are_set(tmp_path, capsys):
    """What a file sets stays set in the shown scenario (fixed over a posterior, even at a
    default value) and what it leaves is shown as comments (drawn), so the saved output
    draws exactly what the original draws."""
    from csto_sim.inference.posterior import choose_posterior

    default = Parameters().status_quo_bias
    mine = tmp_path / "mine.toml"
    mine.write_text(
        f'extends = "{BASELINE.as_posix()}"\nname = "mine"\n[parameters]\n'
        f"status_quo_bias = {default}\n",
        encoding="utf-8",
    )
    text = show(capsys, mine)
    assert f"[parameters]\nstatus_quo_bias = {default}\n" in text
    assert "\n# response_base = " in text and "\nresponse_base = " not in text
    saved = tmp_path / "saved.toml"
    saved.write_text(text, encoding="utf-8")
    post = choose_posterior([load_scenario(mine)])
    assert post.fixed_by(load_scenario(saved)) == post.fixed_by(load_scenario(mine))
    assert post.fixed_by(load_scenario(saved)) == {"status_quo_bias": default}
    assert load_scenario(saved).digest() == load_scenario(mine).digest()
