"""Computed tables are checked finite before they are written (csto_sim/core/finite.py)."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from conftest import standalone_text

from csto_sim.cli import main
from csto_sim.core.finite import NonFiniteError, check_finite
from csto_sim.core.parameters import MAX_LOGIT
from csto_sim.core.scenario import ScenarioError, load_scenario
from csto_sim.experiments import engines


def test_empty_years_and_rates_pass_but_no_infinity():
    runs = pd.DataFrame(
        {"run": [0, 1], "collapse_year": [math.nan, 2031.0], "response_rate": [math.nan, 0.5]}
    )
    assert check_finite(runs, "f") is runs
    with pytest.raises(NonFiniteError, match=r"^f: collapse_year: inf in row 2 \(run 1\)"):
        check_finite(runs.assign(collapse_year=[math.nan, math.inf]), "f")


def test_a_nan_names_the_file_table_column_run_and_year():
    ts = pd.DataFrame({"run": [3, 4], "year": [2031.25, 2031.25], "cohesion": [0.5, math.nan]})
    with pytest.raises(NonFiniteError) as err:
        check_finite(ts, "x.toml", "timeseries table")
    assert str(err.value).startswith(
        "x.toml: timeseries table: cohesion: nan in row 2 (run 4, year 2031.25): not a finite"
    )


def test_failed_runs_and_long_tables():
    runs = pd.DataFrame({"status": ["ok", "error"], "error": ["", "boom"], "x": [1.0, math.nan]})
    check_finite(runs, "f")  # a failed run's empty cells are its error's
    tidy = pd.DataFrame(
        {
            "scenario": ["a"],
            "measure": ["cohesion_final"],
            "statistic": ["mean"],
            "value": [math.nan],
        }
    )
    with pytest.raises(NonFiniteError, match=r"cohesion_final \(value\): nan .*scenario a"):
        check_finite(tidy, "summary.csv", quantity="measure", at=("scenario", "statistic"))
    check_finite(tidy, "summary.csv", quantity="measure", empty=True)
    with pytest.raises(NonFiniteError):
        check_finite(tidy.assign(value=math.inf), "summary.csv", quantity="measure", empty=True)


def test_a_non_finite_run_table_is_one_line_and_exit_2_not_written(tmp_path, capsys, monkeypatch):
    real = engines.simulate_batch

    def broken(*args, **kwargs):
        out = real(*args, **kwargs)
        out["timeseries"].loc[5, "cohesion"] = math.nan
        return out

    monkeypatch.setattr(engines, "simulate_batch", broken)
    scenario = tmp_path / "s.toml"
    scenario.write_text(standalone_text(), encoding="utf-8")
    out = tmp_path / "o"
    argv = ["run", str(scenario), "--runs", "2", "--workers", "1", "--quiet", "--out", str(out)]
    assert main([*argv, "--posterior", "none"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0], err
    assert err[0].startswith(f"csto-sim: {scenario}: timeseries table: cohesion: nan in row ")
    assert "(run 0, year 2025" in err[0]
    assert not list(out.rglob("*.parquet"))


@pytest.mark.parametrize("name", ["rival_drift", "rival_weakness", "court_weight"])
def test_a_logit_weight_past_its_bound_is_refused_and_at_it_runs_finite(tmp_path, name):
    """1e30 in these made a run's cohesion NaN (found by fuzzing parameters); the logit
    bound (parameters.MAX_LOGIT) refuses it, and at the bound the runs are finite."""
    path = tmp_path / "s.toml"
    path.write_text(standalone_text() + f"\n[parameters]\n{name} = 1e30\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=rf"parameters\.{name}: .*100"):
        load_scenario(path)
    path.write_text(standalone_text() + f"\n[parameters]\n{name} = {MAX_LOGIT}\n", encoding="utf-8")
    tables = engines.run_chunk(load_scenario(path), range(2), 1)  # checked finite
    assert (tables["runs"]["status"] == "ok").all()
