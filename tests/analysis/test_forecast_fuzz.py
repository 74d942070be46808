"""Fuzzing the question, forecast and resolution files: mutated bundled files never crash.

Every mutated file either loads or is refused with one :class:`~csto_sim.core.files.InputError`
line that names the file. The quick test draws a few dozen cases per file kind; the slow one
``CSTO_FILE_FUZZ_EXAMPLES`` (default 1000) per kind::

    python -m pytest tests/analysis/test_forecast_fuzz.py -m slow --hypothesis-show-statistics
"""

from __future__ import annotations

import copy
import math
import os
import tomllib

import pytest
import tomli_w
from conftest import ROOT
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from csto_sim.analysis.forecast import load_questions, read_forecast, read_resolutions
from csto_sim.core.files import MAX_LINE, InputError

SLOW_EXAMPLES = int(os.environ.get("CSTO_FILE_FUZZ_EXAMPLES", "1000"))
QUESTIONS = (ROOT / "forecasts" / "questions_2026_2030.toml").read_text(encoding="utf-8")
FORECAST = (ROOT / "forecasts" / "forecast_2026_2030.csv").read_text(encoding="utf-8")
RESOLUTIONS = "id,outcome,date,source\n" + "".join(
    f"{line.split(',')[0]},{outcome},2028-01-01,news\n"
    for line, outcome in zip(FORECAST.splitlines()[1:], ["yes", "no", "", "No"] * 3, strict=False)
)
"""A resolutions file of the bundled forecast's questions (none has resolved yet)."""

ODD_TEXT = st.sampled_from(
    ["", "nan", "inf", "-1", "1.5", "1e400", "9" * 500, "x" * 400, "yes", '"', '"a""b"', "a,b"]
    + ["\x00", "\ufeff", "é", "\r", "\n", " ", "2027-02-30", "@id", "../x", "True"]
)
ODD_VALUES = st.sampled_from(
    [math.nan, math.inf, 0, -1, 2**70, "", "x" * 600, "a\x00b", True, [], {}, ["Armenia"] * 3]
    + ["2027-02-30", "Narnia", [["x"]], {"a": 1}, "/dev/zero", "../scenarios/baseline.toml"]
)


def paths(data, prefix=()):
    """Every key path (and list position) of a parsed TOML document."""
    items = enumerate(data) if isinstance(data, list) else data.items()
    for key, value in items:
        yield (*prefix, key)
        if isinstance(value, (dict, list)):
            yield from paths(value, (*prefix, key))


def node_of(data, path):
    for key in path[:-1]:
        data = data[key]
    return data


@st.composite
def question_texts(draw):
    """A bundled question file with a few values replaced, dropped or added."""
    data = copy.deepcopy(tomllib.loads(QUESTIONS))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(list(paths(data))))
        node = node_of(data, path)
        action = draw(st.sampled_from(["replace", "replace", "drop", "add"]))
        if action == "replace":
            node[path[-1]] = copy.deepcopy(draw(ODD_VALUES))
        elif action == "drop":
            del node[path[-1]]
        elif isinstance(node, dict):
            node[draw(st.sampled_from(["extra", "Id", "x" * 300]))] = draw(ODD_VALUES)
    try:
        return tomli_w.dumps(data)
    except (TypeError, ValueError):  # a value TOML cannot hold (a NUL in a key)
        return QUESTIONS


@st.composite
def csv_texts(draw, base):
    """A bundled CSV file with a cell, a line or the bytes changed."""
    lines = base.splitlines()
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["cell", "cell", "drop", "repeat", "field", "cut"]))
        cells = lines[i].split(",")
        if action == "cell":
            cells[draw(st.integers(0, len(cells) - 1))] = draw(ODD_TEXT)
            lines[i] = ",".join(cells)
        elif action == "drop" and len(lines) > 1:
            del lines[i]
        elif action == "repeat":
            lines.insert(i, lines[i])
        elif action == "field":
            lines[i] += "," + draw(ODD_TEXT)
        else:
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
    return "\n".join(lines) + draw(st.sampled_from(["\n", "", "\r\n"]))


def files(text_strategy):
    """Bytes of a mutated file: its text, or that text with bytes that are not UTF-8, a
    byte-order mark, or cut anywhere."""

    @st.composite
    def draw_bytes(draw):
        data = draw(text_strategy).encode("utf-8")
        how = draw(st.sampled_from(["as is", "as is", "bom", "cut", "bad byte"]))
        if how == "bom":
            return b"\xef\xbb\xbf" + data
        if how == "cut":
            return data[: draw(st.integers(0, len(data)))]
        if how == "bad byte":
            at = draw(st.integers(0, len(data)))
            return data[:at] + draw(st.sampled_from([b"\xff", b"\x00", b"\xc3"])) + data[at:]
        return data

    return draw_bytes()


KINDS = {
    "questions.toml": (files(question_texts()), load_questions),
    "forecast.csv": (files(csv_texts(FORECAST)), read_forecast),
    "resolutions.csv": (files(csv_texts(RESOLUTIONS)), read_resolutions),
}


def loads_or_names_the_file(kind: str, data: bytes, tmp_path) -> None:
    """The file loads, or one InputError line names it; any other exception fails."""
    path = tmp_path / kind
    path.write_bytes(data)
    try:
        KINDS[kind][1](path)
    except InputError as err:
        message = str(err)
        assert "\n" not in message, message
        assert message.startswith(f"{path}: "), message
        assert len(message) <= len(str(path)) + MAX_LINE + 2, message
        event("refused")
        return
    event("loaded")


def fuzz(examples: int):
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


@pytest.mark.parametrize("kind", list(KINDS))
def test_the_bundled_files_load(kind, tmp_path):
    text = {"questions.toml": QUESTIONS, "forecast.csv": FORECAST}.get(kind, RESOLUTIONS)
    (tmp_path / kind).write_text(text, encoding="utf-8")
    KINDS[kind][1](tmp_path / kind)


@pytest.mark.parametrize("kind", list(KINDS))
def test_mutated_files_load_or_are_refused_in_one_line(kind, tmp_path):
    folder = tmp_path

    @fuzz(20)
    @given(data=KINDS[kind][0])
    def check(data):
        loads_or_names_the_file(kind, data, folder)

    check()


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(KINDS))
def test_many_mutated_files_load_or_are_refused_in_one_line(kind, tmp_path):
    folder = tmp_path

    @fuzz(SLOW_EXAMPLES)
    @given(data=KINDS[kind][0])
    def check(data):
        loads_or_names_the_file(kind, data, folder)

    check()
