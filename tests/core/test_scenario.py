"""Bad scenario files give one-line errors that name the file and the key path.

Each test writes small TOML files into ``tmp_path``: a copy of the bundled baseline plus a
child that extends it and breaks one thing, or a minimal stand-alone scenario. The last tests
run ``csto-sim check`` in a subprocess, as a user would.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import BASELINE, HINDCAST, ROOT, SCENARIOS

from csto_sim import CSTOModel, ScenarioError, load_scenario

MINIMAL = """\
name = "minimal"

[time]
start = 2025.0
end = 2030.0

[alliance]
leader = "Russia"
leader_pole = "Russia"

[poles.Russia]
strength = 1.0
[poles.EU]
strength = [[2025, 0.8], [2030, 0.9]]

[members.Russia]
alignment = { Russia = 1.0 }
commitment = 0.9
capability = 0.04

[members.Armenia]
alignment = { Russia = 0.4, EU = 0.6 }
commitment = 0.2
capability = 0.0006
adversaries = ["Azerbaijan"]
economic = { Russia = 0.3, EU = 0.7 }

[actors.Azerbaijan]
leader_affinity = 0.6
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def child(tmp_path: Path, text: str, name: str = "child.toml") -> Path:
    """A scenario that extends a copy of the baseline in ``tmp_path`` and adds ``text``."""
    write(tmp_path, "baseline.toml", BASELINE.read_text(encoding="utf-8"))
    write(tmp_path, HINDCAST.name, HINDCAST.read_text(encoding="utf-8"))
    return write(tmp_path, name, 'extends = "baseline.toml"\n' + text)


def event(eid: str = "e1", **fields: str) -> str:
    """An ``[events.<eid>]`` table; values are TOML literals."""
    values = {"date": "2027-03-01", "kind": '"border_clash"', "member": '"Armenia"'} | fields
    return f"\n[events.{eid}]\n" + "".join(f"{k} = {v}\n" for k, v in values.items())


def expect_error(path: Path, key: str, *fragments: str, file: Path | None = None) -> ScenarioError:
    """Load ``path``; check the error is one line naming the file and the key, and has ``fragments``."""
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    err = info.value
    text = str(err)
    blamed = path if file is None else file
    assert "\n" not in text and "\r" not in text, text
    assert Path(err.file).resolve() == blamed.resolve(), text
    assert text.startswith(f"{err.file}: "), text
    assert blamed.name in text
    assert err.key == key, text
    if key:
        assert text == f"{err.file}: {key}: {err.message}"
    for fragment in fragments:
        assert fragment in err.message, text
    return err


# --- the fixtures themselves are valid ---------------------------------------------------


def test_minimal_and_child_fixtures_are_valid(tmp_path):
    assert load_scenario(write(tmp_path, "minimal.toml", MINIMAL)).name == "minimal"
    assert load_scenario(child(tmp_path, 'name = "child"\n')).name == "child"


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.toml")), ids=lambda p: p.name)
def test_bundled_scenario_loads(path):
    scenario = load_scenario(path)
    assert scenario.name == path.stem
    assert scenario.description
    assert scenario.n_steps > 0


def test_bundled_scenarios_include_the_variants():
    names = {p.stem for p in SCENARIOS.glob("*.toml")}
    assert {
        "baseline",
        "russia_strengthened",
        "russia_weakened",
        "armenia_eu_path",
        "china_security_role",
        "afghan_spillover",
    } <= names


@pytest.mark.parametrize("name", ["russia_weakened", "afghan_spillover"])
def test_variant_runs(name):
    model = CSTOModel(SCENARIOS / f"{name}.toml", run=0, collect=False)
    model.run_model()
    assert len(model.member_table()) == 6


# --- syntax and structure --------------------------------------------------------------


def test_toml_syntax_error(tmp_path):
    broken = BASELINE.read_text(encoding="utf-8").replace("seed = 2025", "seed = = 2025")
    path = write(tmp_path, "broken.toml", broken)
    err = expect_error(path, "", "TOML syntax error", "line", "column")
    line = broken.splitlines().index("seed = = 2025") + 1
    assert f"line {line}" in err.message


@pytest.mark.parametrize(
    ("text", "key", "suggestion"),
    [
        ("seeed = 3\n", "seeed", "'seed'"),
        ("descripton = 'x'\n", "descripton", "'description'"),
        ("[members.Armenia]\ncommitmnt = 0.3\n", "members.Armenia.commitmnt", "'commitment'"),
        ("[time]\nstpe = 0.5\n", "time.stpe", "'step'"),
        (
            "[alliance]\nleader_distration = 0.5\n",
            "alliance.leader_distration",
            "'leader_distraction'",
        ),
        ("[poles.EU]\nstrenght = 0.5\n", "poles.EU.strenght", "'strength'"),
        (event(severty="0.5"), "events.e1.severty", "'severity'"),
        ("[parameters]\nrequest_bse = -1.0\n", "parameters.request_bse", "'request_base'"),
    ],
    ids=["top", "top2", "member", "time", "alliance", "pole", "event", "parameters"],
)
def test_unknown_key_suggests_the_right_one(tmp_path, text, key, suggestion):
    expect_error(child(tmp_path, text), key, "unknown key", f"did you mean {suggestion}")


def test_unknown_key_without_close_match_has_no_suggestion(tmp_path):
    err = expect_error(child(tmp_path, "[time]\nxyzzy = 1\n"), "time.xyzzy", "unknown key")
    assert "did you mean" not in err.message


def test_missing_required_key(tmp_path):
    text = MINIMAL.replace("commitment = 0.2\n", "")
    expect_error(write(tmp_path, "s.toml", text), "members.Armenia.commitment", "required")


@pytest.mark.parametrize(
    ("text", "key", "got"),
    [
        ('[members.Armenia]\ncommitment = "high"\n', "members.Armenia.commitment", "'high'"),
        ('[time]\nstart = "soon"\n', "time.start", "'soon'"),
        ('[poles.EU]\nstrength = "strong"\n', "poles.EU.strength", "'strong'"),
        (
            '[members.Armenia]\nadversaries = "Azerbaijan"\n',
            "members.Armenia.adversaries",
            "'Azerbaijan'",
        ),
        (event(date='"tomorrow"'), "events.e1.date", "'tomorrow'"),
    ],
    ids=["commitment", "time", "strength", "list", "date"],
)
def test_wrong_type(tmp_path, text, key, got):
    expect_error(child(tmp_path, text), key, "should be", f"(got {got})")


# --- alignment weights -----------------------------------------------------------------


def test_alignment_weights_must_sum_to_one(tmp_path):
    text = (
        "[members.Armenia]\nalignment = { Russia = 0.65, EU = 0.45, China = 0.1, Turkey = 0.1 }\n"
    )
    err = expect_error(child(tmp_path, text), "members.Armenia.alignment")
    assert err.message == "weights sum to 1.3, expected 1"
    assert str(err).endswith("members.Armenia.alignment: weights sum to 1.3, expected 1")


def test_alignment_weight_negative(tmp_path):
    text = "[members.Armenia]\nalignment = { Russia = -0.1, EU = 0.9, China = 0.1, Turkey = 0.1 }\n"
    err = expect_error(child(tmp_path, text), "members.Armenia.alignment")
    assert err.message == "weight of Russia is negative (-0.1)"


# --- names that must exist -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key", "fragments"),
    [
        (
            "[relations.Russia]\nArmenai = 0.3\n",
            "relations.Russia.Armenai",
            ("unknown member", "did you mean 'Armenia'"),
        ),
        (
            "[relations.Uzbekistan]\nRussia = 0.3\n",
            "relations.Uzbekistan",
            ("unknown member",),
        ),
        (
            event(member='"Armenai"'),
            "events.e1.member",
            ("unknown member 'Armenai'", "did you mean 'Armenia'"),
        ),
        (
            event(kind='"intra_alliance_clash"', member='"Kyrgyzstan"', counterpart='"Tajikstan"'),
            "events.e1.counterpart",
            ("unknown member 'Tajikstan'", "did you mean 'Tajikistan'"),
        ),
        (
            '[alliance]\nleader = "Rusia"\n',
            "alliance.leader",
            ("unknown member 'Rusia'", "did you mean 'Russia'"),
        ),
    ],
    ids=["relations-partner", "relations-member", "event", "event-counterpart", "leader"],
)
def test_unknown_member(tmp_path, text, key, fragments):
    expect_error(child(tmp_path, text), key, *fragments)


def test_unknown_actor_in_event(tmp_path):
    text = event(counterpart='"Azerbaijn"')
    expect_error(
        child(tmp_path, text), "events.e1.counterpart", "unknown actor", "did you mean 'Azerbaijan'"
    )


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        (
            "alignment = { Russia = 0.4, EU = 0.6 }",
            "alignment = { Russia = 0.4, EUU = 0.6 }",
            "members.Armenia.alignment.EUU",
        ),
        (
            "economic = { Russia = 0.3, EU = 0.7 }",
            "economic = { Russia = 0.3, EUU = 0.7 }",
            "members.Armenia.economic.EUU",
        ),
        ('leader_pole = "Russia"', 'leader_pole = "EUU"', "alliance.leader_pole"),
    ],
    ids=["alignment", "economic", "leader_pole"],
)
def test_unknown_pole(tmp_path, old, new, key):
    assert old in MINIMAL
    path = write(tmp_path, "s.toml", MINIMAL.replace(old, new))
    expect_error(path, key, "unknown pole", "did you mean 'EU'")


def test_unknown_pole_in_a_tie_of_child(tmp_path):
    text = '[ties.t1]\nkind = "base"\nmember = "Armenia"\npole = "Chnia"\n'
    expect_error(
        child(tmp_path, text), "ties.t1.pole", "unknown pole 'Chnia'", "did you mean 'China'"
    )


def test_unknown_tie_kind_and_reversed_dates(tmp_path):
    text = '[ties.t1]\nkind = "bases"\nmember = "Armenia"\npole = "China"\n'
    expect_error(child(tmp_path, text), "ties.t1.kind", "unknown tie kind 'bases'", "'base'")
    text = (
        '[ties.t1]\nkind = "base"\nmember = "Armenia"\npole = "China"\n'
        "start = 2030-01-01\nend = 2029-01-01\n"
    )
    expect_error(child(tmp_path, text), "ties.t1.end", "is not after start")


def test_a_continued_member_takes_its_state_from_the_history(tmp_path):
    expect_error(
        child(tmp_path, "[members.Armenia]\ncommitment = 0.3\n"),
        "members.Armenia.commitment",
        "comes from the end of the history",
    )


@pytest.mark.parametrize("other", ["child.toml", "other.toml"])  # itself, or a cycle of two
def test_a_history_that_continues_a_history_is_refused_without_recursing(tmp_path, other):
    write(tmp_path, "other.toml", 'extends = "baseline.toml"\nname = "o"\nhistory = "child.toml"\n')
    path = child(tmp_path, f'name = "c"\nhistory = "{other}"\n')
    expect_error(path, "history", "a history cannot itself continue another history")


def test_a_member_outside_the_history_needs_its_state(tmp_path):
    text = "[members.Georgia]\ncapability = 0.001\n"
    expect_error(child(tmp_path, text), "members.Georgia.alignment", "required")


NEW_MEMBER = "alignment, commitment and capability"


@pytest.mark.parametrize(
    "body",
    ["capability = 0.01\n", "leverage = 0.3\n", ""],
    ids=["state-missing", "capability-missing", "empty"],
)
def test_a_misspelt_member_suggests_the_known_one(tmp_path, body):
    expect_error(
        child(tmp_path, f"[members.Kazakstan]\n{body}"),
        "members.Kazakstan",
        "unknown member (did you mean 'Kazakhstan'?)",
        f"a new member needs {NEW_MEMBER}",
    )


def test_a_misspelt_member_of_a_scenario_without_history(tmp_path):
    path = write(tmp_path, "s.toml", MINIMAL + "\n[members.Armenai]\ncapability = 0.001\n")
    expect_error(path, "members.Armenai", "did you mean 'Armenia'?", NEW_MEMBER)


def test_a_new_member_named_like_a_known_one_is_still_possible(tmp_path):
    text = (
        "[members.Kazakstan]\ncapability = 0.01\ncommitment = 0.5\n"
        "alignment = { Russia = 0.5, China = 0.5 }\n"
    )
    assert {"Kazakhstan", "Kazakstan"} <= set(load_scenario(child(tmp_path, text)).members)


@pytest.mark.parametrize(
    "body", ["strength = 1.0\n", "security_reach = 0.5\n"], ids=["full", "no-strength"]
)
def test_a_pole_the_history_lacks_is_refused_with_a_suggestion(tmp_path, body):
    expect_error(
        child(tmp_path, f"[poles.Chna]\n{body}"),
        "poles.Chna",
        "unknown pole (did you mean 'China'?)",
        "continues a history has its poles (Russia, EU, China, Turkey)",
    )


def test_a_misspelt_pole_of_a_scenario_without_history(tmp_path):
    path = write(tmp_path, "s.toml", MINIMAL + "\n[poles.EUU]\nsecurity_reach = 0.5\n")
    expect_error(
        path, "poles.EUU", "unknown pole (did you mean 'EU'?)", "a new pole needs strength"
    )
    path = write(tmp_path, "s.toml", MINIMAL + "\n[poles.China]\nstrength = 2.0\n")
    assert load_scenario(path).pole_names == ["Russia", "EU", "China"]  # new poles stay possible


@pytest.mark.parametrize(
    ("text", "key", "suggestion"),
    [
        ('extend = "baseline.toml"\n', "extend", "extends"),
        ("[member.Armenia]\ncapability = 0.001\n", "member", "members"),
        ('[aliance]\nleader = "Russia"\n', "aliance", "alliance"),
    ],
    ids=["extend", "member", "alliance"],
)
def test_an_unknown_key_comes_before_the_keys_it_leaves_missing(tmp_path, text, key, suggestion):
    path = write(tmp_path, "x.toml", text)  # nothing extended: time, alliance... are missing
    expect_error(path, key, f"unknown key (did you mean '{suggestion}'?)")


def test_unknown_pole_in_pole_shift(tmp_path):
    text = event(kind='"pole_shift"', pole='"Chinaa"', pull_change="0.1")
    expect_error(child(tmp_path, text), "events.e1.pole", "unknown pole 'Chinaa'", "'China'")


# --- events ----------------------------------------------------------------------------


@pytest.mark.parametrize("date", ["2041-01-01", "2020-06-30", "2040-01-01"])
def test_event_outside_simulated_span(tmp_path, date):
    err = expect_error(child(tmp_path, event(date=date)), "events.e1.date")
    assert err.message == f"the event e1 on {date} is outside the simulated span 2025-2040"


def test_a_span_that_leaves_out_the_parents_record_names_the_file_that_set_it(tmp_path):
    """A scenario that extends the hindcast and ends it in 2020 leaves Armenia's recorded
    freeze of 2024 outside its span: the line names the file and key the user wrote (its
    time.end), not the parent's record."""
    path = write(
        tmp_path, "short.toml", f'extends = "{HINDCAST}"\nname = "short"\n[time]\nend = 2020.0\n'
    )
    err = expect_error(path, "time.end")
    assert err.message.startswith("the record of Armenia on 2024-02-22 is outside")


def test_event_severity_outside_unit_interval(tmp_path):
    expect_error(
        child(tmp_path, event(severity="1.5")),
        "events.e1.severity",
        "less than or equal to 1",
        "(got 1.5)",
    )
    expect_error(
        child(tmp_path, event(severity="-0.2")),
        "events.e1.severity",
        "greater than or equal to 0",
        "(got -0.2)",
    )


def test_unknown_event_kind(tmp_path):
    expect_error(
        child(tmp_path, event(kind='"border_clsh"')),
        "events.e1.kind",
        "unknown event kind 'border_clsh'",
        "did you mean 'border_clash'",
    )


def test_threat_event_needs_member(tmp_path):
    text = '\n[events.e1]\ndate = 2027-03-01\nkind = "terrorism_spillover"\n'
    expect_error(child(tmp_path, text), "events.e1.member", "needs the member")


# --- values outside [0, 1] (shares, commitments) and other ranges --------------


@pytest.mark.parametrize(
    ("text", "key", "fragments"),
    [
        ("[members.Armenia]\ncommitment = 1.2\n", "members.Armenia.commitment", ("(got 1.2)",)),
        ("[members.Armenia]\ntrust = -0.1\n", "members.Armenia.trust", ("(got -0.1)",)),
        ("[poles.EU]\nsecurity_reach = 12\n", "poles.EU.security_reach", ("(got 12)",)),
        (
            "[alliance]\nleader_distraction = 1.5\n",
            "alliance.leader_distraction",
            ("(got 1.5)",),
        ),
        (
            "[parameters]\ncharter_fit = { border_clash = 1.5 }\n",
            "parameters.charter_fit",
            ("border_clash", "outside [0, 1]"),
        ),
        (
            event(kind='"pole_shift"', pole='"EU"', pull_change="6"),
            "events.e1.pull_change",
            ("(got 6)",),
        ),
        (
            "[members.Armenia.hazards]\nborder_clash = -0.5\n",
            "members.Armenia.hazards",
            ("border_clash", ">= 0"),
        ),
        ("[poles.EU]\nstrength = -1\n", "poles.EU.strength", ("-1",)),
        ("[members.Armenia]\ncapability = 1e308\n", "members.Armenia.capability", ("1e+308",)),
    ],
    ids=[
        "commitment",
        "trust",
        "reach",
        "distraction",
        "charter-fit",
        "pull-change",
        "hazard",
        "strength",
        "capability",  # a CINC share: 1e308 overflowed the pair sums
    ],
)
def test_value_out_of_range(tmp_path, text, key, fragments):
    expect_error(child(tmp_path, text), key, *fragments)


@pytest.mark.parametrize(
    ("value", "pair"),
    [
        ("[[2025, 0.8], [2040, nan]]", "pair 1, [2040, nan]"),
        ("[[inf, 0.5]]", "pair 0, [inf, 0.5]"),
        ("[[2025, 0.8, 1]]", "pair 0, [2025, 0.8, 1]"),
    ],
)
def test_a_time_series_names_the_pair_that_is_not_two_finite_numbers(tmp_path, value, pair):
    text = f"[poles.EU]\nstrength = {value}\n"
    expect_error(child(tmp_path, text), "poles.EU.strength", pair, "two finite numbers")


def test_time_series_years_must_increase(tmp_path):
    text = "[poles.EU]\nstrength = [[2030, 0.5], [2025, 0.6]]\n"
    expect_error(child(tmp_path, text), "poles.EU.strength", "years of a time series must increase")


def test_end_before_start(tmp_path):
    expect_error(child(tmp_path, "[time]\nend = 2020.0\n"), "time.end", "not after start")


# --- files and extends -----------------------------------------------------------------


def test_missing_extends_target(tmp_path):
    path = write(tmp_path, "child.toml", 'extends = "nowhere.toml"\n')
    expect_error(path, "extends", "'nowhere.toml'", "does not exist")
    # the message says where it looked: paths are relative to the file, not the working folder
    expect_error(path, "extends", str(tmp_path / "nowhere.toml"), "relative to this file")
    (tmp_path / "sub").mkdir()  # a folder there is not "missing"
    path = write(tmp_path, "child.toml", 'extends = "sub"\nhistory = "sub"\n')
    expect_error(path, "extends", "'sub' is a folder", "not a file")


def test_circular_extends(tmp_path):
    a = write(tmp_path, "a.toml", 'extends = "b.toml"\n')
    b = write(tmp_path, "b.toml", 'extends = "a.toml"\n')
    err = expect_error(a, "extends", "circular extends", file=b)
    assert "a.toml -> b.toml -> a.toml" in err.message


def test_file_extends_itself(tmp_path):
    a = write(tmp_path, "a.toml", 'extends = "a.toml"\n')
    expect_error(a, "extends", "circular extends")


def test_extends_not_a_string(tmp_path):
    expect_error(write(tmp_path, "a.toml", "extends = 3\n"), "extends", "file name")


def test_nonexistent_scenario_file(tmp_path):
    expect_error(tmp_path / "no_such.toml", "", "no such file")


def test_a_scenario_that_is_not_a_regular_file_is_refused_unread(tmp_path):
    """A FIFO would block the reader forever and /dev/zero would fill the memory: both are
    refused before anything is read, named or through extends."""
    fifo = tmp_path / "s.toml"
    os.mkfifo(fifo)
    expect_error(fifo, "", "not a regular file")
    child = write(tmp_path, "c.toml", 'extends = "s.toml"\nname = "c"\n')
    expect_error(child, "extends", "is not a regular file")
    expect_error(Path("/dev/zero"), "", "not a regular file")


@pytest.mark.parametrize(
    ("body", "key", "fragment"),
    [
        ("[time]\nend = 2050.1", "time.end", "not a whole number of steps"),
        ("[time]\nend = 1e300", "time.end", "at most"),
        ("[time]\nstart = 2030.0", "time.start", "the history ends in 2025"),
        ('[alliance]\nleader = "Armenia"', "alliance.leader", "another leader"),
        ('[alliance]\nleader_pole = "China"', "alliance.leader_pole", "another leader"),
    ],
)
def test_a_problem_between_keys_names_the_one_the_loaded_file_changed(
    tmp_path, body, key, fragment
):
    """A child of the baseline that changes one key of a check between several (the span,
    the history's end and leader) is named with that key, not the base file's other key."""
    child = write(
        tmp_path, "child.toml", f'extends = "{BASELINE.as_posix()}"\nname = "c"\n{body}\n'
    )
    expect_error(child, key, fragment)


def test_error_in_base_names_the_base_file(tmp_path):
    base_text = MINIMAL.replace("commitment = 0.2", "commitment = 1.15")
    base = write(tmp_path, "base.toml", base_text)
    path = write(tmp_path, "child.toml", 'extends = "base.toml"\nname = "child"\n')
    expect_error(path, "members.Armenia.commitment", "(got 1.15)", file=base)


def test_unknown_key_in_base_names_the_base_file(tmp_path):
    base_text = MINIMAL.replace("[time]\n", "[time]\nstat = 3\n")
    base = write(tmp_path, "base.toml", base_text)
    path = write(tmp_path, "child.toml", 'extends = "base.toml"\nname = "child"\n')
    expect_error(path, "time.stat", "did you mean 'start'", file=base)


def test_syntax_error_in_base_names_the_base_file(tmp_path):
    base_text = BASELINE.read_text(encoding="utf-8").replace("seed = 2025", "seed = = 2025")
    base = write(tmp_path, "base.toml", base_text)
    path = write(tmp_path, "child.toml", 'extends = "base.toml"\n')
    expect_error(path, "", "TOML syntax error", "line", "column", file=base)


def test_child_override_of_a_bad_base_value_is_fine(tmp_path):
    base_text = MINIMAL.replace("commitment = 0.2", "commitment = 1.15")
    write(tmp_path, "base.toml", base_text)
    path = write(
        tmp_path, "child.toml", 'extends = "base.toml"\n[members.Armenia]\ncommitment = 0.15\n'
    )
    assert load_scenario(path).members["Armenia"].commitment == 0.15


# --- the command line ------------------------------------------------------------------


def run_check(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "csto_sim.cli", "check", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[members.Armenia]\ncommitmnt = 0.3\n", "members.Armenia.commitmnt"),
        (
            "[members.Armenia]\nalignment = { Russia = 0.65, EU = 0.45, China = 0.1, Turkey = 0.1 }\n",
            "members.Armenia.alignment",
        ),
        (event(member='"Armenai"'), "events.e1.member"),
    ],
    ids=["unknown-key", "weights", "event-member"],
)
def test_cli_check_bad_file(tmp_path, text, key):
    path = child(tmp_path, text, name="bad_child.toml")
    result = run_check(path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "bad_child.toml" in lines[0]
    assert key in lines[0]


def test_cli_check_syntax_error(tmp_path):
    path = write(tmp_path, "broken.toml", "name = \n")
    result = run_check(path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "broken.toml" in lines[0] and "line 1" in lines[0]


def test_cli_check_missing_file(tmp_path):
    result = run_check(tmp_path / "absent.toml")
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert "absent.toml" in result.stderr


def test_cli_check_valid_file(tmp_path):
    result = run_check(child(tmp_path, 'name = "fine"\n'))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


def test_a_pole_strength_beyond_the_documented_bound_is_refused(tmp_path):
    """Beyond ``MAX_STRENGTH`` the pulls overflow and answers become NaN with exit 0 (found by
    fuzzing): the loader refuses such a file, naming the key."""
    from csto_sim.core.scenario import MAX_STRENGTH

    path = tmp_path / "s.toml"
    path.write_text(
        f'extends = "{(ROOT / "scenarios" / "baseline.toml").as_posix()}"\n'
        'name = "strong"\n[poles.China]\nstrength = 1e300\n'
    )
    with pytest.raises(ScenarioError, match=r"poles\.China\.strength.*outside \[0, 1000\]"):
        load_scenario(path)
    assert MAX_STRENGTH == 1000.0


def test_a_start_after_the_inherited_end_is_blamed_on_the_file_that_sets_it(tmp_path):
    """The span's two ends may come from two files: the one the loaded file sets is named
    (it was the parent's ``time.end``)."""
    expect_error(child(tmp_path, "[time]\nstart = 2050.0\n"), "time.start", "not after start")


def test_the_security_guarantee_lever_moves_security_offers_only():
    """china_security_guarantee doubles China's security offer to Tajikistan and Kyrgyzstan
    from 2026 and leaves every economic offer as in the baseline (a tie of a kind fitted on
    the EU's partnership agreements lowered China's economic offer)."""
    from csto_sim.core.inputs import compile_inputs

    baseline = load_scenario(BASELINE)
    guarantee = load_scenario(SCENARIOS / "china_security_guarantee.toml")
    base, lever = compile_inputs(baseline), compile_inputs(guarantee)
    assert np.array_equal(lever.economic_offers, base.economic_offers)
    expected = base.offers.copy()
    t, china = int(np.searchsorted(base.years, 2026.0)), baseline.pole_names.index("China")
    for member in ("Tajikistan", "Kyrgyzstan"):
        shift = guarantee.events[f"china_guarantee_{member.lower()}"].pull_change
        assert shift == pytest.approx(np.log(2.0), abs=1e-3)
        expected[t:, baseline.member_names.index(member), china] *= np.exp(shift)
    assert np.allclose(lever.offers, expected, rtol=1e-12, atol=0)


def test_a_scenario_file_cannot_guide_its_runs_by_the_record(tmp_path):
    """Guiding keeps a history to its record; only the filter may do it, weighing each
    history by its chance of the record. A file that asked for it would script the recorded
    outcomes of every run (Armenia frozen in all of them), so it is refused, and ``show``
    does not print the setting."""
    path = tmp_path / "g.toml"
    path.write_text(f'extends = "{HINDCAST.as_posix()}"\nname = "g"\nguided = true\n')
    with pytest.raises(ScenarioError, match=r"guided: not a scenario setting"):
        load_scenario(path)
    shown = subprocess.run(
        [sys.executable, "-m", "csto_sim", "show", str(BASELINE)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "condition = true" in shown and "guided" not in shown


@pytest.mark.parametrize(
    ("text", "key", "fragment"),
    [
        ("[" + ".".join(["a"] * 500) + "]\nz = 1\n", ".".join(["a"] * 33), "nested more than 32"),
        ("z = " + "[" * 40 + "]" * 40 + "\n", ".".join(["z", *"0" * 32]), "nested more than 32"),
        ('description = """one\ntwo"""\n', "description", "one line of printable"),
        ('description = "a\\u0000b"\n', "description", "one line of printable"),
        (
            '[members.Armenia]\nadversaries = ["Azerbaijan", "Azerbaijan"]\n',
            "members.Armenia.adversaries",
            "twice",
        ),
        ('posterior = "prodution"\n', "posterior", "did you mean 'production'"),
    ],
)
def test_deep_multiline_and_repeated_values_are_refused(tmp_path, text, key, fragment):
    """Nesting no reader would survive (it recursed without end), a description that would
    break the report's tables, a repeated adversary, a misspelt posterior name."""
    from csto_sim.core.errors import short

    expect_error(child(tmp_path, text), short(key, 60), fragment)


def test_a_scenario_may_name_no_posterior(tmp_path):
    """``posterior = "none"`` in a file, as ``--posterior none``: its own parameters."""
    from csto_sim.inference.posterior import choose_posterior

    s = load_scenario(child(tmp_path, 'posterior = "none"\n'))
    assert s.posterior == "" and choose_posterior([s]) is None
