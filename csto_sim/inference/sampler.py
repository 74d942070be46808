"""A pyabc sampler that hands the model whole batches (needs pyabc, the analysis extra).

pyabc's own samplers evaluate one particle per call of the model. :class:`BatchSampler`
draws proposals ``batch`` at a time the way pyabc does (its ``generate_valid_proposal``
and priors), simulates them in one call of the model's ``batch`` method (a
:class:`~csto_sim.inference.simulator.Simulator` behind it), then judges each with pyabc's
own acceptor and weight function. Jobs go to any ``concurrent.futures`` executor; each
job seeds numpy's global state (which pyabc draws from) from the sampler's seed, the
generation and the job, and particles are taken in job order until enough are accepted,
so a generation's result is the same for any number of workers.
"""

from __future__ import annotations

from concurrent.futures import Executor

import numpy as np
from pyabc.inference_util import inference_util as iu
from pyabc.population import Particle
from pyabc.sampler.base import Sampler


class BatchSampler(Sampler):
    """Sample ``batch`` particles per job, ``in_flight`` jobs at a time on ``executor``
    (None: in process)."""

    def __init__(
        self, executor: Executor | None = None, batch: int = 50, in_flight: int = 2, seed: int = 0
    ):
        super().__init__()
        self.executor, self.batch, self.in_flight, self.seed = executor, batch, in_flight, seed

    def sample_until_n_accepted(
        self, n, simulate_one, t, *, max_eval=np.inf, all_accepted=False, ana_vars=None
    ):
        sample = self._create_empty_sample()
        evaluations, job = 0, 0
        pending = []
        while sample.n_accepted < n and evaluations < max_eval:
            while len(pending) < max(self.in_flight, 1):
                args = (simulate_one, self.batch, (self.seed, t + 1, job))  # t = -1: calibration
                pending.append(
                    self.executor.submit(_sample_batch, *args)
                    if self.executor is not None
                    else _Done(_sample_batch(*args))
                )
                job += 1
            for particle in pending.pop(0).result():
                if sample.n_accepted >= n or evaluations >= max_eval:
                    break
                sample.append(particle)
                evaluations += 1
        for future in pending:
            future.cancel()
        self.nr_evaluations_ = evaluations
        if sample.n_accepted < n:
            sample.ok = False
        return sample


class _Done:
    """A finished result where no executor runs the jobs."""

    def __init__(self, value):
        self.value = value

    def result(self):
        return self.value

    def cancel(self):
        return False


def _sample_batch(simulate_one, size: int, key: tuple[int, int, int]) -> list[Particle]:
    """``size`` particles from one call of the model's ``batch`` (or one ``simulate_one`` call
    each, for a function this sampler does not know)."""
    np.random.seed(np.random.SeedSequence(list(key)).generate_state(1)[0])  # noqa: NPY002
    kw = getattr(simulate_one, "keywords", {})
    model = kw.get("models", [None])[0]
    batched = getattr(getattr(model, "sample", None), "batch", None)
    func = getattr(simulate_one, "func", None)
    if batched is None or func not in (iu._simulate_one, iu._simulate_one_from_prior):
        return [simulate_one() for _ in range(size)]
    from_prior = func is iu._simulate_one_from_prior
    proposals = [_propose(kw, from_prior) for _ in range(size)]
    raw = batched([theta for _, theta in proposals])
    stats = [kw["summary_statistics"](x) for x in raw]
    return [
        _particle(kw, m, theta, x, from_prior)
        for (m, theta), x in zip(proposals, stats, strict=True)
    ]


def _propose(kw: dict, from_prior: bool):
    if from_prior:
        m = int(kw["model_prior"].rvs())
        return m, kw["parameter_priors"][m].rvs()
    return iu.generate_valid_proposal(
        t=kw["t"],
        m=kw["m"],
        p=kw["p"],
        model_prior=kw["model_prior"],
        parameter_priors=kw["parameter_priors"],
        model_perturbation_kernel=kw["model_perturbation_kernel"],
        transitions=kw["transitions"],
    )


def _particle(kw: dict, m: int, theta, x: dict, from_prior: bool) -> Particle:
    """The particle pyabc's own ``_simulate_one`` would make from these summaries: from the
    prior, or preliminary (not evaluated), accepted with distance infinity; else judged by
    pyabc's acceptor and weighted by its weight function."""
    if from_prior or not kw["evaluate"]:
        weight = 1.0 if from_prior else kw["weight_function"](m, theta, 1.0)
        judged = {"distance": np.inf, "accepted": True, "preliminary": not from_prior}
        proposal = 0 if from_prior else kw["proposal_id"]
    else:
        result = kw["acceptor"](
            distance_function=kw["distance_function"],
            eps=kw["eps"],
            x=x,
            x_0=kw["x_0"],
            t=kw["t"],
            par=theta,
        )
        weight = kw["weight_function"](m, theta, result.weight) if result.accept else 0.0
        judged = {"distance": result.distance, "accepted": result.accept, "preliminary": False}
        proposal = kw["proposal_id"]
    return Particle(m=m, parameter=theta, weight=weight, sum_stat=x, proposal_id=proposal, **judged)
