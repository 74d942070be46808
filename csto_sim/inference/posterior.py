"""Runs over a posterior: each block of runs takes its behavioural parameters from a
posterior sample file, so intervals cover parameter uncertainty as well as the dice.

A posterior file is a CSV table with one column per behavioural parameter (names from
``csto_sim/core/parameters.py``) or judgement (``@ID``, an id of the judgement registry
``csto_sim/data/judgements.csv``) and an optional ``weight`` column (``csto-sim posterior``
writes one). Runs come in *draws* of ``runs_per_draw`` consecutive runs: draw ``j`` takes
sample ``i`` of the file, chosen by weight from the ``parameters`` random stream of
``run_seed(seed, j)``. The choice depends on the ensemble seed and the draw only, so run
``r`` of every scenario of an ensemble has the same parameters and the same dice (common
random numbers), and the runs of one draw share their parameters (which separates what the
parameters do from what the dice do).
"""

from __future__ import annotations

import difflib
import hashlib
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import ValidationError

from csto_sim.core.files import (
    SEED_MAX,
    InputError,
    csv_rows,
    number,
    raising,
    read_text,
    short,
    whole_number,
)
from csto_sim.core.judgements import PREFIX, reference, registry, unknown
from csto_sim.core.parameters import Parameters
from csto_sim.core.randomness import run_seed, streams
from csto_sim.core.scenario import Scenario, ScenarioError

RUNS_PER_DRAW = 10
"""Consecutive runs that share one posterior sample (the default)."""

NAMED: dict[str, str] = {
    "validation": "posterior_validation.csv",
    "production": "posterior_production.csv",
}
"""The posteriors that come with the package (``csto_sim/data/``), by name: ``validation``,
made by ``csto-sim posterior --period fit`` on the fitted period of the record (what
``validate`` scores on the held-out period), and ``production``, made by ``csto-sim
posterior --period whole`` on the whole record (what projections draw from). ``posterior = "validation"`` in a scenario, or
``--posterior production``, names one."""

ALIASES: dict[str, str] = {"shipped": "production"}
"""Old names still understood (:func:`renamed` says so)."""

NONE = "none"
"""``--posterior none``: every run takes the scenario's own parameters (dice only)."""


class PosteriorError(InputError, ValueError):
    """A posterior file that cannot be used: unreadable, unknown columns, bad values."""


@dataclass(frozen=True)
class Posterior:
    """Weighted parameter samples, and how many consecutive runs share one."""

    samples: pd.DataFrame = field(repr=False)
    weights: np.ndarray = field(repr=False)
    source: str = ""
    runs_per_draw: int = RUNS_PER_DRAW

    def digest(self, judged: Iterable[str] | None = None) -> str:
        """SHA-256 of the samples, weights and draw size (what a resumed ensemble must share);
        with ``judged``, of the judgement columns of only those registry ids (what a
        scenario that references only them reads)."""
        samples = self.samples
        if judged is not None:
            keep = {PREFIX + j for j in judged}
            samples = samples[[c for c in samples if not c.startswith(PREFIX) or c in keep]]
        h = hashlib.sha256(samples.to_csv(index=False).encode())
        h.update(np.asarray(self.weights, dtype=float).tobytes())
        h.update(str(self.runs_per_draw).encode())
        return h.hexdigest()

    def draw(self, run: int) -> int:
        """The draw (block of runs) a run belongs to."""
        return run // self.runs_per_draw

    def sample_of(self, seed: int, run: int) -> int:
        """The row of the samples that run ``run`` of an ensemble with ``seed`` uses."""
        g = streams(run_seed(seed, self.draw(run)), ("parameters",))["parameters"]
        return int(g.choice(len(self.weights), p=self.weights))

    def groups(self, seed: int, runs: Sequence[int]) -> dict[int, list[int]]:
        """The runs by the sample they use (samples in order of first use, runs in order)."""
        out: dict[int, list[int]] = {}
        for r in runs:
            out.setdefault(self.sample_of(seed, int(r)), []).append(int(r))
        return out

    def fixing(self, values: dict[str, float]) -> Posterior:
        """The same samples with some parameters fixed at one value (a null model over the
        posterior: its switched-off mechanisms stay off whatever the sample)."""
        samples = self.samples.assign(**values)
        return Posterior(samples, self.weights, self.source, self.runs_per_draw)

    def fixed_by(self, scenario: Scenario) -> dict[str, float]:
        """The posterior's parameters that ``scenario`` sets itself (in its file, or in code
        with ``with_parameters``), even at their default values: they stay at the scenario's
        values in every run; the others are drawn."""
        values, given = scenario.parameters.model_dump(), scenario.parameters.model_fields_set
        return {n: values[n] for n in self.samples.columns if n in given}

    def drawn_for(self, scenario: Scenario) -> list[str]:
        """The posterior's columns each run of ``scenario`` takes from its sample."""
        fixed = self.fixed_by(scenario)
        return [n for n in self.samples.columns if n not in fixed]

    def scenario_for(self, scenario: Scenario, sample: int) -> Scenario:
        """``scenario`` with the parameters and judgements of one sample (a judgement
        counts where the scenario, or the history it continues, references it); a parameter
        the scenario sets itself keeps its value (:meth:`fixed_by`). The history it
        continues takes the sample too, and keeps only what it sets itself: a parameter a
        projection sets acts from the projection's start, so its histories are the
        baseline's."""
        row = self.samples.iloc[sample]
        judged = {k[1:]: float(v) for k, v in row.items() if k.startswith(PREFIX)}
        out = self._with_sample(scenario, row)
        if scenario.history is not None:
            out = out.model_copy(update={"history": self._with_sample(scenario.history, row)})
        out = out.with_judgements(judged) if judged else out
        return out.model_copy(update={"posterior": ""})  # a point now: nothing left to draw

    def _with_sample(self, scenario: Scenario, row: pd.Series) -> Scenario:
        """``scenario`` with a sample's parameters, but those it sets itself."""
        fixed = self.fixed_by(scenario)
        params = {
            k: _typed(_DEFAULTS[k], v)
            for k, v in row.items()
            if not k.startswith(PREFIX) and k not in fixed
        }
        return scenario.with_parameters(**params) if params else scenario

    def for_run(self, scenario: Scenario, run: int, seed: int | None = None) -> Scenario:
        """``scenario`` as run ``run`` of an ensemble with ``seed`` (default the scenario's)
        takes it: with the parameters of that run's sample."""
        seed = scenario.seed if seed is None else seed
        return self.scenario_for(scenario, self.sample_of(seed, run))


def named(name: str) -> Path:
    """The path of a posterior that comes with the package (a name of :data:`NAMED`, or an
    alias of one)."""
    name = ALIASES.get(name, name)
    return Path(str(resources.files("csto_sim").joinpath("data", NAMED[name])))


def name_of(file: str | Path) -> str:
    """How a posterior file is named to users: ``validation`` or ``production`` for the
    package's (:data:`NAMED`), else the file."""
    return next((n for n in NAMED if Path(file) == named(n)), str(file))


def renamed(names) -> str:
    """A one-line notice for posterior names that are aliases (empty when none is)."""
    old = sorted({n for n in names if n in ALIASES})
    if not old:
        return ""
    now = ", ".join(f'"{ALIASES[n]}"' for n in old)
    return f"note: posterior {', '.join(repr(n) for n in old)} is now called {now}"


def _file(name: str | Path) -> str | Path:
    """A posterior name's file, or the path as it is."""
    key = str(name)
    return named(key) if key in NAMED or key in ALIASES else name


def choose_posterior(
    scenarios: Sequence[Scenario],
    posterior: Posterior | str | Path | None = None,
    runs_per_draw: int = RUNS_PER_DRAW,
) -> Posterior | None:
    """The posterior an ensemble draws from: ``posterior`` if given (a :class:`Posterior`, a
    file, or ``"none"`` for the scenarios' own parameters), else the one the scenarios name
    (``posterior = ...``; they must agree), else none."""
    if isinstance(posterior, Posterior):
        return posterior
    if posterior is not None:
        return _given(posterior, runs_per_draw)
    names = sorted({ALIASES.get(s.posterior, s.posterior) for s in scenarios})
    if names == [""]:
        return None
    if len(names) > 1:
        listing = ", ".join(f"{s.name}: {s.posterior or NONE}" for s in scenarios)
        raise PosteriorError(
            f"the scenarios draw from different posteriors ({listing}); choose one with "
            "--posterior FILE, or --posterior none"
        )
    try:
        return load_posterior(_file(names[0]), runs_per_draw)
    except PosteriorError as exc:  # the file a scenario names: blame the scenario's key
        first = next(s for s in scenarios if ALIASES.get(s.posterior, s.posterior) == names[0])
        raise ScenarioError(first.source, "posterior", str(exc)) from None


def _given(posterior: str | Path, runs_per_draw: int) -> Posterior | None:
    """The posterior a caller names: ``none``, a shipped name or a file; anything else, or a
    name that is neither, is a :class:`PosteriorError` listing the names."""
    names = ", ".join([*NAMED, NONE])
    if not isinstance(posterior, str | Path) or not str(posterior):
        got = short(repr(posterior), 40)
        raise PosteriorError(f"posterior: expected a name ({names}) or a file, got {got}")
    if str(posterior) == NONE:
        return None
    path = _file(posterior)
    if not Path(path).exists():
        hint = difflib.get_close_matches(str(posterior), [*NAMED, NONE], n=1)
        also = f"; did you mean {hint[0]!r}?" if hint else f" (names: {names})"
        raise PosteriorError(f"{posterior}: no such posterior file or name{also}")
    return load_posterior(path, runs_per_draw)


def load_posterior(path: str | Path, runs_per_draw: int = RUNS_PER_DRAW) -> Posterior:
    """Read and check a posterior sample file; a :class:`PosteriorError` names the file, the
    line and the column at fault, and what was expected."""
    path = Path(path)
    runs_per_draw = whole_number("runs_per_draw", runs_per_draw, 1, SEED_MAX)
    with raising(PosteriorError):
        rows = list(csv_rows(read_text(path, MAX_BYTES, "posterior file"), path))
    if not rows:
        raise PosteriorError(path, f"empty: expected a header line naming the columns ({COLUMNS})")
    (head, header), rows = rows[0], rows[1:]
    _check_header(header, path, head)
    if not rows:
        raise PosteriorError(path, "no samples: expected rows of numbers after the header")
    lines = [line for line, _ in rows]
    with raising(PosteriorError):
        columns = {
            name: _numbers(name, [row[j] for _, row in rows], lines, path)
            for j, name in enumerate(header)
        }
    weights = _weights(columns.pop(WEIGHT, np.ones(len(rows))), lines, path)
    values = pd.DataFrame(columns)
    _check_judgements(values, lines, path)
    _check_parameters(values, lines, path)
    return Posterior(values, weights, str(path), runs_per_draw)


MAX_BYTES = 512 * 2**20
"""The largest posterior file read (a shipped one is under 1 MB)."""

WEIGHT = "weight"
"""The optional column of the samples' weights (uniform without it)."""

COLUMNS = "behavioural parameters, judgements as @ID, and weight"

_DEFAULTS = Parameters().model_dump()

SCALARS = frozenset(k for k, v in _DEFAULTS.items() if isinstance(v, int | float))
"""The parameters a posterior column may hold: those that are one number (the tables per
threat kind are not drawn)."""

_INTEGER = re.compile(r"\s*[+-]?\d+\s*")


def _check_header(header: list[str], path: Path, line: int) -> None:
    """Known column names, each once, and at least one that is not the weight."""
    for i, name in enumerate(header):
        where = f"line {line}, column {short(repr(name), 60)}"
        if name in header[:i]:
            raise PosteriorError(path, where, "appears twice")
        if name == WEIGHT or name in SCALARS:
            continue
        id_ = reference(name)
        if name in _DEFAULTS:
            raise PosteriorError(path, where, "a parameter given per kind, not one number")
        if id_ is None:
            close = difflib.get_close_matches(name, [*SCALARS, WEIGHT], n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise PosteriorError(path, where, f"unknown column (expected {COLUMNS}){hint}")
        if id_ not in registry():
            raise PosteriorError(path, where, unknown(id_))
    if set(header) <= {WEIGHT}:
        raise PosteriorError(path, f"line {line}", f"no parameter or judgement column ({COLUMNS})")


def _numbers(name: str, cells: list[str], lines: list[int], path: Path) -> np.ndarray:
    """A column's cells as finite numbers, whole ones when every cell is written as a whole
    number (as a table reader infers); the first that is not finite is an
    :class:`InputError` naming its line."""
    try:
        out = np.array(cells, dtype=float)
    except ValueError:
        out = np.array([math.nan])
    if not np.isfinite(out).all():
        keys = (f"line {n}, column {name!r}" for n in lines)
        out = np.array([number(c, path, k) for c, k in zip(cells, keys, strict=True)])
    if np.abs(out).max() < 2**53 and all(_INTEGER.fullmatch(c) for c in cells):
        out = out.astype(np.int64)
    return out


def _weights(weights: np.ndarray, lines: list[int], path: Path) -> np.ndarray:
    """The normalised weights: none negative, not all zero (scaled by the largest before
    they are summed, so weights near the largest float do not overflow)."""
    negative = np.flatnonzero(weights < 0)
    if negative.size:
        i = negative[0]
        where = f"line {lines[i]}, column {WEIGHT!r}"
        raise PosteriorError(path, where, f"a weight is at least 0; got {weights[i]:g}")
    if not (weights > 0).any():
        raise PosteriorError(path, WEIGHT, "every weight is 0; at least one must be above 0")
    w = weights / weights.max()
    return w / w.sum()


def _check_judgements(values: pd.DataFrame, lines: list[int], path: Path) -> None:
    """Every judgement column within the judgement's range [low, high] in the registry."""
    for name in values.columns:
        id_ = reference(name)
        if id_ is None:
            continue
        j = registry()[id_]
        column = values[name].to_numpy()
        outside = np.flatnonzero((column < j.low) | (column > j.high))
        if outside.size:
            i = outside[0]
            raise PosteriorError(
                path,
                f"line {lines[i]}, column {name!r}",
                f"{column[i]:g} is outside the judgement's range [{j.low:g}, {j.high:g}] "
                "(csto_sim/data/judgements.csv)",
            )


def _check_parameters(values: pd.DataFrame, lines: list[int], path: Path) -> None:
    """Every row's parameters pass the parameters' own validation (types, hard bounds, the
    order of the response levels); the first error names its line and column."""
    names = [n for n in values.columns if n in SCALARS]
    for i, row in enumerate(values[names].to_dict("records")):
        given = {k: _typed(_DEFAULTS[k], v) for k, v in row.items()}
        try:
            Parameters.model_validate(_DEFAULTS | given)
        except ValidationError as exc:
            first = exc.errors()[0]
            name = first["loc"][0] if first["loc"] else ""
            where = f"line {lines[i]}" + (f", column {name!r}" if name else "")
            got = f" (got {short(repr(given[name]), 40)})" if name in given else ""
            raise PosteriorError(path, where, f"{first['msg']}{got}") from None


def _typed(default, value: float):
    """A value in the default's type (whole-number parameters take integer-valued floats)."""
    if isinstance(default, int) and float(value).is_integer():
        return int(value)
    return float(value)
