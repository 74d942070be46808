"""Rejection ABC with learned summaries and regression adjustment: exact small cases, the
bounds, and recovery of known parameters on a problem whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from csto_sim.inference import regression_abc as ra

RANGES = {"a": (0.0, 1.0), "b": (-2.0, 6.0), "noise": (0.0, 1.0)}


def _simulate(theta: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A toy with a known answer: ``a`` seen through ten noisy copies, ``b`` through one,
    and ``noise`` not at all."""
    a, b = theta[:, :1], theta[:, 1:2]
    return np.hstack(
        [a + 0.05 * rng.standard_normal((len(a), 10)), b + rng.standard_normal((len(b), 1))]
    )


@given(st.lists(st.floats(0.0, 1.0), min_size=3, max_size=3))
def test_unbounded_coordinates_round_trip_inside_the_range(position):
    lo, hi = ra.bounds(RANGES)
    theta = np.atleast_2d(lo + (hi - lo) * np.clip(position, 1e-6, 1 - 1e-6))
    back = ra.from_unbounded(ra.to_unbounded(theta, RANGES), RANGES)
    np.testing.assert_allclose(back, theta, atol=1e-6 * (hi - lo).max())
    assert (ra.from_unbounded(np.array([[-50.0, 0.0, 50.0]]), RANGES) >= lo).all()


def test_the_projection_is_the_least_squares_line_on_an_exact_case():
    s = np.arange(10.0)[:, None]
    u = 3.0 * s + 1.0
    learn = ra.Projection.fit(u, s, ridge=0.0)
    np.testing.assert_allclose(learn(np.array([[4.5]])), [[14.5]])
    constant = ra.Projection.fit(u, np.hstack([s, np.ones_like(s)]), ridge=0.0)
    np.testing.assert_allclose(constant(np.array([[4.5, 7.0]])), [[14.5]])  # a constant is left out


def test_the_posterior_centres_on_what_is_informed_and_keeps_the_prior_elsewhere():
    rng = np.random.default_rng(1)
    theta = ra.draw(RANGES, 20_000, rng)
    truth = np.array([[0.3, 4.0, 0.5]])
    samples = ra.fit(RANGES, theta, _simulate(theta, rng), _simulate(truth, rng)[0], accept=0.05)
    assert np.isclose(samples["weight"].sum(), 1.0)
    lo, hi = ra.bounds(RANGES)
    assert ((samples[list(RANGES)] >= lo) & (samples[list(RANGES)] <= hi)).all().all()
    ident = ra.identifiability(samples, RANGES).set_index("parameter")
    assert ident.loc["a", "q05"] < 0.3 < ident.loc["a", "q95"]
    assert ident.loc["a", "width"] < 0.15  # ten copies with sd 0.05 pin a down
    assert ident.loc["a", "width"] < ident.loc["b", "width"] < ident.loc["noise", "width"]
    assert ident.loc["noise", "width"] > 0.85  # nothing informs it: it keeps its prior


def test_a_table_too_small_for_its_dimensions_is_refused():
    theta = ra.draw(RANGES, 4, np.random.default_rng(0))
    with pytest.raises(ValueError, match="too small"):
        ra.fit(RANGES, theta, theta.copy(), theta[0], accept=0.5)


def test_the_method_recovers_known_parameters():
    rng = np.random.default_rng(2)
    theta = ra.draw(RANGES, 20_000, rng)
    tests = ra.draw(RANGES, 100, rng)
    check = ra.recovery(RANGES, (theta, _simulate(theta, rng)), (tests, _simulate(tests, rng)))
    assert 0.8 <= check["inside"].mean() <= 0.98
    width = check.groupby("parameter")["width"].median()
    assert width["a"] < 0.15 and width["noise"] > 0.85
