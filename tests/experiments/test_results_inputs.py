"""Results folders handed to the program: a damaged manifest, table or derived file ends in
one line naming the file and exit 2; a partial folder fails verification, naming what is
missing, and ``--resume`` completes it to the tables of an uninterrupted run.

The fuzzing of the same readers is in ``test_results_fuzz.py``; both share :func:`made`.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import standalone_text

from csto_sim.cli import main
from csto_sim.experiments import ensemble
from csto_sim.experiments.results import read_table
from csto_sim.experiments.tables import TABLES

CHUNK = 2
"""Runs per chunk here: the 4-run folder has two chunks."""

OPTIONS = ["--runs", "4", "--workers", "1", "--quiet"]


@pytest.fixture(scope="module", autouse=True)
def two_chunks():
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ensemble, "CHUNK", CHUNK)
        yield


def made(tmp_path_factory) -> tuple[list[str], Path]:
    """The ``run`` command of a 4-run standalone baseline (no history to condition on:
    quick) and the finished folder it made, in chunks of :data:`CHUNK` runs (with
    ``report.md`` and ``summary.csv``)."""
    base = tmp_path_factory.mktemp("made")
    scenario = base / "standalone.toml"
    scenario.write_text(standalone_text(), encoding="utf-8")
    run = ["run", str(scenario), *OPTIONS]
    assert main([*run, "--out", str(base / "res")]) == 0
    return run, base / "res"


@pytest.fixture(scope="module")
def made_here(tmp_path_factory, two_chunks) -> tuple[list[str], Path]:
    return made(tmp_path_factory)


@pytest.fixture(scope="module")
def folder(made_here) -> Path:
    return made_here[1]


@pytest.fixture(scope="module")
def run_argv(made_here) -> list[str]:
    return made_here[0]


@pytest.fixture
def copy(folder, tmp_path) -> Path:
    out = tmp_path / "res"
    shutil.copytree(folder, out)
    return out


def one_line(capsys, argv: list[str], names: Path, expected: int = 2) -> str:
    """The one line of a command that ends with ``expected``, naming ``names``."""
    code = main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == expected, err
    assert len(err) == 1 and "Traceback" not in err[0], err
    assert str(names) in err[0], err
    return err[0]


def edit(out: Path, change) -> None:
    path = out / "manifest.json"
    manifest = json.loads(path.read_text())
    path.write_text(json.dumps(change(manifest) or manifest))


def wrong_types(manifest: dict) -> dict:
    """Strings where numbers were, numbers where strings were (the measured case)."""
    swap = {str: lambda v: 5, int: lambda v: "x", float: lambda v: "x", bool: lambda v: "x"}
    return {k: swap.get(type(v), lambda v: v)(v) for k, v in manifest.items()}


def test_a_manifest_that_is_a_list_is_one_line(copy, capsys):
    (copy / "manifest.json").write_text("[1, 2]")
    line = one_line(capsys, ["plot", str(copy)], copy / "manifest.json")
    assert "not a csto-sim manifest" in line


@pytest.mark.parametrize("command", ["plot", "resume"])
def test_a_manifest_of_wrong_types_names_it_and_the_key(copy, capsys, command, run_argv):
    edit(copy, wrong_types)
    argv = ["plot", str(copy)] if command == "plot" else [*run_argv, "--out", str(copy), "--resume"]
    line = one_line(capsys, argv, copy / "manifest.json")
    assert ": runs: expected" in line or ": seed: expected" in line, line


def test_a_scenario_renamed_by_hand_in_the_manifest_is_refused(copy, capsys):
    """The name is outside the contents' checksum: a figure of no runs was a traceback."""
    edit(copy, lambda m: m["scenarios"][0].update(name="other"))
    line = one_line(capsys, ["plot", str(copy)], copy / "manifest.json")
    assert "name: not the name in its contents" in line, line


def _unindexed(manifest: dict) -> None:
    """A chunk without its scenario index (the coverage check was skipped) and a claim of
    1,000 runs its chunks do not hold."""
    next(iter(manifest["chunks"].values())).pop("scenario")
    manifest["runs"] = 1000


def _moved_runs(manifest: dict) -> None:
    """A chunk's runs edited to overlap another's (its rows were read twice)."""
    chunk = next(iter(manifest["chunks"].values()))
    chunk["runs"] = [chunk["runs"][0], chunk["runs"][1] + 1]


@pytest.mark.parametrize(
    ("change", "names"),
    [
        (lambda m: m.update(runs=1000), "chunks: they do not hold 1000 runs of each scenario"),
        (lambda m: m["chunks"].popitem() and None, "they do not hold 4 runs"),
        (_unindexed, "a finished ensemble's chunk names its scenario and runs"),
        (_moved_runs, "its scenario and runs are not its name's"),
        (lambda m: m.update(seed=m["seed"] + 1), "is not identity.seed"),
    ],
)
def test_a_manifest_whose_chunks_do_not_hold_its_runs_is_refused(copy, capsys, change, names):
    edit(copy, change)
    assert names in one_line(capsys, ["plot", str(copy)], copy / "manifest.json")


def test_a_truncated_chunk_is_named(copy, capsys):
    chunk = sorted((copy / "runs").glob("*.parquet"))[0]
    chunk.write_bytes(chunk.read_bytes()[:100])
    assert "damaged" in one_line(capsys, ["plot", str(copy)], chunk)


@pytest.mark.parametrize("table", ["events", "observables"])
def test_a_damaged_chunk_of_a_table_the_command_does_not_read_is_refused(
    copy, capsys, run_argv, table
):
    """A folder verifies itself whole: ``plot`` reads neither the events nor the
    observables, yet a damaged chunk of either is named; the same command again mends it."""
    chunk = sorted((copy / table).glob("*.parquet"))[-1]
    chunk.write_bytes(chunk.read_bytes() + b"\x00\x01")
    assert "damaged" in one_line(capsys, ["plot", str(copy)], chunk)
    assert main([*run_argv, "--out", str(copy)]) == 0
    assert main(["plot", str(copy)]) == 0


def test_a_damaged_summary_is_refused_and_a_rerun_rewrites_it(copy, capsys, run_argv):
    (copy / "summary.csv").write_bytes(b'garbage,"\n\x00\x01\xff')
    assert "damaged" in one_line(capsys, ["plot", str(copy)], copy / "summary.csv")
    assert main([*run_argv, "--out", str(copy)]) == 0  # the same command again: nothing recomputed
    assert pd.read_csv(copy / "summary.csv").shape[0] > 0
    (copy / "summary.csv").unlink()  # one that was removed is simply not there
    assert read_table(copy, "runs").shape[0] == 4


def test_a_damaged_csv_export_is_refused_and_a_rerun_rewrites_it(copy, capsys, run_argv):
    """A folder with chunks and CSV exports: an export edited after the fact is named."""
    assert main([*run_argv, "--out", str(copy), "--format", "csv"]) == 0
    with (copy / "runs.csv").open("a") as f:
        f.write("x\n")
    assert "damaged" in one_line(capsys, ["plot", str(copy)], copy / "runs.csv")
    assert main([*run_argv, "--out", str(copy), "--format", "csv"]) == 0
    assert main(["plot", str(copy)]) == 0


def drop_chunk(out: Path) -> Path:
    chunk = sorted((out / "members").glob("*.parquet"))[1]
    chunk.unlink()
    return chunk


def drop_table(out: Path) -> Path:
    shutil.rmtree(out / "events")
    return out / "events"


def drop_chunks_key(out: Path) -> Path:
    edit(out, lambda m: m.pop("chunks") and None)
    return out / "manifest.json"


def stray_chunk(out: Path) -> Path:
    chunk = sorted((out / "runs").glob("*.parquet"))[0]
    stray = chunk.with_name("000-0000004-0000005.parquet")
    shutil.copy(chunk, stray)
    return stray


def interrupted(out: Path) -> Path:
    """As a run stopped after its first chunk: one chunk listed, no final tables."""

    def cut(m: dict) -> None:
        del m["tables"], m["chunks"][sorted(m["chunks"])[1]]

    edit(out, cut)
    return out


PARTIAL = {
    "chunk_missing": drop_chunk,
    "manifest_without_chunks": drop_chunks_key,
    "table_missing": pytest.param(drop_table, marks=pytest.mark.slow),
    "stray_chunk": pytest.param(stray_chunk, marks=pytest.mark.slow),
    "interrupted": pytest.param(interrupted, marks=pytest.mark.slow),
}


@pytest.mark.parametrize("damage", PARTIAL.values(), ids=PARTIAL.keys())
def test_a_partial_folder_fails_verification_and_resume_completes_it(
    folder, copy, capsys, damage, run_argv
):
    named = damage(copy)
    one_line(capsys, ["plot", str(copy)], named)
    assert main([*run_argv, "--out", str(copy), "--resume"]) == 0
    for t in TABLES:
        pd.testing.assert_frame_equal(read_table(copy, t), read_table(folder, t), obj=t)
    chunks = json.loads((copy / "manifest.json").read_text())["chunks"]
    assert chunks == json.loads((folder / "manifest.json").read_text())["chunks"]


def test_an_unknown_scenario_or_filter_column_is_named_not_an_empty_or_damaged_table(folder):
    """The reader's arguments are checked as the folder is: a scenario the folder does not
    hold was an empty frame or pandas' KeyError, a ``where`` column the table lacks read as
    a damaged table."""
    from csto_sim.experiments.manifest import ResultsError
    from csto_sim.experiments.results import Results

    results = Results.open(folder)
    for call in (
        lambda: results.n_ok("nosuch"),
        lambda: results.runs_label("nosuch"),
        lambda: results.read("runs", scenario="nosuch"),
    ):
        with pytest.raises(ResultsError, match="no scenario 'nosuch'; it holds baseline"):
            call()
    with pytest.raises(ResultsError, match="nosuch: no such column"):
        read_table(folder, "runs", where={"nosuch": 1})
    with pytest.raises(ResultsError, match="run: where: 'x' does not compare with its int"):
        read_table(folder, "runs", where={"run": "x"})
    whole = folder.parent / "whole"  # a table written whole, in a folder without a manifest
    whole.mkdir(exist_ok=True)
    read_table(folder, "runs").to_parquet(whole / "runs.parquet")
    with pytest.raises(ResultsError, match="run: where: 'x' does not compare with its int"):
        read_table(whole, "runs", where={"run": "x"})
    assert len(read_table(whole, "runs", where={"run": 1})) == 1
    assert len(read_table(folder, "runs", where={"run": 1})) == 1
    for value in ([1, 2], None, math.nan):  # matched nothing, or failed deep in the reader
        with pytest.raises(ResultsError, match="run: where: .* is not one value"):
            read_table(folder, "runs", where={"run": value})
    with pytest.raises(ResultsError, match="columns: expected a list of column names"):
        read_table(folder, "runs", columns="run")


def test_a_file_given_as_a_results_folder_is_named_a_file(folder, capsys):
    assert "a file, not a results folder" in one_line(
        capsys, ["plot", str(folder / "report.md")], folder / "report.md"
    )
    assert "no such folder" in one_line(
        capsys, ["plot", str(folder / "nothing")], folder / "nothing"
    )
