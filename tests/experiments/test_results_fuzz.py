"""Fuzzing the readers of a results folder: a mutated manifest or a damaged table file never
crashes them.

A small finished folder (:func:`test_results_inputs.made`) is made once; each case copies it,
damages the copy and reads it as ``csto-sim plot`` does (:meth:`Comparison.of`, which opens
it with :meth:`Results.open`, then every table of the manifest) and, for a manifest, as
``run --resume`` does (:func:`~csto_sim.experiments.ensemble.reopen`). Each read either
succeeds or is refused with an :class:`~csto_sim.core.files.InputError` of one line naming
the folder or a file in it (``--resume`` may also refuse with the
:class:`~csto_sim.experiments.store.ResultsExistError` it reports for ``--out``). CI runs
``CSTO_FUZZ_EXAMPLES`` cases per property (default 30, a few seconds); the ``slow`` tests run
1,000::

    CSTO_FUZZ_EXAMPLES=1000 python -m pytest tests/experiments/test_results_fuzz.py -q
"""

from __future__ import annotations

import copy as copying
import json
import math
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from test_results_inputs import made, two_chunks  # noqa: F401  (two_chunks: autouse fixture)

from csto_sim.analysis.comparison import Comparison
from csto_sim.core.files import InputError
from csto_sim.experiments.ensemble import Ensemble, reopen
from csto_sim.experiments.store import ResultsExistError, Store

EXAMPLES = int(os.environ.get("CSTO_FUZZ_EXAMPLES", "30"))
LONG = 1000
"""Cases per property of the ``slow`` tests."""

ODD_VALUES = [None, -1, 1e308, math.nan, "x" * 300, [], {}, True, 10**30, "../x"]
"""What replaces a value of the manifest (NaN is written as JSON ``NaN``)."""

FUZZ = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def made_once(tmp_path_factory, two_chunks) -> tuple[Path, Ensemble, dict]:  # noqa: F811
    """The folder, the ensemble its ``run`` command ran and its manifest, made once for the
    module."""
    run, folder = made(tmp_path_factory)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    spec = Ensemble.of([Path(run[1])], 4)
    # The same posterior samples in every case: digested once, not 3 times a case (60 ms each).
    if spec.posterior is not None:
        known = spec.posterior.digest()
        object.__setattr__(spec.posterior, "digest", lambda: known)
    return folder, spec, manifest


@contextmanager
def copied(folder: Path):
    """A copy of ``folder`` in a fresh temporary folder (one per case)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "res"
        shutil.copytree(folder, out)
        yield out


def key_paths(node, prefix=()):
    """Every key path (dict keys and list positions) of a parsed JSON document."""
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in items:
        yield (*prefix, key)
        if isinstance(value, dict | list):
            yield from key_paths(value, (*prefix, key))


def parent(data, path):
    node = data
    for key in path[:-1]:
        node = node[key]
    return node


@st.composite
def manifest_damage(draw, manifest: dict) -> tuple[str, bytes]:
    """(what was done, the bytes of a mutated manifest)."""
    data = copying.deepcopy(manifest)
    action = draw(st.sampled_from(["replace", "replace", "delete", "add", "truncate", "flip"]))
    if action in ("truncate", "flip"):
        text = json.dumps(data, indent=1).encode()
        if action == "truncate":
            k = draw(st.integers(0, len(text) - 1))
            return f"truncate to {k} bytes", text[:k]
        i, bit = draw(st.integers(0, len(text) - 1)), draw(st.integers(0, 7))
        return f"flip bit {bit} of byte {i}", text[:i] + bytes([text[i] ^ 1 << bit]) + text[i + 1 :]
    paths = list(key_paths(data))
    path = draw(st.sampled_from(paths))
    node = parent(data, path)
    if action == "replace":
        value = draw(st.sampled_from(ODD_VALUES))
        node[path[-1]] = copying.deepcopy(value)
        what = f"replace {list(path)} by {value!r:.40}"
    elif action == "delete":
        del node[path[-1]]
        what = f"delete {list(path)}"
    else:
        while not isinstance(node, dict):  # a key is added to the nearest object
            path = path[:-1]
            node = parent(data, path) if path else data
        key = draw(st.sampled_from(["extra", "x" * 300, "", "tables", "../x"]))
        node[key] = draw(st.sampled_from(ODD_VALUES))
        what = f"add {key[:20]!r} beside {list(path)}"
    return what, json.dumps(data).encode()


def assert_one_line(err: Exception, folder: Path) -> None:
    message = str(err)
    assert "\n" not in message, message
    assert str(folder) in message, message


def read_as_plot(folder: Path) -> None:
    """What ``csto-sim plot`` reads before it draws: the comparison (the manifest, verified,
    and the runs and members tables), then every other table of the manifest."""
    c = Comparison.of(folder)
    for table in c.manifest["tables"]:
        c.results.read(table)


def plot_outcome(folder: Path) -> str:
    try:
        read_as_plot(folder)
    except InputError as err:
        assert_one_line(err, folder)
        return "refused"
    return "read"


def resume_outcome(folder: Path, spec: Ensemble) -> str:
    """What ``run SCENARIO --runs 4 --resume --out FOLDER`` (``spec``) decides before it
    runs anything."""
    try:
        with Store(folder, spec.tables) as store:
            reopen(spec, store, resume=True, overwrite=False, command="run")
    except (InputError, ResultsExistError) as err:
        assert_one_line(err, folder)
        return "refused"
    return "read"


def check_manifest_case(made_once, case) -> None:
    folder, spec, _ = made_once
    what, data = case
    with copied(folder) as out:
        (out / "manifest.json").write_bytes(data)
        event(f"plot: {plot_outcome(out)}")
        event(f"resume: {resume_outcome(out, spec)}")


def test_the_intact_folder_reads_and_resumes(made_once):
    folder, spec, _ = made_once
    with copied(folder) as out:
        assert plot_outcome(out) == "read"
        assert resume_outcome(out, spec) == "read"


@st.composite
def manifest_case(draw):
    return draw(manifest_damage(MANIFEST_HOLDER["manifest"]))


MANIFEST_HOLDER: dict = {}
"""The made folder's manifest, for the strategies (set by the fixture :func:`manifest`)."""


@pytest.fixture(scope="module")
def manifest(made_once) -> dict:
    MANIFEST_HOLDER["manifest"] = made_once[2]
    return made_once[2]


@settings(FUZZ, max_examples=min(EXAMPLES, LONG))
@given(case=manifest_case())
def test_a_mutated_manifest_reads_or_is_refused_in_one_line(made_once, manifest, case):
    check_manifest_case(made_once, case)


@pytest.mark.slow
@settings(FUZZ, max_examples=LONG)
@given(case=manifest_case())
def test_a_mutated_manifest_reads_or_is_refused_in_one_line_long(made_once, manifest, case):
    check_manifest_case(made_once, case)


def damageable(folder: Path) -> list[str]:
    """The files of a folder that a case may damage (relative paths): chunks and derived."""
    return sorted(
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if p.is_file() and p.name != "manifest.json" and not p.name.startswith(".")
    )


FILES_HOLDER: dict = {}


@pytest.fixture(scope="module")
def files(made_once) -> list[str]:
    FILES_HOLDER["files"] = damageable(made_once[0])
    FILES_HOLDER["sizes"] = {f: (made_once[0] / f).stat().st_size for f in FILES_HOLDER["files"]}
    return FILES_HOLDER["files"]


@st.composite
def file_damage(draw) -> tuple[str, str, int, int]:
    """(file, action, position, bit) of one damaged file."""
    name = draw(st.sampled_from(FILES_HOLDER["files"]))
    size = FILES_HOLDER["sizes"][name]
    action = draw(st.sampled_from(["truncate", "flip", "csv", "delete"]))
    return name, action, draw(st.integers(0, max(size - 1, 0))), draw(st.integers(0, 7))


def damage(path: Path, action: str, k: int, bit: int) -> None:
    if action == "delete":
        path.unlink()
        return
    data = path.read_bytes()
    if action == "truncate":
        data = data[:k]
    elif action == "flip":
        data = data[:k] + bytes([data[k] ^ 1 << bit]) + data[k + 1 :]
    else:
        data = b'scenario,run,status\nbaseline,0,"ok\n\x00\xff,1,2,3\n'
    path.write_bytes(data)


def check_file_case(made_once, case) -> None:
    name, action, k, bit = case
    with copied(made_once[0]) as out:
        damage(out / name, action, k, bit)
        event(f"plot: {plot_outcome(out)}")


@settings(FUZZ, max_examples=min(EXAMPLES, LONG))
@given(case=file_damage())
def test_a_damaged_table_file_reads_or_is_refused_in_one_line(made_once, files, case):
    check_file_case(made_once, case)


@pytest.mark.slow
@settings(FUZZ, max_examples=LONG)
@given(case=file_damage())
def test_a_damaged_table_file_reads_or_is_refused_in_one_line_long(made_once, files, case):
    check_file_case(made_once, case)
