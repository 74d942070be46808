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

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from csto_sim.core.files import InputError
from csto_sim.core.judgements import PREFIX, registry
from csto_sim.core.parameters import Parameters
from csto_sim.core.randomness import run_seed, streams
from csto_sim.core.scenario import Scenario

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

    def digest(self) -> str:
        """SHA-256 of the samples, weights and draw size (what a resumed ensemble must share)."""
        h = hashlib.sha256(self.samples.to_csv(index=False).encode())
        h.update(np.asarray(self.weights, dtype=float).tobytes())
        h.update(str(self.runs_per_draw).encode())
        return h.hexdigest()

    def draw(self, run: int) -> int:
        """The draw (block of runs) a run belongs to."""
        return run // self.runs_per_draw

    def sample_of(self, seed: int, run: int) -> int:
        """The row of the samples that run ``run`` of an ensemble with ``seed`` uses."""
        g = streams(run_seed(seed, self.draw(run)))["parameters"]
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
        """The posterior's parameters that ``scenario`` sets itself (away from the defaults):
        they stay at the scenario's values in every run; the others are drawn."""
        values = scenario.parameters.model_dump()
        return {
            n: values[n]
            for n in self.samples.columns
            if not n.startswith(PREFIX) and n in values and values[n] != _DEFAULTS[n]
        }

    def drawn_for(self, scenario: Scenario) -> list[str]:
        """The posterior's columns each run of ``scenario`` takes from its sample."""
        fixed = self.fixed_by(scenario)
        return [n for n in self.samples.columns if n not in fixed]

    def scenario_for(self, scenario: Scenario, sample: int) -> Scenario:
        """``scenario`` with the parameters and judgements of one sample (a judgement
        counts where the scenario, or the history it continues, references it); a parameter
        the scenario sets itself keeps its value (:meth:`fixed_by`)."""
        row = self.samples.iloc[sample]
        fixed = self.fixed_by(scenario)
        params = {
            k: _typed(_DEFAULTS[k], v)
            for k, v in row.items()
            if not k.startswith(PREFIX) and k not in fixed
        }
        judged = {k[1:]: float(v) for k, v in row.items() if k.startswith(PREFIX)}
        out = scenario.with_parameters(**params) if params else scenario
        out = out.with_judgements(judged) if judged else out
        return out.model_copy(update={"posterior": ""})  # a point now: nothing left to draw

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
        if str(posterior) == NONE:
            return None
        return load_posterior(_file(posterior), runs_per_draw)
    names = sorted({ALIASES.get(s.posterior, s.posterior) for s in scenarios})
    if names == [""]:
        return None
    if len(names) > 1:
        listing = ", ".join(f"{s.name}: {s.posterior or NONE}" for s in scenarios)
        raise PosteriorError(
            f"the scenarios draw from different posteriors ({listing}); choose one with "
            "--posterior FILE, or --posterior none"
        )
    return load_posterior(_file(names[0]), runs_per_draw)


def load_posterior(path: str | Path, runs_per_draw: int = RUNS_PER_DRAW) -> Posterior:
    """Read and check a posterior sample file; a :class:`PosteriorError` names the problem."""
    path = Path(path)
    if runs_per_draw < 1:
        raise PosteriorError(f"runs per draw must be at least 1; got {runs_per_draw}")
    frame = _read(path)
    values = _values(frame, path)
    weights = _weights(frame, path)
    _check_parameters(values, path)
    return Posterior(values, weights, str(path), runs_per_draw)


MAX_BYTES = 512 * 2**20
"""The largest posterior file read (a shipped one is under 1 MB)."""


def _read(path: Path) -> pd.DataFrame:
    if path.exists() and not path.is_file():
        raise PosteriorError(f"{path}: not a regular file")
    if path.exists() and path.stat().st_size > MAX_BYTES:
        raise PosteriorError(f"{path}: larger than {MAX_BYTES // 2**20} MB")
    try:
        return pd.read_csv(path)
    except FileNotFoundError:
        raise PosteriorError(f"{path}: no such file") from None
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise PosteriorError(f"{path}: not a readable CSV table ({type(exc).__name__})") from None


def _values(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """The sample columns: known names, finite numbers."""
    known = set(Parameters.model_fields) | {PREFIX + k for k in registry()}
    names = [c for c in frame.columns if c != "weight"]
    unknown = [c for c in names if c not in known]
    if unknown:
        raise PosteriorError(
            f"{path}: column {unknown[0]!r} is not a behavioural parameter or a judgement"
        )
    if not names or frame.empty:
        raise PosteriorError(f"{path}: no parameter columns or no rows")
    values = frame[names].apply(pd.to_numeric, errors="coerce")
    bad = ~np.isfinite(values.to_numpy(dtype=float))
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise PosteriorError(f"{path}: row {row + 2}, column {names[col]!r} is not a finite number")
    return values


def _weights(frame: pd.DataFrame, path: Path) -> np.ndarray:
    """The normalised weights (uniform without a ``weight`` column)."""
    weights = pd.to_numeric(frame.get("weight", pd.Series(1.0, index=frame.index)), errors="coerce")
    w = weights.to_numpy(dtype=float)
    if not np.isfinite(w).all() or (w < 0).any() or w.max() <= 0:
        raise PosteriorError(f"{path}: weights must be finite, non-negative and not all zero")
    w = w / w.max()  # no overflow in the sum, however large the weights
    return w / w.sum()


_DEFAULTS = Parameters().model_dump()


def _check_parameters(values: pd.DataFrame, path: Path) -> None:
    """Every row's parameters pass the parameters' own validation."""
    defaults = _DEFAULTS
    for i, row in enumerate(values.to_dict("records")):
        row = {k: v for k, v in row.items() if not k.startswith(PREFIX)}
        try:
            Parameters.model_validate(
                defaults | {k: _typed(defaults[k], v) for k, v in row.items()}
            )
        except ValueError as exc:
            first = str(exc).splitlines()[1:3]
            raise PosteriorError(f"{path}: row {i + 2}: {' '.join(first).strip()}") from None


def _typed(default, value: float):
    """A value in the default's type (whole-number parameters take integer-valued floats)."""
    if isinstance(default, int) and float(value).is_integer():
        return int(value)
    return float(value)
