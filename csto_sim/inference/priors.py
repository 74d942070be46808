"""A prior that is uniform over named ranges except for one derived quantity, which follows
a Beta law set from outside evidence (a reference class).

``quantity`` maps parameter vectors ``(n, d)`` to a number in [0, 1] each (for the hindcast:
the chance that the alliance answers a member's request, :mod:`csto_sim.hindcast.answer_prior`).
Under the uniform prior that number has some law ``h``; the reference prior is the uniform
reweighted by ``g / h``, with ``g`` the Beta density, so that the quantity follows ``g``
exactly while every vector that gives the same quantity keeps its uniform weight (the
prior says nothing else). ``h`` is read from a fixed sample of the uniform prior, in
:data:`BINS` bins of equal uniform probability, so the ratio is exact per bin and never
divides by an empty one. Draws are by rejection from the uniform prior, so a reference
table drawn from it needs no weights.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from csto_sim.inference.regression_abc import Ranges, draw

BINS = 50
"""Bins of equal uniform probability over which the quantity's uniform law is read."""

CALIBRATION = 100_000
"""Uniform draws the bins are read from (a fixed seed: the prior is a function of its
definition only)."""


@dataclass(frozen=True)
class ReferencePrior:
    """Uniform over ``ranges``, with ``quantity`` following Beta(``a``, ``b``)."""

    ranges: Ranges
    quantity: Callable[[np.ndarray], np.ndarray] = field(compare=False)
    a: float
    b: float

    @functools.cached_property
    def _bins(self) -> tuple[np.ndarray, np.ndarray]:
        """Inner bin edges of the quantity and each bin's weight ``g / h`` (a bin's Beta
        probability over its uniform probability, ``1 / BINS``)."""
        q = self.quantity(draw(self.ranges, CALIBRATION, np.random.default_rng(0)))
        edges = np.quantile(q, np.arange(1, BINS) / BINS)
        cdf = beta_cdf(np.concatenate([[0.0], edges, [1.0]]), self.a, self.b)
        return edges, np.diff(cdf) * BINS

    def weight(self, theta: np.ndarray) -> np.ndarray:
        """The density of ``theta`` ``(n, d)`` over the uniform's (``g / h`` of its quantity)."""
        edges, weights = self._bins
        return weights[np.searchsorted(edges, self.quantity(theta), side="right")]

    def draw(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` vectors ``(n, d)`` from this prior (rejection from the uniform)."""
        top = self._bins[1].max()
        kept: list[np.ndarray] = []
        while sum(len(k) for k in kept) < n:
            theta = draw(self.ranges, max(n, 1000), rng)
            kept.append(theta[rng.random(len(theta)) * top < self.weight(theta)])
        return np.concatenate(kept)[:n]

    def sd(self, draws: int = 20_000) -> dict[str, float]:
        """Each dimension's standard deviation under this prior (from a fixed-seed sample)."""
        theta = self.draw(draws, np.random.default_rng(1))
        return dict(zip(self.ranges, theta.std(axis=0), strict=True))


def beta_of(mean: float, strength: float) -> tuple[float, float]:
    """Beta(a, b) with this mean and ``a + b = strength`` (the number of cases it is worth);
    both at least 1, so the density is bounded."""
    a, b = mean * strength, (1.0 - mean) * strength
    if not (a >= 1.0 and b >= 1.0):
        raise ValueError(
            f"a Beta prior of mean {mean} and strength {strength} has a = {a:g}, b = {b:g}; "
            "both must be at least 1"
        )
    return a, b


def beta_cdf(x: np.ndarray, a: float, b: float, grid: int = 200_001) -> np.ndarray:
    """The Beta(a, b) distribution function at ``x`` (a, b >= 1: a bounded density,
    integrated by the trapezoid rule on a fine grid; error below 1e-8)."""
    t = np.linspace(0.0, 1.0, grid)
    density = t ** (a - 1.0) * (1.0 - t) ** (b - 1.0)
    cdf = np.concatenate([[0.0], np.cumsum((density[1:] + density[:-1]) / 2.0)])
    return np.interp(x, t, cdf / cdf[-1])


__all__ = ["BINS", "CALIBRATION", "ReferencePrior", "beta_cdf", "beta_of"]
