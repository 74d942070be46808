"""The simulator interface for inference, ``simulate(theta[n, d], seeds) -> summaries[n, k]``,
and the pyabc sampler that hands it whole batches."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from csto_sim.core.batch import run_batch
from csto_sim.experiments.tables import tables_from
from csto_sim.hindcast import posterior
from csto_sim.inference.simulator import Simulator


def _values(n: int, seed: int = 0) -> list[dict[str, float]]:
    rng = np.random.default_rng(seed)
    ranges = posterior.prior_ranges()
    return [{k: rng.uniform(lo, hi) for k, (lo, hi) in ranges.items()} for _ in range(n)]


def test_each_row_is_the_run_of_its_own_parameters_and_seed():
    sim = posterior.simulator()
    values = _values(3)
    theta = np.array([[v[n] for n in sim.names] for v in values])
    seeds = [5, 6, 7]
    together = sim(theta, seeds)
    assert together.shape == (3, len(posterior.fit_cases()))
    for i, v in enumerate(values):  # one row alone, through the engine directly
        spec = posterior.fitted_period(v)
        inp, traj, record = run_batch(spec, [seeds[i]])
        tables = tables_from(spec.name, inp, [0], [seeds[i]], traj, record, sim.tables)
        np.testing.assert_array_equal(together[i], sim.summarise(tables)[0])
    seen = ~np.isnan(together)  # NaN: an exit case of a member not at risk in that run
    assert set(np.unique(together[seen])) <= {0.0, 1.0}
    exits = np.array([c.startswith("exit:") for c in posterior.fit_cases()["case"]])
    assert seen[:, ~exits].all()


def test_replicas_are_averaged_and_vectors_do_not_depend_on_their_batch():
    values = _values(4, seed=1)
    many = posterior.simulate_many(values, replicas=3)
    assert many[2] == posterior.simulate(values[2], replicas=3)
    shares = np.array([list(m.values()) for m in many])
    assert ((shares * 3) % 1 == 0).all()  # shares of three runs


def test_a_row_of_the_wrong_width_is_refused():
    sim = Simulator(
        posterior.fitted_period, lambda t: np.zeros((1, 1)), ("response_base",), tables_from
    )
    with pytest.raises(ValueError, match="theta"):
        sim(np.zeros((2, 3)), [1, 2])


@pytest.mark.slow  # two ABC fits, one with worker processes
def test_the_batch_sampler_fits_and_gives_the_same_posterior_for_any_worker_count(tmp_path):
    pytest.importorskip("pyabc")
    kwargs = {"simulations": 40, "population": 12, "replicas": 2, "batch": 8, "seed": 3}
    one = posterior.fit_posterior(tmp_path / "w1", workers=1, **kwargs)
    two = posterior.fit_posterior(tmp_path / "w2", workers=2, **kwargs)
    assert len(one) == 12 and np.isclose(one["weight"].sum(), 1.0)
    assert pd.read_csv(tmp_path / "w1" / "populations.csv")["t"].max() >= 1  # generations ran
    pd.testing.assert_frame_equal(one, two)
