"""``CSTOModel``: the Mesa model that wires members, relations, drivers and events into steps.

One step (a quarter of a year by default): scripted accessions; threat events strike;
struck members decide whether to ask; the alliance decides whether to answer; every member
learns from what it saw; alignment, trust and commitment drift; members reconsider their
membership; the state is recorded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mesa
import networkx as nx
import numpy as np

from . import alliance, dynamics, outcomes
from .agents import MemberState
from .events import Inputs, Noise, compile_inputs, draw_noise, run_seed, step_events
from .parameters import THREAT_KINDS
from .scenario import STATUSES, Scenario, load_scenario

_INPUTS: dict[int, tuple[Scenario, Inputs]] = {}


def inputs_for(scenario: Scenario) -> Inputs:
    """The compiled inputs of a scenario, cached while the same scenario object is in use."""
    hit = _INPUTS.get(id(scenario))
    if hit is not None and hit[0] is scenario:
        return hit[1]
    if len(_INPUTS) > 16:
        _INPUTS.clear()
    compiled = compile_inputs(scenario)
    _INPUTS[id(scenario)] = (scenario, compiled)
    return compiled


def relations_graph(scenario: Scenario) -> nx.Graph:
    """The signed, weighted relations network between members (networkx)."""
    g = nx.Graph()
    g.add_nodes_from(scenario.member_names)
    for a, row in scenario.relations.items():
        for b, w in row.items():
            g.add_edge(a, b, weight=w, sign=1 if w >= 0 else -1)
    return g


class CSTOModel(mesa.Model):
    """The alliance-cohesion model of one scenario run.

    Args:
        scenario: a :class:`Scenario` or the path of a scenario file.
        run: the run index; with the scenario's seed it determines the run's seed.
        rng: an integer seed that replaces the derived run seed (Mesa convention).
        collect: keep a Mesa ``DataCollector`` (needed by ``mesa.batch_run``).
        **parameters: behavioural parameters overriding the scenario's (for sweeps).
    """

    def __init__(
        self,
        scenario: Scenario | str | Path,
        run: int = 0,
        rng: Any = None,
        collect: bool = True,
        **parameters: Any,
    ):
        spec = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        if parameters:
            spec = spec.with_parameters(**parameters)
        if rng is None:
            seed = run_seed(spec.seed, run)
        elif isinstance(rng, int | np.integer):
            seed = int(rng)
        else:
            seed = int(np.random.default_rng(rng).integers(2**32))
        super().__init__(rng=seed)
        self.spec = spec
        self.run = run
        self.seed = seed
        self.inputs: Inputs = inputs_for(spec)
        self.noise: Noise = draw_noise(self.inputs, seed)
        self.params = self.inputs.params
        self.relations = relations_graph(spec)
        self.t = 0
        self.w = self.inputs.w0.copy()
        self.c = self.inputs.c0.copy()
        self.b = self.inputs.b0.copy()
        self.status = self.inputs.status0.copy()
        for i, name in enumerate(self.inputs.members):
            MemberState(self, i, name)
        self.members: list[MemberState] = sorted(self.agents, key=lambda a: a.index)
        T = self.inputs.n_steps
        self.history = outcomes.History.empty(T, self.w.shape)
        self.history.record(0, self.w, self.c, self.b, self.status)
        self.event_log: list[dict[str, Any]] = []
        self.datacollector = None
        if collect:
            reporters = {
                f"w_{p.lower()}": _weight_reporter(j) for j, p in enumerate(self.inputs.poles)
            }
            self.datacollector = mesa.DataCollector(
                model_reporters={
                    "year": lambda m: float(m.inputs.years[m.t]),
                    "cohesion": lambda m: float(m.cohesion),
                    "n_active": lambda m: int((m.status == dynamics.ACTIVE).sum()),
                    "requests": lambda m: sum(e["requested"] for e in m.event_log),
                    "responses": lambda m: sum(e["responded"] for e in m.event_log),
                },
                agent_reporters={"member": "name", "status": "status", "commitment": "commitment"}
                | reporters,
            )
            self.datacollector.collect(self)

    @property
    def year(self) -> float:
        """The current decimal year."""
        return float(self.inputs.years[self.t])

    @property
    def cohesion(self) -> float:
        """Cohesion of the alliance now (see :func:`outcomes.cohesion`)."""
        inp = self.inputs
        return float(outcomes.cohesion(self.w, self.status, inp.leader, inp.leader_pole))

    def step(self) -> None:
        """Advance the model by one step."""
        if self.t >= self.inputs.n_steps:
            self.running = False
            return
        inp, p, t = self.inputs, self.params, self.t
        joins = inp.accession[t] & (
            (self.status == dynamics.NON_MEMBER) | (self.status == dynamics.WITHDRAWN)
        )
        self.status[joins] = dynamics.ACTIVE

        ev = step_events(inp, self.noise, t)
        requested = np.stack([a.decide_requests(ev) for a in self.members])
        responded = requested & self._respond(ev) & (self.status[inp.leader] == dynamics.ACTIVE)
        helped = ev.occur & ~responded & (self.noise.bilateral[t] < self._bilateral()[:, None])
        self._log(ev, requested, responded, helped)

        answered = (ev.severity * responded).sum(axis=-1)
        ignored = (ev.severity * (requested & ~responded)).sum(axis=-1)
        watching = (self.status == dynamics.ACTIVE) | (self.status == dynamics.FROZEN)
        self.c, self.b = dynamics.event_feedback(
            self.c,
            self.b,
            answered,
            ignored,
            watching,
            p["commitment_gain_answered"],
            p["commitment_loss_ignored"],
            p["trust_learning"],
            p["observer_weight"],
        )
        self.w = dynamics.alignment_shock(
            self.w,
            answered,
            ignored,
            inp.leader_pole,
            p["alignment_shift_answered"],
            p["alignment_shift_ignored"],
        )

        social, tie_strength = dynamics.social_target(self.w, inp.influence)
        expected = self.expected_response()
        for a in self.members:
            a.drift(social[a.index], tie_strength[a.index], expected[a.index])
        for a in self.members:
            a.reconsider_membership()

        self.t += 1
        self.history.record(self.t, self.w, self.c, self.b, self.status)
        if self.datacollector is not None:
            self.datacollector.collect(self)
        if self.t >= inp.n_steps:
            self.running = False

    def _respond(self, ev) -> np.ndarray:
        """Whether the alliance would answer each (member, kind) request this step."""
        inp, p, t = self.inputs, self.params, self.t
        cp = ev.counterpart
        has_cp = cp >= 0
        cp_member = np.where(has_cp, inp.counterpart_is_member[cp], -1)
        both_members = (cp_member >= 0) & (
            self.status[np.clip(cp_member, 0, None)] == dynamics.ACTIVE
        )
        affinity = np.where(has_cp, inp.affinity[cp], 0.0)
        fit = alliance.effective_fit(inp.fit, ev.territorial, p["extraterritorial_fit"])
        funded = alliance.funded_budget(inp.budget_share, self.status == dynamics.ACTIVE)
        prob = alliance.response_probability(
            ev.severity,
            fit,
            inp.internal,
            both_members.astype(float),
            affinity,
            inp.capacity[t],
            self.w[:, inp.leader_pole, None],
            inp.stake[:, None],
            funded,
            p,
        )
        return self.noise.response[t] < prob

    def expected_response(self) -> np.ndarray:
        """Each member's expected chance of an answer to its typical threat (trust drifts toward it)."""
        inp, t = self.inputs, self.t
        return alliance.expected_response(
            inp.kind_weights,
            inp.fit,
            inp.internal,
            inp.option_member_share,
            inp.option_affinity,
            inp.capacity[t],
            self.w[:, inp.leader_pole],
            inp.stake,
            alliance.funded_budget(inp.budget_share, self.status == dynamics.ACTIVE),
            inp.severity_mean,
            self.params,
        )

    def _bilateral(self) -> np.ndarray:
        """Each member's chance this step of direct help from a pole."""
        inp, t = self.inputs, self.t
        return alliance.bilateral_probability(
            self.w, inp.offers[t], inp.strength[t], self.params["bilateral_help"]
        )

    def _log(self, ev, requested, responded, helped) -> None:
        year = float(self.inputs.years[self.t])
        for i, k in zip(*np.nonzero(ev.occur), strict=True):
            cp = ev.counterpart[i, k]
            self.event_log.append(
                {
                    "year": year,
                    "label": ev.label[i, k],
                    "kind": THREAT_KINDS[k],
                    "member": self.inputs.members[i],
                    "counterpart": self.inputs.counterparts[cp] if cp >= 0 else "",
                    "severity": float(ev.severity[i, k]),
                    "requested": bool(requested[i, k]),
                    "responded": bool(responded[i, k]),
                    "helped": bool(helped[i, k]),
                }
            )

    def run_model(self) -> None:
        """Run to the scenario's end."""
        while self.running:
            self.step()

    def member_table(self) -> list[dict[str, Any]]:
        """Each member's current state, for display."""
        return [
            {
                "member": a.name,
                "status": a.status,
                "commitment": a.commitment,
                "trust": a.trust,
                **{
                    f"w_{p.lower()}": float(a.alignment[j]) for j, p in enumerate(self.inputs.poles)
                },
            }
            for a in self.members
        ]


def _weight_reporter(j: int):
    return lambda agent: float(agent.alignment[j])


__all__ = ["CSTOModel", "STATUSES", "relations_graph"]
