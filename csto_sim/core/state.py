"""The members' state, and its record over a run.

``State`` holds the arrays every rule reads and the step writes: alignment ``w``
``(..., members, poles)``, commitment ``c``, trust ``b`` and status ``(..., members)``.
Leading axes are replicas (the batched engine); the Mesa model has none. ``Trajectory``
keeps the state at every step (step 0 is the initial state).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class State:
    """The members' state arrays (alignment, commitment, trust, status)."""

    w: np.ndarray  # (..., M, P) alignment weights on the simplex
    c: np.ndarray  # (..., M) commitment in [0, 1]
    b: np.ndarray  # (..., M) trust in [0, 1]
    status: np.ndarray  # (..., M) status codes (vocabulary.Status)

    @classmethod
    def initial(
        cls, w0: np.ndarray, c0: np.ndarray, b0: np.ndarray, status0: np.ndarray, replicas=None
    ) -> State:
        """Fresh copies of the initial state, for one run or stacked for ``replicas`` runs."""
        if replicas is None:
            return cls(w0.copy(), c0.copy(), b0.copy(), status0.copy())
        return cls(*(np.repeat(a[None], replicas, axis=0) for a in (w0, c0, b0, status0)))


@dataclass
class Trajectory:
    """The state of one or more runs at every step (step 0 is the initial state)."""

    w: np.ndarray  # ([R,] T+1, M, P)
    c: np.ndarray  # ([R,] T+1, M)
    b: np.ndarray  # ([R,] T+1, M)
    status: np.ndarray  # ([R,] T+1, M)

    @classmethod
    def empty(cls, n_steps: int, shape: tuple[int, int], replicas: int | None = None) -> Trajectory:
        """Room for ``n_steps`` steps of ``shape`` = (members, poles), for one run or ``replicas``."""
        m, p = shape
        lead = () if replicas is None else (replicas,)
        return cls(
            w=np.zeros((*lead, n_steps + 1, m, p)),
            c=np.zeros((*lead, n_steps + 1, m)),
            b=np.zeros((*lead, n_steps + 1, m)),
            status=np.zeros((*lead, n_steps + 1, m), dtype=np.int8),
        )

    def record(self, t: int, state: State) -> None:
        """Store the state after step ``t``."""
        self.w[..., t, :, :], self.c[..., t, :], self.b[..., t, :] = state.w, state.c, state.b
        self.status[..., t, :] = state.status

    def with_runs_axis(self) -> Trajectory:
        """The same record with a leading runs axis (a single run's record becomes one of one)."""
        if self.status.ndim == 3:
            return self
        return Trajectory(self.w[None], self.c[None], self.b[None], self.status[None])
