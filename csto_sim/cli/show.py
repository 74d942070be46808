"""``csto-sim show``: print a scenario as it resolves (extends merged, defaults filled) as TOML."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

import tomli_w

from csto_sim import __version__
from csto_sim.cli.common import EXIT_OK, scenario_file
from csto_sim.core.scenario import Scenario, load_scenario

DIGITS = 15
"""Significant digits a number is printed with: every number a file can hold in 15 digits
prints as written (0.56, not the 0.5599999999999999 a computation may leave)."""


def add_parser(sub) -> None:
    p = sub.add_parser(
        "show",
        help="print a scenario as it resolves: extends merged, every default filled (TOML)",
        description="Print SCENARIO as the model reads it, as TOML: its extends chain merged, "
        "every key with its value or default (the behavioural parameters it does not set as "
        "comments, so that they stay drawn from a posterior), judgements "
        'kept as their "@ID" references, history and posterior as absolute paths. Saved to a '
        "file (csto-sim show SCENARIO > FILE.toml), it checks and runs like SCENARIO (same "
        "content digest, same results).",
    )
    scenario_file(p)


def run(args: argparse.Namespace, argv: list[str]) -> int:
    print(scenario_toml(load_scenario(args.scenario)), end="")
    return EXIT_OK


def scenario_toml(scenario: Scenario) -> str:
    """The resolved scenario as TOML text that loads to the same content (:meth:`Scenario.digest`)."""
    header = (
        f"# {scenario.source} resolved by csto-sim {__version__} (csto-sim show): its extends\n"
        "# chain merged and every default filled in (the behavioural parameters it does not\n"
        '# set as comments at the end). "@ID" values are judgements of\n'
        "# csto_sim/data/judgements.csv.\n\n"
    )
    return header + _toml(scenario_data(scenario)) + _defaults(scenario)


def _toml(data: dict[str, Any]) -> str:
    return PAIR.sub(r"[\1, \2]", tomli_w.dumps(data))


def _defaults(scenario: Scenario) -> str:
    """The behavioural parameters the scenario does not set, as comments: set, even at its
    default, a parameter is fixed in every run, while a posterior draws one left unset."""
    given = scenario.parameters.model_fields_set
    unset = {k: v for k, v in scenario.parameters.model_dump().items() if k not in given}
    if not unset:
        return ""
    lines = _toml({"parameters": _clean(unset)}).splitlines()
    return (
        "\n# The behavioural parameters it leaves at their defaults. A posterior the scenario\n"
        "# names draws those it holds in each run; one set under [parameters], even at its\n"
        "# default, is fixed in every run.\n" + "".join(f"# {line}\n" for line in lines)
    )


PAIR = re.compile(r"\[\n\s+([^\s,\[\]]+),\n\s+([^\s,\[\]]+),\n\s+\]")
"""A [year, value] pair as tomli_w lays it out, over four lines (joined onto one)."""


def scenario_data(scenario: Scenario) -> dict[str, Any]:
    """The scenario as TOML-ready data: judgements as their references, the history as its
    file, unset and empty values left out, numbers to :data:`DIGITS` significant digits."""
    data = scenario.model_dump(mode="python", exclude={"source", "history", "guided"})
    data["parameters"] = scenario.parameters.model_dump(mode="python", exclude_unset=True)
    for id_, paths in scenario.judged.items():
        for path in paths:
            _set_at(data, path, f"@{id_}")
    if scenario.history is not None:
        data["history"] = str(Path(scenario.history.source).resolve())
    return _clean(data)


def _set_at(data: Any, path: list, value: Any) -> None:
    for key in path[:-1]:
        data = data[key]
    data[path[-1]] = value


def _clean(value: Any) -> Any:
    """``value`` without None and empty entries, floats rounded to :data:`DIGITS` digits."""
    if isinstance(value, dict):
        cleaned = {k: _clean(v) for k, v in value.items()}
        return {k: v for k, v in cleaned.items() if v not in (None, "", [], {})}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, float):
        return float(f"{value:.{DIGITS}g}")
    return value
