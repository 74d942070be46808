"""The scripts for EMA Workbench, SALib and optuna in docs/PYTHON_API.md run as they are.

(They were the README's until it moved them there; the file keeps its name.)
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from conftest import ROOT

DOC = ROOT / "docs" / "PYTHON_API.md"
SECTION = "## Driving csto-sim from EMA Workbench, SALib or optuna"


def examples() -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_the_section_has_one_script_per_tool():
    found = examples()
    assert len(found) == 3
    for tool, script in zip(("ema_workbench", "SALib", "optuna"), found, strict=True):
        assert f"import {tool}" in script or f"from {tool}" in script


@pytest.mark.slow  # each script in a process of its own, with its tool
@pytest.mark.parametrize("index,tool", [(0, "ema_workbench"), (1, "SALib"), (2, "optuna")])
def test_example_runs(index, tool, tmp_path):
    pytest.importorskip(tool)
    script = tmp_path / f"example_{tool}.py"
    script.write_text(examples()[index], encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip(), "the example prints its result"
