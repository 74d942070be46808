"""Growing a results folder: more runs compute only the new ones and read as the tables a
fresh ensemble of that size writes; fewer runs are refused; an interrupted growth resumes."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import BASELINE, SCENARIOS

from csto_sim.experiments import ensemble as ensemble_module
from csto_sim.experiments.ensemble import Interrupted, run_ensemble
from csto_sim.experiments.results import Results, ResultsError, latest, read_table
from csto_sim.experiments.store import FewerRunsError, ResultsExistError
from csto_sim.experiments.tables import TABLES
from csto_sim.inference import conditioning

WEAK = SCENARIOS / "russia_weakened.toml"
HINDCAST = SCENARIOS / "hindcast_2002_2024.toml"
PAIR = [BASELINE, WEAK]


pytestmark = pytest.mark.usefixtures("small_chunks")  # chunks of 5 runs


def frames(out: Path) -> dict[str, pd.DataFrame]:
    return {t: read_table(out, t) for t in TABLES}


def assert_same(a: Path, b: Path) -> None:
    fa, fb = frames(a), frames(b)
    for t in TABLES:
        pd.testing.assert_frame_equal(fa[t], fb[t], check_exact=True, obj=t)


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
def fresh(tmp_path_factory, small_chunks) -> Path:
    """A fresh ensemble of 23 runs of two scenarios over the shipped posterior (draws of 10
    runs, so growing from 7 splits a draw)."""
    out = tmp_path_factory.mktemp("fresh") / "f"
    run_ensemble(PAIR, runs=23, out=out, workers=1, progress=False)
    return out


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
@pytest.mark.slow
def test_growing_computes_only_the_new_runs_and_reads_as_the_fresh_tables(
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
    assert_same(out, fresh)
    assert manifest(out)["runs"] == 23
    if fmt == "csv":
        exported = pd.read_csv(out / "runs.csv")
        assert exported["run"].tolist() == read_table(fresh, "runs")["run"].tolist()
    computed.clear()
    run_ensemble(PAIR, runs=23, out=out, workers=1, progress=False, fmt=fmt)  # again: nothing
    assert computed == []


def test_fewer_runs_are_refused_and_other_settings_still_are(tmp_path):
    out = tmp_path / "f"
    run_ensemble([BASELINE], runs=6, out=out, workers=1, progress=False)
    before = frames(out)
    with pytest.raises(FewerRunsError, match="holds 6 runs per scenario, more than the 4"):
        run_ensemble([BASELINE], runs=4, out=out, workers=1, progress=False)
    with pytest.raises(ResultsExistError, match="other seed"):
        run_ensemble([BASELINE], runs=8, out=out, seed=5, workers=1, progress=False)
    with pytest.MonkeyPatch.context() as patch:  # another filter continues other histories
        patch.setattr(conditioning, "BLOCK", conditioning.BLOCK * 2)
        with pytest.raises(ResultsExistError, match="other filter"):
            run_ensemble([BASELINE], runs=8, out=out, workers=1, progress=False)
    assert manifest(out)["runs"] == 6
    for t in TABLES:
        pd.testing.assert_frame_equal(read_table(out, t), before[t])


def test_the_filter_is_no_part_of_a_folder_that_conditions_nothing(tmp_path):
    out = tmp_path / "h"  # the hindcast is not conditioned: its runs never see the filter
    run_ensemble([HINDCAST], runs=2, out=out, workers=1, progress=False)
    assert manifest(out)["identity"]["filter"] is None
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(conditioning, "BLOCK", conditioning.BLOCK * 2)
        run_ensemble([HINDCAST], runs=3, out=out, workers=1, progress=False)
    assert manifest(out)["runs"] == 3


def _interrupted_growth(out: Path, after: int) -> None:
    def stop(done: int) -> None:
        if done > after:
            raise KeyboardInterrupt

    with pytest.raises(Interrupted):
        run_ensemble(PAIR, runs=23, out=out, workers=1, progress=False, on_chunk=stop)


@pytest.mark.slow
def test_an_interrupted_growth_resumes_without_recomputing(tmp_path, fresh, computed):
    out = tmp_path / "i"
    run_ensemble(PAIR, runs=7, out=out, workers=1, progress=False)
    computed.clear()
    _interrupted_growth(out, 14 + 5)  # the 14 old runs are kept; stop after new chunks
    first = list(computed)
    assert first and all(r >= 7 for _, r in first)
    with pytest.raises(ResultsError, match="unfinished"):
        Results.open(out)  # a folder mid-growth is not read as results
    computed.clear()
    run_ensemble(PAIR, runs=23, out=out, workers=1, progress=False)
    assert not set(computed) & set(first)  # what was saved is not computed again
    assert sorted(computed + first) == sorted(
        (n, r) for n in ("baseline", "russia_weakened") for r in range(7, 23)
    )
    assert_same(out, fresh)


@pytest.mark.slow
def test_ensembles_of_several_sizes_leave_no_run_twice(tmp_path, fresh):
    """7 runs, 23 interrupted, 12 (dropping the saved runs above 12), then 23: each run
    once, as a fresh ensemble has it."""
    out = tmp_path / "k"
    run_ensemble(PAIR, runs=7, out=out, workers=1, progress=False)
    _interrupted_growth(out, 20)
    run_ensemble(PAIR, runs=12, out=out, workers=1, progress=False)
    assert sorted(read_table(out, "runs")["run"]) == sorted([*range(12)] * 2)
    run_ensemble(PAIR, runs=23, out=out, workers=1, progress=False)
    assert_same(out, fresh)


def test_latest_finds_the_newest_finished_folder(tmp_path):
    assert latest(tmp_path) is None
    base = tmp_path / "compare"
    run_ensemble([BASELINE], runs=2, out=base / "a", workers=1, progress=False)
    run_ensemble([WEAK], runs=2, out=base / "b", workers=1, progress=False)
    assert latest(tmp_path) == base / "b"
    (base / "c").mkdir()
    unfinished = {"identity": {}, "chunks": {}}  # what a writer records before any chunk
    (base / "c" / "manifest.json").write_text(json.dumps(unfinished))
    assert latest(tmp_path, "compare") == base / "b"
    assert latest(tmp_path, "run") is None
    (base / "c" / "manifest.json").write_text("[]")  # damaged: named, not passed over
    with pytest.raises(ResultsError, match="c/manifest.json: not a csto-sim manifest"):
        latest(tmp_path)


def test_the_folder_is_named_before_the_filter_runs(tmp_path, monkeypatch):
    """A conditioned projection's filter can take a while: the command names its folder
    first, so an interrupt during the filter leaves no folder unnamed."""
    said = []
    real = ensemble_module.condition
    monkeypatch.setattr(
        ensemble_module, "condition", lambda *a, **k: said.append("filter") or real(*a, **k)
    )
    out = tmp_path / "named"
    on_start = lambda root, _: said.append(root)  # noqa: E731
    run_ensemble([BASELINE], runs=2, out=out, workers=1, progress=False, on_start=on_start)
    assert said == [out, "filter"]
