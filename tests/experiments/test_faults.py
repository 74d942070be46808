"""Faults and bad options end in results identical to an uninterrupted run, or in one line
and exit 2: results folders verify themselves, and no process outlives the command."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import BASELINE, HINDCAST, SCENARIOS

from csto_sim.cli import main
from csto_sim.experiments.ensemble import ensemble_store, run_ensemble
from csto_sim.experiments.store import ResultsExistError
from csto_sim.experiments.tables import TABLES

WEAK = SCENARIOS / "russia_weakened.toml"


def tables(out: Path) -> dict[str, pd.DataFrame]:
    return {t: pd.read_parquet(out / f"{t}.parquet") for t in TABLES}


def assert_same(a: Path, b: Path) -> None:
    ta, tb = tables(a), tables(b)
    for name in TABLES:
        pd.testing.assert_frame_equal(ta[name], tb[name], check_exact=True, obj=name)


def one_line_exit_2(capsys, argv: list[str]) -> str:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0], err
    return err[0]


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ref") / "ref"
    run_ensemble([BASELINE, WEAK], runs=40, out=out, workers=1, chunk_size=5, progress=False)
    return out


def interrupted(out: Path, after_chunks: int = 4) -> None:
    """An ensemble stopped (as by Ctrl-C) after some chunks, its chunks left on disk."""
    seen = []

    def stop(done: int) -> None:
        seen.append(done)
        if len(seen) == after_chunks:
            raise KeyboardInterrupt

    with pytest.raises(Exception, match="interrupted"):
        run_ensemble(
            [BASELINE, WEAK],
            runs=40,
            out=out,
            workers=1,
            chunk_size=5,
            progress=False,
            on_chunk=stop,
        )
    assert not (out / "runs.parquet").exists()


@pytest.fixture(scope="module")
def interrupted_once(tmp_path_factory) -> Path:
    """A folder :func:`interrupted` left, made once for the tests that each damage a copy."""
    out = tmp_path_factory.mktemp("interrupted") / "e"
    interrupted(out)
    return out


@pytest.mark.slow  # 21 interrupted and resumed ensembles (about 90 s)
@pytest.mark.parametrize(
    "fault",
    ["none", "delete", "truncate", "empty", "garbage", "stray", "ledger_cut"],
)
@pytest.mark.parametrize("table", ["runs", "timeseries", "events"])
def test_resume_after_a_damaged_chunk_gives_the_uninterrupted_result(
    tmp_path, reference, interrupted_once, fault, table
):
    out = tmp_path / "e"
    shutil.copytree(interrupted_once, out)
    chunk = sorted((out / "chunks" / table).glob("*.parquet"))[1]
    if fault == "delete":
        chunk.unlink()
    elif fault == "truncate":
        chunk.write_bytes(chunk.read_bytes()[: chunk.stat().st_size // 2])
    elif fault == "empty":
        chunk.write_bytes(b"")
    elif fault == "garbage":
        chunk.write_bytes(b"PAR1" + os.urandom(200))
    elif fault == "stray":  # a file the ledger never recorded: dropped, never mixed in
        (out / "chunks" / table / "baseline__0000035-0000039.parquet").write_bytes(
            chunk.read_bytes()
        )
    elif fault == "ledger_cut":
        ledger = out / "chunks" / "ledger.jsonl"
        ledger.write_text(ledger.read_text()[:-30])
    run_ensemble(
        [BASELINE, WEAK], runs=40, out=out, workers=1, chunk_size=5, progress=False, resume=True
    )
    assert_same(reference, out)
    assert not (out / "chunks").exists()  # removed after assembly


def test_a_folder_with_chunks_but_no_manifest_is_refused(tmp_path, capsys):
    out = tmp_path / "e"
    interrupted(out)
    (out / "manifest.json").unlink()
    with pytest.raises(ResultsExistError, match="no manifest"):
        run_ensemble([BASELINE], runs=20, out=out, workers=1, progress=False, resume=True)
    line = one_line_exit_2(
        capsys, ["run", str(BASELINE), "--runs", "20", "--out", str(out), "--resume"]
    )
    assert line.startswith("csto-sim: --out:") and "no manifest" in line


def test_a_finished_folder_verifies_its_tables(tmp_path, reference):
    out = tmp_path / "e"
    run_ensemble([BASELINE, WEAK], runs=40, out=out, workers=1, chunk_size=5, progress=False)
    assert_same(reference, out)
    (out / "events.parquet").write_bytes(b"corrupt")
    run_ensemble([BASELINE, WEAK], runs=40, out=out, workers=1, chunk_size=5, progress=False)
    assert_same(reference, out)  # a table that no longer matches its checksum is made again


def test_resume_identity_is_the_content_not_the_path_or_comments(tmp_path):
    out = tmp_path / "e"
    interrupted(out)
    copy = tmp_path / "elsewhere" / "baseline.toml"
    copy.parent.mkdir()
    text = BASELINE.read_text(encoding="utf-8")
    copy.write_text("# a comment that changes nothing\n" + text, encoding="utf-8")
    history = copy.parent / HINDCAST.name  # the history it continues, copied beside it
    history.write_text(HINDCAST.read_text(encoding="utf-8"), encoding="utf-8")
    weak = tmp_path / "elsewhere" / "weak.toml"
    weak.write_text(f'extends = "{WEAK.as_posix()}"\n', encoding="utf-8")
    result = run_ensemble(
        [copy, weak], runs=40, out=out, workers=1, chunk_size=5, progress=False, resume=True
    )
    assert result.done == 80 and result.failed == 0


def test_tables_option_and_kept_chunks(tmp_path):
    out = tmp_path / "t"
    argv = ["run", str(BASELINE), "--runs", "10", "--workers", "1", "--quiet", "--out", str(out)]
    assert main([*argv, "--tables", "alliance", "--keep-chunks"]) == 0
    assert sorted(p.name for p in out.glob("*.parquet")) == ["alliance.parquet", "runs.parquet"]
    assert (out / "chunks" / "ledger.jsonl").exists()
    assert main([*argv, "--tables", "alliance,runs", "--keep-chunks"]) == 0  # the same set


def test_bad_options_are_one_line(tmp_path, capsys):
    base = ["run", str(BASELINE), "--runs", "2", "--workers", "1", "--quiet"]
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    assert "is a file" in one_line_exit_2(capsys, [*base, "--out", str(a_file)])
    assert "--out:" in one_line_exit_2(capsys, [*base, "--out", str(a_file / "sub")])
    assert "--out:" in one_line_exit_2(capsys, [*base, "--out", "/proc/csto-sim-x"])
    assert "empty path" in one_line_exit_2(capsys, [*base, "--out", ""])
    started = time.perf_counter()
    assert "at most 1,000,000" in one_line_exit_2(capsys, [*base, "--runs", "1000000000"])
    assert time.perf_counter() - started < 5
    assert "--tables" in one_line_exit_2(capsys, [*base, "--tables", "runs,nope"])
    compare = ["compare", str(BASELINE), "--runs", "2", "--workers", "1", "--quiet"]
    line = one_line_exit_2(capsys, [*compare, "--out", str(tmp_path / "d"), "--dask", "bogus://x"])
    assert line.startswith("csto-sim: --dask:")
    out = tmp_path / "m"
    assert main([*base, "--out", str(out)]) == 0
    (out / "manifest.json").write_text("{not json")
    assert "unreadable" in one_line_exit_2(capsys, ["plot", str(out)])
    assert "unreadable" in one_line_exit_2(capsys, [*base, "--out", str(out), "--resume"])
    (out / "manifest.json").write_text("[]")
    assert "not a csto-sim manifest" in one_line_exit_2(capsys, ["plot", str(out)])


def test_nothing_is_written_outside_the_results_folder(tmp_path):
    evil = tmp_path / "evil.toml"
    evil.write_text(f'extends = "{BASELINE.as_posix()}"\nname = "../../escaped"\n')
    assert main(["run", str(evil), "--out", str(tmp_path / "r" / "out")]) == 2
    before = {p for p in tmp_path.rglob("*")}
    run_ensemble([BASELINE], runs=10, out=tmp_path / "r" / "out", workers=2, progress=False)
    after = {p for p in tmp_path.rglob("*")} - before
    inside = tmp_path / "r"  # the folder and its parent, made for it
    assert after and all(p == inside or p.is_relative_to(inside / "out") for p in after)


def _children(pid: int) -> list[int]:
    psutil = pytest.importorskip("psutil")
    return [c.pid for c in psutil.Process(pid).children(recursive=True)]


@pytest.mark.slow  # three commands of 800 runs in processes of their own
def test_sigterm_stops_like_ctrl_c_and_leaves_no_process(tmp_path, reference):
    psutil = pytest.importorskip("psutil")
    out = tmp_path / "e"
    argv = [
        sys.executable, "-m", "csto_sim.cli", "compare", str(BASELINE), str(WEAK),
        "--runs", "400", "--workers", "2", "--no-plots", "--out", str(out),
    ]  # fmt: skip
    proc = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True, start_new_session=True)
    ledger = out / "chunks" / "ledger.jsonl"
    deadline = time.time() + 60
    while time.time() < deadline and (
        not ledger.exists() or len(ledger.read_text().splitlines()) < 2
    ):
        time.sleep(0.02)
    children = _children(proc.pid)
    assert children, "the workers run as child processes"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143, err
    lines = [line for line in err.strip().splitlines() if line.startswith("csto-sim:")]
    assert lines[0] == f"csto-sim: results folder: {out}/"  # said at the start
    lines = lines[1:]
    assert len(lines) == 1 and "terminated" in lines[0] and "--resume" in lines[0], err

    def alive() -> list[int]:
        running = []
        for pid in children:
            try:
                if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                    running.append(pid)
            except psutil.NoSuchProcess:  # ended between the listing and the look
                pass
        return running

    gone_by = time.time() + 5  # the workers get five seconds to end
    while alive() and time.time() < gone_by:
        time.sleep(0.05)
    assert not alive(), f"processes outlived the command: {alive()}"
    resumed = subprocess.run([*argv, "--resume"], capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    plain = [*argv[:-1], str(tmp_path / "plain")]
    plain[plain.index("--workers") + 1] = "1"
    done = subprocess.run(plain, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert_same(tmp_path / "plain", out)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_tables_written_as_chunks_arrive_equal_a_full_assembly(tmp_path, fmt):
    out = tmp_path / "s"
    run_ensemble(
        [BASELINE, WEAK],
        runs=12,
        out=out,
        workers=1,
        chunk_size=5,
        progress=False,
        fmt=fmt,
        keep_chunks=True,
    )
    streamed = {p.name: p.read_bytes() for p in out.glob(f"*.{fmt}")}
    store = ensemble_store(out, fmt)
    order = sorted(e["stem"] for e in store.saved())
    store.assemble(order, keep_chunks=True)
    assert {p.name: p.read_bytes() for p in out.glob(f"*.{fmt}")} == streamed
    assert len(streamed) == len(TABLES)


def test_a_chunk_with_other_columns_ends_streaming_and_the_tables_are_assembled_whole(tmp_path):
    out = tmp_path / "f"
    store = ensemble_store(out)
    store.prepare({"identity": {}}, resume=False, overwrite=False)
    first = pd.DataFrame({"scenario": ["a", "a"], "run": [0, 1], "status": ["ok", "ok"]})
    second = pd.DataFrame(  # a failed run: a message column the first chunk has not
        {"scenario": ["a"], "run": [2], "status": ["error"], "message": ["boom"]}
    )
    stems = ["a__0000000-0000001", "a__0000002-0000002"]
    with store.assembly(stems) as assembly:
        for stem, frame in zip(stems, (first, second), strict=True):
            store.record(store.write_chunk(stem, {"runs": frame}))
            assembly.add(stem)
        assembly.finish()
    runs = pd.read_parquet(out / "runs.parquet")
    assert list(runs["run"]) == [0, 1, 2]
    assert runs["message"].isna().tolist() == [True, True, False]
    assert not (out / ".runs.parquet.tmp").exists() and not (out / "chunks").exists()


def test_an_interrupted_assembly_leaves_no_partial_table(tmp_path):
    out = tmp_path / "i"
    interrupted(out, after_chunks=3)  # some chunks already written into the final tables
    assert not list(out.glob("*.parquet")) and not list(out.glob(".*.tmp"))
