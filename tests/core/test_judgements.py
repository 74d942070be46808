"""The judgement registry: every judged number in one table, referenced, never duplicated,
and never written by calibration."""

from __future__ import annotations

import ast
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tomllib
import types
import typing

import pytest
from conftest import ROOT
from pydantic import BaseModel

from csto_sim import load_scenario
from csto_sim.cli import main
from csto_sim.core import judgements, schema
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


TEXT = REGISTRY.read_text(encoding="utf-8")
HEADER, FIRST, *REST = TEXT.splitlines(keepends=True)

DAMAGED = {
    "not UTF-8": (TEXT.encode()[:90] + b"\xff" + TEXT.encode()[90:], "not UTF-8 text (byte 90"),
    "empty": ("", "empty: expected the header line id,value,"),
    "blank lines only": ("\n\n", "empty: expected the header line"),
    "header misspelt": ("ident" + TEXT[2:], "line 1: unknown column 'ident'"),
    "header short": (HEADER.replace(",source", "") + FIRST, "line 1: no column 'source'"),
    "header extra": (HEADER.rstrip() + ",note\n" + FIRST, "line 1: unknown column 'note'"),
    "header twice": (HEADER.rstrip() + ",id\n" + FIRST, "line 1: column 'id' appears twice"),
    "few fields": (HEADER + "a.b,1,0\n", "line 2: 3 fields, expected 8"),
    "many fields": (HEADER + FIRST.rstrip() + ",x\n", "line 2: 9 fields, expected 8"),
    "open quote": (HEADER + '"' + FIRST + "".join(REST[:3]), "line 2: "),
    "text value": (HEADER + FIRST.replace("0.5,0.3,0.7", "half,0.3,0.7"), "line 2, value: expected"),
    "nan low": (HEADER + FIRST.replace("0.5,0.3,0.7", "0.5,nan,0.7"), "line 2, low: expected a finite"),
    "huge high": (HEADER + FIRST.replace("0.5,0.3,0.7", f"0.5,0.3,{10**400}"), "line 2, high: expected a finite"),
    "value above high": (HEADER + FIRST.replace("0.5,0.3,0.7", "0.9,0.3,0.7"), "line 2: need low <= value <= high"),
    "prior": (HEADER + FIRST.replace(",fixed,", ",flat,"), "line 2: prior must be one of"),
    "basis": (HEADER + FIRST.replace("modeller's judgement", "hunch"), "line 2: basis must be one of"),
    "date": (HEADER + FIRST.replace("2026-11-28", "last week"), "line 2: set_on must be a date"),
    "empty id": (HEADER + FIRST.replace("hindcast.trust", " "), "line 2: id is empty"),
    "id with @": (HEADER + FIRST.replace("hindcast.trust", "@hindcast.trust"), "line 2: id '@hindcast.trust' is not of the form"),
    "id with two spaces": (HEADER + FIRST.replace("hindcast.trust", "hindcast.tr  ust"), "is not of the form"),
    "id upper case": (HEADER + FIRST.replace("hindcast.trust", "Hindcast.trust"), "is not of the form"),
    "id too long": (HEADER + FIRST.replace("hindcast.trust", "h." + "t" * 200), "is not of the form"),
    "id twice": (HEADER + FIRST + FIRST, "line 3: id 'hindcast.trust' appears twice (first on line 2)"),
}  # fmt: skip
"""Damaged registry files: what each is refused with (after the file's name)."""


@pytest.mark.parametrize("case", DAMAGED, ids=str)
def test_a_damaged_registry_is_refused_naming_file_line_and_what_was_expected(tmp_path, case):
    content, says = DAMAGED[case]
    path = tmp_path / "judgements.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(judgements.JudgementError) as err:
        judgements.load_registry(path)
    line = str(err.value)
    assert "\n" not in line and line.startswith(f"{path}: ") and says in line, line


def test_a_registry_with_a_byte_order_mark_or_blank_lines_loads(tmp_path):
    path = tmp_path / "judgements.csv"
    path.write_text("\ufeff" + HEADER + "\n" + FIRST + "\n", encoding="utf-8")
    assert list(judgements.load_registry(path)) == ["hindcast.trust"]
    assert judgements.load_registry(REGISTRY) == judgements.registry()


@pytest.mark.parametrize("case", ["header misspelt", "not UTF-8"])
def test_a_damaged_package_registry_fails_a_command_in_one_line(tmp_path, case):
    """The registry is read as the package loads: a damaged one is one line and exit 2 (a
    file that was not UTF-8 gave a traceback, a misspelt header 'id is empty')."""
    copy = tmp_path / "copy"
    shutil.copytree(
        ROOT / "csto_sim", copy / "csto_sim", ignore=shutil.ignore_patterns("__pycache__")
    )
    damaged = copy / "csto_sim" / "data" / "judgements.csv"
    content = DAMAGED[case][0]
    damaged.write_bytes(content if isinstance(content, bytes) else content.encode())
    args = [sys.executable, "-m", "csto_sim", "run", str(ROOT / "scenarios" / "baseline.toml")]
    args += ["--runs", "2", "--out", str(tmp_path / "out")]
    env = os.environ | {"PYTHONPATH": str(copy)}
    done = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"csto-sim: {damaged}: {DAMAGED[case][1]}"), line
    assert "Traceback" not in done.stderr and not (tmp_path / "out").exists()


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


def test_the_hindcast_builder_names_no_member_or_outside_actor():
    """Who threatens whom and who backs whom are data with sources (``actors.csv``), not
    names typed in build.py's code (the leader, which is also a pole, aside)."""
    from csto_sim.hindcast import build

    names = (set(build.members_in_data()) | set(build.actors())) - {build.LEADER}
    tree = ast.parse((ROOT / "csto_sim" / "hindcast" / "build.py").read_text(encoding="utf-8"))
    typed = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)} & names
    assert {"Armenia", "Azerbaijan", "Afghan militants"} <= names and not typed, sorted(typed)


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
            "parameter",
            "answer_prior",
        )
    }  # fmt: skip  (read by parameters.py, and by the fit's prior, hindcast/answer_prior.py)
    unused = sorted(set(judgements.registry()) - used)
    assert not unused, f"registry rows nothing uses: {unused[:5]}"


def test_judged_parameter_defaults_come_from_the_registry():
    from csto_sim.core.parameters import Parameters

    p = Parameters()
    assert p.charter_fit == judgements.values_under("charter_fit")
    assert p.severity_mean == judgements.values_under("severity_mean")
    assert p.extraterritorial_fit == judgements.value("parameter.extraterritorial_fit")


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
    anyway), unless its reasoning stands on earlier evidence too (said here, with why); so
    is a value an earlier calibration set (those scored the held-out years too)."""
    earlier = {
        "parameter.level_statement": "Kyrgyzstan's request of 2010 got consultations too",
        "parameter.deterrence": "2015 is the year of a publication it cites, not an event",
    }
    for key, j in judgements.registry().items():
        cited = {int(y) for y in re.findall(r"\b(20[12]\d)\b", j.source)}
        if key.startswith("parameter.") and cited & set(range(2015, 2025)):
            assert j.prior != "fixed" or key in earlier, key
        if re.search(r"\ba calibration\b", j.source):  # fitted once, on which years?
            assert j.prior != "fixed", key
    assert all(k.startswith("parameter.") for k in judgements.hindsight())


def test_no_fixed_judgement_gives_a_recorded_outcome_as_its_reason():
    """A fixed value whose reasoning is what the CSTO or a member did (refused, answered,
    froze, ...) in a year of the record would be an input set from an outcome the fit is
    scored on (a sentence may name one to say it is not a reason). A lever's row describes
    its counterfactual against the record; ``level_statement`` is left as said above (its
    reasoning stands on 2010 too, and its order with ``level_mission`` is a constraint)."""
    outcome = re.compile(
        r"\b(refused|refusal|answered|declined|froze|suspended|withdrew|deployed)\b"
    )
    levers = {p.stem for p in (ROOT / "scenarios").glob("*.toml")} - {"baseline"}
    found = [
        key
        for key, j in judgements.registry().items()
        if j.prior == "fixed"
        and key.split(".")[0] not in levers
        and key != "parameter.level_statement"
        and any(
            outcome.search(said) and re.search(r"\b20[0-2]\d\b", said)
            for said in j.source.split(". ")
            if "not a reason" not in said
        )
    ]
    assert not found, f"fixed judgements that rest on a recorded outcome: {found}"


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


@pytest.mark.parametrize(
    ("text", "id_"),
    [
        ("@hindcast.trust", "hindcast.trust"),
        ("@extraterritorial_fit", "extraterritorial_fit"),
        ("@hindcast.affinity.Afghan militants", "hindcast.affinity.Afghan militants"),
        ("@hindcast.event.2008-08-08.war_elsewhere.Russia.severity", None),  # filled below
        ("@", None),
        ("@ not an id", None),
        ("@about this", None),
        ("@home: a note", None),
        ("@hindcast.", None),
        ("@.trust", None),
        ("@Hindcast.trust", None),
        ("@hindcast.trust ", None),
        ("@hindcast. trust", None),
        ("hindcast.trust", None),
        ("x@hindcast.trust", None),
        ("@@hindcast.trust", None),
        ("@h." + "t" * 200, None),
        (0.5, None),
    ],
)
def test_a_reference_is_an_at_sign_and_an_id_of_one_form(text, id_):
    if isinstance(text, str) and text.startswith("@hindcast.event"):
        id_ = text[1:]
    assert judgements.reference(text) == id_


def test_every_id_of_the_registry_has_the_form_of_an_id():
    ids = list(judgements.registry())
    assert all(judgements.reference("@" + i) == i for i in ids)
    assert max(map(len, ids)) <= judgements.MAX_ID


def _is_text(t) -> bool:
    """Whether values of type ``t`` are text: str, a choice of strings, or an optional or a
    list of them."""
    origin, args = typing.get_origin(t), typing.get_args(t)
    if origin is typing.Literal or t is str:
        return True
    if origin in (list, typing.Annotated):
        return _is_text(args[0])
    if origin in (typing.Union, types.UnionType):
        kinds = [a for a in args if a is not type(None)]
        return len(kinds) == 1 and _is_text(kinds[0])
    return False


def _text_fields(model, seen: set) -> set[str]:
    """Names of the fields of ``model`` and the models within it whose values are text."""
    if model in seen:
        return set()
    seen.add(model)
    out = set()
    for name, field in model.model_fields.items():
        if _is_text(field.annotation):
            out.add(name)
        for t in re.findall(r"[\w.]+", str(field.annotation)):  # models at any depth
            found = vars(schema).get(t.rsplit(".", 1)[-1])
            if isinstance(found, type) and issubclass(found, BaseModel):
                out |= _text_fields(found, seen)
    return out


def test_every_text_field_of_the_scenario_schema_is_a_text_key():
    from csto_sim.core.scenario import Scenario

    text = _text_fields(Scenario, set())
    assert {"description", "adversaries", "targets", "status", "kind"} <= text
    assert text <= judgements.TEXT_KEYS, sorted(text - judgements.TEXT_KEYS)


def test_text_that_looks_like_a_reference_is_text_where_text_stands(tmp_path):
    base = f'extends = "{(ROOT / "scenarios" / "baseline.toml").as_posix()}"\nname = "at"\n'
    path = tmp_path / "s.toml"
    for description in ("@about this", "@hindcast.trust", "@"):
        path.write_text(base + f'description = "{description}"\n')
        assert load_scenario(path).description == description
    data = {"members": {"X": {"adversaries": ["@hindcast.trust"], "status": "@hindcast.trust"}}}
    assert judgements.resolve(data) == (data, {})


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("@ not an id", "expected a number or a reference (@ and the id of a judgement"),
        ("@hindcast.trus", "unknown judgement 'hindcast.trus' (did you mean 'hindcast.trust'?)"),
        ("@", "expected a number or a reference"),
    ],
)
def test_a_number_given_a_string_that_starts_with_an_at_sign_is_refused_naming_the_key(
    tmp_path, value, says
):
    path = tmp_path / "s.toml"
    path.write_text(
        f'extends = "{(ROOT / "scenarios" / "baseline.toml").as_posix()}"\nname = "at"\n'
        f'[hazards]\nsabotage = "{value}"\n'
    )
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert str(err.value).startswith(f"{path}: hazards.sabotage: {says}"), err.value


def test_every_registry_range_of_a_parameter_is_valid():
    """A parameter's registry row spans only values the parameter accepts, so a sweep or a
    prior over the row's range never builds an invalid scenario."""
    from csto_sim.core.parameters import Parameters

    defaults = Parameters()
    checked = 0
    for key, j in judgements.registry().items():
        name, _, kind = key.removeprefix("parameter.").partition(".")
        if name not in Parameters.model_fields:
            continue
        default = getattr(defaults, name)
        for end in (j.low, j.high):
            value = default | {kind: end} if isinstance(default, dict) else end
            Parameters(**{name: value})  # raises if the end is outside the validity bounds
        checked += 1
    assert checked > 40
