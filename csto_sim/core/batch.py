"""The batched engine: many replicas of a scenario advanced together as numpy arrays.

The state is ``(replicas, members, poles)`` for alignment and ``(replicas, members)`` for
commitment, trust and status. Each step is :func:`csto_sim.core.step.advance` on the whole
batch, with every member deciding at once; each replica draws its random numbers from its
own seed. Replicas may differ in their parameters and judged numbers (one scenario per
run, stacked by :func:`csto_sim.core.stack.stack_inputs`), so an ensemble over a
posterior is one batch. A run gives the same result here as in the Mesa model
(:class:`csto_sim.abm.model.CSTOModel`), whatever the batch it is part of.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields

import numpy as np

from csto_sim.core.events import empty_events
from csto_sim.core.inputs import (
    Inputs,
    compile_inputs,
    continued_state,
    history_scenario,
    inputs_for,
)
from csto_sim.core.randomness import draw_noise, empty_noise, run_seed
from csto_sim.core.scenario import Scenario
from csto_sim.core.stack import stack_inputs
from csto_sim.core.state import State, Trajectory
from csto_sim.core.step import AllMembers, advance

Scenarios = Scenario | Sequence[Scenario]
"""One scenario for every run, or one per run (runs that differ in parameters)."""


def batch_inputs(scenarios: Scenarios, n: int) -> Inputs:
    """The inputs of a batch of ``n`` runs: a scenario's, or one scenario's per run stacked
    (scenarios that are the same object compile once). A batch of many parameter sets (a
    fit's draws, rarely seen again) compiles them without remembering them."""
    if isinstance(scenarios, Scenario):
        return inputs_for(scenarios)
    if len(scenarios) != n:
        raise ValueError(f"{len(scenarios)} scenarios for {n} runs; give one per run")
    index: dict[int, int] = {}
    parts: list[Scenario] = []
    for s in scenarios:
        if id(s) not in index:
            index[id(s)] = len(parts)
            parts.append(s)
    compile_one = inputs_for if len(parts) <= 16 else compile_inputs
    return stack_inputs([compile_one(s) for s in parts], [index[id(s)] for s in scenarios])


def run_batch(
    scenario: Scenarios, seeds: Sequence[int], history_seeds: Sequence[int] | None = None
) -> tuple[Inputs, Trajectory, dict[str, list[np.ndarray]]]:
    """Run one replica per seed (``scenario``: one for all, or one per run); returns the
    inputs, the trajectory ``(R, T+1, ...)`` and the event record. A projection that
    continues a history first runs the history, replica by replica with ``history_seeds``,
    and starts from where each ended."""
    inp = batch_inputs(scenario, len(seeds))
    start = State.initial(inp.initial, replicas=len(seeds))
    if inp.history is not None:
        if history_seeds is None or len(history_seeds) != len(seeds):
            raise ValueError("a scenario that continues a history needs one history seed per run")
        start = continued_state(inp.history, history_end(scenario, history_seeds), inp)
    trajectory, record = advance_all(inp, start, seeds)
    return inp, trajectory, record


_ENDS: dict[tuple, State] = {}
"""History end states by (history digests, seeds); see :func:`history_end`."""


def _history_key(scenario: Scenarios, seeds: Sequence[int]) -> tuple:
    each = [scenario] if isinstance(scenario, Scenario) else list(scenario)
    digests: dict[int, str] = {}
    for s in each:
        if id(s) not in digests:
            digests[id(s)] = history_scenario(s).digest()
    return tuple(digests[id(s)] for s in each), tuple(int(s) for s in seeds)


def run_history(
    scenario: Scenarios, seeds: Sequence[int]
) -> tuple[Inputs, Trajectory, dict[str, list[np.ndarray]]]:
    """The history a projection continues, run ``r`` with ``seeds[r]`` (see
    :func:`history_seeds`): its inputs, trajectory and event record, for output over the
    whole span (the projection's own record starts where this one ends)."""
    each = [scenario] if isinstance(scenario, Scenario) else list(scenario)
    if any(s.history is None for s in each):
        raise ValueError(f"scenario {each[0].name!r} continues no history")
    past = [history_scenario(s) for s in each]
    past_inputs = batch_inputs(past[0] if isinstance(scenario, Scenario) else past, len(seeds))
    start = State.initial(past_inputs.initial, replicas=len(seeds))
    trajectory, record = advance_all(past_inputs, start, seeds)
    if len(_ENDS) >= 64:
        _ENDS.clear()
    _ENDS[_history_key(scenario, seeds)] = State(
        *(getattr(trajectory, f.name)[:, -1] for f in fields(State))
    )
    return past_inputs, trajectory, record


def history_end(scenario: Scenarios, seeds: Sequence[int]) -> State:
    """The end states of the history runs with these seeds (replicas stacked).

    Remembered by the history's content (parameters included) and seeds: projections that
    share a history and parameters (an ensemble of scenarios, with common random numbers)
    live through it once (:func:`run_history` remembers them). A copy is returned, so callers
    may write to it.
    """
    key = _history_key(scenario, seeds)
    if key not in _ENDS:
        run_history(scenario, seeds)
    return State.initial(_ENDS[key], replicas=None)


def history_seeds(scenario: Scenario, runs: Sequence[int]) -> list[int] | None:
    """The seeds of the history runs that runs ``runs`` of a projection continue: run ``r``
    continues run ``r`` of its history (the history's own seed stream, so every projection
    of an ensemble starts run ``r`` from the same history); None without a history."""
    if scenario.history is None:
        return None
    return [run_seed(scenario.history.seed, r) for r in runs]


def advance_all(
    inp: Inputs, state: State, seeds: Sequence[int], log_weight: np.ndarray | None = None
) -> tuple[Trajectory, dict[str, list[np.ndarray]]]:
    """Advance replicas of ``state`` (one per seed) through every step of ``inp`` (in a
    guided run, adding each replica's log chance of its record to ``log_weight``)."""
    noise = empty_noise(inp.noise_shape, len(seeds))
    for r, s in enumerate(seeds):
        draw_noise(inp.noise_shape, int(s), out=noise.row(r))
    trajectory = Trajectory.empty(inp.n_steps, state.row(0), replicas=len(seeds))
    trajectory.record(0, state)
    record = empty_events()
    members = AllMembers(inp, state)
    for t in range(inp.n_steps):
        advance(inp, t, state, noise.at(t), members, record, log_weight)
        trajectory.record(t + 1, state)
    return trajectory, record
