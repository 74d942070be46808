"""``CSTOModel``: the Mesa model of one scenario run.

It holds the compiled inputs, the run's random draws and the members' state arrays, and
creates one :class:`~csto_sim.abm.agents.MemberState` agent per member. Its ``step()`` is
:func:`csto_sim.core.step.advance` with the agents making the members' decisions on their
own rows; the state is recorded after every step.
"""

from __future__ import annotations

from operator import attrgetter
from pathlib import Path
from typing import Any

import mesa
import networkx as nx
import numpy as np

from csto_sim.abm.agents import EachAgent, MemberState
from csto_sim.core import metrics
from csto_sim.core.events import concat_events, empty_events
from csto_sim.core.files import SEED_MAX, ArgumentError, short, true_or_false, whole_number
from csto_sim.core.inputs import Inputs, continued_state, history_scenario, inputs_for
from csto_sim.core.randomness import Noise, draw_noise, run_seed
from csto_sim.core.scenario import Scenario, load_scenario
from csto_sim.core.state import State, Trajectory
from csto_sim.core.step import advance
from csto_sim.core.vocabulary import ACTIVE, RESPONSE_LEVELS, STATUSES, THREAT_KINDS
from csto_sim.inference import conditioning
from csto_sim.inference.posterior import NONE, choose_posterior


def relations_graph(scenario: Scenario) -> nx.Graph:
    """The signed, weighted relations network between members (networkx)."""
    if not isinstance(scenario, Scenario):
        got = short(repr(scenario), 40)
        raise ArgumentError(f"scenario: expected a Scenario (load_scenario(FILE)), got {got}")
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
        rng: an integer seed (0 to 2**63 - 1) or a numpy generator that replaces the derived
            run seed (Mesa convention); a history the scenario continues is run with its own
            seed for run ``run``.
        collect: keep a Mesa ``DataCollector`` (needed by ``mesa.batch_run``).
        posterior: where the run's parameters come from, as for ``csto-sim run``: None (the
            posterior the scenario names, the bundled ones ``production``: run ``run`` takes
            the sample of its draw, exactly as run ``run`` of an ensemble with the
            scenario's seed does), ``"none"`` (the scenario's own parameters), a name or a
            file of posterior samples, or a :class:`~csto_sim.inference.posterior.Posterior`.
        history_run: the run whose (guided) history this run continues; by default run
            ``run``'s, or, for a projection conditioned on its history's record, the
            particle the filter gives run ``run`` (with that particle's parameter draw), as
            in an ensemble (:mod:`csto_sim.inference.conditioning`).
        **parameters: behavioural parameters overriding the scenario's (for sweeps); over a
            posterior they stay fixed and the posterior's other parameters are drawn.
    """

    def __init__(
        self,
        scenario: Scenario | str | Path,
        run: int = 0,
        rng: Any = None,
        collect: bool = True,
        posterior: Any = None,
        history_run: int | None = None,
        **parameters: Any,
    ):
        spec = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        run = whole_number("run", run, 0, SEED_MAX)
        collect = true_or_false("collect", collect)
        if history_run is not None:
            history_run = whole_number("history_run", history_run, 0, SEED_MAX)
        if parameters:
            spec = spec.with_parameters(**parameters)
        drawn = choose_posterior([spec], posterior)
        if history_run is None:
            history_run = conditioning.sources(spec, drawn, spec.seed, [run])[0]
        if drawn is not None:
            spec = drawn.for_run(spec, history_run)
        if rng is None:
            seed = run_seed(spec.seed, run)
        elif isinstance(rng, np.random.Generator | np.random.BitGenerator | np.random.SeedSequence):
            seed = int(np.random.default_rng(rng).integers(2**32))
        else:
            seed = whole_number("rng", rng, 0, SEED_MAX)
        super().__init__(rng=seed)
        self.spec = spec
        self.run = run
        self.seed = seed
        self.inputs: Inputs = inputs_for(spec)
        self.noise: Noise = draw_noise(self.inputs.noise_shape, seed)
        self.params = self.inputs.params
        self.relations = relations_graph(spec)
        self.t = 0
        inp = self.inputs
        self.history: CSTOModel | None = None
        start = inp.initial
        if inp.history is not None:  # first live through the history, then carry on from it
            past = history_scenario(spec)
            self.history = CSTOModel(past, run=history_run, collect=False, posterior=NONE)
            self.history.run_model()
            start = continued_state(inp.history, self.history.state, inp)
        self.state = State.initial(start)
        for i, name in enumerate(inp.members):
            MemberState(self, i, name)
        self.members: list[MemberState] = sorted(self.agents, key=lambda a: a.index)
        self.trajectory = Trajectory.empty(inp.n_steps, inp.initial)
        self.trajectory.record(0, self.state)
        self.events = empty_events()
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
                    "n_active": lambda m: int((m.state.status == ACTIVE).sum()),
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
        """Cohesion of the alliance now (see :func:`csto_sim.core.metrics.cohesion`)."""
        inp, st = self.inputs, self.state
        return float(metrics.cohesion(st.w, st.status, inp.leader, inp.leader_pole))

    # the state's arrays (not copies), by the letters of csto_sim.core.state.State
    w = property(attrgetter("state.w"), doc="Security alignment weights ``(members, poles)``.")
    e = property(attrgetter("state.e"), doc="Economic alignment weights ``(members, poles)``.")
    c = property(attrgetter("state.c"), doc="Commitment ``(members,)``.")
    b = property(attrgetter("state.b"), doc="Trust ``(members,)``.")
    g = property(attrgetter("state.g"), doc="Grievance ``(members,)``.")
    a = property(attrgetter("state.a"), doc="Credibility of security alternatives ``(members,)``.")
    status = property(
        attrgetter("state.status"), doc="Status codes ``(members,)`` (``vocabulary.Status``)."
    )

    def step(self) -> None:
        """Advance the model by one step; the agents make the members' decisions."""
        if self.t >= self.inputs.n_steps:
            self.running = False
            return
        requested, responded = advance(
            self.inputs,
            self.t,
            self.state,
            self.noise.at(self.t),
            EachAgent(self.members),
            self.events,
        )
        self.requests += int(requested.sum())
        self.responses += int(responded.sum())
        self.t += 1
        self.trajectory.record(self.t, self.state)
        if self.datacollector is not None:
            self.datacollector.collect(self)
        if self.t >= self.inputs.n_steps:
            self.running = False

    @property
    def event_log(self) -> list[dict[str, Any]]:
        """The threat events so far, one dict each (year, label, kind, member, counterpart, ...)."""
        ev = concat_events(self.events)
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
                "level": RESPONSE_LEVELS[int(ev["level"][n])],
                "vetoes": int(ev["vetoes"][n]),
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
                "grievance": a.grievance,
                "alternatives": a.alternatives,
                **{
                    f"w_{p.lower()}": float(a.alignment[j]) for j, p in enumerate(self.inputs.poles)
                },
                **{
                    f"econ_{p.lower()}": float(a.economic[j])
                    for j, p in enumerate(self.inputs.poles)
                },
            }
            for a in self.members
        ]


def _weight_reporter(j: int):
    return lambda agent: float(agent.alignment[j])


__all__ = ["CSTOModel", "STATUSES", "relations_graph"]
