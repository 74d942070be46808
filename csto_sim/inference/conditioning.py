"""Projections that start from the known present: histories conditioned on their record.

A projection whose history has a ``[record]`` (the membership statuses the event history
gives) and that conditions on it (``condition = true``, the default) continues only
histories that hold the record. They come from a guided particle filter with one
resampling:

1. Runs come in blocks of :data:`BLOCK` consecutive runs. For block ``b`` the filter
   simulates :data:`PARTICLES` histories (*particles*, numbered from ``b * PARTICLES``):
   particle ``j`` with the parameters of posterior draw ``j // runs_per_draw`` (as run
   ``j`` of an ensemble takes them) and the history seed of run ``j``.
2. Each history is guided (:func:`csto_sim.core.rules.guided_choice`): at every step a
   member's membership choice is drawn among the statuses the record allows, and the
   history's weight is multiplied by the model's chance of them. Nothing is typed in: the
   state at the end of the history is what the guided history simulated.
3. The block's particles are resampled (systematic resampling, then shuffled, by a stream
   seeded by the ensemble's seed and the block) to :data:`BLOCK` equal-weight histories,
   so the projection's tables carry no weights and its first runs draw on the whole block. Run ``r`` continues particle ``source(r)``:
   that particle's parameter draw and history, with run ``r``'s own seed from there on, so
   a history taken twice goes on two different futures.

The effective sample size is ``(sum w)^2 / sum w^2`` over the particles (distinct pairs of
draw and history) of the blocks a set of runs uses, before resampling. There are more
particles than runs because the weights are uneven (one resampling, at the end of the
history; see docs/calibration.md). Blocks have a constant
size, so what run ``r`` continues does not depend on ``--runs``, the chunking, the workers
or the engine (the Mesa model lives through its particle's guided history itself).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from csto_sim.core.batch import advance_all, batch_inputs
from csto_sim.core.inputs import history_scenario
from csto_sim.core.randomness import run_seed
from csto_sim.core.scenario import Scenario
from csto_sim.core.state import State
from csto_sim.inference.posterior import Posterior

BLOCK = 25
"""Runs per block: runs ``b * BLOCK`` to ``(b + 1) * BLOCK - 1`` share one filter (24
histories per run: see docs/calibration.md, "Effective sample size")."""
PARTICLES = 600
"""Histories simulated per block."""
BATCH = 600
"""Most histories simulated at once (one job of the filter)."""


def conditions(scenario: Scenario) -> bool:
    """Whether runs of ``scenario`` continue histories conditioned on a record."""
    h = scenario.history
    return h is not None and scenario.condition and bool(h.record or h.recorded_requests)


@dataclass(frozen=True)
class Block:
    """One block's particle filter: the particle each of its runs continues and the
    particles' log chances of the record."""

    sources: np.ndarray  # (BLOCK,) the particle each run of the block continues
    log_weight: np.ndarray  # (PARTICLES,) each particle's log chance of the record

    @property
    def weights(self) -> np.ndarray:
        """The particles' normalised weights (0 where the record is impossible)."""
        return normalised(self.log_weight)

    @property
    def ess(self) -> float:
        """Effective sample size before resampling (:func:`effective_size`)."""
        return effective_size(self.log_weight)

    @property
    def accepted(self) -> int:
        """Particles whose history can hold the record (weight above zero)."""
        return int((self.weights > 0).sum())


def effective_size(log_weight: np.ndarray) -> float:
    """``(sum w)^2 / sum w^2`` of the weights ``exp(log_weight)`` (0 if all are zero)."""
    w = normalised(log_weight)
    return float(1.0 / np.sum(w**2)) if w.any() else 0.0


def normalised(log_weight: np.ndarray) -> np.ndarray:
    """Weights summing to one from log weights (all zero if every one is ``-inf``)."""
    finite = np.isfinite(log_weight)
    if not finite.any():
        return np.zeros_like(log_weight)
    w = np.where(finite, np.exp(log_weight - log_weight[finite].max()), 0.0)
    return w / w.sum()


def particles(
    scenario: Scenario, posterior: Posterior | None, seed: int, indices: Sequence[int]
) -> list[Scenario]:
    """The scenario each particle (or run) of ``indices`` takes: with its draw's parameters
    (one object per sample, so each compiles once)."""
    if posterior is None:
        return [scenario] * len(indices)
    samples = [posterior.sample_of(seed, j) for j in indices]
    specs = {i: posterior.scenario_for(scenario, i) for i in dict.fromkeys(samples)}
    return [specs[i] for i in samples]


def log_weights(
    scenario: Scenario, posterior: Posterior | None, seed: int, indices: Sequence[int]
) -> np.ndarray:
    """Each particle's log chance of the record, from its guided history (one batch)."""
    specs = particles(scenario, posterior, seed, indices)
    past = [history_scenario(s) for s in specs]
    inp = batch_inputs(past[0] if posterior is None else past, len(indices))
    seeds = [run_seed(scenario.history.seed, j) for j in indices]
    out = np.zeros(len(indices))
    advance_all(inp, State.initial(inp.initial, replicas=len(indices)), seeds, out)
    return out


Mapper = Callable[[Callable, list[tuple]], list]
"""Runs a function over argument tuples and returns the results in order (a worker pool)."""


def _serial(fn: Callable, jobs: list[tuple]) -> list:
    return [fn(*job) for job in jobs]


_BLOCKS: dict[tuple, Block] = {}


def filter_key(scenario: Scenario, posterior: Posterior | None, seed: int) -> tuple:
    """What a filter of ``scenario``'s runs depends on: its history (with the scenario's
    parameters), the posterior as the history reads it (its parameters and the judgements
    the history references: a projection's own judgements leave its filter as it is) and
    the seed."""
    past = history_scenario(scenario)  # the history, with the scenario's parameters
    drawn = None if posterior is None else posterior.digest(judged=past.judged)
    return (past.digest(), drawn, seed)


def blocks(
    scenario: Scenario,
    posterior: Posterior | None,
    seed: int,
    ids: Sequence[int],
    mapper: Mapper | None = None,
) -> list[Block]:
    """The filters of blocks ``ids`` for runs of ``scenario`` (drawn from ``posterior``, if
    any) in an ensemble with ``seed``; the histories of those not yet known are simulated
    through ``mapper`` (default: here), all in one call. Remembered, so that every chunk
    and both engines share them, and so do scenarios that continue the same history with
    the same parameters (common random numbers)."""
    key = filter_key(scenario, posterior, seed)
    found = {b: _BLOCKS.get((*key, b)) for b in dict.fromkeys(ids)}
    todo = [b for b, x in found.items() if x is None]
    edges = [*range(0, PARTICLES, BATCH), PARTICLES]
    jobs = [
        (scenario, posterior, seed, list(range(b * PARTICLES + i, b * PARTICLES + j)))
        for b in todo
        for i, j in itertools.pairwise(edges)
    ]
    results = iter((mapper or _serial)(log_weights, jobs))
    for b in todo:
        log_weight = np.concatenate([next(results) for _ in edges[1:]])
        rng = np.random.default_rng([run_seed(seed, b), 0xC0D])
        picked = rng.permutation(resample(normalised(log_weight), BLOCK, rng))
        found[b] = Block(b * PARTICLES + picked, log_weight)
    if len(_BLOCKS) > 1000:
        _BLOCKS.clear()
    _BLOCKS.update({(*key, b): x for b, x in found.items()})
    return [found[b] for b in ids]


def resample(weights: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Systematic resampling: ``n`` indices into ``weights``, index ``i`` taken about ``n *
    weights[i]`` times, in index order (all weights zero: the first ``n``)."""
    if not weights.any():
        return np.arange(n) % len(weights)
    u = (rng.random() + np.arange(n)) / n
    cum = np.cumsum(weights)
    return np.minimum(np.searchsorted(cum / cum[-1], u, side="right"), len(weights) - 1)


def sources(
    scenario: Scenario,
    posterior: Posterior | None,
    seed: int,
    runs: Sequence[int],
    mapper: Mapper | None = None,
) -> list[int]:
    """The particle whose parameter draw and history each of ``runs`` continues (the run
    itself when the scenario does not condition)."""
    runs = [int(r) for r in runs]
    if not conditions(scenario):
        return runs
    found = blocks(scenario, posterior, seed, [r // BLOCK for r in runs], mapper)
    return [int(x.sources[r % BLOCK]) for x, r in zip(found, runs, strict=True)]


def sample_weights(
    scenario: Scenario,
    posterior: Posterior,
    seed: int,
    runs: Sequence[int],
    mapper: Mapper | None = None,
) -> np.ndarray:
    """The weight of each of ``posterior``'s samples once the record is held as well: the
    normalised weights of the particles of the blocks ``runs`` use, summed by the sample each
    particle takes (what the runs of a conditioned projection draw their parameters from; the
    posterior's own weights when the scenario does not condition)."""
    if not conditions(scenario):
        return np.asarray(posterior.weights, dtype=float)
    ids = sorted({int(r) // BLOCK for r in runs})
    found = blocks(scenario, posterior, seed, ids, mapper)
    taken = [posterior.sample_of(seed, b * PARTICLES + j) for b in ids for j in range(PARTICLES)]
    w = normalised(np.concatenate([x.log_weight for x in found]))
    return np.bincount(taken, weights=w, minlength=len(posterior.weights))


def summary(
    scenario: Scenario,
    posterior: Posterior | None,
    seed: int,
    runs: Sequence[int],
    mapper: Mapper | None = None,
) -> dict | None:
    """What the filter did for ``runs``: histories simulated, accepted (able to hold the
    record), the effective sample size over all of them (their weights normalised
    together: the smaller, more cautious figure than a sum over blocks, each normalised
    alone) and the distinct histories the runs continue; over a posterior also the
    distinct samples those histories took (``samples``) and the effective number of
    samples (``ess_samples``: the weights summed by sample, as the parameters see them).
    None when the scenario does not condition."""
    if not conditions(scenario):
        return None
    found = blocks(scenario, posterior, seed, sorted({int(r) // BLOCK for r in runs}), mapper)
    continued = set(sources(scenario, posterior, seed, runs))
    out = {
        "histories": PARTICLES * len(found),
        "accepted": sum(x.accepted for x in found),
        "ess": round(effective_size(np.concatenate([x.log_weight for x in found])), 1),
        "distinct": len(continued),
    }
    if posterior is not None:
        w = sample_weights(scenario, posterior, seed, runs, mapper)
        out["samples"] = len({posterior.sample_of(seed, j) for j in continued})
        out["ess_samples"] = round(float(1.0 / np.sum(w**2)) if w.any() else 0.0, 1)
    return out
