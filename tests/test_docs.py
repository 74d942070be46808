"""The documentation tells the truth about the code.

- ``docs/ODD.md``: its parameter table (between the ``parameter-table`` markers) lists every
  behavioural parameter of :class:`csto_sim.core.parameters.Parameters` with its current default,
  unit, meaning, plausible range and source. Defaults are recalibrated from time to time;
  when they change, a failing test prints the regenerated table to paste into ``docs/ODD.md``
  (or run ``python tests/test_docs.py --write`` to replace it in place).
- ``docs/RESULTS.md``: every column its "Tables and columns" table names exists in a real
  results folder (and every column of a real folder is named there).
- ``README.md``: every ``csto-sim`` subcommand is named, and its quick-start test command is
  what ``.ci/run`` runs.
- ``docs/USAGE.md``: every subcommand is documented, and the bound on a scenario error's
  length is stated.
- ``docs/ARCHITECTURE.md``: no module imports a package module its dependency table does
  not allow.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT

ODD = ROOT / "docs" / "ODD.md"
ARCHITECTURE = ROOT / "docs" / "ARCHITECTURE.md"
README = ROOT / "README.md"
RESULTS = ROOT / "docs" / "RESULTS.md"
RESULTS_SECTION = "## Tables and columns"
USAGE = ROOT / "docs" / "USAGE.md"
START, END = "<!-- parameter-table:start -->", "<!-- parameter-table:end -->"

CALIBRATED = "point fit of an earlier calibration; estimated by the posteriors"
JUDGEMENT = "judgement"
BY_PRIOR = {
    "fixed": JUDGEMENT,
    "uniform": "judgement; estimated by the posteriors",
    "searched": "judgement; estimated by the posteriors",
    "hindsight": "judgement (evidence of 2015-2024); estimated by the validation posterior",
}
"""The source of a default with a registry row, by the row's prior."""
OTHER_SOURCES = {
    "tie_security": "fitted on the 2002 cross-section (section 5)",
    "tie_economic": "fitted on the 2002 cross-section (section 5)",
    "collapse_min_active": "definition of an outcome (collapse)",
}
COLUMNS = ("name", "default", "unit", "meaning", "plausible range", "source")


# --- the parameter table: generated from the code ------------------------------------------


def format_value(value: Any) -> str:
    """A default as the table writes it: ``f"{v:g}"`` for numbers, ``kind: value; ...`` for tables."""
    if isinstance(value, dict):
        return "; ".join(f"{k}: {format_value(v)}" for k, v in value.items())
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return f"{value:g}"
    return str(value)


def parameter_rows() -> list[dict[str, str]]:
    """The rows of the ODD's parameter table, from ``parameter_table()`` and the calibration's SEARCHED."""
    from csto_sim.core.parameters import parameter_table
    from csto_sim.hindcast.calibration import SEARCHED

    return [
        {
            "name": row["name"],
            "default": format_value(row["default"]),
            "unit": row["unit"],
            "meaning": row["meaning"],
            "plausible range": f"[{format_value(row['low'])}, {format_value(row['high'])}]",
            "source": source_of(row["name"], SEARCHED),
        }
        for row in parameter_table()
    ]


def source_of(name: str, searched: tuple[str, ...]) -> str:
    """Where a default comes from: its registry row's prior (``parameter.NAME``, ``NAME`` or
    a per-kind ``NAME.KIND``), else the calibration, the 2002 fit or a definition."""
    from csto_sim.core import judgements

    table = judgements.registry()
    rows = [j for key, j in table.items() if key in (f"parameter.{name}", name)]
    rows = rows or [j for key, j in table.items() if key.startswith(f"{name}.")]
    if rows:
        return BY_PRIOR[rows[0].prior]
    return OTHER_SOURCES.get(name, CALIBRATED if name in searched else JUDGEMENT)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def parameter_table_markdown() -> str:
    """The parameter table as Markdown, exactly as it belongs between the markers in docs/ODD.md."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in parameter_rows():
        cells = [f"`{row['name']}`"] + [_cell(row[c]) for c in COLUMNS[1:]]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def documented_rows(text: str) -> dict[str, dict[str, str]]:
    """The parameter table between the markers of an ODD text, by parameter name."""
    assert START in text and END in text, f"docs/ODD.md lacks the markers {START} ... {END}"
    block = text.split(START, 1)[1].split(END, 1)[0]
    rows: dict[str, dict[str, str]] = {}
    for line in block.strip().splitlines():
        line = line.strip()
        if not line.startswith("|") or set(line) <= set("|-: "):
            continue
        cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        if cells[0] == COLUMNS[0]:
            continue
        row = dict(zip(COLUMNS, cells, strict=False))
        rows[row["name"].strip("`")] = row
    return rows


def _fail_with_table(problem: str) -> None:
    pytest.fail(
        f"{problem}\n\nRegenerated table for docs/ODD.md (paste it between {START} and {END}, "
        f"or run `python tests/test_docs.py --write`):\n\n{parameter_table_markdown()}\n",
        pytrace=False,
    )


@pytest.fixture(scope="module")
def odd_rows() -> dict[str, dict[str, str]]:
    return documented_rows(ODD.read_text(encoding="utf-8"))


def test_parameter_table_lists_every_parameter(odd_rows):
    expected = [r["name"] for r in parameter_rows()]
    missing = [n for n in expected if n not in odd_rows]
    unknown = [n for n in odd_rows if n not in expected]
    if missing or unknown:
        _fail_with_table(
            f"docs/ODD.md parameter table: missing {missing or 'none'}; "
            f"not parameters (any more) {unknown or 'none'}"
        )


def test_parameter_table_defaults_are_current(odd_rows):
    stale = [
        f"{r['name']}: table says {odd_rows[r['name']]['default']!r}, code says {r['default']!r}"
        for r in parameter_rows()
        if r["name"] in odd_rows and odd_rows[r["name"]].get("default") != r["default"]
    ]
    if stale:
        _fail_with_table("docs/ODD.md parameter table: stale defaults:\n  " + "\n  ".join(stale))


def test_parameter_table_units_meanings_ranges_and_sources_are_current(odd_rows):
    stale = [
        f"{r['name']}.{col}: table says {odd_rows[r['name']].get(col)!r}, code says {r[col]!r}"
        for r in parameter_rows()
        if r["name"] in odd_rows
        for col in COLUMNS[2:]
        if odd_rows[r["name"]].get(col) != r[col]
    ]
    if stale:
        _fail_with_table("docs/ODD.md parameter table: stale cells:\n  " + "\n  ".join(stale))


def test_format_value_follows_the_documented_convention():
    assert format_value(0.25) == "0.25"
    assert format_value(-6.0) == "-6"
    assert format_value(2) == "2"
    assert format_value({"a": 1.0, "b": 0.35}) == "a: 1; b: 0.35"


# --- docs/RESULTS.md and README: the results folder and the commands ------------------------


def documented_results_table() -> dict[str, list[str] | None]:
    """File -> the columns docs/RESULTS.md's "Tables and columns" table names (None when it
    names none)."""
    text = RESULTS.read_text(encoding="utf-8")
    section = text.split(RESULTS_SECTION, 1)[1].split("\n## ", 1)[0]
    files: dict[str, list[str] | None] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not re.fullmatch(r"`[^`]+`", cells[0]):
            continue
        columns = re.fullmatch(r"`([^`]+)`", cells[2])
        files[cells[0].strip("`")] = (
            [c.strip() for c in columns.group(1).split(",")] if columns else None
        )
    assert files, f"docs/RESULTS.md: no table found under '{RESULTS_SECTION}'"
    return files


@pytest.fixture(scope="module")
def results_folder(tmp_path_factory) -> Path:
    from csto_sim.experiments.ensemble import run_ensemble

    out = tmp_path_factory.mktemp("docs") / "r"
    run_ensemble([ROOT / "scenarios" / "baseline.toml"], runs=2, out=out, workers=1, progress=False)
    return out


def _real_columns(folder: Path, file: str) -> list[str]:
    from csto_sim.experiments.results import read_table

    return list(read_table(folder, file.rstrip("/")).columns)


def test_documented_results_columns_exist_in_a_real_results_folder(results_folder):
    problems = []
    for file, columns in documented_results_table().items():
        if not (results_folder / file).exists():
            problems.append(f"{file}: no such file in a results folder")
            continue
        if columns is None:
            continue
        real = _real_columns(results_folder, file)
        absent = [c for c in columns if c not in real]
        if absent:
            problems.append(f"{file}: docs/RESULTS.md names {absent}, the file has {real}")
    assert not problems, "docs/RESULTS.md results-folder table:\n  " + "\n  ".join(problems)


def test_every_results_column_is_documented(results_folder):
    documented = documented_results_table()
    problems = []
    for path in sorted(p for p in results_folder.iterdir() if p.is_dir()):
        name = f"{path.name}/"
        if name not in documented:
            problems.append(f"{name}: not in the results-folder table of docs/RESULTS.md")
            continue
        extra = [
            c for c in _real_columns(results_folder, name) if c not in (documented[name] or [])
        ]
        if extra:
            problems.append(f"{name}: columns {extra} are not in docs/RESULTS.md")
    assert not problems, "docs/RESULTS.md results-folder table:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("doc", [README, USAGE], ids=["README.md", "docs/USAGE.md"])
def test_every_subcommand_is_documented(doc):
    from csto_sim.cli import build_parser

    parser = build_parser()
    commands = [
        name
        for action in parser._actions
        if isinstance(action, argparse._SubParsersAction)
        for name in action.choices
    ]
    assert commands
    text = doc.read_text(encoding="utf-8")
    missing = [c for c in commands if not re.search(rf"csto-sim {re.escape(c)}\b", text)]
    assert not missing, f"{doc.relative_to(ROOT)} does not document the subcommands {missing}"


CI_RUN = ROOT / ".ci" / "run"
QUICK, REST = '-m "not slow and not browser"', '-m "slow or browser"'


def readme_test_command() -> str:
    """The README's quick-start command that installs what the tests need and runs them."""
    text = README.read_text(encoding="utf-8")
    section = text.split("The second installs everything the tests need", 1)[1]
    block = re.search(r"```bash\n(.*?)\n```", section, re.S)
    assert block, "README.md: no bash block after 'The second installs everything the tests need'"
    return block.group(1).strip()


def test_ci_runs_the_readme_test_command_then_the_slow_and_browser_tests():
    import tomllib

    command = readme_test_command()
    ci = [line.strip() for line in CI_RUN.read_text(encoding="utf-8").splitlines()]
    assert command in ci, ".ci/run does not run the README's test command"
    assert QUICK in command, "the README's test command should leave out slow and browser tests"
    pytest_args = command.split(" -m pytest ", 1)[1]
    rest = f".venv/bin/python -m pytest {pytest_args.replace(QUICK, REST)}"
    assert any(line.startswith(rest) for line in ci), f".ci/run does not run {rest}"
    assert ci.index(command) < next(i for i, line in enumerate(ci) if line.startswith(rest))
    assert f"`{rest}`" in README.read_text(encoding="utf-8"), f"README.md does not give {rest}"
    with open(ROOT / "pyproject.toml", "rb") as f:
        markers = tomllib.load(f)["tool"]["pytest"]["ini_options"]["markers"]
    assert {m.split(":")[0] for m in markers} >= {"slow", "browser"}


def test_usage_states_the_bound_of_a_scenario_error():
    from csto_sim.core.scenario import MAX_MESSAGE

    text = " ".join(USAGE.read_text(encoding="utf-8").split())
    assert f"at most {MAX_MESSAGE} characters after the file's name" in text


# --- ARCHITECTURE: the dependency direction --------------------------------------------------


def _table(section: str) -> list[list[str]]:
    """The rows of the Markdown table in an ARCHITECTURE.md section, as lists of cells."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    part = text.split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    rows = [
        [c.strip() for c in line.strip().strip("|").split("|")]
        for line in part.splitlines()
        if line.startswith("|") and not line.startswith("|---")
    ]
    assert rows, f"docs/ARCHITECTURE.md: no table under '## {section}'"
    return rows[1:]  # without the header


def documented_layers() -> dict[str, set[str]]:
    """Layer -> the layers it may import, from the layers table."""
    allowed = {}
    for cells in _table("Layers"):
        layer = cells[0]
        allowed[layer] = set(re.findall(r"`(\w+)`", cells[3]))
        if cells[3] == "every layer":
            allowed[layer] = {"*"}
    return allowed


def documented_imports() -> dict[str, set[str]]:
    """Module path -> the modules of its own layer it may import, from the dependency table."""
    allowed: dict[str, set[str]] = {}
    for cells in _table("Dependency direction"):
        module = re.fullmatch(r"`(\w+/\w+)\.py`", cells[0])
        if module:
            allowed[module.group(1)] = set(re.findall(r"`(\w+)`", cells[1]))
    return allowed


def runtime_imports(path: Path) -> set[str]:
    """Package modules (``layer/module``) a module imports at run time (imports under
    ``if TYPE_CHECKING`` excluded; the package root counts as ``csto_sim``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for b in node.body for n in ast.walk(b))
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip or not isinstance(node, ast.ImportFrom):
            continue
        parts = (node.module or "").split(".")
        if parts[0] != "csto_sim":
            continue
        if len(parts) >= 3:
            found.add(f"{parts[1]}/{parts[2]}")
        elif len(parts) == 2:
            found.update(f"{parts[1]}/{a.name}" for a in node.names)
        else:
            found.update("csto_sim" for a in node.names if a.name != "__version__")
    return found


def test_modules_import_only_what_the_architecture_allows():
    layers, modules = documented_layers(), documented_imports()
    package = ROOT / "csto_sim"
    problems = []
    for path in sorted(package.glob("*/*.py")):
        layer, name = path.parent.name, path.stem
        if name in ("__init__", "__main__") or layer == "data":
            continue
        if layer not in layers:
            problems.append(f"{layer}/ is not in the layers table")
            continue
        key = f"{layer}/{name}"
        if layer != "cli" and key not in modules:
            problems.append(f"{key}.py is not in the dependency table")
            continue
        for imported in sorted(runtime_imports(path)):
            other = imported.split("/")[0]
            if "*" in layers[layer] or (other != layer and other in layers[layer]):
                continue
            if other == layer and imported.split("/")[1] in modules.get(key, set()):
                continue
            problems.append(f"{key}.py imports {imported}")
    assert not problems, "docs/ARCHITECTURE.md dependency tables:\n  " + "\n  ".join(problems)


def test_every_module_is_in_the_modules_table():
    text = ARCHITECTURE.read_text(encoding="utf-8").split("## Modules", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"`(\w+/\w+)\.py`", text))
    missing = [
        f"{p.parent.name}/{p.stem}"
        for p in sorted((ROOT / "csto_sim").glob("*/*.py"))
        if p.stem not in ("__init__", "__main__")
        and p.parent.name not in ("cli", "data")
        and f"{p.parent.name}/{p.stem}" not in named
    ]
    assert not missing, f"docs/ARCHITECTURE.md modules table misses {missing}"


def test_the_core_does_not_import_mesa():
    for path in sorted((ROOT / "csto_sim" / "core").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        names |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not any(n.split(".")[0] in ("mesa", "solara") for n in names), path


# --- regenerate ------------------------------------------------------------------------------


def write_table(path: Path = ODD) -> None:
    """Replace the parameter table between the markers in docs/ODD.md with the regenerated one."""
    text = path.read_text(encoding="utf-8")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    path.write_text(f"{head}{START}\n{parameter_table_markdown()}\n{END}{tail}", encoding="utf-8")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    if "--write" in sys.argv[1:]:
        write_table()
        print(f"rewrote the parameter table in {ODD}")
    else:
        print(parameter_table_markdown())


def test_calibration_tables_are_made_from_the_shipped_posteriors():
    """docs/calibration.md's posterior tables are what docs/checks/calibration_tables.py
    makes from the shipped files (rerun it after refitting)."""
    import importlib.util

    path = ROOT / "docs" / "checks" / "calibration_tables.py"
    spec = importlib.util.spec_from_file_location("calibration_tables", path)
    tables = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tables)
    text = tables.DOC.read_text(encoding="utf-8")
    assert tables.MARK.search(text), "no marked table"
    assert tables.refreshed(text) == text, "run python docs/checks/calibration_tables.py"


# --- the public API on a page -----------------------------------------------------------------


def test_every_package_names_its_public_api_and_the_docs_list_it():
    """Each package's ``__all__`` resolves name by name, and docs/PYTHON_API.md lists it."""
    import importlib

    text = (ROOT / "docs" / "PYTHON_API.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `(csto_sim[\w.]*)` \| (.*) \|$", text, re.M))
    packages = [
        "csto_sim",
        *(f"csto_sim.{p.parent.name}" for p in ROOT.glob("csto_sim/*/__init__.py")),
    ]
    for name in packages:
        if name in ("csto_sim.cli", "csto_sim.data"):
            continue
        package = importlib.import_module(name)
        assert all(getattr(package, n) is not None for n in package.__all__), name
        assert set(re.findall(r"`(\w+)`", rows.get(name, ""))) == set(package.__all__), name
