"""Outcome figures from the model's state: cohesion, fragmentation, collapse, security provision.

All functions take arrays with optional leading axes (time, replicas) and reduce over the
members axis, so a single run's history and a batch of replicas use the same definitions.
"""

from __future__ import annotations

import numpy as np

from csto_sim.core.vocabulary import (
    ACTIVE,
    CLASH_KINDS,
    FROZEN,
    NON_MEMBER,
    RESPONSE_LEVELS,
    THREAT_KINDS,
    WITHDRAWN,
)


def cohesion(w: np.ndarray, status: np.ndarray, leader: int, leader_pole: int) -> np.ndarray:
    """How aligned the active members are with the leader's pole and with each other, in [0, 1].

    The mean of (a) the active non-leader members' mean weight on the leader's pole and
    (b) one minus the mean total-variation distance over pairs of distinct active members'
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
    pair = active[..., :, None] & active[..., None, :] & ~np.eye(active.shape[-1], dtype=bool)
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
    n = others.sum(axis=-1)
    return n < np.reshape(min_active, np.shape(min_active) + (1,) * (n.ndim - np.ndim(min_active)))


def summarise(
    w: np.ndarray,
    status: np.ndarray,
    events: dict[str, np.ndarray],
    years: np.ndarray,
    leader: int,
    leader_pole: int,
    min_active: int,
    coh: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Outcome figures of each run (the columns of ``runs.parquet``), as arrays over runs.

    ``w`` is ``(R, T+1, M, P)`` and ``status`` ``(R, T+1, M)``; ``events`` an event record;
    ``coh`` the cohesion ``(R, T+1)`` if already computed.
    """
    R = status.shape[0]
    coh = cohesion(w, status, leader, leader_pole) if coh is None else coh
    gone = collapsed(status, leader, min_active)
    final = status[:, -1]
    first = np.argmax(gone, axis=1)
    run = events["run"].astype(int)
    sev = events["severity"].astype(float)
    req = events["requested"].astype(bool)
    resp = events["responded"].astype(bool)
    helped = events["helped"].astype(bool)

    def per_run(weights):
        return np.bincount(run, weights=weights, minlength=R)[:R]

    requests = per_run(req.astype(float)).astype(int)
    responses = per_run(resp.astype(float)).astype(int)
    clash = np.isin(events["kind"].astype(int), [THREAT_KINDS.index(k) for k in CLASH_KINDS])
    clash_requests = per_run((req & clash).astype(float))
    clash_answers = per_run((resp & clash).astype(float))
    level = events["level"].astype(int)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(requests > 0, responses / np.maximum(requests, 1), np.nan)
        clash_rate = np.where(
            clash_requests > 0, clash_answers / np.maximum(clash_requests, 1), np.nan
        )
    return {
        "cohesion_final": coh[:, -1],
        "cohesion_mean": coh.mean(axis=1),
        "n_active_final": (final == ACTIVE).sum(axis=1),
        "n_frozen_final": (final == FROZEN).sum(axis=1),
        "n_withdrawn_final": (final == WITHDRAWN).sum(axis=1),
        "n_blocs_final": n_blocs(w[:, -1], final),
        "collapsed": gone.any(axis=1),
        "collapse_year": np.where(gone.any(axis=1), years[first], np.nan),
        "events": np.bincount(run, minlength=R)[:R],
        "requests": requests,
        "responses": responses,
        "refusals": requests - responses,
        "response_rate": rate,
        "clash_answer_rate": clash_rate,
        **{
            f"level_{name}": per_run((req & (level == n)).astype(float)).astype(int)
            for n, name in enumerate(RESPONSE_LEVELS)
            if n > 0
        },
        "vetoed": per_run((req & (events["vetoes"].astype(int) > 0)).astype(float)).astype(int),
        "severity_total": per_run(sev),
        "alliance_unanswered_severity": per_run(np.where(resp, 0.0, sev)),
        "unanswered_severity": per_run(np.where(resp | helped, 0.0, sev)),
    }
