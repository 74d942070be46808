"""Fuzzing the judgement registry: a mutated copy of ``csto_sim/data/judgements.csv`` either
loads, and then every judgement is finite, within its range, of a known prior and basis and
with an id of the one form, or is refused with one ``JudgementError`` line naming the file;
never another exception. The quick suite tries a few cases; the long run (``slow``)
:data:`~csv_fuzz.LONG_EXAMPLES`::

    python -m pytest tests/core/test_registry_fuzz.py -m slow -q
"""

from __future__ import annotations

import math

import pytest
from csv_fuzz import LONG_EXAMPLES, QUICK_EXAMPLES, mutated_csv, read_rows
from hypothesis import HealthCheck, event, given, settings

from csto_sim.core import judgements
from csto_sim.core.files import MAX_LINE

ROWS = read_rows(judgements.registry_path().read_text(encoding="utf-8"))
"""The registry's header and rows."""

NAMES = [*judgements.COLUMNS, "", "ID", " id", "note", "value ", "x" * 300]
"""Header names to try besides the file's own."""


def check(data: bytes, directory) -> str:
    """Load a registry file of ``data``: refused in one line naming it, or loaded with every
    row within the rules. What happened, as a word."""
    path = directory / "judgements.csv"
    path.write_bytes(data)
    try:
        table = judgements.load_registry(path)
    except judgements.JudgementError as err:
        line = str(err)
        assert "\n" not in line and line.startswith(f"{path}: "), line
        assert len(line) <= len(str(path)) + MAX_LINE, line
        return "refused"
    for id_, j in table.items():
        assert j.id == id_ and judgements.reference("@" + id_) == id_
        assert all(math.isfinite(x) for x in (j.low, j.value, j.high))
        assert j.low <= j.value <= j.high
        assert j.prior in judgements.PRIORS and j.basis in judgements.BASES
    return "loaded"


SETTINGS = {"deadline": None, "suppress_health_check": [HealthCheck.function_scoped_fixture]}


@settings(max_examples=QUICK_EXAMPLES, **SETTINGS)
@given(data=mutated_csv(ROWS, NAMES))
def test_mutated_registries_load_within_the_rules_or_are_refused_in_one_line(data, tmp_path):
    event(check(data, tmp_path))


@pytest.mark.slow
@settings(max_examples=LONG_EXAMPLES, **SETTINGS)
@given(data=mutated_csv(ROWS, NAMES))
def test_many_mutated_registries(data, tmp_path):
    event(check(data, tmp_path))
