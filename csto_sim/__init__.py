"""csto-sim: an agent-based model of alliance cohesion in the Collective Security Treaty Organization.

The package is layered (see ``docs/ARCHITECTURE.md``): ``core`` (the model without Mesa),
``abm`` (the Mesa model and agents), ``experiments`` (ensembles, executors, the results
store and reader, the evaluation API), ``analysis`` (reports, sensitivity, discovery),
``hindcast`` (the 2002-2024 case), ``viz`` (figures and the dashboard) and ``cli``.
"""

__version__ = "0.1.0"

from csto_sim.abm.agents import MemberState  # noqa: E402
from csto_sim.abm.model import CSTOModel, relations_graph  # noqa: E402
from csto_sim.analysis.report import compare  # noqa: E402
from csto_sim.core.parameters import Parameters, parameter_table  # noqa: E402
from csto_sim.core.scenario import DRIVERS, Scenario, ScenarioError, load_scenario  # noqa: E402
from csto_sim.core.vocabulary import STATUSES, THREAT_KINDS, Status  # noqa: E402
from csto_sim.experiments.ensemble import run_ensemble  # noqa: E402
from csto_sim.experiments.evaluate import evaluate, factors, mean_outcomes  # noqa: E402

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
