"""The posteriors of the historical case: the ABC-SMC fit (:mod:`csto_sim.inference.abc`,
pyabc; why ABC there) of the hindcast's recorded cases, over the fitted period (the
validation posterior) or the whole record (the production posterior). The fit runs on the
shared executor path (local processes or Dask, :func:`csto_sim.experiments.executors.worker_pool`).

One *simulation* is ``replicas`` runs of the hindcast from 2002 to the end of the fitted
period (batched engine) with one parameter vector; its summary statistics are the shares of
runs in which each recorded case of the fitted period happens
(:mod:`csto_sim.hindcast.outcomes`: requests, responses, and exits at about their recorded
time). The distance is the mean squared difference from what history says: the Brier
score over those facts. The prior is uniform over each searched parameter's plausible range and over the
range of each uncertain judgement of the registry (prior ``uniform`` in
``csto_sim/data/judgements.csv``; its columns in the samples are ``@ID``). The other
judgements stay as the registry gives them: calibration never writes the registry.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from csto_sim.core import judgements
from csto_sim.core.randomness import run_seed
from csto_sim.core.scenario import Scenario
from csto_sim.experiments.executors import worker_pool
from csto_sim.experiments.tables import tables_from
from csto_sim.hindcast import outcomes
from csto_sim.hindcast.calibration import hindcast, ranges
from csto_sim.hindcast.patterns import HELD_OUT_FROM
from csto_sim.inference import abc
from csto_sim.inference.simulator import Simulator

PERIODS: tuple[str, ...] = ("fit", "whole")
"""What a fit sees: the fitted period 2002-2014 (the validation posterior, whose held-out
test is 2015-2024), or the whole record 2002-2024 (the production posterior, for
projections)."""


def fit_cases(period: str = "fit") -> pd.DataFrame:
    """The recorded cases a fit over ``period`` sees (``PERIODS``)."""
    cases = outcomes.recorded_cases()
    if period not in PERIODS:
        raise ValueError(f"unknown period {period!r}; choose one of {', '.join(PERIODS)}")
    if period == "whole":
        return cases.reset_index(drop=True)
    return cases[cases["period"] == "fit"].reset_index(drop=True)


def prior_ranges() -> dict[str, tuple[float, float]]:
    """What the posterior is over, with the range of each uniform prior: the searched
    parameters, then the uncertain judgements (named ``@ID``)."""
    judged = {judgements.PREFIX + k: (j.low, j.high) for k, j in judgements.uncertain().items()}
    return ranges() | judged


def split(values: dict[str, float]) -> tuple[dict[str, float], dict[str, float]]:
    """Parameter values and judgement values (``@ID`` keys, returned without the ``@``)."""
    params = {k: v for k, v in values.items() if not k.startswith(judgements.PREFIX)}
    judged = {k[1:]: v for k, v in values.items() if k.startswith(judgements.PREFIX)}
    return params, judged


def fitted_period(values: dict[str, Any] | None = None, period: str = "fit") -> Scenario:
    """The built-in hindcast with these parameter and judgement values, run to the end of
    the fitted period (``period="fit"``) or of the record (``"whole"``); built from the data
    once, each vector only sets its values."""
    params, judged = split(values or {})
    spec = _whole_record()
    spec = spec.with_parameters(**params) if params else spec
    spec = spec.with_judgements(judged) if judged else spec
    if period == "whole":
        return spec
    return spec.model_copy(update={"time": spec.time.model_copy(update={"end": HELD_OUT_FROM})})


@functools.cache
def _whole_record() -> Scenario:
    return hindcast()


def observed(leave_out: Sequence[str] = (), period: str = "fit") -> dict[str, float]:
    """What history says, as summary statistics: 1 for a case that happened, 0 for one that
    did not; without the cases left out (a case id, or an event label: all its cases)."""
    cases = fit_cases(period)
    unknown = [x for x in leave_out if x not in set(cases["case"]) | set(cases["label"])]
    if unknown:
        raise ValueError(f"no fitted-period case or event {unknown[0]!r} to leave out")
    kept = cases[~(cases["case"].isin(leave_out) | cases["label"].isin(leave_out))]
    return dict(zip(kept["case"], kept["happened"].astype(float), strict=True))


def particle_seed(params: dict[str, float]) -> int:
    """The ensemble seed of a parameter vector's simulation: a hash of its values, so a
    simulation is a function of its parameters and different particles get different dice."""
    text = json.dumps({k: round(float(v), 12) for k, v in sorted(params.items())})
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")


@dataclass(frozen=True)
class _Period:
    """The pieces of a fit over one period (picklable, for worker processes)."""

    period: str

    def build(self, values: dict[str, Any]) -> Scenario:
        return fitted_period(values, self.period)

    def hits(self, tables: dict[str, pd.DataFrame]) -> np.ndarray:
        """Per-run summaries: whether each case happens in each run ``(n, k)``."""
        return outcomes.case_hits(tables, fit_cases(self.period)).to_numpy(dtype=float)


def simulator(period: str = "fit") -> Simulator:
    """The hindcast over ``period`` as a :class:`Simulator` over the posterior's dimensions
    (:func:`prior_ranges`): one hindcast run per row of parameter values."""
    pieces = _Period(period)
    return Simulator(pieces.build, pieces.hits, tuple(prior_ranges()), tables_from)


def simulate_many(
    values: Sequence[dict[str, float]], replicas: int = 10, period: str = "fit"
) -> list[dict[str, float]]:
    """The summary statistics of ``replicas`` runs of the fitted period for each parameter
    vector (the share of runs in which each case happens), all in one batch. A vector's
    runs use the seeds of its :func:`particle_seed`, so a vector's summaries do not depend
    on the others in the batch."""
    sim = simulator(period)
    theta = np.array([[float(v[n]) for n in sim.names] for v in values])
    seeds = [
        [
            run_seed(particle_seed(dict(zip(sim.names, row, strict=True))), r)
            for r in range(replicas)
        ]
        for row in theta.tolist()
    ]
    shares = sim.mean(theta, seeds)
    cases = list(fit_cases(period)["case"])
    return [dict(zip(cases, row.tolist(), strict=True)) for row in shares]


def simulate(params: dict[str, float], replicas: int = 10) -> dict[str, float]:
    """The summary statistics of ``replicas`` runs of the fitted period with ``params``."""
    return simulate_many([params], replicas)[0]


def distance(x: dict[str, float], x0: dict[str, float]) -> float:
    """Mean squared difference between simulated shares and what history says."""
    return abc.distance(x, x0)


def to_parameters(coords: dict[str, float]) -> dict[str, float]:
    """Parameter values from the sampler's unbounded coordinates
    (:func:`csto_sim.inference.abc.to_parameters` over :func:`prior_ranges`)."""
    return abc.to_parameters(prior_ranges(), coords)


@dataclass(frozen=True)
class _Replicas:
    """``replicas`` runs of ``period`` per parameter vector (picklable, for workers)."""

    replicas: int
    period: str

    def __call__(self, values: Sequence[dict[str, float]]) -> list[dict[str, float]]:
        return simulate_many(values, self.replicas, self.period)


def fit_posterior(
    out: str | Path,
    simulations: int = 10_000,
    population: int = 200,
    replicas: int = 10,
    workers: int | None = None,
    executor: Executor | None = None,
    seed: int = 2002,
    scaling: float = 1.0,
    prior_share: float = 1.0,
    leave_out: Sequence[str] = (),
    batch: int = 50,
    period: str = "fit",
) -> pd.DataFrame:
    """Run (or resume) the ABC-SMC fit (:func:`csto_sim.inference.abc.fit`) of the
    recorded cases of ``period`` until ``simulations`` simulations in all (particles, each
    of ``replicas`` hindcast runs; ``batch`` particles are simulated together in one batch
    of ``batch x replicas`` runs); returns the last population's weighted samples (also
    written to ``out/posterior.csv``, with ``populations.csv``: each generation's epsilon,
    acceptance and simulations). ``leave_out`` fits without some cases (ids or event
    labels): a leave-one-event-out fit, whose posterior then predicts the event it did not
    see. ``period`` is what the fit sees (:data:`PERIODS`): the fitted period (the
    validation posterior) or the whole record (the production posterior).

    The database ``out/abc.db`` holds every generation: a rerun continues from the last
    finished one (a generation cut short is sampled again).
    """
    target = observed(leave_out, period)
    model = abc.Model(prior_ranges(), _Replicas(replicas, period))
    meta = {"replicas": replicas, "seed": seed, "leave_out": list(leave_out), "period": period}
    with worker_pool(workers, executor, jobs=population) as pool:
        return abc.fit(
            model,
            target,
            out,
            pool.executor,
            pool.in_flight,
            simulations,
            population,
            seed,
            scaling,
            prior_share,
            batch,
            meta,
        )


def write_posterior(out: str | Path) -> pd.DataFrame:
    """The last population of the fit in ``out`` as ``posterior.csv`` and ``populations.csv``."""
    return abc.write_samples(out, prior_ranges())


def identifiability(samples: pd.DataFrame) -> pd.DataFrame:
    """How far history pins each parameter down (:func:`csto_sim.inference.abc.identifiability`)."""
    return abc.identifiability(samples, prior_ranges())


def identifiability_table(samples: pd.DataFrame) -> str:
    """:func:`identifiability` as the Markdown table of ``docs/calibration.md`` (narrowest
    first), with the median ``width`` under it."""
    t = identifiability(samples)
    rows = [
        "| parameter or judgement | posterior mean | 90% interval | prior range | width |",
        "|---|---|---|---|---|",
    ]
    for r in t.itertuples():
        rows.append(
            f"| `{r.parameter}` | {r.mean:.3g} | {r.q05:.3g} - {r.q95:.3g} "
            f"| {r.prior_low:g} - {r.prior_high:g} | {r.width:.2f} |"
        )
    rows += ["", f"Median width: {t['width'].median():.2f} over {len(t)} dimensions."]
    return "\n".join(rows)
