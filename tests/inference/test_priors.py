"""The reference prior: a derived quantity follows its Beta law, everything else stays
uniform; the Beta distribution function on exact cases; the hindcast's answer-chance prior
acts (its mean is the registry's, the uniform's is far above) and in the right direction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from csto_sim.core import judgements
from csto_sim.hindcast.answer_prior import MEAN, STRENGTH
from csto_sim.hindcast.posterior import Fit
from csto_sim.inference import regression_abc as ra
from csto_sim.inference.priors import ReferencePrior, beta_cdf, beta_of

RANGES = {"x": (0.0, 1.0), "y": (-3.0, 5.0)}


def _first(theta: np.ndarray) -> np.ndarray:
    return theta[:, 0]


def test_beta_cdf_on_exact_cases():
    x = np.linspace(0.0, 1.0, 11)
    np.testing.assert_allclose(beta_cdf(x, 1.0, 1.0), x, atol=1e-9)
    np.testing.assert_allclose(beta_cdf(x, 2.0, 1.0), x**2, atol=1e-8)
    np.testing.assert_allclose(beta_cdf(x, 1.0, 3.0), 1 - (1 - x) ** 3, atol=1e-8)


def test_beta_of_gives_the_mean_and_strength_and_refuses_unbounded_densities():
    a, b = beta_of(0.3, 5.0)
    assert (a, b) == pytest.approx((1.5, 3.5)) and a / (a + b) == pytest.approx(0.3)
    with pytest.raises(ValueError, match="at least 1"):
        beta_of(0.1, 5.0)


def test_the_quantity_follows_the_beta_law_and_the_rest_stays_uniform():
    prior = ReferencePrior(RANGES, _first, 2.0, 5.0)
    theta = prior.draw(20_000, np.random.default_rng(7))
    assert theta.shape == (20_000, 2)
    grid = np.linspace(0.05, 0.95, 19)
    empirical = (theta[:, :1] <= grid).mean(axis=0)
    assert np.abs(empirical - beta_cdf(grid, 2.0, 5.0)).max() < 0.03  # bins of 1/50 and dice
    assert theta[:, 0].mean() == pytest.approx(2 / 7, abs=0.01)
    y = theta[:, 1]  # not in the quantity: uniform over its range, independent of x
    assert y.min() >= -3.0 and y.max() <= 5.0
    assert y.mean() == pytest.approx(1.0, abs=0.1) and y.std() == pytest.approx(8 / 12**0.5, 0.02)
    assert abs(np.corrcoef(theta.T)[0, 1]) < 0.03


def test_draws_are_a_function_of_the_generator():
    prior = ReferencePrior(RANGES, _first, 2.0, 5.0)
    first = prior.draw(500, np.random.default_rng(3))
    np.testing.assert_array_equal(first, prior.draw(500, np.random.default_rng(3)))
    assert not np.array_equal(first, prior.draw(500, np.random.default_rng(4)))


def test_the_weight_is_the_beta_over_the_uniform_law_of_the_quantity():
    prior = ReferencePrior(RANGES, _first, 1.0, 3.0)  # the uniform law of x is flat
    x = np.array([[0.05, 0.0], [0.5, 0.0], [0.95, 4.0]])
    np.testing.assert_allclose(prior.weight(x), 3 * (1 - x[:, 0]) ** 2, rtol=0.1)


def test_identifiability_takes_the_prior_sd_given():
    samples = pd.DataFrame({"x": [0.2, 0.4], "y": [0.0, 1.0], "weight": [0.5, 0.5]})
    table = ra.identifiability(samples, RANGES, {"x": 0.1}).set_index("parameter")
    assert table.loc["x", "width"] == pytest.approx(1.0)  # sd 0.1 over the given 0.1
    assert table.loc["y", "width"] == pytest.approx(0.5 / (8 / 12**0.5))  # the uniform's


def test_the_fit_prior_sets_the_answer_chance_from_the_reference_class():
    prior = Fit("fit").prior
    rng = np.random.default_rng(11)
    chance = prior.quantity(prior.draw(5_000, rng))
    uniform = prior.quantity(ra.draw(prior.ranges, 5_000, rng))
    assert chance.mean() == pytest.approx(judgements.value(MEAN), abs=0.02)
    a, b = beta_of(judgements.value(MEAN), judgements.value(STRENGTH))
    assert chance.std() == pytest.approx((a * b / ((a + b) ** 2 * (a + b + 1))) ** 0.5, rel=0.1)
    assert uniform.mean() > 0.6  # the committed ranges alone lean to answering


def test_the_answer_chance_rises_with_the_will_to_answer():
    prior = Fit("fit").prior
    names = list(prior.ranges)
    theta = np.repeat(ra.draw(prior.ranges, 1, np.random.default_rng(2)), 3, axis=0)
    column = names.index("response_base")
    theta[:, column] = [-8.0, -5.0, -2.0]
    chance = prior.quantity(theta)
    assert chance[0] < chance[1] < chance[2]
    theta[:, names.index("response_internal")] = [0.0, 2.5, 5.0]  # internal unrest is typical
    theta[:, column] = -5.0
    chance = prior.quantity(theta)
    assert chance[0] > chance[1] > chance[2]


def test_the_posterior_figure_draws_the_prior_it_is_given():
    from matplotlib.patches import StepPatch

    from csto_sim.hindcast.posterior import prior_density
    from csto_sim.viz.fits import posterior_figure

    density = prior_density()
    widths = density["right"] - density["left"]
    mass = (density["density"] * widths).groupby(density["parameter"]).sum()
    np.testing.assert_allclose(mass, 1.0)
    base = density[density["parameter"] == "response_base"]["density"].to_numpy()
    assert base[0] > 2 * base[-1]  # the answer prior leans the intercept low
    ranges = Fit("fit").prior.ranges
    names = ["response_base", "pole_pull_rate"]
    rng = np.random.default_rng(0)
    samples = pd.DataFrame({n: rng.uniform(*ranges[n], 50) for n in names}).assign(weight=1.0)
    ident = ra.identifiability(samples, {n: ranges[n] for n in names})
    fig = posterior_figure(samples, ident, prior=density[density["parameter"] == names[0]])
    steps = [p for ax in fig.axes for p in ax.patches if isinstance(p, StepPatch)]
    assert len(steps) == 1  # response_base's prior; pole_pull_rate's is flat (a line)
    assert "dashed: the prior" in fig._suptitle.get_text() or any(
        "dashed: the prior" in t.get_text() for t in fig.texts
    )
