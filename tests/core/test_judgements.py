"""The judgement registry: every judged number in one table, referenced, never duplicated,
and never written by calibration."""

from __future__ import annotations

import ast
import hashlib
import re
import tomllib

import pytest
from conftest import ROOT

from csto_sim import load_scenario
from csto_sim.cli import main
from csto_sim.core import judgements
from csto_sim.core.scenario import ScenarioError
from csto_sim.hindcast import build

REGISTRY = ROOT / "csto_sim" / "data" / "judgements.csv"
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))

JUDGED = [
    r"alliance\.leader_distraction",
    r"members\.[^.]+\.(leverage|budget_share|trust)",
    r"members\.[^.]+\.hazards\.[^.]+",
    r"hazards\.[^.]+",
    r"relations\.[^.]+\.[^.]+",
    r"actors\.[^.]+\.leader_affinity",
    r"events\.[^.]+\.(severity|pull_change)",
]
"""Key paths of scenario data whose numbers are judgements (besides pole strength after the
start year): they must be registry references."""


def _leaves(node, path=()):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _leaves(v, (*path, i))
    else:
        yield path, node


def test_registry_rows_are_complete_and_in_range():
    table = judgements.registry()
    assert len(table) > 100
    for j in table.values():
        assert j.low <= j.value <= j.high and j.prior in judgements.PRIORS
        assert j.source.strip() and re.fullmatch(r"\d{4}-\d{2}-\d{2}", j.set_on)
    assert judgements.uncertain(), "some judgements are estimated openly"


CITATION = re.compile(r"\(([^()/]*[A-Z][^()/]*\b(?:19|20)\d\d\b[^()/]*)\)")
"""An outside citation: a parenthesis naming someone or something and a year, no file path."""


def test_every_row_names_an_outside_source_or_says_it_is_the_modellers_judgement():
    table = judgements.registry().values()
    sourced = [j.id for j in table if j.basis == "source"]
    unsourced = [j.id for j in sourced if not CITATION.search(judgements.registry()[j].source)]
    assert sourced and not unsourced, f"basis 'source' without an outside citation: {unsourced}"
    assert {j.basis for j in table} == set(judgements.BASES)


@pytest.mark.parametrize(
    ("column", "bad", "says"),
    [("basis", "hunch", "basis must be one of"), ("value", "nan", "need finite")],
)
def test_a_damaged_registry_row_is_refused_naming_its_line(column, bad, says):
    row = {c: "x" for c in judgements.COLUMNS} | {"value": "1", "low": "0", "high": "2"}
    row |= {"prior": "fixed", "set_on": "2026-12-06", "basis": "source", column: bad}
    with pytest.raises(judgements.JudgementError, match=f"line 7: {says}"):
        judgements._judgement(row, 7)


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_bundled_scenarios_write_no_judged_number_themselves(path):
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    start = data.get("time", {}).get("start", 2025.0)
    projection = "history" in data or "extends" in data
    bare = []
    for keys, value in _leaves(data):
        text = ".".join(map(str, keys))
        if not isinstance(value, int | float) or isinstance(value, bool):
            continue
        strength_after_start = (  # a projection's path; the hindcast's strengths are CINC data
            projection
            and len(keys) == 5
            and keys[0] == "poles"
            and keys[2] == "strength"
            and keys[4] == 1
            and data["poles"][keys[1]]["strength"][keys[3]][0] != start
        )
        if strength_after_start or any(re.fullmatch(p, text) for p in JUDGED):
            bare.append(f"{text} = {value}")
    assert not bare, f"{path.name}: judged numbers not in the registry: {bare[:5]}"


def test_the_hindcast_builder_types_no_judged_number():
    """Numbers in build.py's code are structure (indices, rounding, the span), not judgements."""
    tree = ast.parse((ROOT / "csto_sim" / "hindcast" / "build.py").read_text(encoding="utf-8"))
    docs = {
        id(n.body[0].value)
        for n in ast.walk(tree)
        if isinstance(n, ast.Module | ast.FunctionDef | ast.ClassDef)
        and n.body
        and isinstance(n.body[0], ast.Expr)
    }
    allowed = {0, 1, 2, 4, 2002, 0.25, 2025.0}
    found = {
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant)
        and isinstance(n.value, int | float)
        and not isinstance(n.value, bool)
        and id(n) not in docs
    }
    assert found <= allowed, f"build.py has judged-looking numbers {sorted(found - allowed)}"


def test_every_judgement_is_used(monkeypatch):
    used = set()
    for path in SCENARIOS:
        spec = load_scenario(path)
        used |= set(spec.judged) | set(spec.history.judged if spec.history else ())
    read = []
    original = judgements.value
    monkeypatch.setattr(judgements, "value", lambda k: read.append(k) or original(k))
    build.hindcast_scenario()
    used |= set(read)
    used |= {
        k
        for k in judgements.registry()
        if k.split(".")[0]
        in (
            "charter_fit",
            "internal_affairs",
            "severity_mean",
            "extraterritorial_fit",
            "parameter",
        )
    }  # fmt: skip  (read by parameters.py; the test below checks that it does)
    unused = sorted(set(judgements.registry()) - used)
    assert not unused, f"registry rows nothing uses: {unused[:5]}"


def test_judged_parameter_defaults_come_from_the_registry():
    from csto_sim.core.parameters import Parameters

    p = Parameters()
    assert p.charter_fit == judgements.values_under("charter_fit")
    assert p.severity_mean == judgements.values_under("severity_mean")
    assert p.extraterritorial_fit == judgements.value("extraterritorial_fit")


def test_a_reference_resolves_and_an_unknown_one_is_refused_in_one_line(tmp_path, capsys):
    base = (ROOT / "scenarios" / "baseline.toml").read_text()
    good = tmp_path / "mine.toml"
    good.write_text(
        base.replace(
            'leverage = "@baseline.leverage.Armenia"', 'leverage = "@hindcast.leverage.Armenia"'
        )
    )
    (tmp_path / "hindcast_2002_2024.toml").write_text(
        (ROOT / "scenarios" / "hindcast_2002_2024.toml").read_text()
    )
    spec = load_scenario(good)
    assert spec.members["Armenia"].leverage == judgements.value("hindcast.leverage.Armenia")
    assert ["members", "Armenia", "leverage"] in spec.judged["hindcast.leverage.Armenia"]
    bad = tmp_path / "bad.toml"
    bad.write_text(base.replace('"@baseline.leverage.Armenia"', '"@baseline.leverage.Armenai"'))
    with pytest.raises(ScenarioError, match="members.Armenia.leverage: unknown judgement") as exc:
        load_scenario(bad)
    assert "did you mean 'baseline.leverage.Armenia'" in str(exc.value)
    assert main(["check", str(bad)]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_with_judgements_sets_every_place_a_judgement_stands():
    spec = load_scenario(ROOT / "scenarios" / "baseline.toml")
    moved = spec.with_judgements(
        {"hindcast.affinity.Azerbaijan": 0.9, "baseline.hazard.default.sabotage": 0.2, "nowhere": 1}
    )
    assert moved.history.actors["Azerbaijan"].leader_affinity == 0.9
    assert moved.hazards["sabotage"] == 0.2
    assert spec.history.actors["Azerbaijan"].leader_affinity == 0.5  # the original is unchanged
    assert spec.with_judgements({}).digest() == spec.digest()


@pytest.mark.slow  # the calibrate and posterior commands
def test_calibration_leaves_the_registry_unchanged(tmp_path):
    pytest.importorskip("optuna")
    before = hashlib.sha256(REGISTRY.read_bytes()).hexdigest()
    values = {k: j.value for k, j in judgements.registry().items()}
    assert (
        main(
            [
                "calibrate",
                "--trials",
                "2",
                "--runs",
                "4",
                "--workers",
                "1",
                "--out",
                str(tmp_path / "c"),
            ]
        )
        == 0
    )
    args = ["posterior", "--simulations", "120", "--accept", "0.5"]
    assert main([*args, "--workers", "1", "--out", str(tmp_path / "p")]) == 0
    assert hashlib.sha256(REGISTRY.read_bytes()).hexdigest() == before
    judgements.registry.cache_clear()
    assert {k: j.value for k, j in judgements.registry().items()} == values


def test_parameter_defaults_are_fitted_or_judgements_of_the_registry():
    """A default typed in parameters.py is either searched by the calibration, fitted on the
    2002 cross-section (tie weights), or the definition of an outcome (collapse); every
    other default reads the registry."""
    from csto_sim.hindcast.calibration import SEARCHED

    exempt = {*SEARCHED, "tie_security", "tie_economic", "collapse_min_active"}
    tree = ast.parse((ROOT / "csto_sim" / "core" / "parameters.py").read_text(encoding="utf-8"))
    typed = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.value, ast.Call)):
            continue
        if getattr(node.value.func, "id", "") != "P" or node.target.id in exempt:
            continue
        first = node.value.args[0]
        if not (isinstance(first, ast.Call) and "judgements" in ast.unparse(first)):
            typed.append(node.target.id)
    assert not typed, f"parameters.py types judged defaults {typed}"


def test_registry_parameter_rows_are_the_parameter_defaults():
    from csto_sim.core.parameters import Parameters

    defaults = Parameters().model_dump()
    rows = judgements.values_under("parameter")
    assert rows and all(defaults[k] == v for k, v in rows.items())


def test_searched_registry_rows_are_the_searched_parameters_with_their_ranges():
    from csto_sim.core.parameters import plausible_ranges
    from csto_sim.hindcast.calibration import SEARCHED

    table = judgements.registry()
    searched = {k.split(".", 1)[1] for k, j in table.items() if j.prior == "searched"}
    assert searched and searched <= set(SEARCHED)
    assert all(k.startswith("parameter.") for k, j in table.items() if j.prior == "searched")
    judged = set(judgements.values_under("parameter"))
    assert set(SEARCHED) & judged == searched  # a searched parameter's row says so
    for name in searched:
        j = table["parameter." + name]
        assert (j.low, j.high) == plausible_ranges()[name]


def test_no_behavioural_default_of_the_validation_fit_rests_on_the_held_out_years():
    """A parameter default whose reasoning cites a year of 2015-2024 is estimated by the
    validation posterior (prior ``hindsight``; ``searched`` and ``uniform`` are estimated
    anyway), unless its reasoning stands on earlier evidence too (said here, with why)."""
    earlier = {
        "parameter.level_statement": "Kyrgyzstan's request of 2010 got consultations too",
        "parameter.deterrence": "2015 is the year of a publication it cites, not an event",
    }
    for key, j in judgements.registry().items():
        cited = {int(y) for y in re.findall(r"\b(20[12]\d)\b", j.source)}
        if key.startswith("parameter.") and cited & set(range(2015, 2025)):
            assert j.prior != "fixed" or key in earlier, key
    assert all(k.startswith("parameter.") for k in judgements.hindsight())


def test_text_that_starts_with_an_at_sign_is_text_not_a_reference(tmp_path):
    """Only values where a number may stand are references: a description, a source or a
    name that starts with ``@`` is left as written."""
    path = tmp_path / "s.toml"
    path.write_text(
        f'extends = "{(ROOT / "scenarios" / "baseline.toml").as_posix()}"\n'
        'name = "at_sign"\ndescription = "@home: a note"\n'
    )
    spec = load_scenario(path)
    assert spec.description == "@home: a note"
    resolved, where = judgements.resolve({"source": "@nowhere", "x": {"name": "@a"}})
    assert resolved == {"source": "@nowhere", "x": {"name": "@a"}} and where == {}
    with pytest.raises(judgements.JudgementError, match="hazards.x"):
        judgements.resolve({"hazards": {"x": "@nowhere"}})  # where a number stands
