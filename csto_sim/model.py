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
        self.history = outcomes.History.empty(self.inputs.n_steps, self.w.shape)
        self.history.record(0, self.w, self.c, self.b, self.status)
        self.events = outcomes.empty_events()
        self.requests = self.responses = 0
        self.datacollector = None
        if collect:
            reporters = {
                f"w_{p.lower()}": _weight_reporter(j) for j, p in enumerate(self.inputs.poles)
            }
            self.datacollector = mesa.DataCollector(
                model_reporters={
                    "year": "year",
                    "cohesion": "cohesion",
                    "n_active": lambda m: int((m.status == dynamics.ACTIVE).sum()),
                    "requests": "requests",
                    "responses": "responses",
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
        responded = (
            requested
            & (self.noise.response[t] < alliance.response_chance(inp, t, ev, self.status, self.w))
            & (self.status[inp.leader] == dynamics.ACTIVE)
        )
        helped = (
            ev.occur
            & ~responded
            & (self.noise.bilateral[t] < alliance.bilateral_chance(inp, t, self.w)[:, None])
        )
        self._record(ev, requested, responded, helped)

        self.c, self.b, self.w = dynamics.after_requests(
            self.c,
            self.b,
            self.w,
            self.status,
            ev.severity,
            requested,
            responded,
            inp.leader_pole,
            p,
        )

        social, tie_strength = dynamics.social_target(self.w, inp.influence)
        expected = alliance.expected_chance(inp, t, self.status, self.w)
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

    def _record(self, ev, requested, responded, helped) -> None:
        """Append this step's threat events to the event record."""
        i, k = np.nonzero(ev.occur)
        self.requests += int(requested.sum())
        self.responses += int(responded.sum())
        for name, values in (
            ("run", np.zeros(i.size, dtype=int)),
            ("step", np.full(i.size, self.t)),
            ("member", i),
            ("kind", k),
            ("severity", ev.severity[i, k]),
            ("counterpart", ev.counterpart[i, k]),
            ("requested", requested[i, k]),
            ("responded", responded[i, k]),
            ("helped", helped[i, k]),
            ("label", ev.label[i, k]),
        ):
            self.events[name].append(values)

    @property
    def event_log(self) -> list[dict[str, Any]]:
        """The threat events so far, one dict each (year, label, kind, member, counterpart, ...)."""
        ev = outcomes.concat_events(self.events)
        inp = self.inputs
        return [
            {
                "year": float(inp.years[int(ev["step"][n])]),
                "label": ev["label"][n],
                "kind": THREAT_KINDS[int(ev["kind"][n])],
                "member": inp.members[int(ev["member"][n])],
                "counterpart": inp.counterparts[int(ev["counterpart"][n])]
                if ev["counterpart"][n] >= 0
                else "",
                "severity": float(ev["severity"][n]),
                "requested": bool(ev["requested"][n]),
                "responded": bool(ev["responded"][n]),
                "helped": bool(ev["helped"][n]),
            }
            for n in range(len(ev["step"]))
        ]

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
