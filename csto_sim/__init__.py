"""csto-sim: an agent-based model of alliance cohesion in the Collective Security Treaty Organization.

The package is layered (see ``docs/ARCHITECTURE.md``): ``core`` (the model without Mesa),
``abm`` (the Mesa model and agents), ``experiments`` (ensembles, executors, the results
store and reader, the evaluation API), ``analysis`` (reports, sensitivity, discovery),
``hindcast`` (the 2002-2024 case), ``viz`` (figures and the dashboard) and ``cli``.
"""

__version__ = "0.1.0"

# Names are imported on first use (PEP 562), so that ``import csto_sim`` and the
# worker processes of an ensemble do not pay for Mesa, pandas or matplotlib they never use.
_HOMES = {
    "MemberState": "csto_sim.abm.agents",
    "CSTOModel": "csto_sim.abm.model",
    "relations_graph": "csto_sim.abm.model",
    "compare": "csto_sim.analysis.report",
    "Parameters": "csto_sim.core.parameters",
    "parameter_table": "csto_sim.core.parameters",
    "DRIVERS": "csto_sim.core.scenario",
    "Scenario": "csto_sim.core.scenario",
    "ScenarioError": "csto_sim.core.scenario",
    "load_scenario": "csto_sim.core.scenario",
    "STATUSES": "csto_sim.core.vocabulary",
    "THREAT_KINDS": "csto_sim.core.vocabulary",
    "Status": "csto_sim.core.vocabulary",
    "run_ensemble": "csto_sim.experiments.ensemble",
    "evaluate": "csto_sim.experiments.evaluate",
    "factors": "csto_sim.experiments.evaluate",
    "mean_outcomes": "csto_sim.experiments.evaluate",
}


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module 'csto_sim' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(_HOMES[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])


__all__ = [
    "CSTOModel",
    "DRIVERS",
    "MemberState",
    "Parameters",
    "STATUSES",
    "Scenario",
    "ScenarioError",
    "Status",
    "THREAT_KINDS",
    "compare",
    "evaluate",
    "factors",
    "load_scenario",
    "mean_outcomes",
    "parameter_table",
    "relations_graph",
    "run_ensemble",
]
