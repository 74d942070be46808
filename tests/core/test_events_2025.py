"""What 2025 already brought enters the projections as inputs: every row of
``events_2025.csv`` is scripted by the baseline (and so by every projection extending it),
and no outcome of 2025 (a request, a response, a status) is."""

from __future__ import annotations

import csv
from importlib import resources

import pytest
from conftest import BASELINE, SCENARIOS

from csto_sim.core.scenario import load_scenario
from csto_sim.core.vocabulary import CONTROL_KINDS, KIND_ALIASES, THREAT_KINDS

MODEL_KINDS = {
    "border_settlement": "hazard_change",
    "peace_process": "hazard_change",
    "pole_shift": "pole_shift",
}
"""How each kind of 2025 row enters the model (threat kinds enter as themselves)."""


def _rows() -> list[dict[str, str]]:
    path = resources.files("csto_sim").joinpath("data", "events_2025.csv")
    return list(csv.DictReader(path.open(encoding="utf-8")))


def test_the_package_copy_matches_the_shared_data() -> None:
    shared = SCENARIOS.parent.parent / "shared" / "data" / "events_2025.csv"
    if not shared.exists():
        pytest.skip("no ../shared/data/events_2025.csv beside the repository: nothing to compare")
    path = resources.files("csto_sim").joinpath("data", "events_2025.csv")
    assert path.read_bytes() == shared.read_bytes()


def test_every_2025_input_is_scripted_in_the_baseline_on_its_date() -> None:
    s = load_scenario(BASELINE)
    rows = _rows()
    assert rows and all(r["role"] == "input" and not r["request"] for r in rows)
    for row in rows:
        kind = MODEL_KINDS.get(row["kind"], KIND_ALIASES.get(row["kind"], row["kind"]))
        assert kind in CONTROL_KINDS + THREAT_KINDS
        found = [
            e
            for e in s.events.values()
            if e.kind == kind and e.member == row["member"] and str(e.date) == row["date"]
        ]
        assert found, f"{row['date']} {row['kind']} {row['member']} is not scripted"
        if row["kind"] == "border_settlement":  # both sides' clash rates change
            other = [
                e for e in s.events.values() if e.kind == kind and e.member == row["counterpart"]
            ]
            assert other and other[0].rate_factor == found[0].rate_factor < 1.0
        if row["kind"] == "peace_process":
            assert {e.threat for e in found} == {"border_clash", "incursion", "interstate_war"}
            assert all(e.rate_factor < 1.0 for e in found)


def test_projections_extending_the_baseline_inherit_the_2025_inputs() -> None:
    base = {k for k, e in load_scenario(BASELINE).events.items() if e.year < 2026}
    for path in SCENARIOS.glob("*.toml"):
        s = load_scenario(path)
        if s.history is not None and s.time.start == 2025.0:
            assert base <= set(s.events), path.name
