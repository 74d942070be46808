"""The Bayesian calibration (ABC with pyabc): a small run that finishes, resumes and writes a
posterior file runs can use."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("pyabc")

from csto_sim.cli import main  # noqa: E402
from csto_sim.core import judgements  # noqa: E402
from csto_sim.hindcast import posterior  # noqa: E402
from csto_sim.hindcast.calibration import SEARCHED, ranges  # noqa: E402
from csto_sim.hindcast.patterns import HELD_OUT_FROM  # noqa: E402
from csto_sim.inference.posterior import load_posterior  # noqa: E402


def test_the_posterior_is_over_the_parameters_and_the_uncertain_judgements():
    names = list(posterior.prior_ranges())
    assert names[: len(SEARCHED)] == list(SEARCHED)
    uncertain = judgements.uncertain()
    assert uncertain and names[len(SEARCHED) :] == ["@" + k for k in uncertain]
    mid = posterior.to_parameters({n: 0.0 for n in names})
    edge = posterior.to_parameters({n: 40.0 for n in names})
    for name, (lo, hi) in posterior.prior_ranges().items():
        assert mid[name] == pytest.approx((lo + hi) / 2)
        assert edge[name] == pytest.approx(hi)
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


def test_a_simulation_is_a_function_of_its_parameters():
    params = posterior.to_parameters({n: 0.1 for n in posterior.prior_ranges()})
    a = posterior.simulate(params, replicas=3)
    assert a == posterior.simulate(params, replicas=3)
    assert set(a) == set(posterior.observed())
    assert all(0.0 <= v <= 1.0 for v in a.values())
    assert posterior.distance(posterior.observed(), posterior.observed()) == 0.0


@pytest.mark.slow  # the posterior command twice, with its figures
def test_posterior_command_finishes_resumes_and_its_file_drives_runs(tmp_path, capsys):
    out = tmp_path / "post"
    args = ["posterior", "--population", "6", "--replicas", "2", "--workers", "1"]
    assert main([*args, "--simulations", "12", "--out", str(out)]) == 0
    first = pd.read_csv(out / "populations.csv")
    done = int(first["samples"].sum())  # a generation may overshoot the budget by chance
    assert main([*args, "--simulations", str(done + 1), "--out", str(out)]) == 0  # resumed
    again = pd.read_csv(out / "populations.csv")
    assert len(again) > len(first)  # a new generation, the earlier ones kept
    pd.testing.assert_frame_equal(again.head(len(first)), first)
    assert again["samples"].sum() > done
    samples = pd.read_csv(out / "posterior.csv")
    assert list(samples.columns) == [*posterior.prior_ranges(), "weight"] and len(samples) == 6
    assert np.isclose(samples["weight"].sum(), 1.0)
    for name in ("identifiability.csv", "figures/posterior.png", "figures/posterior_pairs.png"):
        assert (out / name).exists(), name
    assert len(load_posterior(out / "posterior.csv").weights) == 6
    assert "--posterior" in capsys.readouterr().out


def test_leave_one_event_out_drops_its_cases_from_the_fit(capsys):
    label = "2010-06-12_internal_unrest_Kyrgyzstan"
    kept = posterior.observed([label])
    assert set(posterior.observed()) - set(kept) == {f"request:{label}", f"response:{label}"}
    with pytest.raises(ValueError, match="no fitted-period case"):
        posterior.observed(["2022-01-05_internal_unrest_Kazakhstan"])  # held out already
    assert main(["posterior", "--leave-out", "nothing"]) == 2
    assert "--leave-out" in capsys.readouterr().err
