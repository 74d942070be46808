"""Sensitivity analysis: the SALib path recovers a known ranking, and a small run on the model works."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("SALib")


from csto_sim.analysis.sensitivity import (  # noqa: E402
    AnalysisError,
    Design,
    check_factors,
    indices_table,
    run_points,
    sensitivity,
)
from csto_sim.cli.common import parse_factors  # noqa: E402
from csto_sim.experiments.store import ResultsExistError, Store  # noqa: E402


def points_of(path: Path, design, fn, **options):
    """``run_points`` into the folder ``path``, resuming what it holds."""
    with Store(path, ("points",)) as store:
        saved = store.open({"identity": {}})
        return run_points(design, fn, store, saved, **options)


def ishigami(X: np.ndarray) -> list[dict[str, float]]:
    a, b = 7.0, 0.1
    y = np.sin(X[:, 0]) + a * np.sin(X[:, 1]) ** 2 + b * X[:, 2] ** 4 * np.sin(X[:, 0])
    return [{"y": float(v)} for v in y]


def test_sobol_recovers_the_ishigami_ranking(tmp_path):
    factors = {f"x{i}": (-np.pi, np.pi) for i in (1, 2, 3)}
    design = Design.make(factors, "sobol", 1024, seed=1)
    points = points_of(tmp_path, design, ishigami, workers=1, chunk=500)
    table = indices_table(design, points, ["y"]).set_index(["factor", "index"])["value"]
    # analytic values: S1 = (0.314, 0.442, 0), ST = (0.558, 0.442, 0.244)
    assert table["x2", "S1"] > table["x1", "S1"] > table["x3", "S1"]
    assert table["x1", "ST"] > table["x2", "ST"] > table["x3", "ST"]
    assert table["x3", "S1"] == pytest.approx(0.0, abs=0.05)
    assert table["x1", "ST"] == pytest.approx(0.558, abs=0.08)
    for f in factors:
        assert table[f, "S1"] <= table[f, "ST"] + 0.05


def test_morris_ranks_the_ishigami_factors(tmp_path):
    factors = {f"x{i}": (-np.pi, np.pi) for i in (1, 2, 3)}
    design = Design.make(factors, "morris", 200, seed=2)
    points = points_of(tmp_path, design, ishigami, workers=1)
    table = indices_table(design, points, ["y"]).set_index(["factor", "index"])["value"]
    assert table["x2", "mu_star"] > table["x3", "mu_star"]
    assert table["x1", "mu_star"] > table["x3", "mu_star"]


def test_points_resume_without_recomputing(tmp_path):
    factors = {"x1": (0.0, 1.0), "x2": (0.0, 1.0)}
    design = Design.make(factors, "sobol", 8, seed=3)
    calls = []

    def counting(X):
        calls.append(len(X))
        return [{"y": float(r.sum())} for r in X]

    first = points_of(tmp_path, design, counting, chunk=4, workers=1)
    n = sum(calls)
    again = points_of(tmp_path, design, counting, chunk=4, workers=1)
    assert sum(calls) == n == len(design.X)
    assert first.equals(again)


def test_factor_parsing_and_errors():
    assert parse_factors(["leader_strength=0.4:1.2", "freeze_threshold"])["leader_strength"] == (
        0.4,
        1.2,
    )
    with pytest.raises(AnalysisError, match="unknown factor") as err:
        check_factors(parse_factors(["no_such_thing=0:1"]))
    assert err.value.argument == "factors" and "--" not in str(err.value)
    with pytest.raises(AnalysisError, match="must be below the high end"):
        check_factors(parse_factors(["freeze_threshold=0.5:0.1"]))


def test_leader_strength_scales_the_leader_pole_only(baseline):
    base = baseline
    v = base.with_factors({"leader_strength": 0.5, "freeze_threshold": 0.4})
    assert v.parameters.freeze_threshold == 0.4
    assert v.poles["Russia"].strength[0][1] == pytest.approx(
        base.poles["Russia"].strength[0][1] * 0.5
    )
    assert v.poles["China"].strength == base.poles["China"].strength


@pytest.mark.slow  # a Saltelli design over conditioned projections
def test_small_model_analysis_writes_indices(tmp_path, baseline):
    base = baseline
    factors = {"leader_strength": (0.4, 1.4), "freeze_threshold": (0.3, 0.7)}
    table = sensitivity(base, tmp_path / "s", samples=4, factors=factors, replicas=4, workers=1)
    assert set(table["outcome"]) == {
        "p_collapse",
        "cohesion_final",
        "n_active_final",
        "unanswered_severity",
    }
    assert (tmp_path / "s" / "indices.csv").exists()
    assert np.isfinite(table["value"]).all()
    again = sensitivity(base, tmp_path / "s", samples=4, factors=factors, replicas=4, workers=1)
    pd.testing.assert_frame_equal(table, again)  # the same command continues the same folder
    with pytest.raises(ResultsExistError, match="other samples"):
        sensitivity(base, tmp_path / "s", samples=16, factors=factors, replicas=4, workers=1)
