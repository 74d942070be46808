"""The two engines behind every experiment: the batched arrays and the Mesa agents.

``run_chunk`` is the unit of work sent to an executor: several runs of one scenario,
computed by either engine, returned as the tables of :mod:`csto_sim.experiments.tables`.
Both engines give the same tables run by run.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from csto_sim.core.batch import Scenarios, history_seeds, run_batch, run_history
from csto_sim.core.finite import check_finite
from csto_sim.core.randomness import run_seed
from csto_sim.core.scenario import Scenario
from csto_sim.experiments.tables import (
    TABLES,
    concat_tables,
    error_rows,
    tables_from,
    whole_span,
)
from csto_sim.inference import conditioning
from csto_sim.inference.posterior import Posterior

ENGINES: tuple[str, ...] = ("batch", "agents")
"""How runs are computed: many replicas at once as arrays (default), or one Mesa model per run."""


class EngineError(ValueError):
    """An engine name that does not exist."""


def check_engine(engine: str) -> str:
    """The engine name, or an :class:`EngineError` naming the choices."""
    if engine not in ENGINES:
        raise EngineError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    return engine


def simulate_agents(
    scenario: Scenario,
    run: int,
    seed: int,
    tables: Sequence[str] = TABLES,
    with_history: bool = False,
    history_run: int | None = None,
) -> dict[str, pd.DataFrame]:
    """One run of a scenario with the Mesa model, as tidy tables (over the whole span,
    history included, with ``with_history``; see :func:`whole_span`); it continues the
    history of run ``history_run`` (default: its own).

    An exception becomes a run with ``status = error`` and its message.
    """
    from csto_sim.abm.model import CSTOModel  # Mesa only where the agent engine runs

    seed_i = run_seed(seed, run)
    try:
        model = CSTOModel(
            scenario,
            run=run,
            rng=seed_i,
            collect=False,
            posterior="none",
            history_run=run if history_run is None else history_run,
        )
        model.run_model()
    except Exception as exc:  # a failed run is recorded, the ensemble goes on
        return {"runs": error_rows(scenario.name, [run], [seed_i], exc)}
    trajectory = model.trajectory.with_runs_axis()
    own = tables_from(
        scenario.name, model.inputs, [run], [seed_i], trajectory, model.events, tables
    )
    past = model.history
    if not with_history:
        return own
    if past is None:
        return whole_span(None, own, 0)
    before = tables_from(
        scenario.name,
        past.inputs,
        [run],
        [past.seed],
        past.trajectory.with_runs_axis(),
        past.events,
        tables,
    )
    return whole_span(before, own, past.inputs.n_steps)


def simulate_batch(
    scenario: Scenarios,
    runs: Sequence[int],
    seed: int,
    tables: Sequence[str] = TABLES,
    with_history: bool = False,
    history_runs: Sequence[int] | None = None,
) -> dict[str, pd.DataFrame]:
    """Several runs of a scenario with the batched engine, as tidy tables (over the whole
    span, history included, with ``with_history``; see :func:`whole_span`). ``scenario``
    is one for every run or one per run (runs that differ in parameters: one batch all
    the same); run ``runs[i]`` continues the history of run ``history_runs[i]`` (default:
    its own).

    If the batch raises, each run is retried alone so that only the failing ones are
    recorded with ``status = error``.
    """
    one = scenario if isinstance(scenario, Scenario) else scenario[0]
    seeds = [run_seed(seed, r) for r in runs]
    past_seeds = history_seeds(one, runs if history_runs is None else history_runs)
    past = None
    try:
        if with_history and past_seeds is not None:  # run first: its end states are remembered
            past = run_history(scenario, past_seeds)
        inp, trajectory, record = run_batch(scenario, seeds, past_seeds)
    except Exception as exc:
        if len(runs) == 1:
            return {"runs": error_rows(one.name, runs, seeds, exc)}
        each = [scenario] * len(runs) if isinstance(scenario, Scenario) else scenario
        return concat_tables(
            [
                simulate_batch(s, [r], seed, tables, with_history, None if h is None else [h])
                for s, r, h in zip(each, runs, history_runs or [None] * len(runs), strict=True)
            ]
        )
    own = tables_from(one.name, inp, runs, seeds, trajectory, record, tables)
    if not with_history:
        return own
    if past is None:
        return whole_span(None, own, 0)
    past_inputs, past_trajectory, past_record = past
    before = tables_from(
        one.name, past_inputs, runs, past_seeds, past_trajectory, past_record, tables
    )
    return whole_span(before, own, past_inputs.n_steps)


def run_chunk(
    scenario: Scenario,
    runs: Sequence[int],
    seed: int,
    engine: str = "batch",
    tables: Sequence[str] = TABLES,
    with_history: bool = False,
    posterior: Posterior | None = None,
    sources: Sequence[int] | None = None,
) -> dict[str, pd.DataFrame]:
    """Several runs of one scenario, concatenated (the unit of work sent to an executor);
    the ``runs`` table and the other ``tables`` asked for, over the whole span with
    ``with_history`` (a scenario that continues no history is unaffected). With a
    ``posterior`` each run takes its parameters from the sample of its draw, and the
    ``runs`` table says which (``draw``, ``sample``): the batched engine runs them all in
    one batch with per-run parameters, the agent engine one model per run.

    A projection conditioned on its history's record (:mod:`csto_sim.inference.conditioning`)
    continues, in run ``r``, the draw and history of particle ``sources[r]`` (computed here
    when not given); the ``runs`` table names it (``history``).

    Every table is checked finite (:func:`~csto_sim.core.finite.check_finite`): a NaN or an
    infinity is a :class:`~csto_sim.core.finite.NonFiniteError` naming the scenario file,
    the table, the column, the run and the year, and nothing of the chunk is written."""
    out = _chunk(scenario, runs, seed, engine, tables, with_history, posterior, sources)
    for name, frame in out.items():
        check_finite(frame, scenario.source or scenario.name, f"{name} table")
    return out


def _chunk(scenario, runs, seed, engine, tables, with_history, posterior, sources):
    runs = [int(r) for r in runs]
    conditioned = conditioning.conditions(scenario)
    if conditioned and sources is None:
        sources = conditioning.sources(scenario, posterior, seed, runs)
    past = [int(j) for j in sources] if conditioned else runs
    if posterior is None:
        if check_engine(engine) == "batch":
            out = simulate_batch(scenario, runs, seed, tables, with_history, past)
        else:
            out = concat_tables(
                [
                    simulate_agents(scenario, r, seed, tables, with_history, j)
                    for r, j in zip(runs, past, strict=True)
                ]
            )
        return _named_histories(out, runs, past) if conditioned else out
    samples = [posterior.sample_of(seed, j) for j in past]
    chosen = conditioning.particles(scenario, posterior, seed, past)  # each run's parameters
    if check_engine(engine) == "batch":
        out = simulate_batch(chosen, runs, seed, tables, with_history, past)
    else:
        out = concat_tables(
            [
                simulate_agents(spec, r, seed, tables, with_history, j)
                for spec, r, j in zip(chosen, runs, past, strict=True)
            ]
        )
    taken = dict(zip(runs, zip(samples, past, strict=True), strict=True))
    out["runs"] = out["runs"].assign(
        draw=[posterior.draw(taken[int(r)][1]) for r in out["runs"]["run"]],
        sample=[taken[int(r)][0] for r in out["runs"]["run"]],
    )
    return _named_histories(out, runs, past) if conditioned else out


def _named_histories(
    out: dict[str, pd.DataFrame], runs: list[int], past: list[int]
) -> dict[str, pd.DataFrame]:
    history = dict(zip(runs, past, strict=True))
    out["runs"] = out["runs"].assign(history=[history[int(r)] for r in out["runs"]["run"]])
    return out
