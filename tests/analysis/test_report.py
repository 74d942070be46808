"""The comparison report: paired differences per run and per member, and the lever
summary in words."""

from __future__ import annotations

import numpy as np
import pandas as pd
from conftest import synthetic_comparison

from csto_sim.analysis.prose import answered_beside_history, lever_effects
from csto_sim.analysis.statistics import (
    member_paired_differences,
    paired_differences,
    response_rates,
)


def _runs(shift: float) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    noise = rng.normal(size=50)
    base = pd.DataFrame({"scenario": "base", "run": range(50), "status": "ok", "x": noise})
    lever = base.assign(scenario="lever", x=noise + shift)
    return pd.concat([base, lever], ignore_index=True)


def test_paired_difference_of_a_constant_shift_is_exact():
    out = paired_differences(_runs(0.25), "base", ("x",), n_boot=200)
    row = out.iloc[0]
    assert np.isclose(row["mean_difference"], 0.25)
    assert np.isclose(row["ci_low"], 0.25) and np.isclose(row["ci_high"], 0.25)
    assert row["sd_paired"] < 1e-12 < row["sd_unpaired"]


def test_member_differences_pair_runs_and_split_member_and_measure():
    runs = _runs(0.0)[["scenario", "run", "status"]]
    members = pd.DataFrame(
        {
            "scenario": np.repeat(["base", "lever"], 100),
            "run": np.tile(np.repeat(range(50), 2), 2),
            "member": np.tile(["A", "B"], 100),
            "answered": np.r_[np.zeros(100), np.tile([1.0, 0.0], 50)],
            "exit_year": np.r_[np.full(100, np.nan), np.tile([np.nan, 2030.0], 50)],
            "commitment_final": 0.5,
            "w_russia_final": 0.4,
        }
    )
    out = member_paired_differences(members, runs, "base", n_boot=100)
    got = out.set_index(["member", "measure"])["mean_difference"]
    assert got[("A", "answered")] == 1.0 and got[("B", "answered")] == 0.0
    assert got[("B", "exited")] == 1.0 and got[("A", "exited")] == 0.0
    assert got[("A", "w_russia_final")] == 0.0


def test_lever_effects_name_targets_first_and_say_when_an_interval_includes_zero():
    paired = pd.concat(
        [
            paired_differences(_runs(0.25), "base", ("x",), n_boot=200),
            paired_differences(_runs(0.0), "base", ("x",), n_boot=200).assign(
                measure="y", ci_low=-0.1, ci_high=0.1
            ),
        ]
    )
    c = synthetic_comparison(
        _runs(0.0), targets={"lever": ["y", "z"]}, paired=paired, paired_members=pd.DataFrame()
    )
    text = lever_effects(c)
    assert text.startswith("- **lever**: its targets: y ")
    assert "an interval that includes zero" in text
    assert "z: not measured" in text
    assert "Also: x rose by 0.250" in text  # an unregistered measure: three decimals


def test_response_rates_give_the_level_mix_and_vetoes():
    runs = pd.DataFrame(
        {
            "scenario": ["a", "a"],
            "status": "ok",
            "requests": [4, 1],
            "responses": [1, 1],
            "level_statement": [1, 0],
            "level_mission": [1, 0],
            "level_deployment": [1, 1],
            "level_peacekeeping": [0, 0],
            "vetoed": [1, 0],
        }
    )
    row = response_rates(runs).iloc[0]
    assert row["response_rate"] == 0.4 and row["vetoed"] == 0.2
    assert np.isclose(row["level_none"], 0.2) and row["level_deployment"] == 0.4


def test_the_answered_share_is_reported_beside_the_records_one_in_four():
    responses = pd.DataFrame({"scenario": ["a", "b"], "response_rate": [0.4, np.nan]})
    text = answered_beside_history(synthetic_comparison(_runs(0.0), responses=responses))
    # the record: Kyrgyzstan 2010, Armenia 2021 and 2022 asked in vain; Kazakhstan 2022 answered
    assert "of the 4 requests" in text and "answered 1 (25%" in text
    assert text.endswith("a 40%, b -.")


def test_lever_effects_say_no_change_and_never_round_a_clear_interval_to_zero():
    """An exact zero is said as no change; an interval that excludes zero is shown with
    enough decimals that neither end reads as zero."""
    paired = pd.concat(
        [
            paired_differences(_runs(0.0), "base", ("x",), n_boot=200).assign(
                mean_difference=0.0, ci_low=0.0, ci_high=0.0
            ),
            paired_differences(_runs(0.0), "base", ("x",), n_boot=200).assign(
                measure="y", mean_difference=0.02, ci_low=0.0004, ci_high=0.05
            ),
        ]
    )
    c = synthetic_comparison(
        _runs(0.0), targets={"lever": ["x", "y"]}, paired=paired, paired_members=pd.DataFrame()
    )
    text = lever_effects(c)
    assert "x did not change in any run;" in text
    assert "y rose by 0.0200 (+0.0004 to +0.0500)" in text
