"""What a run of the dashboard shows: its scenario file, the parameters it draws and the
history it continues, each made once; and the first page's draw, made while the server starts.

A run of a scenario that conditions on the record continues the history a particle filter
(:mod:`csto_sim.inference.conditioning`, seconds) gives it. The first page always shows run
0 of :data:`DEFAULT_SCENARIO`, so ``csto-sim dashboard`` runs that filter itself, beside the
server it starts (on the other core), and writes its log weights to the file named by
``$CSTO_FIRST_DRAW`` (:func:`make_first_draw`). The server takes them from there
(:func:`handed`) instead of simulating them again: the same numbers, since the file names
the filter's jobs and weights are used only for the jobs they were made for. Without that
file (``solara run`` of the app) or if it never comes, the server simulates them itself.
"""

from __future__ import annotations

import contextlib
import functools
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from csto_sim.core.scenario import Scenario, load_scenario
from csto_sim.inference import conditioning
from csto_sim.inference.posterior import choose_posterior

DEFAULT_SCENARIO = "baseline"
"""The scenario the dashboard opens with (a file stem in the scenarios folder)."""

FIRST_DRAW_ENV = "CSTO_FIRST_DRAW"
"""Environment variable naming the file the first page's filter is handed over in."""

HANDOVER_WAIT = 120.0
"""Longest wait (seconds) for the handed-over filter before the server simulates it itself."""


def scenario_dir() -> Path:
    """The folder of scenario files: ``$CSTO_SCENARIOS``, else ``./scenarios``, else beside the package."""
    given = [Path(p) for p in [os.environ.get("CSTO_SCENARIOS")] if p]
    beside = Path(__file__).resolve().parents[2] / "scenarios"
    candidates = [*given, Path.cwd() / "scenarios", beside]
    for folder in candidates:
        if folder.is_dir() and any(folder.glob("*.toml")):
            return folder
    raise FileNotFoundError(
        "no scenario files found: run from the repository folder or set CSTO_SCENARIOS "
        f"(looked in {', '.join(str(c) for c in candidates)})"
    )


def scenario_files() -> dict[str, Path]:
    """Scenario files by name (file stem), sorted, the default first."""
    files = {p.stem: p for p in sorted(scenario_dir().glob("*.toml"))}
    if DEFAULT_SCENARIO in files:
        files = {DEFAULT_SCENARIO: files[DEFAULT_SCENARIO]} | files
    return files


_DRAWS: dict[tuple[str, float, int], tuple[Scenario, int]] = {}
"""The draws made, by scenario file, its time and the run."""

_DRAWING = threading.Lock()
"""Held while a draw is made: a page waits for one being made (seconds) rather than repeat it."""


def drawn(name: str, run: int, mapper: conditioning.Mapper | None = None) -> tuple[Scenario, int]:
    """Scenario file ``name`` (a stem) with the parameters run ``run`` draws from its posterior
    (if it names one) and the history run it continues (conditioned on the record: the particle
    the filter, run by ``mapper``, gives it), as ``csto-sim run`` runs it; made once per file
    version and run."""
    files = scenario_files()
    if name not in files:
        raise ValueError(f"no scenario file {name!r}.toml in {scenario_dir()}")
    key = (str(files[name]), files[name].stat().st_mtime, int(run))
    with _DRAWING:
        if key not in _DRAWS:
            spec = load_scenario(files[name])
            posterior = choose_posterior([spec])
            past = conditioning.sources(spec, posterior, spec.seed, [int(run)], mapper)[0]
            _DRAWS[key] = (spec if posterior is None else posterior.for_run(spec, past)), past
        return _DRAWS[key]


def in_a_process(fn: Callable, jobs: list[tuple]) -> list:
    """Run ``fn`` over the jobs in a process of its own: on another core, not this server's."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return list(pool.map(fn, *zip(*jobs, strict=True)))


# The first page's filter, handed over --------------------------------------------------------


def jobs_key(jobs: list[tuple]) -> str:
    """What the filter's jobs ``(scenario, posterior, seed, particles)`` compute, as text."""
    return repr([(*conditioning.filter_key(s, p, seed), list(idx)) for s, p, seed, idx in jobs])


def _recorded(path: Path, fn: Callable, jobs: list[tuple]) -> list:
    """Mapper: run the jobs here and write their results and :func:`jobs_key` to ``path``."""
    results = [fn(*job) for job in jobs]
    part = path.with_name(path.name + ".part")
    with part.open("wb") as f:
        np.savez(f, np.array(jobs_key(jobs)), *results)
    os.replace(part, path)
    return results


def make_first_draw(path: Path) -> None:
    """Run the first page's filter (run 0 of the default scenario) here and hand it over in
    ``path``; an empty file if it cannot be made (the server then makes it itself)."""
    try:
        spec = load_scenario(scenario_files()[DEFAULT_SCENARIO])
        posterior = choose_posterior([spec])
        recorded = functools.partial(_recorded, path)
        conditioning.sources(spec, posterior, spec.seed, [0], recorded)
    finally:
        if not path.exists():
            path.touch()


def handed(path: Path, fallback: conditioning.Mapper, fn: Callable, jobs: list[tuple]) -> list:
    """Mapper: the results handed over in ``path`` if they are these jobs' (waiting up to
    :data:`HANDOVER_WAIT` seconds for them), else ``fallback``'s."""
    if not jobs:  # nothing left to simulate
        return []
    deadline = time.monotonic() + HANDOVER_WAIT
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    with contextlib.suppress(OSError, ValueError, EOFError), np.load(path) as saved:
        if str(saved["arr_0"]) == jobs_key(jobs):
            return [saved[f"arr_{i + 1}"] for i in range(len(jobs))]
    return fallback(fn, jobs)


def first_draw() -> None:
    """Make the draw every new page starts with (run 0 of the default scenario): its filter
    handed over by ``csto-sim dashboard`` if it names a file, else run in a process of its own."""
    given = os.environ.get(FIRST_DRAW_ENV)
    mapper = in_a_process if not given else functools.partial(handed, Path(given), in_a_process)
    with contextlib.suppress(Exception):  # if it fails, the page's own draw shows why
        drawn(DEFAULT_SCENARIO, 0, mapper)
