"""The hindcast: built from the shipped data by code, nothing of history's outcomes scripted."""

from __future__ import annotations

import csv
import re

import numpy as np
import pytest
from conftest import ROOT

from csto_sim import load_scenario
from csto_sim.core.inputs import inputs_for
from csto_sim.core.parameters import THREAT_KINDS
from csto_sim.hindcast import build

DATA = ROOT / "csto_sim" / "data"
HINDCAST = ROOT / "scenarios" / "hindcast_2002_2024.toml"
MODEL_CODE = sorted(
    str(p.relative_to(ROOT / "csto_sim"))
    for layer in ("core", "abm", "experiments")
    for p in (ROOT / "csto_sim" / layer).glob("*.py")
)
"""Every module that decides behaviour or turns it into results: no history may be written in."""


def rows(name):
    with open(DATA / name, encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_bundled_hindcast_is_the_generator_output():
    assert HINDCAST.read_text(encoding="utf-8") == build.hindcast_toml(), (
        "scenarios/hindcast_2002_2024.toml is stale: regenerate it with "
        "`python -m csto_sim.hindcast.build > scenarios/hindcast_2002_2024.toml`"
    )


def test_alignment_traces_to_the_data_files():
    """Recompute Armenia's 2002 alignment by hand from the three CSV files."""
    trade = {
        r["partner"]: float(r["share"])
        for r in rows("trade_shares_2002.csv")
        if r["member"] == "Armenia"
    }
    arms = {
        r["supplier"]: float(r["share_pct"])
        for r in rows("arms_import_shares_1992_2001.csv")
        if r["member"] == "Armenia"
    }
    votes = {
        r["pole"]: float(r["agree"])
        for r in rows("unga_agreement_2002.csv")
        if r["member"] == "Armenia"
    }
    poles = {"Russia": "Russia", "EU": "EU27", "China": "China", "Turkey": "Turkey"}
    t = {p: trade[k] for p, k in poles.items()}
    a = {p: arms[k] for p, k in poles.items()}
    us = votes["United States"]
    u = {
        "Russia": votes["Russia"] - us,
        "EU": (votes["France"] + votes["Germany"]) / 2 - us,
        "China": votes["China"] - us,
        "Turkey": votes["Turkey"] - us,
    }
    norm = lambda d: {k: v / sum(d.values()) for k, v in d.items()}  # noqa: E731
    t, a, u = norm(t), norm(a), norm(u)
    security = {p: (2 * a[p] + u[p]) / 3 for p in poles}  # 302 TIV: full arms weight
    scenario = load_scenario(HINDCAST)
    for p in poles:
        assert scenario.members["Armenia"].alignment[p] == pytest.approx(security[p], abs=2e-4)
        assert scenario.members["Armenia"].economic[p] == pytest.approx(t[p], abs=2e-4)


def test_small_arms_volumes_weigh_less():
    assert build.component_weights("Uzbekistan", "security")["arms"] == pytest.approx(
        2 / 3 * 8 / 100
    )
    assert build.component_weights("Armenia", "security")["arms"] == pytest.approx(2 / 3)
    assert build.component_weights("Armenia", "economic") == {"trade": 1.0}


def test_pole_strength_is_cinc_on_one_scale_russia_2002_is_one():
    cinc = {int(r["year"]): r for r in rows("cinc_2000_2022.csv")}
    scenario = load_scenario(HINDCAST)
    russia = dict((int(y), v) for y, v in scenario.poles["Russia"].strength)
    china = dict((int(y), v) for y, v in scenario.poles["China"].strength)
    assert russia[2002] == 1.0
    assert china[2020] == pytest.approx(
        float(cinc[2020]["China"]) / float(cinc[2002]["Russia"]), abs=1e-4
    )


def test_pole_reach_and_tie_weights_are_the_2002_fit_everywhere():
    """The reaches and the members' economic affinities in the hindcast and in the
    projections, and the tie weights' defaults, are what build.fit_pull estimates from the
    data (no hand-typed copy may drift from it)."""
    from csto_sim.core.parameters import Parameters

    fits = {ch: build.fit_pull(ch) for ch in ("security", "economic")}
    for path in (HINDCAST, ROOT / "scenarios" / "baseline.toml"):
        scenario = load_scenario(path)
        for pole, spec in scenario.poles.items():
            assert spec.security_reach == fits["security"].reach[pole], (path.name, pole)
            assert spec.economic_reach == fits["economic"].reach[pole], (path.name, pole)
        for member, spec in scenario.members.items():
            want = fits["economic"].affinity.get(member, {})
            assert spec.economic_affinity == want, (path.name, member)
            assert spec.security_affinity == {}, (path.name, member)
    assert Parameters().tie_security == fits["security"].tie_weights
    assert Parameters().tie_economic == fits["economic"].tie_weights
    assert fits["security"].r2 > 0.5 and fits["economic"].r2 > 0.5


def test_no_outcome_of_history_is_scripted():
    scenario = load_scenario(HINDCAST)
    outcome_rows = [r for r in rows("events_2002_2024.csv") if r["role"] == "outcome"]
    assert outcome_rows, "the event history lists outcomes"
    scripted_kinds = {e.kind for e in scenario.events.values()}
    assert not scripted_kinds & {r["kind"] for r in outcome_rows}
    assert scripted_kinds <= set(THREAT_KINDS) | {"accession", "pole_shift", "war_elsewhere"}
    assert all(m.status in ("active", "non_member") for m in scenario.members.values())
    # the recorded statuses are data for projections that condition on them, never read by
    # the hindcast itself; nothing else in the file names an outcome
    scripted, _, record = HINDCAST.read_text(encoding="utf-8").partition("[[record.")
    text = "\n".join(line.split("#")[0] for line in scripted.splitlines())
    for word in ("request", "csto_response", "responded", "frozen", "withdrawn", "suspension"):
        assert word not in text
    assert "frozen" in record and not scenario.guided and inputs_for(scenario).known is None


def test_every_input_event_is_scripted_or_declared_unmodelled():
    scenario = load_scenario(HINDCAST)
    dates = {str(e.date) for e in scenario.events.values()}
    # a pole shift without a judged pull change is covered by the dated structural ties
    judged = {(r["date"], r["kind"]): r for r in rows("hindcast_judgements.csv")}
    for r in rows("events_2002_2024.csv"):
        if r["role"] == "input":
            shift = judged.get((r["date"], "pole_shift"), {})
            covered = r["kind"] == "pole_shift" and not shift.get("pull_change")
            assert r["date"] in dates or r["kind"] in build.NOT_MODELLED or covered, r


@pytest.mark.parametrize("module", MODEL_CODE)
def test_no_member_name_or_year_decides_behaviour(module):
    source = (ROOT / "csto_sim" / module).read_text(encoding="utf-8")
    code = "\n".join(line.split("#")[0] for line in source.splitlines())
    for name in (
        "Russia",
        "Belarus",
        "Kazakhstan",
        "Kyrgyzstan",
        "Tajikistan",
        "Armenia",
        "Uzbekistan",
        "Azerbaijan",
    ):
        assert name not in code, f"{module} mentions {name}"
    assert not re.search(r"\b(19|20)\d\d\b", code), f"{module} has a year literal"


def test_the_2002_economic_pull_points_at_the_2002_trade_alignment():
    """With each member's economic affinity (the fit's residual), the economic target of
    2002 is the 2002 economic alignment wherever no share sits below the fit's floor; the
    security target, without affinities, is not."""
    from csto_sim.core import rules

    inp = inputs_for(load_scenario(HINDCAST))
    e0, w0 = inp.initial.e, inp.initial.w
    target = rules.pole_target(inp.economic_strength[0], inp.economic_offers[0], e0)
    floor = build.judgements.value(build.SHARE_FLOOR)
    clear = (e0 > floor).all(axis=1)
    assert clear.sum() >= 4
    np.testing.assert_allclose(target[clear], e0[clear], atol=2e-3)
    security = rules.pole_target(inp.strength[0], inp.offers[0], w0)
    assert np.abs(security - w0).max() > 0.05
