"""Validation against history: periods, every recorded outcome, reference forecasters, null
models, and the validate command."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT

from csto_sim.cli import main
from csto_sim.core.parameters import Parameters
from csto_sim.experiments.engines import run_chunk
from csto_sim.hindcast import outcomes
from csto_sim.hindcast.build import history_rows
from csto_sim.hindcast.calibration import hindcast
from csto_sim.hindcast.nulls import NULL_MODELS
from csto_sim.hindcast.patterns import HELD_OUT_FROM, PATTERNS, pattern_score, score


def test_every_recorded_request_and_response_is_a_case():
    cases = outcomes.recorded_cases()
    rows = [r for r in history_rows() if r["role"] == "input"]
    for outcome, column in (("request", "request"), ("response", "csto_response")):
        recorded = [r for r in rows if r[column] in ("yes", "no")]
        mine = cases[cases["outcome"] == outcome]
        assert len(mine) == len(recorded) > 0
        assert mine["happened"].sum() == sum(r[column] == "yes" for r in recorded)
    assert set(cases["period"]) == {"fit", "held_out"}
    assert (cases.loc[cases["period"] == "fit", "year"] < HELD_OUT_FROM).all()


def test_exit_cases_follow_the_record_and_skip_members_already_out():
    cases = outcomes.recorded_cases().set_index("case")
    assert cases.loc["exit:Uzbekistan:fit", "happened"]  # suspended 2012
    assert cases.loc["exit:Armenia:held_out", "happened"]  # froze 2024
    assert not cases.loc["exit:Armenia:fit", "happened"]
    assert "exit:Uzbekistan:held_out" not in cases.index  # out since 2012
    assert not any(c.startswith("exit:Russia") for c in cases.index)  # the leader


def test_reference_forecasters_on_a_small_case():
    cases = pd.DataFrame(
        {
            "outcome": ["request", "request", "request", "exit", "exit"],
            "happened": [True, False, False, True, False],
        }
    )
    ref = outcomes.reference_forecasts(cases)
    np.testing.assert_allclose(ref["base_rate"], [1 / 3, 1 / 3, 1 / 3, 0.5, 0.5])
    np.testing.assert_allclose(ref["persistence"], [0.5, 1.0, 0.0, 0.0, 0.0])


def _tables(requested: list[bool], exits: dict[int, float]) -> dict[str, pd.DataFrame]:
    """Two runs of a tiny hindcast: one scripted event and Armenia's statuses."""
    label = "2022-09-13_incursion_Armenia"
    years = [2014.75, 2015.0, 2023.0, 2023.25]
    ts = [
        {
            "run": r,
            "year": y,
            "member": "Armenia",
            "status": "frozen" if y >= exits.get(r, 9e9) else "active",
        }
        for r in (0, 1)
        for y in years
    ]
    return {
        "runs": pd.DataFrame({"run": [0, 1], "status": "ok"}),
        "events": pd.DataFrame(
            {"run": [0, 1], "label": label, "requested": requested, "responded": False}
        ),
        "timeseries": pd.DataFrame(ts),
    }


def test_forecasts_are_shares_of_runs_and_the_brier_score_is_exact():
    cases = outcomes.recorded_cases()
    cases = cases[
        cases["case"].isin(["request:2022-09-13_incursion_Armenia", "exit:Armenia:held_out"])
    ]
    f = outcomes.forecasts(_tables([True, False], {1: 2023.25}), cases).set_index("case")
    assert f.loc["request:2022-09-13_incursion_Armenia", "forecast"] == 0.5
    assert f.loc["exit:Armenia:held_out", "forecast"] == 0.5
    assert f.loc["exit:Armenia:held_out", "simulated_year"] == 2023.25
    table = outcomes.brier_table({"model": f.reset_index()})
    assert table.loc["model", ("held_out", "all")] == pytest.approx(0.25)  # both (0.5 - 1)^2
    assert table.loc["cases", ("held_out", "all")] == 2


def test_brier_margin_is_paired_and_positive_when_the_model_is_right():
    cases = pd.DataFrame({"case": ["a", "b"], "period": "held_out", "happened": [True, False]})
    right = pd.DataFrame({"a": [True, True, True], "b": [False, False, False]})
    wrong = pd.DataFrame({"a": [False, True, False], "b": [True, False, False]})
    d, lo, hi, clo, chi = outcomes.brier_margin(right, wrong, cases, "held_out", draws=200)
    assert d == pytest.approx(((2 / 3) ** 2 + (1 / 3) ** 2) / 2)
    assert 0 <= lo <= d <= hi
    # over cases: the two per-case margins are 4/9 and 1/9; every resample lies between
    assert 1 / 9 - 1e-12 <= clo <= d <= chi <= 4 / 9 + 1e-12


def test_brier_margin_over_runs_resamples_whole_blocks_when_runs_share_parameters():
    """When the model's hits differ between blocks of runs (posterior samples) and not
    within them, resampling single runs understates the Monte Carlo error."""
    cases = pd.DataFrame({"case": ["a"], "period": "held_out", "happened": [True]})
    block = np.repeat(np.arange(10), 10)
    model = pd.DataFrame({"a": (block % 2 == 0).astype(float)})  # whole blocks hit or miss
    other = pd.DataFrame({"a": (np.arange(100) % 2 == 0).astype(float)})  # half of each block
    d, lo, hi, *_ = outcomes.brier_margin(model, other, cases, "held_out", draws=400)
    d2, blo, bhi, *_ = outcomes.brier_margin(model, other, cases, "held_out", 400, blocks=block)
    assert d == d2 and blo <= lo and bhi >= hi  # the wider of the two
    assert bhi - blo > 2 * (hi - lo)


def test_an_exit_case_counts_only_runs_where_the_member_is_at_risk():
    """Run 0: A active, leaves in the period; run 1: A active throughout; run 2: A already
    out before the period (not at risk: not credited with staying)."""
    rows = []
    for run, statuses in enumerate(
        [
            ["active", "active", "frozen", "frozen"],
            ["active", "active", "active", "active"],
            ["withdrawn", "withdrawn", "withdrawn", "withdrawn"],
        ]
    ):
        for year, status in zip([2014.5, 2015.0, 2016.0, 2017.0], statuses, strict=True):
            rows.append({"run": run, "member": "A", "year": year, "status": status})
    ts = pd.DataFrame(rows)
    ex = outcomes.exits_in(ts, 2015.0, 2025.0)
    assert ex["at_risk"].tolist() == [True, True, False]
    cases = pd.DataFrame(
        {
            "case": ["exit:A:held_out"],
            "outcome": ["exit"],
            "member": ["A"],
            "period": ["held_out"],
            "happened": [False],
            "year": [float("nan")],
        }
    )
    runs_table = pd.DataFrame({"run": [0, 1, 2], "status": "ok"})
    hits = outcomes.case_hits(
        {"timeseries": ts, "events": pd.DataFrame(columns=["label", "run"]), "runs": runs_table},
        cases,
    )
    assert hits["exit:A:held_out"].tolist()[:2] == [1.0, 0.0]
    assert np.isnan(hits["exit:A:held_out"].tolist()[2])
    assert outcomes.share(hits.to_numpy(float)).tolist() == [0.5]  # of the two at risk


def test_patterns_cover_both_periods_and_the_objective_sees_only_the_fit():
    assert {p.period for p in PATTERNS} == {"fit", "held_out"}
    assert not any(p.gating for p in PATTERNS if p.period == "held_out")  # evidence, no gate
    table = pd.DataFrame(
        {
            "period": ["fit", "held_out"],
            "gating": [True, True],
            "distance": [0.1, 0.9],
            "shortfall": [0.0, 0.5],
        }
    )
    assert pattern_score(table) == pytest.approx(0.1)
    assert pattern_score(table, None) == pytest.approx((0.1 + 0.9 + 1.0) / 2)


@pytest.mark.parametrize("null", NULL_MODELS, ids=lambda n: n.name)
def test_null_models_switch_a_mechanism_off(null):
    spec = null.scenario(hindcast())
    assert spec.name.endswith(null.name)
    for name, value in null.parameters.items():
        assert name in Parameters.model_fields and spec.parameters.model_dump()[name] == value
    full = run_chunk(hindcast(), range(30), 5)
    off = run_chunk(spec, range(30), 5)
    assert not full["timeseries"].equals(off["timeseries"])  # the mechanism acts


def test_frozen_alignment_keeps_every_member_at_its_2002_alignment():
    null = next(n for n in NULL_MODELS if n.name == "frozen_alignment")
    ts = run_chunk(null.scenario(hindcast()), range(5), 5)["timeseries"]
    first = ts[ts["year"] == ts["year"].min()].set_index(["run", "member"])["w_russia"]
    last = ts[ts["year"] == ts["year"].max()].set_index(["run", "member"])["w_russia"]
    np.testing.assert_allclose(first.to_numpy(), last.to_numpy())  # alignment frozen at 2002


@pytest.mark.slow
def test_validate_command_scores_both_periods_nulls_and_forecasters(tmp_path, capsys):
    out = tmp_path / "v"
    code = main(["validate", "--runs", "20", "--workers", "1", "--quiet", "--out", str(out)])
    assert code in (0, 1)
    text = capsys.readouterr().out
    for needle in (
        "Runs over the validation posterior (sha256 ",
        "Fitted period",
        "Held-out period",
        "base_rate",
        "persistence",
        *(n.name for n in NULL_MODELS),
    ):
        assert needle in text, needle
    for name in ("validation.csv", "outcomes.csv", "brier.csv", "validation.txt"):
        assert (out / name).exists(), name
    brier = pd.read_csv(out / "brier.csv", header=[0, 1], index_col=0)
    assert {"model", "base_rate", "persistence"} <= set(brier.index)
    assert len(score(run_chunk(hindcast(), range(3), 1))) == len(PATTERNS)


def test_a_failing_gate_is_named_with_its_shortfall():
    from csto_sim.hindcast.patterns import format_table

    row = {"pattern": "p", "history": "h", "runs": 10, "period": "fit", "gating": True}
    table = pd.DataFrame(
        [
            row | {"id": "1a", "share": 0.2, "target": ">= 50%", "passed": False, "shortfall": 0.3},
            row | {"id": "4a", "share": 1.0, "target": ">= 100%", "passed": True, "shortfall": 0.0},
        ]
    )
    text = format_table(table)
    assert "1 of 2 gating patterns pass" in text
    assert "Failing gates: 1a at 20% against >= 50% (short by 30.0%)" in text
    assert "4a at" not in text.split("Failing gates:")[1]


def test_validate_refuses_a_projection_in_one_line(capsys):
    assert main(["validate", "--scenario", str(ROOT / "scenarios" / "baseline.toml")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("csto-sim: --scenario:")
    assert "not a hindcast of the record" in err[0]


def test_the_clash_pattern_counts_only_answered_clashes_of_the_held_out_years():
    """Pattern 3 is the record of 2015-2024: a clash between members answered in 2010, or an
    answered threat of another kind, does not count; one answered in 2021 does."""
    measure = next(p for p in PATTERNS if p.id == "3").measure
    runs = pd.DataFrame({"run": [0, 1, 2, 3], "status": "ok"})
    events = pd.DataFrame(
        {
            "run": [0, 1, 2, 3],
            "year": [2010.5, 2021.25, 2021.25, 2022.75],
            "kind": [
                "intra_alliance_clash",
                "intra_alliance_clash",
                "incursion",
                "intra_alliance_clash",
            ],
            "responded": [True, True, True, False],
        }
    )
    assert measure({"runs": runs, "events": events}).tolist() == [False, True, False, False]
