"""The model's step, written once for both engines.

A step: scripted accessions; threat events strike; struck members decide whether to ask;
the other members decide whether to veto collective action; the leader decides how far to
answer, within what the vetoes allow, and poles may help bilaterally; the events are
recorded; members learn from the answers; alignment, trust and commitment drift; members
reconsider their membership.

Each phase is a function of the compiled inputs and a :class:`~csto_sim.core.state.State`
whose arrays may have leading axes (replicas). The members' own decisions (requests,
drift, membership) take ``who``, an index on the members axis: the batched engine passes
every member at once (``ALL``), a Mesa agent its own row. :func:`advance` runs the phases
in order and asks a :class:`Members` object to make the members' decisions, so the order
of the step exists once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from csto_sim.core import decisions, rules
from csto_sim.core.events import StepEvents, record_events, step_events
from csto_sim.core.inputs import Inputs
from csto_sim.core.randomness import Noise
from csto_sim.core.state import State
from csto_sim.core.vocabulary import (
    ACTIVE,
    DECISION_RULES,
    DEPLOYMENT,
    FROZEN,
    MISSION,
    NO_RESPONSE,
    NON_MEMBER,
    STATEMENT,
    WITHDRAWN,
)

ALL = slice(None)
"""``who`` for every member at once."""


@dataclass(frozen=True)
class Pull:
    """What pulls each member between events: its partners' alignments and the expected answer."""

    social: np.ndarray  # (..., M, P) where partners on the relations network pull it
    expected: np.ndarray  # (..., M) its expected chance of an answer to its typical threat


class Members(Protocol):
    """Who makes the members' decisions in a step: every member at once, or each agent on its row."""

    def requests(self, t: int, ev: StepEvents, u: Noise) -> tuple[np.ndarray, np.ndarray]:
        """Which of this step's threats each member brings to the alliance ``(..., M, K)``, and
        the log chance of the requests a guided run's record gives ``(..., M)`` (see
        :func:`request_decisions`)."""

    def drift(self, t: int, pull: Pull) -> None:
        """Move each member's alignment, trust and commitment (writes the state)."""

    def reconsider(self, t: int, u: Noise) -> np.ndarray:
        """Each member's membership decision (writes the state); the log chance of the
        statuses a guided run's record allows ``(..., M)`` (see :func:`reconsider`)."""

    def vetoes(self, t: int, ev: StepEvents, requested: np.ndarray, u: Noise) -> np.ndarray:
        """Whether each member vetoes collective action on each request ``(..., M, K, M)``."""

    def answer(
        self, t: int, ev: StepEvents, requested: np.ndarray, u: Noise, vetoes: np.ndarray
    ) -> Answer:
        """The leader's answer to each request (see :func:`answer`)."""


def accede(inp: Inputs, t: int, state: State) -> None:
    """Scripted accessions of this step: non-members and former members join."""
    joins = inp.accession[t] & ((state.status == NON_MEMBER) | (state.status == WITHDRAWN))
    state.status = np.where(joins, ACTIVE, state.status)


def request_decisions(
    inp: Inputs, t: int, ev: StepEvents, state: State, u: Noise, who=ALL
) -> tuple[np.ndarray, np.ndarray]:
    """Which of this step's threats (one per kind) members ``who`` bring to the alliance, and
    the log chance of the requests the record gives ``(..., M)`` (0 unguided).

    Only active members ask, and not the leader: the alliance's answer is the leader's. In
    a guided run (``inp.known_request``) a request the record gives is drawn as recorded
    (:func:`rules.guided_draw`).
    """
    p = inp.params
    fit = decisions.effective_fit(inp.fit, ev.territorial[..., who, :], p["extraterritorial_fit"])
    against = decisions.counterpart_is_active_member(inp, ev, state.status)[..., who, :]
    prob = decisions.request_probability(
        ev.severity[..., who, :],
        state.b[..., who, None],
        fit,
        state.w[..., who, inp.leader_pole, None],
        against,
        p,
    )
    can_ask = (state.status[..., who] == ACTIVE) & (np.arange(len(inp.members))[who] != inp.leader)
    possible = can_ask[..., None] & ev.occur[..., who, :]
    draw = u.request[..., who, :]
    if inp.known_request is None:
        return possible & (draw < prob), np.zeros(possible.shape[:-1])
    draw, log_chance = rules.guided_draw(possible, prob, inp.known_request[t][who], draw)
    return possible & (draw < prob), log_chance.sum(axis=-1)


def veto_decisions(
    inp: Inputs, ev: StepEvents, state: State, requested: np.ndarray, u: Noise, who=ALL
) -> np.ndarray:
    """Whether members ``who`` veto collective action on each request this step, ``(..., M, K,
    voters)`` (``(..., M, K)`` for one member): active members other than the leader and
    the requester vote, by :func:`decisions.veto_logit`."""
    chosen = np.arange(len(inp.members))[who]
    voters = np.atleast_1d(chosen)
    cp = ev.counterpart
    if not requested.any():  # nothing to vote on (most steps)
        return np.zeros((*cp.shape, *voters.shape[: np.ndim(chosen)]), dtype=bool)
    cp_member = np.where(cp >= 0, inp.counterpart_is_member[cp], -1)
    patron = np.where(cp >= 0, inp.counterpart_patron[cp], -1)
    patron_alignment = _alignment_with(state.w[..., voters, :], patron)
    is_counterpart = cp_member[..., None] == voters
    x = decisions.veto_logit(is_counterpart, patron_alignment, inp.mediation, inp.params)
    active = state.status[..., voters] == ACTIVE
    eligible = (
        active[..., None, None, :]
        & (voters != inp.leader)
        & (np.arange(len(inp.members))[:, None, None] != voters)
        & requested[..., None]
    )
    vetoes = eligible & (u.veto[..., voters] < rules.sigmoid(x))
    return vetoes[..., 0] if np.ndim(chosen) == 0 else vetoes


def _alignment_with(w: np.ndarray, pole: np.ndarray) -> np.ndarray:
    """Each voter's alignment ``w`` ``(..., V, P)`` with the pole of each event ``pole``
    ``(..., M, K)`` (-1: none, alignment 0), as ``(..., M, K, V)``."""
    by_pole = np.swapaxes(w, -1, -2)  # (..., P, V)
    flat = np.clip(pole, 0, None).reshape(*pole.shape[:-2], -1, 1)
    taken = np.take_along_axis(by_pole, flat, axis=-2).reshape(*pole.shape, w.shape[-2])
    return np.where(pole[..., None] >= 0, taken, 0.0)


@dataclass(frozen=True)
class Answer:
    """The alliance's answers to this step's threats, each ``(..., M, K)``."""

    level: np.ndarray  # how far it went (RESPONSE_LEVELS; none without a request)
    responded: np.ndarray  # whether that answered the request (a deployment, or mediation)
    vetoes: np.ndarray  # how many members vetoed collective action
    helper: np.ndarray  # the pole that helped bilaterally an unanswered threat (-1: none)
    log_chance: np.ndarray  # (...,) log chance of the answers a guided run's record gives


def answer(
    inp: Inputs, t: int, ev: StepEvents, state: State, requested: np.ndarray, u: Noise, vetoes
) -> Answer:
    """How far the alliance answers each request (only while its leader is active), and which
    pole helps bilaterally with a threat the alliance does not answer.

    The leader decides how far it would go (:func:`decisions.response_levels`); collective
    action (a mission or more) needs the members' consent under the alliance's decision rule,
    and is cut to a statement when ``vetoes`` ``(..., M, K, voters)`` block it. A clash between
    two members under a charter with mediation gets at most a mediation mission, and that
    answers it; any other request is answered by a deployment or more. Any struck member may
    get bilateral help, whatever its status: frozen members and outsiders too. In a guided
    run (``inp.known_answer``) whether a request the record gives is answered is drawn as
    recorded (:func:`rules.guided_draw`), with the log chance of that.
    """
    leader_active = (state.status[..., inp.leader] == ACTIVE)[..., None, None]
    mediated = inp.mediation & decisions.counterpart_is_active_member(inp, ev, state.status)
    blocked = decisions.blocked(vetoes, state.status == ACTIVE, DECISION_RULES[inp.decision])
    x = decisions.deployment_logit(inp, t, ev, state.status, state.w)
    draw, log_chance = u.response, np.zeros(x.shape[:-2])
    if inp.known_answer is not None:
        enough = rules.shaped(inp.params, x.ndim)["level_mission"] * mediated  # the answer's cut
        possible = requested & leader_active & ~blocked
        chance = rules.sigmoid(x + enough)
        draw, log = rules.guided_draw(possible, chance, inp.known_answer[t], draw)
        log_chance = log.sum(axis=(-2, -1))
    level = decisions.response_levels(x, draw, inp.params)
    level = np.where(mediated, np.minimum(level, MISSION), level)
    level = np.where(blocked, np.minimum(level, STATEMENT), level)
    level = np.where(requested & leader_active, level, NO_RESPONSE)
    responded = level >= np.where(mediated, MISSION, DEPLOYMENT)
    helper = decisions.bilateral_help(inp, t, state.w, u.bilateral, offers(inp, t, state)[0])
    return Answer(
        level,
        responded,
        vetoes.sum(axis=-1),
        np.where(ev.occur & ~responded, helper, -1),
        log_chance,
    )


def learn(
    inp: Inputs,
    ev: StepEvents,
    state: State,
    requested: np.ndarray,
    responded: np.ndarray,
    helper: np.ndarray,
) -> None:
    """Commitment, trust, alignment, grievance and alternatives after the step's threats.

    Each member's answered and ignored severities feed :func:`rules.event_feedback` (felt by
    the requester, watched by every member inside the alliance) and :func:`rules.alignment_shock`.
    Bilateral help pulls the helped member toward the helping pole and, from a pole other
    than the leader's, makes its security alternatives credible. Threats the alliance left
    unanswered (and the leader did not help with) add to the grievance of members inside
    it: a refused request fully, an unasked threat by its charter fit.
    """
    p, p3 = rules.shaped(inp.params, state.c.ndim), rules.shaped(inp.params, state.d.ndim)
    answered = (ev.severity * responded).sum(axis=-1)
    ignored = (ev.severity * (requested & ~responded)).sum(axis=-1)
    watching = (state.status == ACTIVE) | (state.status == FROZEN)
    state.c, state.b = rules.event_feedback(
        state.c,
        state.b,
        answered,
        ignored,
        watching,
        p["commitment_gain_answered"],
        p["commitment_loss_ignored"],
        p["trust_learning"],
        p["observer_weight"],
    )
    w = rules.alignment_shock(
        state.w,
        answered,
        ignored,
        inp.leader_pole,
        p["alignment_shift_answered"],
        p["alignment_shift_ignored"],
    )
    by_pole = (ev.severity[..., None] * (helper[..., None] == np.arange(len(inp.poles)))).sum(-2)
    state.w = rules.move_toward(
        w,
        rules.normalise(by_pole, w),
        np.clip(p["alignment_shift_helped"] * by_pole.sum(axis=-1), 0.0, 1.0)[..., None],
    )
    from_others = by_pole.sum(axis=-1) - by_pole[..., inp.leader_pole]
    fit = decisions.effective_fit(inp.fit, ev.territorial, p["extraterritorial_fit"])
    unanswered = ev.occur & ~responded & (helper != inp.leader_pole)
    felt = (ev.severity * unanswered * np.where(requested, 1.0, fit)).sum(axis=-1)
    fade, fade3 = (rules.per_run(inp.shares.memory, n) for n in (state.g.ndim, state.d.ndim))
    state.g = rules.remember(state.g, felt * watching, p["grievance_gain"], fade)
    state.a = rules.remember(state.a, from_others, p["alternatives_gain"], fade)
    inside = state.status == ACTIVE
    state.d = rules.read_record(state.d, ev.occur, responded, inside, p3["record_step"], fade3)


def reactions(inp: Inputs, t: int, w: np.ndarray) -> np.ndarray:
    """How much each pole raises its offers to each member this step ``(..., M, P)`` (logit),
    from the members' security alignment ``w`` (:func:`rules.pole_reactions`)."""
    L = inp.leader_pole
    return rules.pole_reactions(
        inp.interest[t], inp.capacity[t], 1.0 - w[..., L], L, inp.courting, inp.params
    )


def offers(inp: Inputs, t: int, state: State, who=ALL) -> tuple[np.ndarray, np.ndarray]:
    """The poles' security and economic offers to members ``who`` this step ``(..., M, P)``:
    the scenario's, raised by the poles' reactions to the member's drift and the leader's
    free capacity."""
    lift = np.exp(reactions(inp, t, state.w)[..., who, :])
    return inp.offers[t][..., who, :] * lift, inp.economic_offers[t][..., who, :] * lift


def pressure(inp: Inputs, state: State, who=ALL) -> np.ndarray:
    """The leverage the leader holds over members ``who`` ``(..., M)``: the scenario's, raised
    for drifting members when the leader coerces (:func:`rules.coerced_leverage`)."""
    distance = 1.0 - state.w[..., who, inp.leader_pole]
    weight = rules.per_run(inp.params["coerce_weight"], np.ndim(distance))
    return rules.coerced_leverage(inp.leverage[..., who], distance, inp.coercing, weight)


def pulls(inp: Inputs, t: int, state: State) -> Pull:
    """What pulls every member this step, computed from the state before anyone drifts."""
    return Pull(
        social=rules.social_target(state.w, inp.influence),
        expected=decisions.expected_chance(inp, t, state.status, state.w),
    )


def drift(inp: Inputs, t: int, state: State, pull: Pull, who=ALL) -> None:
    """Members ``who`` between events: security alignment pulled by the poles' security
    offers (:func:`offers`: the poles' reactions included) times strength and by partners,
    economic alignment by the poles' economic offers times economic strength; trust and
    commitment settle toward the expected answer and the commitment anchor (security
    alignment with the leader, and trust); a member the leader coerces grows aggrieved."""
    sh, L = inp.shares, inp.leader_pole
    security, economic = offers(inp, t, state, who)
    coerced = inp.coercing * (np.arange(len(inp.members))[who] != inp.leader)
    distance = 1.0 - state.w[..., who, L]
    n = np.ndim(distance)  # the members' axes: (..., M), or () for one agent's row
    pole_pull = rules.per_run(sh.pole_pull, n + 1)
    w = state.w[..., who, :]
    w = rules.move_toward(w, rules.pole_target(inp.strength[t], security, w), pole_pull)
    w = rules.move_toward(w, pull.social[..., who, :], sh.network[..., who, None])
    e = state.e[..., who, :]
    e = rules.move_toward(e, rules.pole_target(inp.economic_strength[t], economic, e), pole_pull)
    b = rules.move_toward(state.b[..., who], pull.expected[..., who], rules.per_run(sh.trust, n))
    p = rules.shaped(inp.params, n)
    anchor = rules.commitment_anchor(w[..., L], b, p["commitment_alignment_weight"])
    c = rules.move_toward(state.c[..., who], anchor, rules.per_run(sh.commitment, n))
    resentment = p["coerce_resentment"] * inp.dt
    g = rules.remember(state.g[..., who], distance * coerced, resentment, 1.0)
    state.w[..., who, :], state.e[..., who, :] = w, e
    state.b[..., who], state.c[..., who], state.g[..., who] = b, c, g


def reconsider(inp: Inputs, t: int, state: State, u: Noise, who=ALL) -> np.ndarray:
    """Members ``who`` choose to stay, freeze, withdraw or return (:func:`rules.membership_choice`)
    by what membership is worth to them (commitment, economic dependence on the leader's
    pole, grievance, the security alternatives other poles have given or offer) and what
    leaving costs; the leader never does.

    In a guided run (a history conditioned on its record, ``inp.known``) each member's
    choice is drawn among the statuses the record allows (:func:`rules.guided_choice`).
    Returns the log chance of the statuses the record allows ``(..., M)`` (0 unguided)."""
    w = state.w[..., who, :]
    p = rules.shaped(inp.params, np.ndim(w) - 1)
    target = rules.pole_target(inp.strength[t], offers(inp, t, state, who)[0], w)
    value = rules.alliance_value(
        state.c[..., who],
        state.g[..., who],
        rules.credible_alternatives(state.a[..., who], target, inp.leader_pole),
        state.e[..., who, inp.leader_pole],
        p["freeze_threshold"],
        p["membership_commitment"],
        p["membership_grievance"],
        p["membership_alternatives"],
        p["membership_economic"],
    )
    strength = rules.per_run(inp.leader_strength[t], np.ndim(w) - 1)
    cost = rules.exit_cost(pressure(inp, state, who), strength, p["exit_cost_weight"])
    status = state.status[..., who]
    utilities = rules.membership_utilities(value, cost)
    share, bias, draw = inp.shares.decision, p["status_quo_bias"], u.membership[..., who]
    is_leader = np.arange(len(inp.members))[who] == inp.leader
    if inp.known is None:
        chosen = rules.membership_choice(status, utilities, draw, share, bias)
        state.status[..., who] = np.where(is_leader, status, chosen)
        return np.zeros(status.shape)
    chances = rules.membership_probabilities(status, utilities, share, bias)
    chosen, log_chance = rules.guided_choice(status, chances, inp.known[t][who], draw)
    state.status[..., who] = np.where(is_leader, status, chosen)
    return np.where(is_leader, 0.0, log_chance)


class AllMembers:
    """Every member (of every replica) decides at once, on whole arrays: the batched engine."""

    def __init__(self, inp: Inputs, state: State):
        self.inp, self.state = inp, state

    def requests(self, t: int, ev: StepEvents, u: Noise) -> tuple[np.ndarray, np.ndarray]:
        return request_decisions(self.inp, t, ev, self.state, u)

    def drift(self, t: int, pull: Pull) -> None:
        drift(self.inp, t, self.state, pull)

    def reconsider(self, t: int, u: Noise) -> np.ndarray:
        return reconsider(self.inp, t, self.state, u)

    def vetoes(self, t: int, ev: StepEvents, requested: np.ndarray, u: Noise) -> np.ndarray:
        return veto_decisions(self.inp, ev, self.state, requested, u)

    def answer(
        self, t: int, ev: StepEvents, requested: np.ndarray, u: Noise, vetoes: np.ndarray
    ) -> Answer:
        return answer(self.inp, t, ev, self.state, requested, u, vetoes)


def advance(
    inp: Inputs,
    t: int,
    state: State,
    u: Noise,
    members: Members,
    record: dict[str, list[np.ndarray]],
    log_weight: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Advance ``state`` by step ``t`` (``u``: the step's draws); appends the step's events to
    ``record`` and returns the requests and answers ``(..., M, K)``. In a guided run the log
    chance of the recorded requests, answers and statuses is added to ``log_weight`` (one per
    replica)."""
    accede(inp, t, state)
    ev = step_events(inp, u, t, state.d)
    requested, asked_log = members.requests(t, ev, u)
    vetoes = members.vetoes(t, ev, requested, u)
    ans = members.answer(t, ev, requested, u, vetoes)
    responded = ans.responded
    record_events(record, t, ev, requested, ans)
    learn(inp, ev, state, requested, responded, ans.helper)
    pull = pulls(inp, t, state)
    members.drift(t, pull)
    log_chance = members.reconsider(t, u)
    if log_weight is not None:
        log_weight += log_chance.sum(axis=-1) + asked_log.sum(axis=-1) + ans.log_chance
    return requested, responded
