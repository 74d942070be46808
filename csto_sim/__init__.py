"""csto-sim: an agent-based model of alliance cohesion in the Collective Security Treaty Organization."""

from .agents import MemberState
from .ensemble import compare, run_ensemble
from .model import CSTOModel, relations_graph
from .parameters import THREAT_KINDS, Parameters, parameter_table
from .scenario import STATUSES, Scenario, ScenarioError, load_scenario

__version__ = "0.1.0"

__all__ = [
    "CSTOModel",
    "MemberState",
    "Parameters",
    "STATUSES",
    "Scenario",
    "ScenarioError",
    "THREAT_KINDS",
    "compare",
    "load_scenario",
    "parameter_table",
    "relations_graph",
    "run_ensemble",
]
