"""One simulator interface for inference: ``simulate(theta[n, d], seeds) -> summaries[n, k]``.

Row ``i`` of ``theta`` is one run: its behavioural parameters and judged numbers (the
columns ``names``; judgements as ``@ID``), and ``seeds[i]`` its seed. The rows go through
the batched engine as one batch with per-run parameters
(:func:`csto_sim.core.batch.run_batch`), so a thousand parameter vectors cost about what a
thousand runs of one vector cost. Rows that repeat a vector share its compiled inputs. A
summary function turns the runs' tables into one row of numbers per run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from csto_sim.core.batch import run_batch
from csto_sim.core.scenario import Scenario

Build = Callable[[dict[str, float]], Scenario]
"""A scenario for one parameter vector (names to values)."""
Summarise = Callable[[dict[str, pd.DataFrame]], np.ndarray]
"""Per-run summaries ``(n, k)`` from the tables of ``n`` runs (runs numbered 0..n-1)."""
Tabulate = Callable[..., dict[str, pd.DataFrame]]
"""The output tables of finished runs (:func:`csto_sim.experiments.tables.tables_from`: name,
inputs, runs, seeds, trajectory, event record, tables)."""


@dataclass(frozen=True)
class Simulator:
    """``simulate(theta, seeds)``: per-run summaries of one run per row of ``theta``."""

    build: Build
    summarise: Summarise
    names: tuple[str, ...]
    tabulate: Tabulate
    tables: tuple[str, ...] = ("runs", "events", "timeseries", "members")
    batch: int = 2000  # runs per batch (bounds memory)

    def __call__(self, theta: np.ndarray, seeds: Sequence[int]) -> np.ndarray:
        theta = np.atleast_2d(np.asarray(theta, dtype=float))
        if theta.shape[1] != len(self.names) or len(seeds) != len(theta):
            raise ValueError(
                f"theta is {theta.shape} for {len(self.names)} names and {len(seeds)} seeds"
            )
        parts = [
            self._batch(theta[i : i + self.batch], seeds[i : i + self.batch])
            for i in range(0, len(theta), self.batch)
        ]
        return np.concatenate(parts) if parts else np.zeros((0, 0))

    def _batch(self, theta: np.ndarray, seeds: Sequence[int]) -> np.ndarray:
        built: dict[bytes, Scenario] = {}
        scenarios = []
        for row in theta:
            key = row.tobytes()
            if key not in built:
                built[key] = self.build(dict(zip(self.names, row.tolist(), strict=True)))
            scenarios.append(built[key])
        inp, trajectory, record = run_batch(scenarios, [int(s) for s in seeds])
        runs = range(len(theta))
        tables = self.tabulate(scenarios[0].name, inp, runs, seeds, trajectory, record, self.tables)
        return np.asarray(self.summarise(tables), dtype=float)


def share(rows: np.ndarray, axis: int = 0) -> np.ndarray:
    """The mean of each summary over ``axis`` (replicas, runs), leaving out NaN (a summary a
    run does not have, such as a case the run is not at risk of); 0 where none has it."""
    seen = ~np.isnan(rows)
    count = seen.sum(axis=axis)
    total = np.where(seen, rows, 0.0).sum(axis=axis)
    return np.where(count > 0, total / np.maximum(count, 1), 0.0)
