"""The members' state, and its record over a run.

``State`` holds the arrays every rule reads and the step writes: security alignment ``w``
and economic alignment ``e`` ``(..., members, poles)``, commitment ``c``, trust ``b``, grievance ``g``, credibility of
security alternatives ``a`` and status ``(..., members)``, and the alliance's record ``d``
``(..., members, kinds)`` that adversaries read (answered threats +, unanswered -). Leading axes are replicas (the
batched engine); the Mesa model has none. ``Trajectory`` keeps the state at every step
(step 0 is the initial state).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np


@dataclass
class State:
    """The members' state arrays."""

    w: np.ndarray  # (..., M, P) security alignment weights on the simplex
    e: np.ndarray  # (..., M, P) economic alignment weights on the simplex
    c: np.ndarray  # (..., M) commitment in [0, 1]
    b: np.ndarray  # (..., M) trust in [0, 1]
    g: np.ndarray  # (..., M) grievance in [0, 1]: unanswered threats remembered
    a: np.ndarray  # (..., M) credibility in [0, 1] of security alternatives: help from other poles
    status: np.ndarray  # (..., M) status codes (vocabulary.Status)
    d: np.ndarray  # (..., M, K) the alliance's record against each member's threats, in [-1, 1]

    @classmethod
    def initial(cls, initial: State, replicas: int | None = None) -> State:
        """Fresh copies of an initial state, for one run or stacked for ``replicas`` runs (a
        field that already has one value per run, from per-run inputs, is copied)."""
        arrays = ((f.name, getattr(initial, f.name)) for f in fields(cls))
        if replicas is None:
            return cls(*(a.copy() for _, a in arrays))
        return cls(
            *(
                a.copy() if a.ndim > AXES.get(name, 1) else np.repeat(a[None], replicas, axis=0)
                for name, a in arrays
            )
        )

    def row(self, r: int) -> State:
        """The state of replica ``r`` of a batch."""
        return State(*(getattr(self, f.name)[r] for f in fields(self)))


AXES = {"w": 2, "e": 2, "d": 2}
"""The axes of each field for one run (members and poles, or members and kinds); the
others have one (members)."""


@dataclass
class Trajectory:
    """The state of one or more runs at every step (step 0 is the initial state): each field
    of :class:`State` with a steps axis ``([R,] T+1, ...)``."""

    w: np.ndarray
    e: np.ndarray
    c: np.ndarray
    b: np.ndarray
    g: np.ndarray
    a: np.ndarray
    status: np.ndarray
    d: np.ndarray

    @classmethod
    def empty(cls, n_steps: int, initial: State, replicas: int | None = None) -> Trajectory:
        """Room for ``n_steps`` steps of states shaped like ``initial``, for one run or ``replicas``."""
        lead = () if replicas is None else (replicas,)
        return cls(
            *(
                np.zeros((*lead, n_steps + 1, *a.shape), dtype=a.dtype)
                for a in (getattr(initial, f.name) for f in fields(State))
            )
        )

    def record(self, t: int, state: State) -> None:
        """Store the state after step ``t``."""
        at = (slice(None),) * (self.status.ndim - 2) + (t,)  # the steps axis follows replicas
        for f in fields(State):
            getattr(self, f.name)[at] = getattr(state, f.name)

    def with_runs_axis(self) -> Trajectory:
        """The same record with a leading runs axis (a single run's record becomes one of one)."""
        if self.status.ndim == 3:
            return self
        return Trajectory(*(getattr(self, f.name)[None] for f in fields(State)))
