"""Faults and bad options end in results identical to an uninterrupted run, or in one line
and exit 2: results folders verify themselves, and no process outlives the command."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import BASELINE, HINDCAST, SCENARIOS

from csto_sim.cli import main
from csto_sim.experiments import ensemble
from csto_sim.experiments.ensemble import Interrupted, run_ensemble
from csto_sim.experiments.results import read_table
from csto_sim.experiments.store import FolderError, ResultsExistError, Store
from csto_sim.experiments.tables import TABLES

WEAK = SCENARIOS / "russia_weakened.toml"
PAIR = [BASELINE, WEAK]
RUN = [
    "compare",
    str(BASELINE),
    str(WEAK),
    "--runs",
    "20",
    "--workers",
    "1",
    "--quiet",
    "--no-plots",
]


pytestmark = pytest.mark.usefixtures("small_chunks")  # chunks of 5 runs


def tables(out: Path) -> dict[str, pd.DataFrame]:
    return {t: read_table(out, t) for t in TABLES}


def checksums(out: Path) -> dict[str, dict]:
    chunks = json.loads((out / "manifest.json").read_text())["chunks"]
    return {name: {t: f["sha256"] for t, f in e["files"].items()} for name, e in chunks.items()}


def assert_same(a: Path, b: Path) -> None:
    ta, tb = tables(a), tables(b)
    for name in TABLES:
        pd.testing.assert_frame_equal(ta[name], tb[name], check_exact=True, obj=name)
    assert checksums(a) == checksums(b)


def one_line_exit(capsys, argv: list[str], expected: int = 2) -> str:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    err = capsys.readouterr().err.strip().splitlines()
    assert code == expected, err
    assert len(err) == 1 and "Traceback" not in err[0], err
    return err[0]


def one_line_exit_2(capsys, argv: list[str]) -> str:
    return one_line_exit(capsys, argv, 2)


@pytest.fixture(scope="module")
def reference(tmp_path_factory, small_chunks) -> Path:
    out = tmp_path_factory.mktemp("ref") / "ref"
    assert main([*RUN, "--out", str(out)]) == 0
    return out


def interrupted(out: Path, after_chunks: int = 4) -> None:
    """An ensemble stopped (as by Ctrl-C) after some chunks, its chunks left on disk."""
    seen = []

    def stop(done: int) -> None:
        seen.append(done)
        if len(seen) == after_chunks:
            raise KeyboardInterrupt

    with pytest.raises(Exception, match="interrupted"):
        run_ensemble(PAIR, runs=20, out=out, workers=1, progress=False, on_chunk=stop)


def resume(out: Path) -> None:
    assert main([*RUN, "--out", str(out), "--resume"]) == 0


def _chunk(out: Path, table: str, n: int = 1) -> Path:
    return sorted((out / table).glob("*.parquet"))[n]


DAMAGE = {
    "delete": lambda out, c: c.unlink(),
    "truncate": lambda out, c: c.write_bytes(c.read_bytes()[: c.stat().st_size // 2]),
    "empty": lambda out, c: c.write_bytes(b""),
    "garbage": lambda out, c: c.write_bytes(b"PAR1" + os.urandom(200)),
    "stray": lambda out, c: (c.parent / "001-0000095-0000099.parquet").write_bytes(c.read_bytes()),
    "half_written": lambda out, c: (c.parent / f".{c.name}.123.tmp").write_bytes(b"PAR1"),
    "manifest_line_lost": lambda out, c: _drop_entry(out, c.stem),
}


def _drop_entry(out: Path, name: str) -> None:
    manifest = json.loads((out / "manifest.json").read_text())
    del manifest["chunks"][name]
    (out / "manifest.json").write_text(json.dumps(manifest))


FAST = {"truncate", "manifest_line_lost", "mid_write", "between_a_chunk_and_its_manifest_entry"}
"""The cases the README's test command runs; the others are marked slow (CI runs them)."""


def _cases(names):
    return [n if n in FAST else pytest.param(n, marks=pytest.mark.slow) for n in sorted(names)]


@pytest.mark.parametrize("fault", _cases(DAMAGE))
@pytest.mark.slow
def test_resume_after_a_damaged_chunk_gives_the_uninterrupted_result(tmp_path, reference, fault):
    out = tmp_path / "e"
    interrupted(out)
    DAMAGE[fault](out, _chunk(out, "timeseries"))
    resume(out)
    assert_same(reference, out)
    assert (
        not list(out.rglob(".*.tmp"))
        and not (out / "timeseries" / "001-0000095-0000099.parquet").exists()
    )


@pytest.mark.slow  # a second ensemble
def test_a_foreign_chunk_with_its_manifest_line_is_refused_and_made_again(
    tmp_path, reference, capsys
):
    other = tmp_path / "other"  # the same scenarios, another seed: another folder's chunk
    assert main([*RUN, "--out", str(other), "--seed", "7"]) == 0
    out = tmp_path / "e"
    shutil.copytree(reference, out)
    name = "000-0000005-0000009"
    for t in TABLES:
        shutil.copy(other / t / f"{name}.parquet", out / t / f"{name}.parquet")
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["chunks"][name] = json.loads((other / "manifest.json").read_text())["chunks"][name]
    (out / "manifest.json").write_text(json.dumps(manifest))
    line = one_line_exit_2(capsys, ["plot", str(out)])
    assert f"{name}.parquet" in line and "another folder" in line
    resume(out)
    assert_same(reference, out)


def test_a_finished_folder_verifies_its_chunks(tmp_path, reference, capsys):
    out = tmp_path / "e"
    shutil.copytree(reference, out)
    damaged = _chunk(out, "runs")
    damaged.write_bytes(b"corrupt")
    line = one_line_exit_2(capsys, ["plot", str(out)])
    assert str(damaged) in line and "damaged" in line
    assert main([*RUN, "--out", str(out)]) == 0  # made again
    assert_same(reference, out)


def test_a_folder_with_tables_but_no_manifest_is_refused(tmp_path, capsys):
    out = tmp_path / "e"
    interrupted(out)
    (out / "manifest.json").unlink()
    with pytest.raises(ResultsExistError, match="no manifest"):
        run_ensemble([BASELINE], runs=20, out=out, workers=1, progress=False, resume=True)
    line = one_line_exit_2(capsys, [*RUN, "--out", str(out), "--resume"])
    assert line.startswith("csto-sim: --out:") and "no manifest" in line


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_a_folder_of_the_users_own_files_is_refused_and_left_as_it_was(tmp_path, capsys, overwrite):
    """--out naming a folder a command did not make (no manifest, files of the user's, even
    under names the results use) is refused in one line, with --overwrite too, and
    nothing in it changes: no file is written, replaced or removed."""
    out = tmp_path / "mine"
    (out / "timeseries").mkdir(parents=True)
    (out / "figures").mkdir()
    files = {"report.md": "my notes", "timeseries/data.csv": "x,y", "figures/my.png": "png"}
    for name, text in files.items():
        (out / name).write_text(text)
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    line = one_line_exit_2(capsys, [*RUN, "--out", str(out), *overwrite])
    assert "not a csto-sim results folder" in line and str(out) in line
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before
    assert all((out / n).read_text() == t for n, t in files.items())
    # an empty folder is fine
    (tmp_path / "empty").mkdir()
    assert main([*RUN, "--out", str(tmp_path / "empty")]) == 0


def test_a_damaged_manifest_is_refused_naming_it_and_overwrite_replaces_it(tmp_path, capsys):
    out = tmp_path / "e"
    out.mkdir()
    (out / "manifest.json").write_text("{broken", encoding="utf-8")
    for again in ([], ["--resume"]):
        line = one_line_exit_2(capsys, [*RUN, "--out", str(out), *again])
        assert str(out / "manifest.json") in line and "not JSON" in line
        assert line.endswith("(--overwrite replaces them)")
    assert main([*RUN, "--out", str(out), "--overwrite"]) == 0


def test_a_link_to_a_missing_folder_is_refused_in_the_python_api(tmp_path):
    (tmp_path / "link").symlink_to(tmp_path / "gone" / "deeper")
    with pytest.raises(FolderError, match="link to a missing folder"):
        run_ensemble(BASELINE, runs=1, out=tmp_path / "link", workers=1, progress=False)


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
    result = run_ensemble([copy, weak], runs=20, out=out, workers=1, progress=False, resume=True)
    assert result.done == 40 and result.failed == 0


def test_a_format_change_on_a_finished_folder_replaces_the_tables(tmp_path, reference):
    out = tmp_path / "e"
    shutil.copytree(reference, out)
    assert main([*RUN, "--out", str(out), "--format", "csv"]) == 0
    exports = sorted(p.name for p in out.glob("*.csv") if p.stem in TABLES)
    assert exports == sorted(f"{t}.csv" for t in TABLES)
    csv_runs = pd.read_csv(out / "runs.csv")
    assert list(csv_runs["run"]) == list(read_table(reference, "runs")["run"])
    assert main([*RUN, "--out", str(out)]) == 0  # back to Parquet: no CSV left
    assert not [p for p in out.glob("*.csv") if p.stem in TABLES]
    assert_same(reference, out)


def test_overwrite_with_fewer_tables_leaves_none_of_the_old_ones(tmp_path, reference):
    out = tmp_path / "e"
    shutil.copytree(reference, out)
    one = ["run", str(BASELINE), "--runs", "10", "--workers", "1", "--quiet", "--out", str(out)]
    assert main([*one, "--tables", "alliance", "--overwrite", "--format", "csv"]) == 0
    made = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert made == ["alliance", "alliance.csv", "manifest.json", "runs", "runs.csv"]


def test_overwrite_by_another_command_leaves_none_of_its_files(tmp_path):
    """run --overwrite on a validate folder: validate's tables and files about the hindcast
    (validation.csv and .txt, outcomes.csv, brier.csv) do not stay beside the new results."""
    out = tmp_path / "v"
    hind = ["--runs", "4", "--workers", "1", "--quiet", "--out", str(out)]
    assert main(
        ["validate", "--no-nulls", "--tables", "runs,events,members,timeseries", *hind]
    ) in (0, 1)
    assert (out / "validation.csv").exists()
    one = ["run", str(BASELINE), "--runs", "2", "--workers", "1", "--quiet", "--out", str(out)]
    assert main([*one, "--tables", "alliance", "--overwrite"]) == 0
    made = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert made == ["alliance", "manifest.json", "runs"]


def test_a_second_writer_is_refused_naming_the_first(tmp_path, capsys):
    out = tmp_path / "e"
    with Store(out, ("runs",)) as first:
        first.open({"identity": {}, "command": "csto-sim run x"})
        line = one_line_exit_2(capsys, [*RUN, "--out", str(out)])
        assert f"pid {os.getpid()}" in line and "csto-sim run x" in line and "--out" in line
    assert main([*RUN, "--out", str(out), "--overwrite"]) == 0  # the lock is gone with it


@pytest.mark.slow
def test_a_full_disk_ends_in_one_line_and_the_folder_resumes(
    tmp_path, reference, capsys, monkeypatch
):
    out = tmp_path / "e"
    calls, real = [], pq.write_table

    def full(table, where, **kw):
        calls.append(where)
        if len(calls) == 15:  # in the third chunk
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(table, where, **kw)

    monkeypatch.setattr(pq, "write_table", full)
    line = one_line_exit_2(capsys, [*RUN, "--out", str(out)])
    assert "disk is full" in line and str(out) in line
    monkeypatch.setattr(pq, "write_table", real)
    resume(out)
    assert_same(reference, out)


def _interrupt(*args, **kwargs):
    raise KeyboardInterrupt


INJECT = {
    "before_the_first_chunk": (ensemble, "_run_plan", 1),
    "mid_write": (pq, "write_table", 8),
    "between_a_chunk_and_its_manifest_entry": (Store, "record", 3),
    "during_export": (Store, "_export", 2),
}
"""Where a SIGINT lands: the function it interrupts (owner, name) and on which call."""


@pytest.mark.parametrize("point", _cases(INJECT))
@pytest.mark.slow
def test_sigint_at_any_point_ends_in_one_line_and_resumes_identically(
    tmp_path, reference, capsys, monkeypatch, point
):
    owner, name, nth = INJECT[point]
    real, calls = getattr(owner, name), []

    def sometimes(*args, **kwargs):
        calls.append(1)
        if len(calls) == nth:
            if point == "mid_write":  # half a file, as a kill leaves it
                Path(args[1]).write_bytes(b"PAR1half")
            if point == "during_export":
                (args[0].root / f".{args[1]}.csv.tmp").write_text("scenario,run\nbase")
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, sometimes)
    out = tmp_path / "e"
    line = one_line_exit(capsys, [*RUN, "--out", str(out), "--format", "csv"], expected=130)
    assert "interrupted" in line and "--resume" in line
    monkeypatch.setattr(owner, name, real)
    assert main([*RUN, "--out", str(out), "--format", "csv", "--resume"]) == 0
    assert_same(reference, out)
    assert pd.read_csv(out / "runs.csv")["run"].tolist() == read_table(out, "runs")["run"].tolist()
    assert not list(out.rglob(".*.tmp"))


def test_bad_options_are_one_line(tmp_path, capsys):
    base = ["run", str(BASELINE), "--runs", "2", "--workers", "1", "--quiet"]
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    assert "is a file" in one_line_exit_2(capsys, [*base, "--out", str(a_file)])
    assert "--out:" in one_line_exit_2(capsys, [*base, "--out", str(a_file / "sub")])
    assert "--out:" in one_line_exit_2(capsys, [*base, "--out", "/proc/csto-sim-x"])
    assert "empty path" in one_line_exit_2(capsys, [*base, "--out", ""])
    assert "from 1 to 1,000,000" in one_line_exit_2(capsys, [*base, "--runs", "1000000000"])
    assert "--tables" in one_line_exit_2(capsys, [*base, "--tables", "runs,nope"])
    compare = ["compare", str(BASELINE), "--runs", "2", "--workers", "1", "--quiet"]
    line = one_line_exit_2(capsys, [*compare, "--out", str(tmp_path / "d"), "--dask", "bogus://x"])
    assert "argument --dask:" in line and "bogus://x" in line  # refused as the line is read
    assert not (tmp_path / "d").exists()
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


def _outliving(pids: list[int], seconds: float) -> list[int]:
    """Those of ``pids`` still running (zombies aside) after waiting up to ``seconds``."""
    psutil = pytest.importorskip("psutil")

    def alive() -> list[int]:
        running = []
        for pid in pids:
            try:
                if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                    running.append(pid)
            except psutil.NoSuchProcess:  # ended between the listing and the look
                pass
        return running

    gone_by = time.time() + seconds
    while alive() and time.time() < gone_by:
        time.sleep(0.05)
    return alive()


@pytest.mark.slow  # three commands of 800 runs in processes of their own
def test_sigterm_stops_like_ctrl_c_and_leaves_no_process(tmp_path):
    pytest.importorskip("psutil")
    out = tmp_path / "e"
    argv = [
        sys.executable, "-m", "csto_sim.cli", "compare", str(BASELINE), str(WEAK),
        "--runs", "400", "--workers", "2", "--no-plots", "--out", str(out),
    ]  # fmt: skip
    proc = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True, start_new_session=True)
    # the filter of the histories comes before the first chunk (about 30 s on one busy
    # core); the wait ends as soon as two chunks are in, the deadline only bounds a hang
    deadline = time.time() + 600
    while time.time() < deadline and len(list((out / "runs").glob("*.parquet"))) < 2:
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

    left = _outliving(children, 5)  # the workers get five seconds to end
    assert not left, f"processes outlived the command: {left}"
    resumed = subprocess.run([*argv, "--resume"], capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    plain = [*argv[:-1], str(tmp_path / "plain")]
    plain[plain.index("--workers") + 1] = "1"
    done = subprocess.run(plain, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert_same(tmp_path / "plain", out)


@pytest.mark.slow  # a command in a process of its own, killed
def test_kill_9_of_the_command_leaves_no_worker_holding_its_output(tmp_path):
    """kill -9 ends the command without a word to its workers; they end within seconds on
    their own, so whoever reads the command's output is not left waiting (they held its
    pipe open for as long as they ran)."""
    pytest.importorskip("psutil")
    out = tmp_path / "e"
    argv = [
        sys.executable, "-m", "csto_sim.cli", "run", str(BASELINE), "--runs", "400",
        "--workers", "2", "--tables", "runs", "--out", str(out),
    ]  # fmt: skip
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 600  # the workers start with the filter; this only bounds a hang
    workers: list[int] = []
    while time.time() < deadline and len(workers) < 3:  # the server and two workers
        workers = _children(proc.pid)
        time.sleep(0.05)
    proc.kill()
    proc.communicate(timeout=60)  # returns once nothing holds the output open

    left = _outliving(workers, 10)
    assert not left, f"processes outlived the killed command: {left}"


def test_a_full_disk_outside_the_store_is_one_line_too():
    from csto_sim.cli.common import usage_message

    full = OSError(errno.ENOSPC, "No space left on device", "/d/report.md")
    assert usage_message(full) == "cannot write /d/report.md: the disk is full"
    assert usage_message(OSError(errno.EACCES, "denied")) is None  # other faults are not


def test_an_interrupted_ensemble_in_memory_says_nothing_is_saved(capsys, monkeypatch):
    from csto_sim.cli import COMMANDS

    def stop(args, argv):
        raise Interrupted(None, 3, 10)

    monkeypatch.setattr(COMMANDS["swing"], "run", stop)
    assert main(["swing", str(BASELINE)]) == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["csto-sim: interrupted after 3 of 10 runs; nothing is saved"]


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_a_folder_of_the_users_beside_the_tables_is_kept(tmp_path, reference, overwrite):
    """A folder of another name is the user's, even holding copies of chunks (it was
    removed as a table folder the results no longer make)."""
    out = tmp_path / "e"
    shutil.copytree(reference, out)
    shutil.copytree(out / "runs", out / "runs_backup")
    (out / "runs_backup" / "NOTES.txt").write_text("mine")
    assert main([*RUN, "--out", str(out), *overwrite]) == 0
    assert (out / "runs_backup" / "NOTES.txt").read_text() == "mine"
    assert len(list((out / "runs_backup").glob("*.parquet"))) == len(list((out / "runs").iterdir()))


def test_a_folder_inside_a_table_folder_is_refused_and_removed_on_resume(
    tmp_path, reference, capsys
):
    """A reader of the table folder (pyarrow, pandas) would take its files in as rows."""
    out = tmp_path / "e"
    shutil.copytree(reference, out)
    (out / "runs" / "old").mkdir()
    shutil.copy(_chunk(out, "runs"), out / "runs" / "old")
    line = one_line_exit_2(capsys, ["plot", str(out)])
    assert str(out / "runs" / "old") in line and "--resume removes it" in line
    assert main([*RUN, "--out", str(out), "--resume"]) == 0
    assert not (out / "runs" / "old").exists()
    assert_same(reference, out)


def test_an_unfinished_folder_is_not_read_as_if_complete(tmp_path):
    out = tmp_path / "e"
    interrupted(out)
    with pytest.raises(Exception, match="unfinished results; finish them with --resume"):
        read_table(out, "runs")


def test_a_folder_being_written_is_named_so_to_readers(tmp_path, capsys):
    out = tmp_path / "e"
    interrupted(out)
    with Store(out, ("runs",)) as writer:
        writer.open({"identity": {}, "command": "csto-sim run x"}, overwrite=True)
        line = one_line_exit_2(capsys, ["plot", str(out)])
        assert f"being written by pid {os.getpid()}" in line and "csto-sim run x" in line
    line = one_line_exit_2(capsys, ["plot", str(out)])  # the writer is gone
    assert "unfinished results; finish them with --resume" in line


def test_growing_a_folder_first_removes_what_was_made_from_its_tables(tmp_path):
    """Reports, figures and CSV exports of fewer runs go before new chunks are written, so an
    interrupted extension leaves none that describe the old tables; the resume writes them
    again."""
    out = tmp_path / "e"
    ten = [*RUN[:4], "10", *RUN[5:], "--out", str(out), "--format", "csv"]
    assert main(ten) == 0
    (out / "figures").mkdir()
    (out / "figures" / "cohesion.png").write_bytes(b"png")
    made = ["report.md", "summary.csv", "runs.csv", "figures"]
    assert all((out / name).exists() for name in made)
    interrupted(out, after_chunks=1)  # 20 runs asked: new chunks
    assert not [name for name in made if (out / name).exists()]
    assert main([*RUN, "--out", str(out), "--format", "csv", "--resume"]) == 0
    assert len(pd.read_csv(out / "runs.csv")) == 40 and (out / "report.md").exists()


def test_the_resume_hint_after_an_overwrite_does_not_start_over(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(ensemble, "_run_plan", _interrupt)
    out = tmp_path / "e"
    line = one_line_exit(capsys, [*RUN, "--out", str(out), "--overwrite"], expected=130)
    assert line.endswith("--resume") and "--overwrite" not in line
