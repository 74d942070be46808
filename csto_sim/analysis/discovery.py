"""Scenario discovery: where in the space of parameters and drivers an outcome becomes likely.

A Latin-hypercube sample of factors (the same factors and ranges as the sensitivity
analysis) is run with common seeds; each sample point gets the probability of the outcome
of interest over its replicas. The Patient Rule Induction Method (PRIM, Friedman and
Fisher 1999; the ``prim`` package, a port of the EMA Workbench's implementation) then
finds boxes of inputs where that probability is high, and reports each box's coverage
(the share of all cases of interest inside it) and density (the share of points inside
it that are cases of interest).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from csto_sim.analysis.sensitivity import (
    AnalysisError,
    Design,
    check_factors,
    evaluate_design,
    factor_ranges,
)
from csto_sim.core.scenario import Scenario


def outcome_column(outcome: str, members: Sequence[str]) -> str:
    """The points-table column of an outcome: ``collapsed`` or ``exit:MEMBER``."""
    if outcome == "collapsed":
        return "p_collapse"
    kind, _, member = outcome.partition(":")
    if kind == "exit" and member in members:
        return f"p_exit_{member}"
    raise AnalysisError(
        "outcome",
        f"unknown outcome {outcome!r}; use 'collapsed' or 'exit:MEMBER' "
        f"with MEMBER one of {', '.join(members)}",
    )


def find_boxes(
    x: pd.DataFrame,
    y: np.ndarray,
    threshold: float = 0.5,
    max_boxes: int = 3,
    min_density: float = 0.5,
) -> pd.DataFrame:
    """PRIM boxes for the cases ``y`` (booleans): one row per restricted factor of each box."""
    import prim

    rows = []
    p = prim.Prim(x, y.astype(float), threshold=threshold, threshold_type=">")
    for number in range(1, max_boxes + 1):
        if y.sum() == 0:
            break
        try:
            box = p.find_box()
        except Exception:  # PRIM finds no further box meeting its thresholds
            break
        if box is None or box.density < min_density:
            break
        limits = box.limits
        if limits.empty:
            break
        for factor, lim in limits.iterrows():
            rows.append(
                {
                    "box": number,
                    "coverage": float(box.coverage),
                    "density": float(box.density),
                    "mass": float(box.mass),
                    "factor": factor,
                    "low": float(lim["min"]),
                    "high": float(lim["max"]),
                    "searched_low": float(x[factor].min()),
                    "searched_high": float(x[factor].max()),
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
            "box",
            "coverage",
            "density",
            "mass",
            "factor",
            "low",
            "high",
            "searched_low",
            "searched_high",
        ],
    )


def discover(
    scenario: Scenario,
    out: str | Path,
    outcome: str = "collapsed",
    samples: int = 400,
    factors: dict[str, tuple[float, float]] | None = None,
    replicas: int = 20,
    interest: float = 0.5,
    seed: int | None = None,
    **execution: Any,
) -> pd.DataFrame:
    """Sample the factors, run each point, and find PRIM boxes where the outcome is likely.

    A point is a case of interest when its outcome probability over the replicas is at
    least ``interest``. Returns (and writes to ``boxes.csv``) the boxes. ``execution``
    (``workers``, ``executor``, ``resume``, ``progress``) goes to
    :func:`~csto_sim.analysis.sensitivity.evaluate_design`.
    """
    factors = check_factors(factors or factor_ranges())
    column = outcome_column(outcome, scenario.member_names)
    seed = scenario.seed if seed is None else seed
    design = Design.make(factors, "latin", samples, seed)
    settings = {"analysis": "discovery", "samples": samples}
    points = evaluate_design(scenario, design, out, settings, replicas, seed, **execution)
    x = points[design.problem["names"]]
    y = points[column].to_numpy() >= interest
    boxes = find_boxes(x, y)
    boxes.insert(0, "outcome", outcome)
    boxes.to_csv(Path(out) / "boxes.csv", index=False)
    return boxes


def format_boxes(boxes: pd.DataFrame, cases: int, points: int) -> str:
    """The boxes as text: coverage and density, then each restricted factor's range beside
    the range its sample covers (PRIM leaves an unrestricted side at the sample's extent)."""
    if boxes.empty:
        return f"No box found: {cases} of {points} sample points are cases of interest."
    lines = [f"{cases} of {points} sample points are cases of interest."]
    for number, box in boxes.groupby("box"):
        first = box.iloc[0]
        lines.append(
            f"Box {number}: coverage {first['coverage']:.0%}, density {first['density']:.0%}, "
            f"mass {first['mass']:.0%} of the sample"
        )
        for _, r in box.iterrows():
            lines.append(
                f"  {r['factor']:<30} {r['low']:9.3f} .. {r['high']:<9.3f} "
                f"(sampled {r['searched_low']:.3f} .. {r['searched_high']:.3f})"
            )
    return "\n".join(lines)
