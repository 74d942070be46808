"""Fuzzing posterior sample files: a mutated copy of (six rows of) the production posterior
either loads, and then every sample is finite and within its ranges and a short batch run
over it gives finite results, or is refused with one ``PosteriorError`` line naming the
file; never another exception. The quick suite tries a few cases; the long run (``slow``)
:data:`~csv_fuzz.LONG_EXAMPLES`::

    python -m pytest tests/experiments/test_posterior_fuzz.py -m slow -q
"""

from __future__ import annotations

import numpy as np
import pytest
from csv_fuzz import LONG_EXAMPLES, QUICK_EXAMPLES, mutated_csv, read_rows
from hypothesis import HealthCheck, event, given, settings

from csto_sim.core import judgements
from csto_sim.core.files import MAX_LINE
from csto_sim.experiments.engines import run_chunk
from csto_sim.inference.posterior import PosteriorError, load_posterior, named

ROWS = read_rows(named("production").read_text(encoding="utf-8"))[:7]
"""The header and six samples of the production posterior."""

NAMES = [
    "weight", "Weight", "", " weight", "response_bse", "collapse_min_active", "level_statement",
    "level_mission", "freeze_threshold", "charter_fit", "@hindcast.trust", "@hindcast.trus",
    "@ hindcast.trust", "@baseline.leverage.Armenia", "@", "x" * 300, "@h." + "a" * 200,
]  # fmt: skip
"""Header names to try besides the file's own."""


def check(data: bytes, directory, standalone) -> str:
    """Load a posterior file of ``data``: refused in one line naming it, or loaded with finite
    samples in range, and a short batch over it finite. What happened, as a word."""
    path = directory / "posterior.csv"
    path.write_bytes(data)
    try:
        post = load_posterior(path, runs_per_draw=1)
    except PosteriorError as err:
        line = str(err)
        assert "\n" not in line and line.startswith(f"{path}: "), line
        assert len(line) <= len(str(path)) + MAX_LINE, line
        return "refused"
    samples = post.samples
    assert np.isfinite(samples.to_numpy(dtype=float)).all()
    assert np.isfinite(post.weights).all() and (post.weights >= 0).all()
    assert np.isclose(post.weights.sum(), 1.0)
    for name in samples.columns:
        id_ = judgements.reference(name)
        if id_ is not None:
            j = judgements.registry()[id_]
            assert samples[name].between(j.low, j.high).all(), name
    for i in range(len(samples)):
        post.scenario_for(standalone, i)  # every sample makes a valid scenario
    tables = run_chunk(standalone, range(2), 1, posterior=post)
    runs = tables["runs"]
    assert (runs["status"] == "ok").all(), runs["error"].tolist()
    numbers = runs.select_dtypes("number").to_numpy(dtype=float)
    assert np.isfinite(numbers[~np.isnan(numbers)]).all()
    for column in ("cohesion_final", "cohesion_mean", "severity_total", "unanswered_severity"):
        assert np.isfinite(runs[column]).all(), column
    assert np.isfinite(tables["timeseries"].select_dtypes("number").to_numpy()).all()
    return "loaded and ran"


SETTINGS = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
}


@settings(max_examples=QUICK_EXAMPLES, **SETTINGS)
@given(data=mutated_csv(ROWS, NAMES))
def test_mutated_posterior_files_load_in_range_or_are_refused_in_one_line(
    data, tmp_path, standalone
):
    event(check(data, tmp_path, standalone))


@pytest.mark.slow
@settings(max_examples=LONG_EXAMPLES, **SETTINGS)
@given(data=mutated_csv(ROWS, NAMES))
def test_many_mutated_posterior_files(data, tmp_path, standalone):
    event(check(data, tmp_path, standalone))


def test_the_unmutated_rows_load_and_run(tmp_path, standalone):
    from csv_fuzz import write_rows

    assert check(write_rows(ROWS).encode(), tmp_path, standalone) == "loaded and ran"
