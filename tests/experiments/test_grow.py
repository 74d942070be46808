"""Growing a results folder: more runs compute only the new ones and write the tables a fresh
ensemble of that size writes, byte for byte; fewer runs are refused; an interrupted growth
leaves the old tables whole and resumes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import BASELINE, SCENARIOS

from csto_sim.experiments import ensemble as ensemble_module
from csto_sim.experiments.ensemble import Interrupted, run_ensemble
from csto_sim.experiments.results import latest
from csto_sim.experiments.store import FewerRunsError, ResultsExistError, sha256
from csto_sim.experiments.tables import TABLES

WEAK = SCENARIOS / "russia_weakened.toml"
PAIR = [BASELINE, WEAK]


def files(out: Path, fmt: str = "parquet") -> dict[str, bytes]:
    return {t: (out / f"{t}.{fmt}").read_bytes() for t in TABLES}


def manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text())


@pytest.fixture
def computed(monkeypatch) -> list[tuple[str, int]]:
    """The (scenario, run) pairs the ensembles compute (in process: one worker)."""
    seen: list[tuple[str, int]] = []
    real = ensemble_module.run_chunk

    def spy(scenario, runs, *args, **kwargs):
        seen.extend((scenario.name, int(r)) for r in runs)
        return real(scenario, runs, *args, **kwargs)

    monkeypatch.setattr(ensemble_module, "run_chunk", spy)
    return seen


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> dict[str, Path]:
    """Fresh ensembles of 23 runs of two scenarios over the shipped posterior (draws of 10
    runs, so growing from 7 splits a draw), in Parquet and CSV."""
    root = tmp_path_factory.mktemp("fresh")
    out = {}
    for fmt in ("parquet", "csv"):
        out[fmt] = root / fmt
        run_ensemble(PAIR, runs=23, out=out[fmt], workers=1, progress=False, fmt=fmt)
    return out


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_growing_computes_only_the_new_runs_and_writes_the_fresh_tables(
    tmp_path, fresh, computed, fmt
):
    out = tmp_path / "grow"
    run_ensemble(PAIR, runs=7, out=out, workers=1, progress=False, fmt=fmt)
    computed.clear()
    held = []
    run_ensemble(
        PAIR,
        runs=23,
        out=out,
        workers=1,
        progress=False,
        fmt=fmt,
        on_start=lambda _, h: held.append(h),
    )
    assert held == [7]
    assert sorted(computed) == [
        (n, r) for n in ("baseline", "russia_weakened") for r in range(7, 23)
    ]
    assert files(out, fmt) == files(fresh[fmt], fmt)  # byte for byte
    assert manifest(out)["runs"] == 23 and not (out / "chunks").exists()
    computed.clear()
    run_ensemble(PAIR, runs=23, out=out, workers=1, progress=False, fmt=fmt)  # again: nothing
    assert computed == []


def test_a_folder_keeping_its_chunks_grows_from_them(tmp_path, fresh, computed):
    out = tmp_path / "kept"
    run_ensemble(PAIR, runs=7, out=out, workers=1, progress=False, keep_chunks=True)
    (out / "runs.parquet").unlink()  # the chunks alone suffice
    computed.clear()
    run_ensemble(PAIR, runs=23, out=out, workers=1, progress=False)
    assert all(r >= 7 for _, r in computed)
    assert files(out) == files(fresh["parquet"])


def test_fewer_runs_are_refused_and_other_settings_still_are(tmp_path):
    out = tmp_path / "f"
    run_ensemble([BASELINE], runs=6, out=out, workers=1, progress=False)
    before = files(out)
    with pytest.raises(FewerRunsError, match="holds 6 runs per scenario, more than the 4"):
        run_ensemble([BASELINE], runs=4, out=out, workers=1, progress=False)
    with pytest.raises(ResultsExistError, match="other seed"):
        run_ensemble([BASELINE], runs=8, out=out, seed=5, workers=1, progress=False)
    assert files(out) == before and manifest(out)["runs"] == 6


def test_an_interrupted_growth_keeps_the_old_tables_and_resumes(tmp_path, fresh, computed):
    out = tmp_path / "i"
    run_ensemble(PAIR, runs=7, out=out, workers=1, progress=False)
    old, old_manifest = files(out), manifest(out)

    def stop(done: int) -> None:
        if done > 14 + 5:  # the 14 old runs are kept; stop after the first new chunks
            raise KeyboardInterrupt

    computed.clear()
    with pytest.raises(Interrupted):
        run_ensemble(PAIR, runs=23, out=out, workers=1, progress=False, on_chunk=stop)
    first = list(computed)
    assert first and all(r >= 7 for _, r in first)
    # the folder is still the finished 7-run ensemble, verified by its manifest
    assert files(out) == old and manifest(out)["tables"] == old_manifest["tables"]
    assert manifest(out)["runs"] == 7
    assert all(sha256(out / f"{t}.parquet") == old_manifest["tables"][t]["sha256"] for t in TABLES)
    computed.clear()
    run_ensemble(PAIR, runs=23, out=out, workers=1, progress=False)
    assert not set(computed) & set(first)  # what was saved is not computed again
    assert sorted(computed + first) == sorted(
        (n, r) for n in ("baseline", "russia_weakened") for r in range(7, 23)
    )
    assert files(out) == files(fresh["parquet"]) and manifest(out)["runs"] == 23


def test_an_interrupted_growth_can_still_be_finished_smaller(tmp_path, fresh):
    out = tmp_path / "s"
    run_ensemble(PAIR, runs=7, out=out, workers=1, progress=False)
    old = files(out)

    def stop(done: int) -> None:
        if done > 20:
            raise KeyboardInterrupt

    with pytest.raises(Interrupted):
        run_ensemble(PAIR, runs=23, out=out, workers=1, progress=False, on_chunk=stop)
    (out / "events.parquet").write_bytes(b"damaged")  # and the old tables lost their checksums
    run_ensemble(PAIR, runs=7, out=out, workers=1, progress=False)
    assert files(out) == old and not (out / "chunks").exists()


@pytest.mark.slow  # several interrupted ensembles
def test_interrupted_ensembles_of_several_sizes_leave_no_run_twice(tmp_path, fresh):
    """7 runs, 23 interrupted, 12 (its chunks overlap the 23-run ones), then 23: each run
    once, as a fresh ensemble writes it, whether or not the chunks are kept."""
    for keep in (True, False):
        out = tmp_path / f"k{keep}"
        run_ensemble(PAIR, runs=7, out=out, workers=1, progress=False, keep_chunks=keep)

        def stop(done: int) -> None:
            if done > 20:
                raise KeyboardInterrupt

        with pytest.raises(Interrupted):
            run_ensemble(
                PAIR, runs=23, out=out, workers=1, progress=False, on_chunk=stop, keep_chunks=keep
            )
        run_ensemble(PAIR, runs=12, out=out, workers=1, progress=False, keep_chunks=keep)
        run_ensemble(PAIR, runs=23, out=out, workers=1, progress=False, keep_chunks=keep)
        assert files(out) == files(fresh["parquet"]), keep


def test_a_folder_of_an_older_manifest_grows(tmp_path, fresh):
    out = tmp_path / "o"
    run_ensemble(PAIR, runs=7, out=out, workers=1, progress=False)
    old = manifest(out)  # before: runs and chunk size were part of the identity
    old["identity"] |= {"runs": 7, "chunk_size": 5}
    (out / "manifest.json").write_text(json.dumps(old))
    run_ensemble(PAIR, runs=23, out=out, workers=1, progress=False)
    assert files(out) == files(fresh["parquet"])


def test_latest_finds_the_newest_finished_folder(tmp_path):
    assert latest(tmp_path) is None
    base = tmp_path / "compare"
    run_ensemble([BASELINE], runs=2, out=base / "a", workers=1, progress=False)
    run_ensemble([WEAK], runs=2, out=base / "b", workers=1, progress=False)
    assert latest(tmp_path) == base / "b"
    (base / "c").mkdir()
    (base / "c" / "manifest.json").write_text("{}")  # not finished
    assert latest(tmp_path, "compare") == base / "b"
    assert latest(tmp_path, "run") is None
