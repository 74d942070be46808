"""Threat events and exogenous drivers: the scenario compiled to arrays, and each run's random draws.

``compile_inputs`` turns a scenario into the deterministic inputs of every run (pole
strengths and offers by step, the leader's available capacity, hazard probabilities,
scripted events). ``draw_noise`` draws one run's uniform random numbers, from streams
seeded by the run's seed and kept apart by purpose, so that two scenarios with the same
hazard rates see the same threat events (common random numbers).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import dynamics
from .parameters import THREAT_KINDS
from .scenario import STATUSES, Scenario

STREAMS: tuple[str, ...] = ("events", "decisions", "membership")
"""Purposes of the random streams; each run's stream i is SeedSequence(run_seed, spawn_key=(i,))."""

INTERNAL_KINDS_WITHOUT_COUNTERPART = ("internal_unrest",)


def run_seed(seed: int, run: int) -> int:
    """The seed of run ``run`` of an ensemble with root ``seed``; the same for every scenario."""
    return int(np.random.SeedSequence(seed, spawn_key=(run,)).generate_state(1, np.uint32)[0])


def streams(seed: int) -> dict[str, np.random.Generator]:
    """Independent generators for each purpose, derived from a run's seed."""
    return {
        name: np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(i,)))
        for i, name in enumerate(STREAMS)
    }


def _series(value, years: np.ndarray) -> np.ndarray:
    """A scenario time series (number or [year, value] pairs) at the given years (linear, flat ends)."""
    if isinstance(value, int | float):
        return np.full(years.shape, float(value))
    xs = np.array([p[0] for p in value], dtype=float)
    ys = np.array([p[1] for p in value], dtype=float)
    return np.interp(years, xs, ys)


@dataclass(frozen=True)
class ScriptedThreat:
    """A scripted threat event placed on its step."""

    step: int
    member: int
    kind: int
    severity: float
    counterpart: int
    territorial: bool
    label: str


@dataclass(frozen=True)
class Inputs:
    """Everything a run needs from its scenario, as arrays indexed by step, member, pole, kind."""

    members: list[str]
    poles: list[str]
    counterparts: list[str]
    leader: int
    leader_pole: int
    n_steps: int
    dt: float
    years: np.ndarray  # (T+1,) decimal year at the start of each step and at the end
    strength: (
        np.ndarray
    )  # (T, P) pole strength; the leader pole's is the leader's available capacity
    capacity: np.ndarray  # (T,) leader's available capacity (strength less distraction)
    leader_strength: np.ndarray  # (T,) leader's strength (its pole's), whatever it is tied down by
    offers: np.ndarray  # (T, M, P) offers in [0, 1]
    accession: np.ndarray  # (T, M) bool: member joins at this step
    p_event: np.ndarray  # (M, K) probability of an event of each kind per step
    option_table: (
        np.ndarray
    )  # (M, K, O) counterpart indices a random event may involve, padded with -1
    option_count: np.ndarray  # (M, K) how many of them there are
    affinity: np.ndarray  # (C,) leader affinity of each counterpart (0 for members)
    kind_weights: np.ndarray  # (M, K) share of each kind in a member's hazard (uniform if none)
    option_member_share: (
        np.ndarray
    )  # (M, K) share of a random event's counterparts that are members
    option_affinity: np.ndarray  # (M, K) mean leader affinity of a random event's counterparts
    counterpart_is_member: np.ndarray  # (C,) index of the member, or -1
    scripted: dict[int, list[ScriptedThreat]]  # step -> events
    fit: np.ndarray  # (K,) charter fit
    internal: np.ndarray  # (K,) internal-affairs share
    severity_mean: np.ndarray  # (K,) mean severity of a random event
    severity_exponent: np.ndarray  # (K,) u**e has mean severity_mean
    stake: np.ndarray  # (M,) capability relative to the largest non-leader member
    budget_share: np.ndarray  # (M,)
    leverage: np.ndarray  # (M,)
    ties: np.ndarray  # (M, M) signed relation weights
    influence: np.ndarray  # (M, M) ties scaled by the partner's share of the pair's capability
    w0: np.ndarray  # (M, P)
    c0: np.ndarray  # (M,)
    b0: np.ndarray  # (M,)
    status0: np.ndarray  # (M,) int codes
    params: dict = field(default_factory=dict)


def compile_inputs(s: Scenario) -> Inputs:
    """Turn a validated scenario into the arrays every run of it shares."""
    members, poles = s.member_names, s.pole_names
    M, P, K, T = len(members), len(poles), len(THREAT_KINDS), s.n_steps
    dt = s.time.step
    years = s.time.start + dt * np.arange(T + 1)
    mid = years[:-1]
    pr = s.parameters
    leader = members.index(s.alliance.leader)
    leader_pole = poles.index(s.alliance.leader_pole)

    strength = np.stack([_series(s.poles[p].strength, mid) for p in poles], axis=1)
    distraction = np.zeros(T)
    level = s.alliance.leader_distraction
    wars = [e for e in s.events.values() if e.kind == "war_elsewhere"]
    for t in range(T):
        for e in wars:
            if years[t] <= e.year < years[t + 1]:
                level = min(1.0, level + e.severity)
        distraction[t] = level
        level = float(dynamics.decay(level, pr.distraction_halflife, dt))
    leader_strength = strength[:, leader_pole].copy()
    capacity = leader_strength * (1.0 - distraction)
    strength = strength.copy()
    strength[:, leader_pole] = capacity

    offers = np.zeros((T, M, P))
    for i, m in enumerate(members):
        for p, series in s.members[m].offers.items():
            offers[:, i, poles.index(p)] = _series(series, mid)
    accession = np.zeros((T, M), dtype=bool)
    for e in sorted(s.events.values(), key=lambda e: e.year):
        t = int(np.searchsorted(years, e.year, side="right") - 1)
        if e.kind == "pole_shift":
            rows = [members.index(e.member)] if e.member else list(range(M))
            j = poles.index(e.pole)
            for i in rows:
                offers[t:, i, j] = np.clip(offers[t:, i, j] + e.offer_change, 0.0, 1.0)
        elif e.kind == "accession":
            accession[t, members.index(e.member)] = True

    counterparts = members + [a for a in s.actors if a not in members]
    affinity = np.array(
        [0.0 if c in members else s.actors[c].leader_affinity for c in counterparts]
    )
    is_member = np.array([members.index(c) if c in members else -1 for c in counterparts])

    ties = np.zeros((M, M))
    for a, row in s.relations.items():
        for b, w in row.items():
            i, j = members.index(a), members.index(b)
            ties[i, j] = ties[j, i] = w

    rates = np.zeros((M, K))
    option_table: (
        np.ndarray
    )  # (M, K, O) counterpart indices a random event may involve, padded with -1
    option_count: np.ndarray  # (M, K) how many of them there are
    options: list[list[np.ndarray]] = []
    for i, m in enumerate(members):
        spec = s.members[m]
        merged = s.hazards | spec.hazards
        rates[i] = [merged.get(k, 0.0) for k in THREAT_KINDS]
        hostile = np.flatnonzero(ties[i] < 0)
        external = np.array([counterparts.index(a) for a in spec.adversaries], dtype=int)
        row = []
        for k, kind in enumerate(THREAT_KINDS):
            if kind == "intra_alliance_clash":
                row.append(hostile.astype(int))
                if hostile.size == 0:
                    rates[i, k] = 0.0
            elif kind in INTERNAL_KINDS_WITHOUT_COUNTERPART:
                row.append(np.array([], dtype=int))
            else:
                row.append(external)
        options.append(row)
    p_event = dynamics.rate_to_share(rates, dt)
    option_count = np.array([[o.size for o in row] for row in options], dtype=int)
    option_table = np.full((M, K, max(1, int(option_count.max()))), -1, dtype=int)
    for i, row in enumerate(options):
        for k, o in enumerate(row):
            option_table[i, k, : o.size] = o
    kind_weights = dynamics.normalise(rates, np.full(K, 1.0 / K))
    member_share = np.array(
        [[float((is_member[o] >= 0).mean()) if o.size else 0.0 for o in row] for row in options]
    )
    option_affinity = np.array(
        [[float(affinity[o].mean()) if o.size else 0.0 for o in row] for row in options]
    )

    scripted: dict[int, list[ScriptedThreat]] = {}
    for label, e in s.events.items():
        if e.kind not in THREAT_KINDS:
            continue
        t = int(np.searchsorted(years, e.year, side="right") - 1)
        scripted.setdefault(t, []).append(
            ScriptedThreat(
                step=t,
                member=members.index(e.member),
                kind=THREAT_KINDS.index(e.kind),
                severity=e.severity,
                counterpart=counterparts.index(e.counterpart) if e.counterpart else -1,
                territorial=e.territorial,
                label=label,
            )
        )

    capability = np.array([s.members[m].capability for m in members])
    pair = capability[:, None] + capability[None, :]
    partner_share = np.where(pair > 0, capability[None, :] / np.where(pair > 0, pair, 1.0), 0.5)
    others = np.delete(capability, leader)
    top = others.max() if others.size and others.max() > 0 else 1.0
    stake = np.clip(capability / top, 0.0, 1.0)
    mean_sev = np.array([pr.severity_mean[k] for k in THREAT_KINDS])

    return Inputs(
        members=members,
        poles=poles,
        counterparts=counterparts,
        leader=leader,
        leader_pole=leader_pole,
        n_steps=T,
        dt=dt,
        years=years,
        strength=strength,
        capacity=capacity,
        leader_strength=leader_strength,
        offers=offers,
        accession=accession,
        p_event=p_event,
        option_table=option_table,
        option_count=option_count,
        affinity=affinity,
        kind_weights=kind_weights,
        option_member_share=member_share,
        option_affinity=option_affinity,
        counterpart_is_member=is_member,
        scripted=scripted,
        fit=np.array([pr.charter_fit[k] for k in THREAT_KINDS]),
        internal=np.array([pr.internal_affairs[k] for k in THREAT_KINDS]),
        severity_mean=mean_sev,
        severity_exponent=(1.0 - mean_sev) / mean_sev,
        stake=stake,
        budget_share=np.array([s.members[m].budget_share for m in members]),
        leverage=np.array([s.members[m].leverage for m in members]),
        ties=ties,
        influence=ties * partner_share,
        w0=np.array([[s.members[m].alignment.get(p, 0.0) for p in poles] for m in members]),
        c0=np.array([s.members[m].commitment for m in members]),
        b0=np.array([s.members[m].trust for m in members]),
        status0=np.array([STATUSES.index(s.members[m].status) for m in members]),
        params=pr.model_dump(),
    )


@dataclass(frozen=True)
class Noise:
    """One run's uniform draws in [0, 1), by step (T), member (M) and kind (K)."""

    occur: np.ndarray  # (T, M, K) whether an event strikes
    severity: np.ndarray  # (T, M, K) its severity (through the kind's distribution)
    counterpart: np.ndarray  # (T, M, K) which counterpart it involves
    request: np.ndarray  # (T, M, K) the member's request decision
    response: np.ndarray  # (T, M, K) the alliance's response decision
    bilateral: np.ndarray  # (T, M, K) whether a pole helps bilaterally
    membership: np.ndarray  # (T, M) membership decisions


def draw_noise(inputs: Inputs, seed: int) -> Noise:
    """Draw a run's random numbers from its seed, one stream per purpose."""
    g = streams(seed)
    shape = (inputs.n_steps, len(inputs.members), len(THREAT_KINDS))
    ev, de = g["events"], g["decisions"]
    return Noise(
        occur=ev.random(shape),
        severity=ev.random(shape),
        counterpart=ev.random(shape),
        request=de.random(shape),
        response=de.random(shape),
        bilateral=de.random(shape),
        membership=g["membership"].random(shape[:2]),
    )


def stack_noise(noises: list[Noise]) -> Noise:
    """Several runs' draws stacked on a leading replicas axis (each run keeps its own streams)."""
    return Noise(*(np.stack([getattr(n, f) for n in noises]) for f in Noise.__dataclass_fields__))


@dataclass
class StepEvents:
    """The threat events of one step as ``(..., members, kinds)`` arrays (leading axes: replicas)."""

    occur: np.ndarray  # bool
    severity: np.ndarray
    counterpart: np.ndarray  # int index into Inputs.counterparts, -1 for none
    territorial: np.ndarray  # bool
    label: np.ndarray  # (members, kinds) object: scripted id or "" (the same in every replica)


def step_events(inputs: Inputs, noise: Noise, t: int) -> StepEvents:
    """The threat events striking members in step ``t``: random draws, then scripted ones on top.

    ``noise`` holds one run's draws ``(T, M, K)`` or a batch's ``(R, T, M, K)``; the result
    has the same leading axes.
    """
    occur = noise.occur[..., t, :, :] < inputs.p_event
    severity = noise.severity[..., t, :, :] ** inputs.severity_exponent
    M, K = inputs.option_count.shape
    count = inputs.option_count
    pick = np.minimum(
        (noise.counterpart[..., t, :, :] * count).astype(int), np.maximum(count - 1, 0)
    )
    chosen = inputs.option_table[np.arange(M)[:, None], np.arange(K)[None, :], pick]
    counterpart = np.where(occur & (count > 0), chosen, -1)
    territorial = np.ones(occur.shape, dtype=bool)
    label = np.full((M, K), "", dtype=object)
    for e in inputs.scripted.get(t, []):
        occur[..., e.member, e.kind] = True
        severity[..., e.member, e.kind] = e.severity
        counterpart[..., e.member, e.kind] = e.counterpart
        territorial[..., e.member, e.kind] = e.territorial
        label[e.member, e.kind] = e.label
    return StepEvents(occur, severity, counterpart, territorial, label)
