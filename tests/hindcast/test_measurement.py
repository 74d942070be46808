"""The measurement model: each series read from the model's alignment, traced to the data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from csto_sim.experiments import observables as obs
from csto_sim.hindcast import build, measurement


def _at_2002(series: str) -> pd.DataFrame:
    """Each equation of ``series`` evaluated at the hindcast's 2002 alignment, beside the data."""
    eqs = obs.equations()
    eqs = eqs[eqs["series"] == series]
    poles = list(build.POLES)
    rows = []
    for r in eqs.itertuples():
        channel = "economic" if r.latent == "e" else "security"
        level = build.initial_alignment(r.member, channel).get(r.pole, 0.0) if r.pole else 0.0
        level = 0.0 if r.pole not in poles else level
        rows.append({"member": r.member, "partner": r.partner, "model": r.offset + r.scale * level})
    return pd.DataFrame(rows)


def _data(series: str, year: int) -> pd.DataFrame:
    d = measurement.data()
    return d[(d["series"] == series) & (d["year"] == year)][["member", "partner", "value"]]


def test_trade_equations_give_back_the_2002_trade_shares():
    both = _at_2002("trade_share").merge(_data("trade_share", 2002), on=["member", "partner"])
    assert len(both) == 24
    np.testing.assert_allclose(both["model"], both["value"], atol=0.01)


def test_arms_equations_give_the_previous_window_at_the_2002_alignment():
    both = _at_2002("arms_share").merge(_data("arms_share", 2001), on=["member", "partner"])
    assert len(both) == 30  # Kyrgyzstan imported nothing in 1992-2001: read in levels
    np.testing.assert_allclose(both["model"], both["value"], atol=1e-4)


def test_un_equations_give_the_2002_agreement_at_the_2002_alignment():
    both = _at_2002("un_agreement").merge(_data("un_agreement", 2002), on=["member", "partner"])
    assert len(both) == 36
    np.testing.assert_allclose(both["model"], both["value"], atol=1e-5)
    shifts = obs.shifts()
    assert (shifts.loc[shifts["year"] == 2002, "shift"] == 0.0).all()


def test_every_data_partner_maps_to_a_model_pole_or_to_none():
    d = measurement.data()
    for series, partners in measurement.PARTNER_POLE.items():
        assert set(d.loc[d["series"] == series, "partner"]) == set(partners), series
        assert set(partners.values()) <= {*build.POLES, ""}


def test_the_un_fit_recovers_a_known_gain_and_year_effects():
    rng = np.random.default_rng(3)
    cells = [(m, p, y) for m in "ABCDE" for p in ("X", "Y") for y in range(2002, 2008)]
    un = pd.DataFrame(cells, columns=["member", "partner", "year"])
    un["base"] = rng.uniform(0.1, 0.5, len(un))
    un["level"] = un["base"] + rng.normal(0, 0.1, len(un)) * (un["year"] > 2002)
    un["anchor"] = 0.6
    effect = {(p, y): 0.01 * (y - 2002) * (1 if p == "X" else -1) for _, p, y in cells}
    un["value"] = (
        un["anchor"]
        + 0.4 * (un["level"] - un["base"])
        + [effect[(p, y)] for p, y in zip(un["partner"], un["year"], strict=True)]
    )
    gain, shift = measurement._fit_un(un)
    assert gain == pytest.approx(0.4, abs=1e-5)
    got = shift.set_index(["partner", "year"])["shift"]
    assert got[("X", 2006)] == pytest.approx(0.04, abs=1e-5)
    assert got[("Y", 2002)] == 0.0


@pytest.mark.slow
def test_the_shipped_terms_are_what_the_command_fits_and_they_pass_the_check():
    ts = measurement.fitted_runs()
    eqs, shift = measurement.estimate(ts)
    pd.testing.assert_frame_equal(eqs, obs.equations(), check_dtype=False, atol=1e-6)
    pd.testing.assert_frame_equal(shift, obs.shifts(), check_dtype=False, atol=1e-6)
    t = measurement.check(ts, eqs, shift).set_index("series")
    assert t.loc["all", "covered"] >= 0.8
    assert t.loc["un_agreement", "rmse_model"] < t.loc["un_agreement", "rmse_persistence_year"]
    assert t.loc["arms_share", "rmse_model"] < t.loc["arms_share", "rmse_persistence"]
