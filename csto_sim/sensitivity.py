"""Global sensitivity analysis: which parameters and drivers move the outcomes (SALib).

A design of sample points over the chosen factors (Sobol' or Morris) is evaluated point by
point: each point is a scenario variant run for a fixed set of replicas with common seeds
(batched engine), and its outcome figures are the means over those replicas. Points are
saved in chunks as they finish, so an interrupted analysis resumes; any
``concurrent.futures`` executor (local processes, Dask) can evaluate them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .ensemble import default_workers, process_context, run_chunk
from .parameters import MAIN_PARAMETERS, plausible_ranges
from .scenario import Scenario

DRIVERS: dict[str, tuple[float, float, str]] = {
    "leader_strength": (
        0.5,
        1.5,
        "multiplier on the leader pole's strength series (Russia's post-war strength)",
    ),
}
"""Scenario drivers that can be varied like parameters: name -> (low, high, meaning)."""

DEFAULT_FACTORS: tuple[str, ...] = ("leader_strength", *MAIN_PARAMETERS, "trust_drift_rate")
"""Factors analysed when none are named: Russia's strength and the main behavioural parameters."""

OUTCOMES: dict[str, str] = {
    "p_collapse": "probability of collapse by the end year",
    "cohesion_final": "mean cohesion at the end",
    "n_active_final": "mean number of active members at the end",
    "unanswered_severity": "mean threat severity answered by no one",
}
"""Outcome figures of a sample point (means over its replicas)."""


class SensitivityError(Exception):
    """A bad factor, range, outcome or method (a user error)."""


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
            raise SensitivityError(f"--params: unknown factor {n!r}; known: {', '.join(known)}")
    return out


def parse_factors(specs: Sequence[str] | None) -> dict[str, tuple[float, float]]:
    """Factors from ``NAME`` or ``NAME=LOW:HIGH`` strings (default ranges where none is given)."""
    if not specs:
        return factor_ranges()
    out: dict[str, tuple[float, float]] = {}
    for spec in specs:
        name, _, rng = spec.partition("=")
        if not rng:
            out.update(factor_ranges([name]))
            continue
        try:
            low, high = (float(x) for x in rng.split(":"))
        except ValueError:
            raise SensitivityError(
                f"--params: {spec!r}: expected NAME=LOW:HIGH with numbers"
            ) from None
        factor_ranges([name])
        if not low < high:
            raise SensitivityError(f"--params: {spec!r}: LOW must be below HIGH")
        out[name] = (low, high)
    return out


def variant(scenario: Scenario, values: dict[str, float]) -> Scenario:
    """The scenario with factor values applied (drivers transform inputs, the rest are parameters)."""
    params = {k: v for k, v in values.items() if k not in DRIVERS}
    if "collapse_min_active" in params:
        params["collapse_min_active"] = int(round(params["collapse_min_active"]))
    spec = scenario.with_parameters(**params) if params else scenario
    if "leader_strength" in values:
        spec = spec.with_leader_strength(values["leader_strength"])
    return spec


def point_outcomes(tables: dict[str, pd.DataFrame]) -> dict[str, float]:
    """Outcome figures of one sample point: the means of ``OUTCOMES`` over its successful runs,
    and each member's probability of freezing or withdrawing (``p_exit_<member>``)."""
    runs, members = tables["runs"], tables["members"]
    ok = runs[runs["status"] == "ok"]
    point = {
        "p_collapse": float(ok["collapsed"].mean()),
        "cohesion_final": float(ok["cohesion_final"].mean()),
        "n_active_final": float(ok["n_active_final"].mean()),
        "unanswered_severity": float(ok["unanswered_severity"].mean()),
    }
    exits = (
        members.assign(out=members["exit_year"].notna()).groupby("member", sort=False)["out"].mean()
    )
    return point | {f"p_exit_{m}": float(v) for m, v in exits.items()}


def evaluate_points(
    scenario: Scenario, names: Sequence[str], X: np.ndarray, replicas: int, seed: int
) -> list[dict[str, float]]:
    """Outcomes of sample points (rows of X), each over the same replicas (common seeds)."""
    out = []
    for row in X:
        spec = variant(scenario, dict(zip(names, map(float, row), strict=True)))
        out.append(point_outcomes(run_chunk(spec, range(replicas), seed)))
    return out


@dataclass
class Design:
    """A sensitivity design: the SALib problem, the method and the sample matrix."""

    method: str
    problem: dict
    X: np.ndarray

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
            raise SensitivityError(f"--method: unknown method {method!r}; choose sobol or morris")
        return cls(method, problem, X)

    def analyse(self, Y: np.ndarray, seed: int = 0) -> pd.DataFrame:
        """Indices for one outcome vector Y: tidy rows (factor, index, value, confidence)."""
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


def _atomic(frame: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    frame.to_parquet(tmp, index=False)
    os.replace(tmp, path)


def run_points(
    design: Design,
    evaluate: Callable[[np.ndarray], list[dict[str, float]]],
    out: Path,
    workers: int = 1,
    executor: Executor | None = None,
    chunk: int = 16,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Evaluate every sample point (resuming from saved chunks) and return their outcomes in order."""
    chunks = out / "chunks"
    chunks.mkdir(parents=True, exist_ok=True)
    n = len(design.X)
    blocks = [(s, min(s + chunk, n)) for s in range(0, n, chunk)]
    todo = [b for b in blocks if not (chunks / f"points-{b[0]:07d}.parquet").exists()]

    def save(block: tuple[int, int], results: list[dict[str, float]]) -> None:
        frame = pd.DataFrame(results)
        frame.insert(0, "point", np.arange(*block))
        _atomic(frame, chunks / f"points-{block[0]:07d}.parquet")

    done = n - sum(b - a for a, b in todo)
    own = None
    if executor is None and workers > 1 and len(todo) > 1:
        own = executor = ProcessPoolExecutor(workers, mp_context=process_context())
    try:
        if executor is None:
            for block in todo:
                save(block, evaluate(design.X[block[0] : block[1]]))
                done += block[1] - block[0]
                if progress:
                    progress(done, n)
        else:
            pending = {executor.submit(evaluate, design.X[a:b]): (a, b) for a, b in todo}
            while pending:
                ready, _ = wait(list(pending), return_when=FIRST_COMPLETED)
                for fut in ready:
                    block = pending.pop(fut)
                    save(block, fut.result())
                    done += block[1] - block[0]
                    if progress:
                        progress(done, n)
    finally:
        if own is not None:
            own.shutdown(cancel_futures=True)
    frames = [pd.read_parquet(chunks / f"points-{a:07d}.parquet") for a, _ in blocks]
    return pd.concat(frames, ignore_index=True).sort_values("point").reset_index(drop=True)


class PointEvaluator:
    """A picklable function from sample rows to outcomes, for worker processes."""

    def __init__(self, scenario: Scenario, names: list[str], replicas: int, seed: int):
        self.scenario, self.names, self.replicas, self.seed = scenario, names, replicas, seed

    def __call__(self, X: np.ndarray) -> list[dict[str, float]]:
        return evaluate_points(self.scenario, self.names, X, self.replicas, self.seed)


def sensitivity(
    scenario: Scenario,
    out: str | Path,
    method: str = "sobol",
    samples: int = 256,
    factors: dict[str, tuple[float, float]] | None = None,
    outcomes: Sequence[str] | None = None,
    replicas: int = 20,
    seed: int | None = None,
    workers: int | None = None,
    executor: Executor | None = None,
    resume: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Run a global sensitivity analysis of a scenario; writes and returns the tidy indices table."""
    out = Path(out)
    factors = factors or factor_ranges()
    outcomes = list(outcomes or OUTCOMES)
    for o in outcomes:
        if o not in OUTCOMES:
            raise SensitivityError(
                f"--outcome: unknown outcome {o!r}; known: {', '.join(OUTCOMES)}"
            )
    seed = scenario.seed if seed is None else seed
    design = Design.make(factors, method, samples, seed)
    manifest = {
        "scenario": scenario.name,
        "scenario_sha256": scenario.digest(),
        "method": method,
        "samples": samples,
        "factors": {k: list(v) for k, v in factors.items()},
        "replicas": replicas,
        "seed": seed,
        "points": len(design.X),
    }
    prepare_folder(out, "sensitivity.json", manifest, resume, "an analysis")
    pd.DataFrame(design.X, columns=design.problem["names"]).to_parquet(
        out / "design.parquet", index=False
    )
    evaluate = PointEvaluator(scenario, design.problem["names"], replicas, seed)
    points = run_points(
        design, evaluate, out, workers or default_workers(), executor, progress=progress
    )
    points.to_parquet(out / "points.parquet", index=False)
    table = indices_table(design, points, outcomes)
    table.to_csv(out / "indices.csv", index=False)
    return table


def prepare_folder(out: Path, name: str, manifest: dict, resume: bool, what: str) -> None:
    """Create an analysis folder with its manifest, or check that it can be resumed."""
    path = out / name
    if path.exists() and not resume:
        raise SensitivityError(
            f"--out: {out} already holds {what}; pass --resume or choose another --out"
        )
    if path.exists() and json.loads(path.read_text()) != manifest:
        raise SensitivityError(
            f"--out: {out} holds {what} with other settings; choose another --out"
        )
    out.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest, indent=2))


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
