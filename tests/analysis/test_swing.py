"""``csto-sim swing``: per posterior dimension, its identifiability and the headline's swing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import BASELINE

from csto_sim.analysis.swing import swing, swing_table
from csto_sim.cli import main
from csto_sim.core.scenario import load_scenario
from csto_sim.inference.posterior import Posterior


def test_the_dimension_that_decides_collapse_swings_it_and_a_pinned_one_does_not(standalone):
    """Collapse is defined by how many active members it takes (``collapse_min_active``):
    fixed at 1 nothing collapses, at 6 (every member) almost every run does; a dimension
    the posterior pins to one value cannot swing anything."""
    n = 40
    samples = pd.DataFrame(
        {
            "collapse_min_active": np.repeat([1, 6], n // 2),
            "grievance_gain": np.full(n, 0.5),
        }
    )
    post = Posterior(samples, np.full(n, 1.0 / n), "test", runs_per_draw=2)
    prior = {"collapse_min_active": (1.0, 6.0), "grievance_gain": (0.0, 1.0), "absent": (0, 1)}
    t = swing(standalone, post, prior, runs=20, seed=3, workers=1).set_index("dimension")
    assert set(t.index) == {"collapse_min_active", "grievance_gain"}  # only what it has
    big = t.loc["collapse_min_active"]
    assert (big["q05"], big["q95"]) == (1, 6)
    assert big["headline_q05"] == 0.0 and big["swing"] > 0.5
    pinned = t.loc["grievance_gain"]
    assert pinned["width"] == 0.0 and pinned["swing"] == 0.0
    assert (t["width_record"] == t["width"]).all()  # no record to weigh the samples by
    text = swing_table(t.reset_index(), "standalone", 20)
    assert "Swings above 0.1: `collapse_min_active`" in text


def test_swing_refuses_no_posterior_in_one_line(capsys):
    assert main(["swing", str(BASELINE), "--posterior", "none"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("csto-sim: --posterior: none has no dimensions")


@pytest.mark.slow
def test_swing_command_prints_and_writes_the_table(tmp_path, capsys):
    """The whole command over a two-dimension posterior file (each dimension costs two
    ensembles of conditioned projections)."""
    post = tmp_path / "posterior.csv"
    pd.DataFrame(
        {"status_quo_bias": [1.0, 3.0, 5.0], "response_base": [-8.0, -6.0, -3.0], "weight": 1.0}
    ).to_csv(post, index=False)
    out = tmp_path / "swing.csv"
    argv = ["swing", str(BASELINE), "--runs", "10", "--workers", "1", "--out", str(out)]
    argv += ["--record-runs", "50"]
    assert main([*argv, "--posterior", str(post)]) == 0
    assert "posterior/prior sd" in capsys.readouterr().out
    table = pd.read_csv(out)
    assert {"dimension", "width", "width_record", "swing"} <= set(table.columns)
    # the record (statuses held at every step) weighs the steadier status-quo bias up
    assert table.set_index("dimension").loc["status_quo_bias", "width_record"] < 0.5
    assert set(table["dimension"]) == {"status_quo_bias", "response_base"}


def test_the_judgement_sweep_finds_the_hand_set_number_that_decides_collapse(
    standalone, monkeypatch
):
    """The sweep runs each hand-set number at both ends of its registry range: one that
    decides collapse (how many active members it takes) swings it; one whose ends are
    equal in effect does not."""
    from csto_sim.analysis import swing as module

    fixed = module.fixed_judgements(load_scenario(BASELINE))
    assert "request_base" in fixed and fixed["request_base"][0] == "parameter.request_base"
    assert any(c.startswith("@baseline.") for c in fixed)
    assert all(low < high for _, low, high in fixed.values())
    chosen = {"collapse_min_active": ("x.min", 1, 6), "grievance_gain": ("x.g", 0.5, 0.5 + 1e-12)}
    monkeypatch.setattr(module, "fixed_judgements", lambda s: chosen)
    post = Posterior(pd.DataFrame({"grievance_gain": np.full(4, 0.5)}), np.full(4, 0.25), "t", 2)
    t = module.sweep(standalone, post, runs=20, seed=3, workers=1).set_index("judgement")
    assert t.loc["x.min", "headline_low"] == 0.0 and t.loc["x.min", "swing"] > 0.5
    assert t.loc["x.g", "swing"] == 0.0
    assert "Swings above 0.1: `x.min`" in module.sweep_table(t.reset_index(), "standalone", 20)


def test_the_sweep_refuses_an_id_that_is_not_a_hand_set_judgement(capsys):
    argv = ["swing", str(BASELINE), "--judgements", "--judgement", "parameter.nothing"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("csto-sim: --judgement:")


def test_the_tables_name_the_posterior_and_a_swings_noise():
    """A swing of 0.15 over 20 runs per end, near a collapse level of one half, is within
    two sds of a difference of two shares (2 sqrt(2 0.25 / 20) = 0.316): said so; the
    posterior the table was made over is named."""
    from csto_sim.analysis.swing import sweep_table

    t = pd.DataFrame(
        {
            "judgement": ["a", "b"],
            "low": [0.0, 0.0],
            "high": [1.0, 1.0],
            "headline_low": [0.4, 0.5],
            "headline_high": [0.55, 0.5],
            "swing": [0.15, 0.0],
        }
    )
    text = sweep_table(t, "baseline", 20, "posterior_production.csv")
    assert "20 runs per end over the posterior `posterior_production.csv`" in text
    assert "Noise of a swing: about +-0.31" in text and "within it: `a` (more --runs)" in text
    assert "within it" not in sweep_table(t, "baseline", 2000)


def test_the_difference_sweep_moves_each_scenarios_own_row_together(
    standalone, tmp_path, monkeypatch
):
    """A comparison's headlines are the reference's collapse probability and each other
    scenario's difference from it: a number both rest on alike (how many active members
    collapse takes) swings the reference's collapse but not the difference; the same row of
    each scenario (``baseline.g``, ``other.g``) is one judgement, moved together."""
    from conftest import standalone_text

    from csto_sim.analysis import swing as module

    path = tmp_path / "other.toml"
    path.write_text(standalone_text().replace('name = "baseline"', 'name = "other"'), "utf-8")
    other = load_scenario(path)
    own = {s.name: {f"@{s.name}.g": (f"{s.name}.g", 0.0, 1.0)} for s in (standalone, other)}
    for s in own.values():  # a row of the baseline both read (one that extends it does)
        s["@baseline.h"] = ("baseline.h", 0.0, 2.0)
    monkeypatch.setattr(module, "fixed_judgements", lambda s: own[s.name])
    assert module._judgement_groups([standalone, other]) == {
        "*.g": {"@baseline.g": (0.0, 1.0), "@other.g": (0.0, 1.0)},
        "*.h": {"@baseline.h": (0.0, 2.0)},
    }
    chosen = {"collapse_min_active": ("x.min", 1, 6)}
    monkeypatch.setattr(module, "fixed_judgements", lambda s: chosen)
    post = Posterior(pd.DataFrame({"grievance_gain": np.full(4, 0.5)}), np.full(4, 0.25), "t", 2)
    t = module.sweep_differences(standalone, [other], post, runs=20, seed=3, workers=1)
    t = t.set_index("scenario")
    assert t.loc["baseline", "headline_low"] == 0.0 and t.loc["baseline", "swing"] > 0.5
    assert t.loc["other", "swing"] == 0.0 == t.loc["other", "headline_high"]
    again = module.sweep_differences(standalone, [other], post, 20, 3, 1, only=["x.min"])
    pd.testing.assert_frame_equal(again.set_index("scenario"), t)
    with pytest.raises(ValueError, match="'nope' is not a hand-set judgement of baseline or other"):
        module.sweep_differences(standalone, [other], post, 20, 3, 1, only=["nope"])
    text = module.differences_table(t.reset_index(), "baseline", 20)
    assert "Swings above 0.1: `x.min` (baseline +" in text and "| other |" in text


def test_several_scenarios_are_swept_only_over_the_judgements(capsys):
    assert main(["swing", str(BASELINE), str(BASELINE)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--judgements" in err[0]
