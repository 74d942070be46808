"""Seeds and random streams: every random number of a run, drawn before it starts.

A run's seed depends on the ensemble seed and the run index only; from it one generator
per purpose draws the run's uniforms, indexed by step, member and kind, so that two
scenarios with the same hazard rates see the same draws (common random numbers): the same
threat events until the alliance's record, which adversaries read, differs between them.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

STREAMS: tuple[str, ...] = ("events", "decisions", "membership", "parameters", "vetoes")
"""Purposes of the random streams; each run's stream i is SeedSequence(run_seed, spawn_key=(i,))."""


def run_seed(seed: int, run: int) -> int:
    """The seed of run ``run`` of an ensemble with root ``seed``; the same for every scenario."""
    return int(np.random.SeedSequence(seed, spawn_key=(run,)).generate_state(1, np.uint32)[0])


def streams(seed: int, names: tuple[str, ...] = STREAMS) -> dict[str, np.random.Generator]:
    """Independent generators for the purposes ``names`` (of :data:`STREAMS`), derived
    from a run's seed; stream ``i`` of :data:`STREAMS` is the same whichever are named."""
    return {
        name: np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(i,)))
        for i, name in enumerate(STREAMS)
        if name in names
    }


@dataclass(frozen=True)
class Noise:
    """Uniform draws in [0, 1) by step (T), member (M) and kind (K), with optional leading axes.

    One run's draws are ``(T, M, K)``; a batch's ``(R, T, M, K)`` (see :func:`empty_noise`).
    :meth:`at` gives one step's draws with the leading axes kept.
    """

    occur: np.ndarray  # (..., T, M, K) whether an event strikes
    severity: np.ndarray  # (..., T, M, K) its severity (through the kind's distribution)
    counterpart: np.ndarray  # (..., T, M, K) which counterpart it involves
    request: np.ndarray  # (..., T, M, K) the member's request decision
    response: np.ndarray  # (..., T, M, K) the alliance's response decision
    bilateral: np.ndarray  # (..., T, M, K) whether a pole helps bilaterally
    membership: np.ndarray  # (..., T, M) membership decisions
    veto: np.ndarray  # (..., T, M, K, M) each member's veto of collective action on each event

    def row(self, r: int) -> Noise:
        """The draws of replica ``r`` of a batch (views: writing them fills the batch)."""
        return Noise(*(getattr(self, f.name)[r] for f in fields(self)))

    def at(self, t: int) -> Noise:
        """The draws of step ``t``: ``(..., M, K)``, ``(..., M)`` for membership and
        ``(..., M, K, M)`` for vetoes."""
        trailing = {"membership": 1, "veto": 3}
        return Noise(
            *(
                getattr(self, f.name)[(..., t) + (slice(None),) * trailing.get(f.name, 2)]
                for f in fields(self)
            )
        )


def draw_noise(shape: tuple[int, int, int], seed: int, out: Noise | None = None) -> Noise:
    """Draw a run's random numbers ``(steps, members, kinds)`` from its seed, one stream per
    purpose; into ``out`` (one run's arrays, e.g. a row of :func:`empty_noise`) if given."""
    g = streams(seed, ("events", "decisions", "membership", "vetoes"))
    ev, de = g["events"], g["decisions"]
    out = out if out is not None else empty_noise(shape)
    for name, gen in (
        ("occur", ev),
        ("severity", ev),
        ("counterpart", ev),
        ("request", de),
        ("response", de),
        ("bilateral", de),
        ("membership", g["membership"]),
        ("veto", g["vetoes"]),
    ):
        gen.random(out=getattr(out, name))
    return out


def empty_noise(shape: tuple[int, int, int], replicas: int | None = None) -> Noise:
    """Room for the draws of one run, or of ``replicas`` runs stacked (see :meth:`Noise.row`)."""
    lead = () if replicas is None else (replicas,)
    T, M, K = shape
    return Noise(
        *(np.empty((*lead, T, M, K)) for _ in range(6)),
        membership=np.empty((*lead, T, M)),
        veto=np.empty((*lead, T, M, K, M)),
    )
