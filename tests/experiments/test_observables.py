"""The observables table: the measured series a run's alignment implies."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from csto_sim.experiments import observables as obs


def _eqs(rows):
    columns = ["series", "member", "partner", "pole", "latent", "offset", "scale", "sd"]
    return pd.DataFrame(rows, columns=columns)


NO_SHIFT = pd.DataFrame(columns=["series", "partner", "year", "shift"])


def test_whole_years_and_arms_windows_of_a_span():
    whole, ends = obs.periods(np.arange(2002.0, 2025.01, 0.25))
    assert whole.tolist() == list(range(2002, 2025)) and ends.tolist() == [2011, 2021]
    whole, ends = obs.periods(np.arange(2025.0, 2040.01, 0.25))
    assert whole.tolist() == list(range(2025, 2040)) and ends.tolist() == [2034]
    whole, ends = obs.periods(np.arange(2025.5, 2027.01, 0.5))  # starts mid-year
    assert whole.tolist() == [2026] and ends.tolist() == []


def test_a_value_is_the_equation_over_the_years_mean_state():
    years = np.arange(2000.0, 2002.01, 0.5)  # states at 2000, 2000.5, 2001, 2001.5, 2002
    w = np.zeros((2, 5, 2, 2))
    w[..., 1] = np.linspace(0.0, 0.4, 5)[None, :, None]  # pole Q rises; runs alike
    w[1, ..., 1] += 0.1  # the second run sits 0.1 higher
    w[..., 0] = 1.0 - w[..., 1]
    e = w[..., ::-1].copy()
    eqs = _eqs(
        [
            ["trade_share", "A", "Xland", "Q", "e", 1.0, 10.0, 0.5],
            ["un_agreement", "B", "Yland", "Q", "w", 0.2, 0.5, 0.1],
            ["un_agreement", "Z", "Yland", "Q", "w", 0.2, 0.5, 0.1],  # not in the run
        ]
    )
    shift = pd.DataFrame(
        {"series": "un_agreement", "partner": "Yland", "year": [2000], "shift": [0.05]}
    )
    t = obs.observables("s", ["A", "B"], ["P", "Q"], years, np.array([7, 8]), w, e, eqs, shift)
    assert list(t.columns) == list(obs.COLUMNS)
    assert set(t["member"]) == {"A", "B"} and set(t["year"]) == {2000, 2001}
    trade = t[t["series"] == "trade_share"].set_index(["run", "year"])["value"]
    # e's pole Q is w's pole P: 1 - mean(w_Q) over the year's states (2000: 0, 0.1)
    assert trade[(7, 2000)] == pytest.approx(1.0 + 10.0 * (1.0 - 0.05))
    assert trade[(8, 2001)] == pytest.approx(1.0 + 10.0 * (1.0 - 0.35))
    un = t[t["series"] == "un_agreement"].set_index(["run", "year"])["value"]
    assert un[(7, 2000)] == pytest.approx(0.2 + 0.5 * 0.05 + 0.05)
    assert un[(8, 2001)] == pytest.approx(0.2 + 0.5 * 0.35 + 0.05)  # the last shift held


def test_a_supplier_that_is_no_pole_keeps_its_offset():
    years = np.arange(2000.0, 2010.01, 0.25)
    w = np.full((1, len(years), 1, 2), 0.5)
    eqs = _eqs([["arms_share", "A", "Other", np.nan, "w", 12.0, 0.0, 1.0]])
    t = obs.observables("s", ["A"], ["P", "Q"], years, np.array([0]), w, w, eqs, NO_SHIFT)
    assert t["year"].tolist() == [2009] and t["value"].tolist() == [12.0]


def test_a_run_without_measured_members_has_an_empty_table_with_the_columns():
    years = np.arange(2000.0, 2001.01, 0.5)
    w = np.full((1, 3, 1, 2), 0.5)
    t = obs.observables("s", ["Nobody"], ["P", "Q"], years, np.array([0]), w, w)
    assert t.empty and list(t.columns) == list(obs.COLUMNS)


def test_the_shipped_equations_cover_every_measured_member_and_series():
    eqs = obs.equations()
    assert set(eqs["series"]) == set(obs.SERIES)
    assert np.isfinite(eqs[["offset", "scale", "sd"]].to_numpy(float)).all()
    assert (eqs.groupby("series")["sd"].nunique() == 1).all()  # one noise sd per series
