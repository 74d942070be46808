"""The dashboard's draws (csto_sim/viz/draws.py): the first page's filter handed over by
``csto-sim dashboard`` is used only for the jobs it was made for, and gives the same draw."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import BASELINE

from csto_sim import load_scenario
from csto_sim.inference import conditioning
from csto_sim.viz import draws


def _own(fn, jobs):
    return ["simulated here"]


def _refuse(fn, jobs):
    pytest.fail("simulated again although handed over")


def test_a_handed_over_filter_is_used_for_its_own_jobs_only(tmp_path, monkeypatch):
    spec = load_scenario(BASELINE)
    jobs = [(spec, None, 1, [0, 1, 2])]
    path = tmp_path / "first_draw.npz"
    made = draws._recorded(path, conditioning.log_weights, jobs)
    got = draws.handed(path, _refuse, conditioning.log_weights, jobs)
    np.testing.assert_array_equal(got[0], made[0])
    assert got[0].shape == (3,)
    for other in ([(spec, None, 2, [0, 1, 2])], [(spec, None, 1, [0, 1])]):
        assert draws.handed(path, _own, conditioning.log_weights, other) == ["simulated here"]
    path.write_bytes(b"")  # what make_first_draw leaves when it fails
    assert draws.handed(path, _own, conditioning.log_weights, jobs) == ["simulated here"]
    monkeypatch.setattr(draws, "HANDOVER_WAIT", 0.1)  # never handed over: not waited for long
    missing = tmp_path / "never.npz"
    assert draws.handed(missing, _own, conditioning.log_weights, jobs) == ["simulated here"]


def test_make_first_draw_leaves_a_file_when_it_fails(tmp_path, monkeypatch):
    monkeypatch.setenv("CSTO_SCENARIOS", str(tmp_path))  # a folder without the default
    (tmp_path / "other.toml").write_text("")
    path = tmp_path / "first_draw.npz"
    with pytest.raises(KeyError):
        draws.make_first_draw(path)
    assert path.exists() and path.stat().st_size == 0


@pytest.mark.slow
def test_the_handed_over_first_draw_is_the_servers_own(tmp_path, monkeypatch):
    path = tmp_path / "first_draw.npz"
    # csto-sim dashboard's process and the server's have each made no filter yet (an
    # earlier test in this process may have: remembered, it would not be simulated again)
    monkeypatch.setattr(conditioning, "_BLOCKS", {})
    draws.make_first_draw(path)  # as csto-sim dashboard does, beside the server
    monkeypatch.setattr(draws, "_DRAWS", {})
    monkeypatch.setattr(conditioning, "_BLOCKS", {})
    handed = draws.drawn(
        draws.DEFAULT_SCENARIO, 0, lambda fn, jobs: draws.handed(path, _refuse, fn, jobs)
    )
    monkeypatch.setattr(draws, "_DRAWS", {})
    monkeypatch.setattr(conditioning, "_BLOCKS", {})
    own = draws.drawn(draws.DEFAULT_SCENARIO, 0)
    assert handed[1] == own[1]
    assert handed[0].parameters == own[0].parameters
