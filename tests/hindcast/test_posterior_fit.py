"""The Bayesian calibration (regression ABC over a reference table of hindcasts): what it
fits, and a small run that finishes, extends, checks recovery and writes a posterior file
runs can use."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from csto_sim.cli import main
from csto_sim.core import judgements
from csto_sim.hindcast import posterior
from csto_sim.hindcast.calibration import SEARCHED, ranges
from csto_sim.hindcast.patterns import HELD_OUT_FROM
from csto_sim.inference import regression_abc
from csto_sim.inference.posterior import load_posterior


def test_the_posterior_is_over_the_parameters_and_the_uncertain_judgements():
    names = list(posterior.prior_ranges())
    assert names[: len(SEARCHED)] == list(SEARCHED)
    uncertain = judgements.uncertain()
    assert uncertain and names[len(SEARCHED) :] == ["@" + k for k in uncertain]
    mid = regression_abc.from_unbounded(np.zeros(len(names)), posterior.prior_ranges())
    edge = regression_abc.from_unbounded(np.full(len(names), 40.0), posterior.prior_ranges())
    for i, (lo, hi) in enumerate(posterior.prior_ranges().values()):
        assert mid[i] == pytest.approx((lo + hi) / 2)
        assert edge[i] == pytest.approx(hi)
    assert {n: ranges()[n] for n in SEARCHED} == {n: posterior.prior_ranges()[n] for n in SEARCHED}


def test_a_judgement_value_reaches_the_fitted_hindcast():
    key = next(iter(judgements.uncertain()))
    j = judgements.registry()[key]
    spec = posterior.fitted_period({"@" + key: j.high})
    base = posterior.fitted_period()
    assert spec.digest() != base.digest()
    assert posterior.fitted_period({"@" + key: j.value}).digest() == base.digest()


def test_the_fit_sees_only_the_fitted_period():
    assert posterior.fitted_period().time.end == HELD_OUT_FROM
    assert set(posterior.fit_cases()["period"]) == {"fit"}
    assert set(posterior.observed()) == set(posterior.fit_cases()["case"])
    cells = posterior.cells()
    assert cells["year"].max() == 2014 and set(cells["series"]) == {
        "un_agreement",
        "trade_share",
        "arms_share",
    }
    assert cells[cells["series"] == "trade_share"]["year"].min() == 2003  # 2002 is the input
    later = {k.split(".", 1)[1] for k in judgements.hindsight()}  # set from 2015-2024 evidence
    assert later and later <= set(posterior.Fit("fit").ranges)
    assert not later & set(posterior.Fit("whole").ranges)  # fixed for the production fit
    whole = posterior.observation(period="whole")
    assert len(whole) == len(posterior.fit_cases("whole")) + len(cells)


@pytest.mark.slow  # the posterior command three times, with its figures
def test_posterior_command_extends_checks_recovery_and_its_file_drives_runs(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.setattr(posterior, "CHUNK", 100)  # 150 simulations: a whole chunk, and a part
    out = tmp_path / "post"
    args = ["posterior", "--accept", "0.5", "--workers", "1", "--out", str(out)]
    assert main([*args, "--simulations", "150"]) == 0
    whole = out / "reference" / "reference" / "00000-100.parquet"
    before = whole.read_bytes()
    assert main([*args, "--simulations", "250", "--recovery", "3"]) == 0  # extended
    assert whole.read_bytes() == before  # the whole chunk is kept, the part made whole
    assert sorted(p.name for p in whole.parent.glob("*.parquet")) == [
        "00000-100.parquet",
        "00001-100.parquet",
        "00002-50.parquet",
    ]
    samples = pd.read_csv(out / "posterior.csv")
    assert list(samples.columns) == [*posterior.Fit().ranges, "weight"]
    assert len(samples) == 94 and np.isclose(samples["weight"].sum(), 1.0)  # half of 250 - 62
    for name in ("identifiability.csv", "recovery.csv", "figures/posterior.png"):
        assert (out / name).exists(), name
    assert len(load_posterior(out / "posterior.csv").weights) == 94
    said = capsys.readouterr().out
    assert "--posterior" in said and "recovery over 3 simulated histories" in said
    assert main([*args, "--simulations", "150", "--period", "whole"]) == 2  # another table
    err = capsys.readouterr().err
    assert "other period" in err and "another --out" in err and "--overwrite" not in err


def test_a_smaller_reference_table_reads_its_first_chunks_and_keeps_the_whole_rest(
    tmp_path, monkeypatch
):
    """Fewer simulations than the folder holds read the first chunks (a smaller table once
    deleted every chunk beyond it); more reuse every whole chunk and make only the rest."""
    monkeypatch.setattr(posterior, "CHUNK", 10)
    made: list[tuple[int, int]] = []

    def chunk(self, index, size, chunk):  # a stand-in for the hindcast runs: its index
        made.append((index, size))
        return np.full((size, len(self.ranges)), float(index)), np.zeros((size, 2))

    monkeypatch.setattr(posterior.Fit, "chunk", chunk)
    out = tmp_path / "post"
    theta, _ = posterior.reference(out, 25, workers=1)
    assert (
        made == [(0, 10), (1, 10), (2, 5)] and theta[:, 0].tolist() == [0] * 10 + [1] * 10 + [2] * 5
    )
    made.clear()
    theta, _ = posterior.reference(out, 10, workers=1)
    assert made == [] and theta[:, 0].tolist() == [0] * 10
    theta, _ = posterior.reference(out, 30, workers=1)
    assert made == [(2, 10)] and theta[:, 0].tolist() == [0] * 10 + [1] * 10 + [2] * 10


def test_leave_one_event_out_drops_its_cases_from_the_fit(capsys):
    label = "2010-06-12_internal_unrest_Kyrgyzstan"
    kept = posterior.observed([label])
    assert set(posterior.observed()) - set(kept) == {f"request:{label}", f"response:{label}"}
    with pytest.raises(ValueError, match="no case or event"):
        posterior.observed(["2022-01-05_internal_unrest_Kazakhstan"])  # held out already
    assert main(["posterior", "--leave-out", "nothing"]) == 2
    assert "--leave-out" in capsys.readouterr().err
    assert main(["posterior", "--leave-out", ""]) == 2  # an exit case has no event label
    assert "no case or event ''" in capsys.readouterr().err
    assert main(["posterior", "--leave-out", label, "--leave-out", label]) == 2
    assert f"--leave-out: {label!r} is given twice" in capsys.readouterr().err
    every = [a for c in posterior.fit_cases()["case"] for a in ("--leave-out", c)]
    assert main(["posterior", *every]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "every case" in err[0]


def test_an_out_that_is_a_file_is_refused_in_one_line(tmp_path, capsys):
    (tmp_path / "f").write_text("x")
    for command in (["posterior"], ["calibrate", "--trials", "1"]):
        with pytest.raises(SystemExit) as exit_:  # refused as the options are read
            main([*command, "--out", str(tmp_path / "f")])
        assert exit_.value.code == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err == [
            f"csto-sim {command[0]}: error: argument --out: {tmp_path / 'f'} is a file, not a folder"
        ]


def test_too_few_simulations_name_the_option_in_one_line(tmp_path, capsys):
    args = ["posterior", "--simulations", "20", "--workers", "1", "--out", str(tmp_path / "p")]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("csto-sim: --simulations: a reference table of 20 simulations")


@pytest.mark.slow  # 6,100 hindcast runs (about a minute on two cores)
def test_the_fit_recovers_known_parameters_of_the_hindcast_on_a_reduced_budget(tmp_path):
    """Histories simulated from prior draws, fitted against a reference table of 6,000
    (the shipped fits use 40,000): their true values lie inside the 90% intervals in 80-98%
    of cases. The width is reported, not bounded: these facts leave most dimensions near
    their priors (docs/calibration.md, "How much these facts can say")."""
    check = posterior.recovery(tmp_path, 6000, tests=100, accept=0.1, workers=2)
    got = posterior.recovery_summary(check)
    assert 0.8 <= got["covered"] <= 0.98, got
    assert got["width"] < 1.0  # the series narrow something in every fit
    narrow = check.groupby("parameter")["width"].median().idxmin()
    assert narrow == "pole_pull_rate"  # what the UN, trade and arms series pin down


def test_a_posterior_on_a_handful_of_samples_is_said_to_be_one():
    """Three samples, one of them weightless, would print widths near 0 (history pinning
    every dimension): the command says they rest on too few samples."""
    from csto_sim.cli.posterior import too_few

    said = too_few(np.array([0.61, 0.39, 1e-8]))
    assert said and "rests on 3 samples (effective size 1.9)" in said
    assert too_few(np.full(200, 1 / 200)) is None
