"""The batched engine: many replicas of a scenario advanced together as numpy arrays.

The state is ``(replicas, members, poles)`` for alignment and ``(replicas, members)`` for
commitment, trust and status. Each step is :func:`csto_sim.core.step.advance` on the whole
batch, with every member deciding at once; each replica draws its random numbers from its
own seed. A run therefore gives the same result here as in the Mesa model
(:class:`csto_sim.abm.model.CSTOModel`), whatever the batch it is part of.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from csto_sim.core.events import empty_events
from csto_sim.core.inputs import Inputs, inputs_for
from csto_sim.core.randomness import draw_noise, stack_noise
from csto_sim.core.scenario import Scenario
from csto_sim.core.state import State, Trajectory
from csto_sim.core.step import AllMembers, advance


def run_batch(
    scenario: Scenario, seeds: Sequence[int]
) -> tuple[Inputs, Trajectory, dict[str, list[np.ndarray]]]:
    """Run one replica per seed; returns the inputs, the trajectory ``(R, T+1, ...)`` and the event record."""
    inp = inputs_for(scenario)
    R = len(seeds)
    noise = stack_noise([draw_noise(inp.noise_shape, int(s)) for s in seeds])
    state = State.initial(inp.initial, replicas=R)
    trajectory = Trajectory.empty(inp.n_steps, inp.initial, replicas=R)
    trajectory.record(0, state)
    record = empty_events()
    members = AllMembers(inp, state)
    for t in range(inp.n_steps):
        advance(inp, t, state, noise.at(t), members, record)
        trajectory.record(t + 1, state)
    return inp, trajectory, record
