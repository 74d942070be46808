"""The simulator interface for inference, ``simulate(theta[n, d], seeds) -> summaries[n, k]``,
and the reference table the fit draws from it."""

from __future__ import annotations

import numpy as np
import pytest

from csto_sim.core.batch import run_batch
from csto_sim.experiments.store import ResultsExistError
from csto_sim.experiments.tables import tables_from
from csto_sim.hindcast import posterior
from csto_sim.inference.simulator import Simulator


def _values(n: int, seed: int = 0) -> list[dict[str, float]]:
    rng = np.random.default_rng(seed)
    ranges = posterior.Fit().ranges
    return [{k: rng.uniform(lo, hi) for k, (lo, hi) in ranges.items()} for _ in range(n)]


def test_each_row_is_the_run_of_its_own_parameters_and_seed():
    sim = posterior.simulator()
    values = _values(3)
    theta = np.array([[v[n] for n in sim.names] for v in values])
    seeds = [5, 6, 7]
    together = sim(theta, seeds)
    assert together.shape == (3, len(posterior.observation()))
    for i, v in enumerate(values):  # one row alone, through the engine directly
        spec = posterior.fitted_period(v)
        inp, traj, record = run_batch(spec, [seeds[i]])
        tables = tables_from(spec.name, inp, [0], [seeds[i]], traj, record, sim.tables)
        np.testing.assert_array_equal(together[i], sim.summarise(tables)[0])
    np.testing.assert_array_equal(sim(theta[1:2], seeds[1:2])[0], together[1])  # not its batch's
    cases = together[:, : len(posterior.fit_cases())]
    assert set(np.unique(cases)) <= {-1.0, 0.0, 1.0}  # -1: an exit case of a member not at risk
    exits = np.array([c.startswith("exit:") for c in posterior.fit_cases()["case"]])
    assert (cases[:, ~exits] >= 0).all()
    assert np.isfinite(together).all()


def test_a_null_model_fit_runs_the_null_over_the_dimensions_it_keeps():
    fit = posterior.Fit(null="frozen_alignment")
    assert "pole_pull_rate" not in fit.ranges and "pole_pull_rate" in posterior.prior_ranges()
    spec = fit.build({})
    assert spec.parameters.pole_pull_rate == 0.0 and spec.name.endswith(".frozen_alignment")
    with pytest.raises(ValueError, match="no null model"):
        posterior.prior_ranges("nothing")


def test_the_series_summaries_are_the_observables_with_their_noise():
    sim = posterior.simulator()
    theta = np.array([[v[n] for n in sim.names] for v in _values(2, seed=4)])
    a, b = sim(theta, [11, 12]), sim(theta, [11, 13])
    k = len(posterior.fit_cases())
    cells = posterior.cells()
    assert a.shape[1] - k == len(cells) and not np.array_equal(a[0, k:], a[1, k:])
    np.testing.assert_array_equal(a[0], b[0])  # a run's noise comes from its seed alone
    trade = (cells["series"] == "trade_share").to_numpy()
    assert np.abs(a[:, k:][:, trade] - cells["value"].to_numpy()[trade]).mean() < 30  # percent


def test_a_row_of_the_wrong_width_is_refused():
    sim = Simulator(
        posterior.fitted_period, lambda t: np.zeros((1, 1)), ("response_base",), tables_from
    )
    with pytest.raises(ValueError, match="theta"):
        sim(np.zeros((2, 3)), [1, 2])


@pytest.mark.slow  # two reference tables, one with worker processes
def test_the_reference_table_is_the_same_for_any_worker_count_and_extends(tmp_path, monkeypatch):
    monkeypatch.setattr(posterior, "CHUNK", 40)
    fit = posterior.Fit(seed=3)
    one = posterior.reference(tmp_path / "w1", 100, fit, workers=1)
    two = posterior.reference(tmp_path / "w2", 100, fit, workers=2)
    for x, y in zip(one, two, strict=True):
        np.testing.assert_array_equal(x, y)
    assert one[0].shape == (100, len(fit.ranges))
    longer = posterior.reference(tmp_path / "w1", 130, fit, workers=1)
    np.testing.assert_array_equal(longer[1][:80], one[1][:80])  # whole chunks kept
    with pytest.raises(ResultsExistError, match="other period"):
        posterior.reference(tmp_path / "w1", 100, posterior.Fit("whole", seed=3))
    monkeypatch.setattr(posterior, "_measurement_digest", lambda: "other terms")
    with pytest.raises(ResultsExistError, match="other measurement"):
        posterior.reference(tmp_path / "w1", 100, fit)
