"""The batched engine: many replicas of a scenario advanced together as numpy arrays.

The state is ``(replicas, members, poles)`` for alignment and ``(replicas, members)`` for
commitment, trust and status. Each step is :func:`csto_sim.core.step.advance` on the whole
batch, with every member deciding at once; each replica draws its random numbers from its
own seed. A run therefore gives the same result here as in the Mesa model
(:class:`csto_sim.abm.model.CSTOModel`), whatever the batch it is part of.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields

import numpy as np

from csto_sim.core.events import empty_events
from csto_sim.core.inputs import Inputs, continued_state, history_scenario, inputs_for
from csto_sim.core.randomness import draw_noise, run_seed, stack_noise
from csto_sim.core.scenario import Scenario
from csto_sim.core.state import State, Trajectory
from csto_sim.core.step import AllMembers, advance


def run_batch(
    scenario: Scenario, seeds: Sequence[int], history_seeds: Sequence[int] | None = None
) -> tuple[Inputs, Trajectory, dict[str, list[np.ndarray]]]:
    """Run one replica per seed; returns the inputs, the trajectory ``(R, T+1, ...)`` and the
    event record. A projection that continues a history first runs the history, replica by
    replica with ``history_seeds``, and starts from where each ended."""
    inp = inputs_for(scenario)
    start = State.initial(inp.initial, replicas=len(seeds))
    if inp.history is not None:
        if history_seeds is None or len(history_seeds) != len(seeds):
            raise ValueError("a scenario that continues a history needs one history seed per run")
        start = continued_state(inp.history, history_end(scenario, history_seeds), inp)
    trajectory, record = advance_all(inp, start, seeds)
    return inp, trajectory, record


_ENDS: dict[tuple[str, tuple[int, ...]], State] = {}
"""History end states by (history digest, seeds); see :func:`history_end`."""


def run_history(
    scenario: Scenario, seeds: Sequence[int]
) -> tuple[Inputs, Trajectory, dict[str, list[np.ndarray]]]:
    """The history a projection continues, run ``r`` with ``seeds[r]`` (see
    :func:`history_seeds`): its inputs, trajectory and event record, for output over the
    whole span (the projection's own record starts where this one ends)."""
    if scenario.history is None:
        raise ValueError(f"scenario {scenario.name!r} continues no history")
    past_scenario = history_scenario(scenario)
    past_inputs = inputs_for(past_scenario)
    past = State.initial(past_inputs.initial, replicas=len(seeds))
    trajectory, record = advance_all(past_inputs, past, seeds)
    if len(_ENDS) >= 64:
        _ENDS.clear()
    _ENDS[(past_scenario.digest(), tuple(int(s) for s in seeds))] = State(
        *(getattr(trajectory, f.name)[:, -1] for f in fields(State))
    )
    return past_inputs, trajectory, record


def history_end(scenario: Scenario, seeds: Sequence[int]) -> State:
    """The end states of the history runs with these seeds (replicas stacked).

    Remembered by the history's content (parameters included) and seeds: projections that
    share a history and parameters (an ensemble of scenarios, with common random numbers)
    live through it once (:func:`run_history` remembers them). A copy is returned, so callers
    may write to it.
    """
    key = (history_scenario(scenario).digest(), tuple(int(s) for s in seeds))
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
    inp: Inputs, state: State, seeds: Sequence[int]
) -> tuple[Trajectory, dict[str, list[np.ndarray]]]:
    """Advance replicas of ``state`` (one per seed) through every step of ``inp``."""
    noise = stack_noise([draw_noise(inp.noise_shape, int(s)) for s in seeds])
    trajectory = Trajectory.empty(inp.n_steps, inp.initial, replicas=len(seeds))
    trajectory.record(0, state)
    record = empty_events()
    members = AllMembers(inp, state)
    for t in range(inp.n_steps):
        advance(inp, t, state, noise.at(t), members, record)
        trajectory.record(t + 1, state)
    return trajectory, record
