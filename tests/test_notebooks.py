"""The notebooks: stored without outputs, public API only, run top to bottom headless.

Every notebook in ``notebooks/`` is executed with nbclient in a Python 3 kernel of the
interpreter running the tests, with ``CSTO_NOTEBOOK_RUNS`` set small so that all of them
together take well under two minutes, its own temporary folder (``TMPDIR``, which must be
empty afterwards) and its results and output folders inside the test's ``tmp_path``. The
tuning notebook's rerun logic (the cells tagged ``rerun-logic``) and the comparison
notebook's search for results (``find-results``) are plain Python and are also called here
directly.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
EXPECTED = {
    "01_quickstart.ipynb",
    "02_tuning.ipynb",
    "03_scenario_comparison.ipynb",
    "04_history.ipynb",
}
SMALL_RUNS = "20"
CELL_TIMEOUT = 900
"""A guard against a hung cell, not a speed check (tests never assert times): on a loaded
two-core machine a cell of the sensitivity notebook took over 120 s."""
WARNINGS_AS_ERRORS = """\
import warnings
for _category in (DeprecationWarning, FutureWarning):
    warnings.filterwarnings("error", category=_category, module=r"(__main__|csto_sim)")
warnings.filterwarnings("error", message=r"(?s).*power of 2")
"""
"""Run in the kernel before the notebook: deprecated APIs used by the notebooks' code or the
package fail the test, as ``-W error::DeprecationWarning`` does in the test process, and so
does a Sobol' design whose size is not a power of two. (Not PYTHONWARNINGS: that would also
turn the kernel's own start-up warnings into errors.)"""


def _read(path: Path):
    return nbformat.read(path, as_version=4)


def _tagged(name: str, tag: str) -> str:
    """The code of a notebook's cells tagged ``tag``, as one plain Python source."""
    cells = [
        c for c in _read(NOTEBOOK_DIR / name).cells if tag in c.get("metadata", {}).get("tags", [])
    ]
    assert cells, f"{name} has no cells tagged {tag}"
    return "\n\n".join(_code(c) for c in cells)


def _code(cell) -> str:
    """A code cell's source without IPython magics, as plain Python."""
    return "\n".join(
        "" if line.lstrip().startswith(("%", "!")) else line for line in cell.source.splitlines()
    )


@pytest.fixture
def kernel_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ``python3`` kernel spec for this interpreter (first on JUPYTER_PATH), small runs, and
    every folder a notebook writes inside ``tmp_path``: its temporary folder ``tmp``, no
    results to read (``results``, absent) and ``tuned`` for the tuning notebook's file."""
    spec = tmp_path / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Python 3 (csto-sim tests)",
                "language": "python",
            }
        )
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("CSTO_NOTEBOOK_RUNS", SMALL_RUNS)
    monkeypatch.setenv("CSTO_TUNED_FOLDER", str(tmp_path / "tuned"))
    monkeypatch.setenv("CSTO_RESULTS", str(tmp_path / "results"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    return tmp_path


def test_the_four_notebooks_are_there():
    assert {p.name for p in NOTEBOOKS} >= EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_without_outputs(path: Path):
    nb = _read(path)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: a code cell has stored outputs"
            assert cell.execution_count is None, f"{path.name}: a code cell has an execution count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_uses_only_the_public_api(path: Path):
    problems = []
    for cell in _read(path).cells:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(_code(cell))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("csto_sim"):
                if any(part.startswith("_") for part in node.module.split(".")):
                    problems.append(f"imports from private module {node.module}")
                problems += [
                    f"imports private {a.name} from {node.module}"
                    for a in node.names
                    if a.name.startswith("_")
                ]
            if isinstance(node, ast.Import):
                problems += [
                    f"imports private module {a.name}"
                    for a in node.names
                    if a.name.startswith("csto_sim") and "._" in a.name
                ]
            if (
                isinstance(node, ast.Attribute)
                and node.attr.startswith("_")
                and not (node.attr.startswith("__") and node.attr.endswith("__"))
            ):
                problems.append(f"uses the private attribute .{node.attr}")
    assert not problems, f"{path.name}: " + "; ".join(problems)


@pytest.mark.slow  # a kernel per notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path: Path, kernel_env: Path):
    nb = _read(path)
    nb.cells.insert(0, nbformat.v4.new_code_cell(WARNINGS_AS_ERRORS))
    client = nbclient.NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    client.execute()  # raises CellExecutionError on the first failing cell
    errors = [
        out
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if out.output_type == "error"
    ]
    assert not errors
    left = sorted(p.name for p in (kernel_env / "tmp").iterdir())
    assert not left, f"{path.name} left temporary files behind: {left}"
    text = "".join(
        out.get("text", "")
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if out.output_type == "stream" and out.name == "stdout"
    )
    if path.name in EXPECTED:
        assert f"{SMALL_RUNS} runs" in text, "the notebook does not report how many runs it made"
    if path.name == "02_tuning.ipynb":
        written = kernel_env / "tuned" / "tuned.toml"
        assert written.is_file(), "the tuning notebook did not write its scenario file"
        assert "the file reproduces the tuned scenario" in text
    if path.name == "03_scenario_comparison.ipynb":
        assert f"no comparison under {kernel_env / 'results'}" in text


# --- the comparison notebook's search for results -----------------------------------------------


def _fake_results(folder: Path, report: bool, age: float) -> Path:
    """A results folder with a manifest (and a report), last written ``age`` seconds ago."""
    folder.mkdir(parents=True)
    files = ["manifest.json", "report.md"] if report else ["manifest.json"]
    for name in files:
        (folder / name).write_text("{}")
        os.utime(folder / name, (1e9 - age, 1e9 - age))
    return folder


def test_comparison_notebook_finds_the_newest_comparison(tmp_path: Path):
    namespace: dict = {"__name__": "comparison_notebook"}
    exec(compile(_tagged("03_scenario_comparison.ipynb", "find-results"), "03", "exec"), namespace)
    latest = namespace["latest_comparison"]
    results = tmp_path / "results"
    assert latest(results) is None  # no results folder at all
    old = _fake_results(results / "compare", report=True, age=300)
    assert latest(results) == old
    assert latest(old) == old  # a comparison folder itself
    newer = _fake_results(results / "compare" / "baseline+2-more-1a2b3c", report=True, age=100)
    _fake_results(results / "baseline", report=False, age=0)  # a run, not a comparison
    _fake_results(results / "compare" / "x" / "chunks", report=False, age=0)
    assert latest(results) == newer
    assert latest(results / "baseline") is None


# --- the tuning notebook's rerun logic, without widgets -----------------------------------------


@pytest.fixture(scope="module")
def tuning(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The namespace of the tuning notebook's ``rerun-logic`` cells (default number of runs)."""
    source = _tagged("02_tuning.ipynb", "rerun-logic")
    assert "ipywidgets" not in source, "the rerun logic must work without widgets"
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("CSTO_NOTEBOOK_RUNS", raising=False)  # the default ensemble
        mp.chdir(NOTEBOOK_DIR)
        namespace: dict = {"__name__": "tuning_notebook"}
        exec(compile(source, "02_tuning.ipynb", "exec"), namespace)
    return namespace


@pytest.mark.slow
def test_tuning_rerun_gives_sensible_outcomes(tuning: dict):
    result = tuning["rerun"]()
    runs = tuning["RUNS"]
    assert 100 <= runs <= 500, "the default rerun should be a small ensemble of a few hundred runs"
    assert result["runs"] == runs and result["failed"] == 0
    cohesion = result["cohesion_final"]
    assert cohesion.shape == (runs,) and np.all((cohesion >= 0) & (cohesion <= 1))
    exits = result["exits"]
    assert list(exits.index) == tuning["BASE"].member_names
    assert ((exits >= 0) & (exits <= 1)).all().all()
    assert np.allclose(exits["out"], exits["frozen"] + exits["withdrawn"])
    assert 0 <= result["collapsed"] <= 1 and 0 <= result["response_rate"] <= 1
    assert result["seconds"] > 0
    assert f"{runs} runs in" in tuning["describe"](result)


def test_tuning_rerun_is_deterministic(tuning: dict):
    a = tuning["rerun"](tuning["DEFAULTS"])
    b = tuning["rerun"](tuning["DEFAULTS"])
    c = tuning["rerun"]()  # the scenario's own values: the same as the defaults
    assert np.array_equal(a["cohesion_final"], b["cohesion_final"])
    assert np.array_equal(a["cohesion_final"], c["cohesion_final"])
    assert a["exits"].equals(b["exits"])


def test_tuning_reruns_the_runs_csto_sim_run_makes(tuning: dict):
    """The scenario as written gives the runs `csto-sim run` gives: over the posterior the
    baseline names, not at the point defaults."""
    from csto_sim import run_ensemble

    assert tuning["POSTERIOR"] is not None
    runs = 30
    made = run_ensemble([tuning["BASE_PATH"]], runs, workers=1, progress=False, tables=("runs",))
    ok = made.read("runs").query("status == 'ok'")["cohesion_final"].to_numpy()
    assert np.array_equal(tuning["rerun"](runs=runs)["cohesion_final"], ok)


@pytest.mark.slow
def test_tuning_rerun_responds_to_parameters_and_strength(tuning: dict):
    base = tuning["rerun"]()
    weaker = tuning["rerun"](leader_strength=0.5)
    assert not np.array_equal(base["cohesion_final"], weaker["cohesion_final"])
    assert weaker["cohesion_final"].mean() < base["cohesion_final"].mean()
    eager = tuning["rerun"]({"freeze_threshold": 0.9})
    assert not eager["exits"].equals(base["exits"])
    assert eager["exits"]["out"].sum() > base["exits"]["out"].sum()
    scenario = tuning["tuned_scenario"]({"freeze_threshold": 0.9}, 0.5)
    assert scenario.parameters.freeze_threshold == 0.9
    assert tuning["BASE"].parameters.freeze_threshold != 0.9  # the base is left alone


def test_tuning_writes_a_scenario_that_csto_sim_check_accepts(tuning: dict, tmp_path: Path):
    # slider values carry binary noise (0.56 - 1e-16 prints as 0.5599999999999999), and so does
    # the leader's strength series times 0.7
    values = dict(tuning["DEFAULTS"]) | {"freeze_threshold": 0.56 - 1e-16, "response_stake": 5.25}
    folder = tmp_path / "my" / "variants"
    path = tuning["write_tuned"](values, 0.7, "weak_russia_v2", folder)
    assert path == folder / "weak_russia_v2.toml"
    text = path.read_text()
    assert 'name = "weak_russia_v2"' in text and "[parameters]" in text
    assert f"[poles.{tuning['LEADER_POLE']}]" in text
    assert "freeze_threshold = 0.56\n" in text
    assert not re.search(r"\d{10}", text), f"numbers with binary noise (16-17 digits):\n{text}"
    extends = re.search(r'^extends = "(.+)"$', text, flags=re.M).group(1)
    assert not Path(extends).is_absolute()
    assert (path.parent / extends).resolve() == tuning["BASE_PATH"].resolve()
    check = subprocess.run(
        [sys.executable, "-m", "csto_sim.cli", "check", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stderr
    assert ": ok (" in check.stdout

    from csto_sim import load_scenario

    loaded = load_scenario(path)
    expected = tuning["tuned_scenario"](values, 0.7)
    assert loaded.name == "weak_russia_v2"
    assert loaded.parameters == expected.parameters
    assert loaded.poles == expected.poles
    assert loaded.members == tuning["BASE"].members
    assert (
        path.read_text() == tuning["write_tuned"](values, 0.7, "weak_russia_v2", folder).read_text()
    )
