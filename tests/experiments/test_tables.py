"""The output tables: exact small cases of what they derive from a run's trajectory."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from csto_sim.core.vocabulary import ACTIVE, FROZEN, NON_MEMBER, WITHDRAWN
from csto_sim.experiments.tables import _members


def test_exit_years_count_a_step_further_out_from_where_a_member_starts():
    """Four members over five steps (years 2025-2026): one freezes then withdraws (it exits
    when it freezes), one starts frozen and withdraws (it exits when it withdraws: frozen at
    the start is not an exit), one starts frozen and stays, one joins and never leaves."""
    years = np.array([2025.0, 2025.25, 2025.5, 2025.75, 2026.0])
    A, F, W, N = ACTIVE, FROZEN, WITHDRAWN, NON_MEMBER
    status = np.array([[[A, F, F, A], [F, F, F, A], [F, F, F, A], [W, W, F, A], [W, W, F, A]]])
    status[0, 0, 3] = N  # the fourth joins at the first step
    inp = SimpleNamespace(members=["a", "b", "c", "d"], years=years, poles=["P"])
    h = SimpleNamespace(
        status=status.astype(np.int8), c=np.zeros((1, 5, 4)), w=np.ones((1, 5, 4, 1))
    )
    none = np.array([], dtype=int)
    ev = {"run": none, "member": none, "requested": none, "responded": none}
    table = _members("s", inp, np.array([0]), h, ev).set_index("member")
    np.testing.assert_array_equal(table["frozen_year"], [2025.25, np.nan, np.nan, np.nan])
    np.testing.assert_array_equal(table["withdrawn_year"], [2025.75, 2025.75, np.nan, np.nan])
    np.testing.assert_array_equal(table["exit_year"], [2025.25, 2025.75, np.nan, np.nan])
