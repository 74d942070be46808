"""Global sensitivity analysis: which parameters and drivers move the outcomes (SALib).

A design of sample points over the chosen factors (Sobol' or Morris) is evaluated point by
point: each point is the scenario with the factor values applied
(:meth:`~csto_sim.core.scenario.Scenario.with_factors`), run for a fixed set of replicas
with common seeds (:func:`csto_sim.experiments.evaluate.evaluate`), and its outcomes are
the means over those replicas. Points are saved in chunks as they finish
(:class:`~csto_sim.experiments.store.Store`), so an interrupted analysis resumes; they run
on the same executors as ensembles (local processes, any ``concurrent.futures`` executor,
Dask).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from csto_sim.core.parameters import MAIN_PARAMETERS, Parameters, plausible_ranges
from csto_sim.core.scenario import DRIVERS, Scenario
from csto_sim.experiments.evaluate import OUTCOMES, evaluate, mean_outcomes
from csto_sim.experiments.executors import run_jobs, worker_pool
from csto_sim.experiments.results import read_table
from csto_sim.experiments.store import Store

DEFAULT_FACTORS: tuple[str, ...] = ("leader_strength", *MAIN_PARAMETERS, "trust_drift_rate")
"""Factors analysed when none are named: Russia's strength and the main behavioural parameters."""


class AnalysisError(ValueError):
    """A bad factor, range, outcome or method; ``argument`` names the argument at fault."""

    def __init__(self, argument: str, message: str):
        self.argument = argument
        super().__init__(message)


def factor_ranges(names: Sequence[str] = DEFAULT_FACTORS) -> dict[str, tuple[float, float]]:
    """Default range of each factor: drivers from ``DRIVERS``, parameters from ``parameters.py``."""
    table = plausible_ranges()
    out = {}
    for n in names:
        if n in DRIVERS:
            out[n] = DRIVERS[n][:2]
        elif n in table:
            out[n] = table[n]
        else:
            known = sorted([*DRIVERS, *table])
            raise AnalysisError("factors", f"unknown factor {n!r}; known: {', '.join(known)}")
    return out


def check_factors(factors: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
    """Factors with known names and ranges whose low is below their high."""
    factor_ranges(list(factors))
    for name, (low, high) in factors.items():
        if not low < high:
            raise AnalysisError(
                "factors", f"{name}: the low end {low} must be below the high end {high}"
            )
    return factors


def check_ends(
    scenario: Scenario, factors: dict[str, tuple[float, float]]
) -> dict[str, tuple[float, float]]:
    """Factors whose both ends ``scenario`` accepts (within each parameter's hard bounds)."""
    for name, (low, high) in check_factors(factors).items():
        for x in (low, high):
            try:
                scenario.with_factors(point_values([name], np.array([x])))
            except ValueError as exc:
                raise AnalysisError("factors", f"{name}={low:g}:{high:g}: {exc}") from None
    return factors


def point_values(names: Sequence[str], row: np.ndarray) -> dict[str, float]:
    """One sample row as factor values; whole-number parameters are rounded."""
    values = {}
    for name, x in zip(names, map(float, row), strict=True):
        field = Parameters.model_fields.get(name)
        values[name] = float(round(x)) if field is not None and field.annotation is int else x
    return values


def evaluate_points(
    scenario: Scenario, names: Sequence[str], X: np.ndarray, replicas: int, seed: int
) -> list[dict[str, float]]:
    """Outcomes of sample points (rows of X), each over the same replicas (common seeds)."""
    return [
        mean_outcomes(
            evaluate(scenario, point_values(names, row), replicas, seed, ("runs", "members"))
        )
        for row in X
    ]


@dataclass
class Design:
    """A sensitivity design: the SALib problem, the method and the sample matrix."""

    method: str
    problem: dict
    X: np.ndarray
    seed: int = 0

    @classmethod
    def make(
        cls, factors: dict[str, tuple[float, float]], method: str, samples: int, seed: int
    ) -> Design:
        """Sample a Sobol' (first and total order), Morris or Latin-hypercube design."""
        problem = {
            "num_vars": len(factors),
            "names": list(factors),
            "bounds": [list(b) for b in factors.values()],
        }
        if method == "sobol":
            from SALib.sample import sobol

            X = sobol.sample(problem, samples, calc_second_order=False, seed=seed)
        elif method == "morris":
            from SALib.sample import morris

            X = morris.sample(problem, samples, num_levels=4, seed=seed)
        elif method == "latin":
            from SALib.sample import latin

            X = latin.sample(problem, samples, seed=seed)
        else:
            raise AnalysisError("method", f"unknown method {method!r}; choose sobol or morris")
        return cls(method, problem, X, seed)

    def analyse(self, Y: np.ndarray) -> pd.DataFrame:
        """Indices for one outcome vector Y: tidy rows (factor, index, value, confidence).

        The bootstrap of the confidence intervals is seeded from the design's seed (plus one:
        SALib ignores a seed of 0), so a rerun gives the same table.
        """
        seed = self.seed + 1
        names = self.problem["names"]
        rows = []
        if self.method == "sobol":
            from SALib.analyze import sobol

            res = sobol.analyze(self.problem, Y, calc_second_order=False, seed=seed)
            for i, n in enumerate(names):
                rows.append(
                    {"factor": n, "index": "S1", "value": res["S1"][i], "conf": res["S1_conf"][i]}
                )
                rows.append(
                    {"factor": n, "index": "ST", "value": res["ST"][i], "conf": res["ST_conf"][i]}
                )
        else:
            from SALib.analyze import morris

            res = morris.analyze(self.problem, self.X, Y, num_levels=4, seed=seed)
            for i, n in enumerate(names):
                rows.append(
                    {
                        "factor": n,
                        "index": "mu_star",
                        "value": res["mu_star"][i],
                        "conf": res["mu_star_conf"][i],
                    }
                )
                rows.append(
                    {"factor": n, "index": "sigma", "value": res["sigma"][i], "conf": np.nan}
                )
        return pd.DataFrame(rows)


def run_points(
    design: Design,
    evaluate: Callable[[np.ndarray], list[dict[str, float]]],
    store: Store,
    saved: Collection[str] = (),
    workers: int | None = None,
    executor: Executor | None = None,
    chunk: int = 16,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Evaluate every sample point not in a ``saved`` chunk into the opened ``store``, and
    return all the points' outcomes in order."""
    n = len(design.X)
    blocks = [(s, min(s + chunk, n)) for s in range(0, n, chunk)]
    todo = [b for b in blocks if f"points-{b[0]:07d}" not in saved]
    done = n - sum(b - a for a, b in todo)
    with worker_pool(workers, executor, jobs=len(todo)) as pool:
        for k, results in run_jobs(evaluate, [(design.X[a:b],) for a, b in todo], pool):
            a, b = todo[k]
            frame = pd.DataFrame(results)
            frame.insert(0, "point", np.arange(a, b))
            store.record(store.write_chunk(f"points-{a:07d}", {"points": frame}))
            done += b - a
            if progress:
                progress(done, n)
    store.finish()
    return read_table(store.root, "points").sort_values("point").reset_index(drop=True)


class PointEvaluator:
    """A picklable function from sample rows to outcomes, for worker processes."""

    def __init__(self, scenario: Scenario, names: list[str], replicas: int, seed: int):
        self.scenario, self.names, self.replicas, self.seed = scenario, names, replicas, seed

    def __call__(self, X: np.ndarray) -> list[dict[str, float]]:
        return evaluate_points(self.scenario, self.names, X, self.replicas, self.seed)


def evaluate_design(
    scenario: Scenario,
    design: Design,
    out: str | Path,
    settings: dict,
    replicas: int,
    seed: int,
    workers: int | None = None,
    executor: Executor | None = None,
    resume: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Evaluate a design's points into an analysis folder (resumable) and return the points
    table: the factor values, then the outcome means of each point.

    The folder's manifest holds the scenario's digest, the design and ``settings``; a folder
    with another manifest is refused (:class:`~csto_sim.experiments.store.ResultsExistError`).
    """
    manifest = settings | {
        "scenario": scenario.name,
        "scenario_sha256": scenario.digest(),
        "posterior": scenario.posterior,  # the points' runs draw what they do not vary
        "factors": dict(zip(design.problem["names"], design.problem["bounds"], strict=True)),
        "replicas": replicas,
        "seed": seed,
        "points": len(design.X),
    }
    evaluate = PointEvaluator(scenario, design.problem["names"], replicas, seed)
    with Store(out, ("points",)) as store:
        saved = store.open(manifest | {"identity": manifest}, resume)
        x = pd.DataFrame(design.X, columns=design.problem["names"])
        x.to_parquet(Path(out) / "design.parquet", index=False)
        points = run_points(design, evaluate, store, saved, workers, executor, progress=progress)
    table = pd.concat([x, points.drop(columns="point")], axis=1)
    table.to_parquet(Path(out) / "points.parquet", index=False)
    return table


def sensitivity(
    scenario: Scenario,
    out: str | Path,
    method: str = "sobol",
    samples: int = 256,
    factors: dict[str, tuple[float, float]] | None = None,
    outcomes: Sequence[str] | None = None,
    replicas: int = 20,
    seed: int | None = None,
    **execution: Any,
) -> pd.DataFrame:
    """Run a global sensitivity analysis of a scenario; writes and returns the tidy indices table.

    The folder ``out`` gets ``design.parquet``, ``points.parquet`` (factor values and outcome
    means of every point) and ``indices.csv``. ``execution`` (``workers``, ``executor``,
    ``resume``, ``progress``) goes to :func:`evaluate_design`.
    """
    factors = check_factors(factors or factor_ranges())
    outcomes = list(outcomes or OUTCOMES)
    for o in outcomes:
        if o not in OUTCOMES:
            raise AnalysisError("outcomes", f"unknown outcome {o!r}; known: {', '.join(OUTCOMES)}")
    seed = scenario.seed if seed is None else seed
    design = Design.make(factors, method, samples, seed)
    settings = {"analysis": "sensitivity", "method": method, "samples": samples}
    points = evaluate_design(scenario, design, out, settings, replicas, seed, **execution)
    table = indices_table(design, points, outcomes)
    table.to_csv(Path(out) / "indices.csv", index=False)
    return table


def indices_table(design: Design, points: pd.DataFrame, outcomes: Sequence[str]) -> pd.DataFrame:
    """Indices of every outcome as one tidy table (outcome, factor, index, value, conf)."""
    parts = []
    kinds = ("S1", "ST") if design.method == "sobol" else ("mu_star", "sigma")
    for o in outcomes:
        Y = points[o].to_numpy(dtype=float)
        if np.nanstd(Y) == 0:  # the outcome does not move: every index is zero
            frame = pd.DataFrame(
                [
                    {"factor": n, "index": k, "value": 0.0, "conf": 0.0}
                    for n in design.problem["names"]
                    for k in kinds
                ]
            )
        else:
            frame = design.analyse(Y)
        frame.insert(0, "outcome", o)
        parts.append(frame)
    return pd.concat(parts, ignore_index=True)
