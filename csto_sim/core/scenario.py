"""Scenario files: the public names of the schema, its cross-checks and loading.

Import scenarios from here. The parts live apart: the pydantic models in
:mod:`csto_sim.core.schema`, checks of one section against another in
:mod:`csto_sim.core.crosschecks`, reading files (``extends``, ``@`` judgements, paths) in
:mod:`csto_sim.core.loading`, and :class:`ScenarioError` with how its one line reads in
:mod:`csto_sim.core.errors`.
"""

from csto_sim.core.crosschecks import MAX_STEPS, STATE_FIELDS, Problems
from csto_sim.core.errors import MAX_KEY, MAX_MESSAGE, NAMED_TABLES, NEW_MEMBER_STATE, ScenarioError
from csto_sim.core.loading import (
    ATOMIC_TABLES,
    MAX_EXTENDS,
    MAX_FILE_BYTES,
    POSTERIOR_NAMES,
    load_scenario,
    scenario_from_data,
    structural_ties,
)
from csto_sim.core.schema import (
    DRIVERS,
    MAX_NAME,
    MAX_STRENGTH,
    NAME,
    Actor,
    Alliance,
    Event,
    Logit,
    Member,
    Pair,
    Pole,
    Recorded,
    RecordedRequest,
    Scenario,
    Series,
    StatusName,
    Tie,
    TimeSpan,
    Unit,
    decimal_year,
)

__all__ = [
    "ATOMIC_TABLES",
    "DRIVERS",
    "MAX_EXTENDS",
    "MAX_FILE_BYTES",
    "MAX_KEY",
    "MAX_MESSAGE",
    "MAX_NAME",
    "MAX_STEPS",
    "MAX_STRENGTH",
    "NAME",
    "NAMED_TABLES",
    "NEW_MEMBER_STATE",
    "POSTERIOR_NAMES",
    "STATE_FIELDS",
    "Actor",
    "Alliance",
    "Event",
    "Logit",
    "Member",
    "Pair",
    "Pole",
    "Problems",
    "Recorded",
    "RecordedRequest",
    "Scenario",
    "ScenarioError",
    "Series",
    "StatusName",
    "Tie",
    "TimeSpan",
    "Unit",
    "decimal_year",
    "load_scenario",
    "scenario_from_data",
    "structural_ties",
]
