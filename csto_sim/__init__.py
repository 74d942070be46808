"""csto-sim: an agent-based model of alliance cohesion in the Collective Security Treaty Organization.

The package is layered (see ``docs/ARCHITECTURE.md``): ``core`` (the model without Mesa),
``abm`` (the Mesa model and agents), ``experiments`` (ensembles, executors, the results
store and reader, the evaluation API), ``analysis`` (reports, sensitivity, discovery),
``hindcast`` (the 2002-2024 case), ``viz`` (figures and the dashboard) and ``cli``.
"""

__version__ = "0.1.0"

# Names are imported on first use (PEP 562), so that ``import csto_sim`` and the
# worker processes of an ensemble do not pay for Mesa, pandas or matplotlib they never use.
from csto_sim._exports import lazy  # noqa: E402

__all__, __getattr__, __dir__ = lazy(
    __name__,
    {
        "abm.agents": ["MemberState"],
        "abm.model": ["CSTOModel", "relations_graph"],
        "analysis.report": ["compare"],
        "core.parameters": ["Parameters", "parameter_table"],
        "core.scenario": ["DRIVERS", "Scenario", "ScenarioError", "load_scenario"],
        "core.vocabulary": ["STATUSES", "THREAT_KINDS", "Status"],
        "experiments.ensemble": ["run_ensemble"],
        "experiments.evaluate": ["evaluate", "factors", "mean_outcomes"],
    },
)
