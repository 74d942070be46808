"""Adversaries read the alliance's record: answered threats deter, unanswered ones invite."""

from __future__ import annotations

import numpy as np
from conftest import run_variant
from hypothesis import given
from hypothesis import strategies as st

from csto_sim.core import rules


def test_record_moves_toward_answers_and_refusals_exact():
    d = np.zeros((1, 2))
    occur = np.array([[True, True]])
    answered = np.array([[True, False]])
    out = rules.read_record(d, occur, answered, np.array([True]), 0.5, rules.fade(3.0, 0.25))
    assert out.tolist() == [[0.5, -0.5]]
    outside = rules.read_record(d, occur, answered, np.array([False]), 0.5, rules.fade(3.0, 0.25))
    assert outside.tolist() == [[0.0, 0.0]]  # the alliance owes nothing to non-members


@given(d=st.floats(-1, 1), step=st.floats(0, 1), answered=st.booleans(), occur=st.booleans())
def test_record_stays_bounded_and_fades(d, step, answered, occur):
    out = rules.read_record(
        np.array([[d]]),
        np.array([[occur]]),
        np.array([[answered]]),
        np.array([True]),
        step,
        rules.fade(3.0, 0.25),
    )
    assert -1.0 <= out.item() <= 1.0
    if not occur:
        assert abs(out.item()) <= abs(d)


def test_hazard_falls_with_a_good_record_and_rises_with_a_bad_one():
    p = np.array([0.1, 0.1])
    deterrable = np.array([True, False])
    good = rules.deterred_hazard(p, np.array([1.0, 1.0]), 0.5, deterrable)
    bad = rules.deterred_hazard(p, np.array([-1.0, -1.0]), 0.5, deterrable)
    assert good[0] < 0.1 < bad[0]
    assert good[1] == bad[1] == 0.1  # internal unrest has no adversary to deter
    assert np.isclose(bad[0] / 0.1, np.exp(0.5))


def test_the_record_changes_how_often_adversaries_strike(standalone):
    def events(deterrence):
        _, trajectory, record = run_variant(standalone, parameters={"deterrence": deterrence})
        return sum(len(r) for r in record["step"]), trajectory.d

    none, d0 = events(0.0)
    strong, d1 = events(1.5)
    assert none != strong
    assert np.abs(d1[:, -1]).max() > 0  # the record moves
