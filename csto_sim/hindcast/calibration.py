"""Calibration against history: search the behavioural parameters to fit the hindcast patterns.

The objective is :func:`csto_sim.hindcast.patterns.pattern_score` over the patterns of the
fitted period, 2002-2014 (mean distance from what history says, with a penalty for missing
a threshold), for a hindcast ensemble with common seeds; the held-out period, 2015-2024, is
never part of it. The search uses optuna's TPE sampler with its trials stored in
SQLite, so an interrupted search resumes where it stopped. The defaults are the first trial,
so the result either improves on them or shows they are at the optimum found.
"""

from __future__ import annotations

from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from csto_sim.core.parameters import Parameters, plausible_ranges
from csto_sim.core.scenario import Scenario, scenario_from_data
from csto_sim.experiments.engines import run_chunk
from csto_sim.experiments.executors import run_jobs, worker_pool
from csto_sim.experiments.tables import TABLES
from csto_sim.hindcast.build import hindcast_scenario
from csto_sim.hindcast.patterns import pattern_score, score

SEARCHED: tuple[str, ...] = (
    "response_base",
    "response_fit",
    "response_internal",
    "response_affinity",
    "response_capacity",
    "response_alignment",
    "response_stake",
    "response_severity",
    "commitment_loss_ignored",
    "pole_pull_rate",
    "commitment_rate",
    "commitment_alignment_weight",
    "freeze_threshold",
    "membership_commitment",
    "membership_grievance",
    "membership_alternatives",
    "status_quo_bias",
    "exit_cost_weight",
    "decision_rate",
    "grievance_gain",
    "rival_drift",
    "court_weight",
    "distraction_halflife",
)
"""Parameters the calibration searches, each over its plausible range from ``parameters.py``.
The last three are judgements of the registry (prior ``searched``) that move the baseline's
collapse probability by more than 0.1 over their range: estimated openly rather than set.

The request decision's parameters and the trust dynamics that feed it (``trust_learning``,
``trust_drift_rate``, ``observer_weight``) are not searched: they stay at their judged or
earlier calibrated values, so that the recorded request decisions (Brier score in
``csto-sim validate``) test the request mechanism out of sample."""

STUDY = "hindcast"


def ranges(names: tuple[str, ...] = SEARCHED) -> dict[str, tuple[float, float]]:
    """The plausible range of each named parameter."""
    table = plausible_ranges()
    return {n: table[n] for n in names}


def hindcast(params: dict[str, Any] | None = None, base: dict[str, Any] | None = None) -> Scenario:
    """The built-in hindcast with some behavioural parameters set."""
    data = dict(base or hindcast_scenario())
    data["parameters"] = Parameters.model_validate(
        data.get("parameters", {}) | (params or {})
    ).model_dump(exclude_unset=True)  # only what is set: a posterior draws the rest
    return scenario_from_data(data, "csto_sim/hindcast/build.py")


def evaluate(
    params: dict[str, Any], runs: int = 100, seed: int = 2002, base: dict | None = None
) -> pd.DataFrame:
    """The validation table of a hindcast ensemble with these parameters (computed in memory)."""
    tables = run_chunk(hindcast(params, base), range(runs), seed)
    return score({t: tables.get(t, pd.DataFrame()) for t in TABLES})


def suggest(trial) -> dict[str, float]:
    """A trial's parameter values, each drawn over its plausible range."""
    return {n: trial.suggest_float(n, lo, hi) for n, (lo, hi) in ranges().items()}


def trial_result(params: dict[str, float], runs: int, seed: int, base: dict) -> dict[str, Any]:
    """The score of a parameter set and what goes with it: each pattern's share, all passed."""
    table = evaluate(params, runs, seed, base)
    return {
        "score": pattern_score(table),
        "passed": bool(table.loc[table["gating"] & (table["period"] == "fit"), "passed"].all()),
        **{f"share_{row['id']}": float(row["share"]) for _, row in table.iterrows()},
    }


def _storage(out: Path) -> str:
    return f"sqlite:///{(out / 'study.db').resolve()}"


SAMPLERS: tuple[str, ...] = ("tpe", "cmaes")
"""optuna samplers: TPE (the default) or CMA-ES (needs cmaes); both start with the defaults as trial 0."""


def _sampler(name: str, seed: int):
    import optuna

    if name == "cmaes":
        return optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    raise ValueError(f"unknown sampler {name!r}; choose one of {', '.join(SAMPLERS)}")


def calibrate(
    trials: int,
    out: str | Path,
    runs: int = 100,
    seed: int = 2002,
    workers: int | None = 1,
    sampler: str = "tpe",
    executor: Executor | None = None,
) -> pd.DataFrame:
    """Run (or resume) the search until ``trials`` trials are complete; returns the trials table.

    Trials are asked in batches of one per worker and evaluated on the shared executor path
    (local processes, any ``concurrent.futures`` executor, Dask); the study lives in
    ``out/study.db`` (SQLite), so an interrupted search resumes where it stopped.
    """
    import optuna

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        study_name=STUDY, storage=_storage(out), direction="minimize", load_if_exists=True
    )
    if not study.trials:
        defaults = Parameters().model_dump()
        study.enqueue_trial({n: float(defaults[n]) for n in SEARCHED})
    for t in study.trials:
        if t.state == optuna.trial.TrialState.RUNNING:
            study.tell(t.number, state=optuna.trial.TrialState.FAIL)
    done = sum(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
    study.sampler = _sampler(sampler, done)
    base = hindcast_scenario()
    remaining = max(0, trials - done)
    with worker_pool(workers, executor, jobs=remaining) as pool:
        while remaining > 0:
            batch = [study.ask() for _ in range(min(max(1, pool.in_flight // 2), remaining))]
            params = [suggest(trial) for trial in batch]
            jobs = list(zip(batch, params, strict=True))
            results = run_jobs(trial_result, [(p, runs, seed, base) for _, p in jobs], pool)
            for n, result in results:
                trial = jobs[n][0]
                for key, value in result.items():
                    if key != "score":
                        trial.set_user_attr(key, value)
                study.tell(trial, result["score"])
            remaining -= len(batch)
    return trials_table(out)


def trials_table(out: str | Path) -> pd.DataFrame:
    """All complete trials: parameters, pattern shares and score, best first."""
    import optuna

    study = optuna.load_study(study_name=STUDY, storage=_storage(Path(out)))
    rows = [
        {"trial": t.number, "score": t.value, **t.params, **t.user_attrs}
        for t in study.trials
        if t.state == optuna.trial.TrialState.COMPLETE
    ]
    if not rows:
        return pd.DataFrame(columns=["trial", "score", *SEARCHED])
    return pd.DataFrame(rows).sort_values("score", kind="stable").reset_index(drop=True)


def identifiability(table: pd.DataFrame, top: float = 0.05) -> pd.DataFrame:
    """How well history pins each parameter down: its range among the best ``top`` share of trials.

    ``width`` is that range as a share of the searched range: near 1, the patterns do not
    constrain the parameter; near 0, they pin it down.
    """
    n = max(1, int(np.ceil(len(table) * top)))
    best = table.head(n)
    rows = []
    for name, (lo, hi) in ranges().items():
        values = best[name]
        rows.append(
            {
                "parameter": name,
                "best": float(table[name].iloc[0]),
                "top_min": float(values.min()),
                "top_max": float(values.max()),
                "searched_low": lo,
                "searched_high": hi,
                "width": float((values.max() - values.min()) / (hi - lo)) if hi > lo else 0.0,
                "trials_in_top": n,
            }
        )
    return pd.DataFrame(rows)


def best_fragment(table: pd.DataFrame) -> str:
    """The best parameters as a scenario fragment (``[parameters]``) other scenarios can extend."""
    import tomli_w

    best = table.iloc[0]
    params = {n: round(float(best[n]), 4) for n in SEARCHED}
    header = (
        f"# Best parameters of a hindcast calibration: trial {int(best['trial'])}, "
        f"pattern score {best['score']:.4f} (0 is a perfect fit).\n"
    )
    return header + tomli_w.dumps({"parameters": params})
