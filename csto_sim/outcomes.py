"""Outcome figures from the model's state: cohesion, fragmentation, collapse, security provision.

All functions take arrays with optional leading axes (time, replicas) and reduce over the
members axis, so a single run's history and a batch of replicas use the same definitions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .dynamics import ACTIVE, FROZEN, NON_MEMBER, WITHDRAWN


@dataclass
class History:
    """The state of one run at every step (step 0 is the initial state)."""

    w: np.ndarray  # (T+1, M, P)
    c: np.ndarray  # (T+1, M)
    b: np.ndarray  # (T+1, M)
    status: np.ndarray  # (T+1, M)

    @classmethod
    def empty(cls, n_steps: int, shape: tuple[int, int]) -> History:
        """Room for ``n_steps`` steps of ``shape`` = (members, poles)."""
        m, p = shape
        return cls(
            w=np.zeros((n_steps + 1, m, p)),
            c=np.zeros((n_steps + 1, m)),
            b=np.zeros((n_steps + 1, m)),
            status=np.zeros((n_steps + 1, m), dtype=np.int8),
        )

    def record(
        self, t: int, w: np.ndarray, c: np.ndarray, b: np.ndarray, status: np.ndarray
    ) -> None:
        """Store the state after step ``t``."""
        self.w[t], self.c[t], self.b[t], self.status[t] = w, c, b, status


def cohesion(w: np.ndarray, status: np.ndarray, leader: int, leader_pole: int) -> np.ndarray:
    """How aligned the active members are with the leader's pole and with each other, in [0, 1].

    The mean of (a) the active non-leader members' mean weight on the leader's pole and
    (b) one minus the mean pairwise total-variation distance between active members'
    alignments, scaled by the share of the (non-leader) members that are active.
    """
    active = status == ACTIVE
    others = active.copy()
    others[..., leader] = False
    eligible = (status != NON_MEMBER).copy()
    eligible[..., leader] = False
    n_others = others.sum(axis=-1)
    n_eligible = np.maximum(eligible.sum(axis=-1), 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        toward = np.where(
            n_others > 0, (w[..., leader_pole] * others).sum(axis=-1) / np.maximum(n_others, 1), 0.0
        )
    tv = 0.5 * np.abs(w[..., :, None, :] - w[..., None, :, :]).sum(axis=-1)
    pair = active[..., :, None] & active[..., None, :]
    n_pairs = pair.sum(axis=(-1, -2))
    mean_tv = np.where(n_pairs > 0, (tv * pair).sum(axis=(-1, -2)) / np.maximum(n_pairs, 1), 0.0)
    return (n_others / n_eligible) * (0.5 * toward + 0.5 * (1.0 - mean_tv))


def n_blocs(w: np.ndarray, status: np.ndarray) -> np.ndarray:
    """Fragmentation: how many distinct dominant poles the active and frozen members have."""
    inside = (status == ACTIVE) | (status == FROZEN)
    dominant = w.argmax(axis=-1)
    present = np.zeros((*dominant.shape[:-1], w.shape[-1]), dtype=bool)
    for j in range(w.shape[-1]):
        present[..., j] = ((dominant == j) & inside).any(axis=-1)
    return present.sum(axis=-1)


def collapsed(status: np.ndarray, leader: int, min_active: int) -> np.ndarray:
    """Whether fewer than ``min_active`` members besides the leader are active."""
    others = status == ACTIVE
    others[..., leader] = False
    return others.sum(axis=-1) < min_active


def run_summary(
    history: History,
    years: np.ndarray,
    events: list[dict[str, Any]],
    leader: int,
    leader_pole: int,
    min_active: int,
) -> dict[str, Any]:
    """One run's outcome figures (the columns of ``runs.parquet``)."""
    coh = cohesion(history.w, history.status, leader, leader_pole)
    gone = collapsed(history.status, leader, min_active)
    final = history.status[-1]
    first = int(np.argmax(gone)) if gone.any() else -1
    requests = sum(e["requested"] for e in events)
    responses = sum(e["responded"] for e in events)
    severity = float(sum(e["severity"] for e in events))
    not_alliance = float(sum(e["severity"] for e in events if not e["responded"]))
    not_anyone = float(sum(e["severity"] for e in events if not (e["responded"] or e["helped"])))
    return {
        "cohesion_final": float(coh[-1]),
        "cohesion_mean": float(coh.mean()),
        "n_active_final": int((final == ACTIVE).sum()),
        "n_frozen_final": int((final == FROZEN).sum()),
        "n_withdrawn_final": int((final == WITHDRAWN).sum()),
        "n_blocs_final": int(n_blocs(history.w[-1], final)),
        "collapsed": bool(gone.any()),
        "collapse_year": float(years[first]) if first >= 0 else float("nan"),
        "events": len(events),
        "requests": int(requests),
        "responses": int(responses),
        "refusals": int(requests - responses),
        "response_rate": responses / requests if requests else float("nan"),
        "severity_total": severity,
        "alliance_unanswered_severity": not_alliance,
        "unanswered_severity": not_anyone,
    }
