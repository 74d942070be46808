"""The ABC-SMC fit (pyabc), for any problem: uniform priors over named ranges, a batch
simulator of summary statistics, and what was observed.

Why ABC-SMC with pyabc: the model's likelihood is intractable (a stochastic agent-based
simulation scored on discrete historical facts), the data are few and the parameters many.
Likelihood-free rejection with sequential Monte Carlo gives weighted posterior samples
without a surrogate network to train (sbi) and with a storage database that lets an
interrupted fit resume (``ABCSMC.load``). pyabc is maintained, runs its samples on any
``concurrent.futures`` executor and is an optional extra (``pip install
csto-sim[calibration]``). The sampler works in unbounded coordinates: each parameter is
``low + (high - low) * logistic(u)``, so a standard logistic prior on ``u`` is the uniform
prior on the parameter, and a proposal kernel never crosses a boundary. The distance is the
mean squared difference of the summaries from what was observed (a Brier score when the
summaries are shares of runs and the observations 0 or 1).

What is fitted to what (the hindcast's recorded cases, its replicas and seeds) is the
caller's: :mod:`csto_sim.hindcast.posterior`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

DB = "abc.db"
"""The pyabc database in a fit's folder (what a resumed fit continues)."""

Ranges = dict[str, tuple[float, float]]
"""Each dimension's uniform prior: name -> (low, high)."""
SimulateMany = Callable[[Sequence[dict[str, float]]], list[dict[str, float]]]
"""Summary statistics (name -> value) of many parameter vectors, simulated together."""


def to_parameters(ranges: Ranges, coords: dict[str, float]) -> dict[str, float]:
    """Parameter values from the sampler's unbounded coordinates (by our names)."""
    return {n: lo + (hi - lo) / (1.0 + np.exp(-float(coords[n]))) for n, (lo, hi) in ranges.items()}


def distance(x: dict[str, float], x0: dict[str, float]) -> float:
    """Mean squared difference between simulated summaries and what was observed."""
    return float(np.mean([(x[k] - x0[k]) ** 2 for k in x0]))


def key(name: str) -> str:
    """pyabc's name of a coordinate (its parameter names must be identifier-like)."""
    return name.replace("@", "J_").replace(".", "__").replace(" ", "_")


@dataclass(frozen=True)
class Model:
    """A picklable model for pyabc: :meth:`batch` simulates many coordinate vectors in one
    call (what :class:`~csto_sim.inference.sampler.BatchSampler` calls)."""

    ranges: Ranges
    simulate_many: SimulateMany

    def __call__(self, coords) -> dict[str, float]:
        return self.batch([coords])[0]

    def batch(self, many) -> list[dict[str, float]]:
        back = {key(n): n for n in self.ranges}
        values = [
            to_parameters(self.ranges, {back[k]: v for k, v in dict(c).items()}) for c in many
        ]
        return self.simulate_many(values)


def fit(
    model: Model,
    observed: dict[str, float],
    out: str | Path,
    executor: Executor | None,
    in_flight: int,
    simulations: int,
    population: int,
    seed: int,
    scaling: float = 1.0,
    prior_share: float = 1.0,
    batch: int = 50,
    meta: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Run (or resume, from ``out/abc.db``) ABC-SMC until ``simulations`` simulations in
    all, on ``executor`` (None: in process) with ``in_flight`` batches at a time; returns the last population's weighted samples (also written to
    ``out/posterior.csv``, with ``populations.csv``). A generation cut short is sampled
    again; ``meta`` is stored with a new database."""
    import pyabc

    from csto_sim.inference.abc_kernel import DefensiveTransition
    from csto_sim.inference.sampler import BatchSampler

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    db = f"sqlite:///{(out / DB).resolve()}"
    prior = pyabc.Distribution(**{key(n): pyabc.RV("logistic", 0.0, 1.0) for n in model.ranges})
    abc = pyabc.ABCSMC(
        model,
        prior,
        distance,
        population_size=population,
        sampler=BatchSampler(executor, batch, in_flight, seed),
        transitions=DefensiveTransition(prior_share, scaling),
    )
    history = abc.load(db, 1) if (out / DB).exists() else abc.new(db, observed, meta_info=meta)
    left = simulations - history.total_nr_simulations
    if left > 0:
        abc.run(max_total_nr_simulations=history.total_nr_simulations + left)
    return write_samples(out, model.ranges)


def write_samples(out: str | Path, ranges: Ranges) -> pd.DataFrame:
    """The last population of the pyabc database in ``out`` as ``posterior.csv`` (one column
    per dimension and ``weight``) and the generations as ``populations.csv``."""
    import pyabc

    out = Path(out)
    history = pyabc.History(f"sqlite:///{(out / DB).resolve()}", _id=1)
    frame, weights = history.get_distribution(m=0, t=history.max_t)
    back = {key(n): n for n in ranges}
    coords = frame[[key(n) for n in ranges]].rename(columns=back).to_dict("records")
    samples = pd.DataFrame([to_parameters(ranges, row) for row in coords], columns=list(ranges))
    samples["weight"] = np.asarray(weights) / np.sum(weights)
    samples.to_csv(out / "posterior.csv", index=False)
    history.get_all_populations().to_csv(out / "populations.csv", index=False)
    return samples


def identifiability(samples: pd.DataFrame, ranges: Ranges) -> pd.DataFrame:
    """How far the data pin each dimension down: posterior mean, 90% interval, and
    ``width``, the posterior standard deviation as a share of the uniform prior's (near 1:
    the data say nothing about it; near 0: pinned down)."""
    w = samples["weight"].to_numpy()
    rows = []
    for name, (lo, hi) in ranges.items():
        x = samples[name].to_numpy()
        order = np.argsort(x)
        cdf = np.cumsum(w[order])
        mean = float(np.sum(w * x))
        sd = float(np.sqrt(np.sum(w * (x - mean) ** 2)))
        rows.append(
            {
                "parameter": name,
                "mean": mean,
                "q05": float(x[order][np.searchsorted(cdf, 0.05)]),
                "q95": float(x[order][min(np.searchsorted(cdf, 0.95), len(x) - 1)]),
                "prior_low": lo,
                "prior_high": hi,
                "width": sd / ((hi - lo) / np.sqrt(12)) if hi > lo else 0.0,
            }
        )
    return pd.DataFrame(rows).sort_values("width", ignore_index=True)


__all__ = ["DB", "Model", "distance", "fit", "identifiability", "to_parameters", "write_samples"]
