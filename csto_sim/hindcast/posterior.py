"""The posteriors of the historical case, over the fitted period 2002-2014 (the validation
posterior) or the whole record 2002-2024 (the production posterior): rejection ABC with
learned summaries and regression adjustment (:mod:`csto_sim.inference.regression_abc`; why
that method there) over a reference table of hindcast runs from the prior, simulated on
the shared executor path (local processes or Dask,
:func:`csto_sim.experiments.executors.worker_pool`).

One *simulation* is one run of the hindcast from 2002 to the end of the period (batched
engine; the record is one history). Its raw summaries are the facts the fit compares:

- whether each recorded case of the period happens (:mod:`csto_sim.hindcast.outcomes`:
  requests, responses, and exits at about their recorded time; an exit case the run's
  member is not at risk of reads -1), against 1 or 0 in the record;
- the measured series (UN agreement, trade and arms shares by partner, 2003-2014 and
  2002-2011: :func:`cells`) as the measurement model reads the run's alignment
  (:mod:`csto_sim.experiments.observables`), with a draw of its noise, against the data.

The prior is uniform over each searched parameter's plausible range and over the range of
each uncertain judgement of the registry (prior ``uniform`` or ``searched`` in
``csto_sim/data/judgements.csv``; its columns in the samples are ``@ID``), except that the
alliance's answer chance follows the reference class of alliance reliability
(:mod:`csto_sim.hindcast.answer_prior`); the ranges are the parameter table's and the
registry's, fixed before fitting. The other judgements stay
as the registry gives them: calibration never writes the registry. The measurement model's
terms (:mod:`csto_sim.hindcast.measurement`) are not fitted here.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from csto_sim.core import judgements
from csto_sim.core.finite import check_finite
from csto_sim.core.randomness import run_seed
from csto_sim.core.scenario import Scenario
from csto_sim.experiments import observables
from csto_sim.experiments.executors import run_jobs, worker_pool
from csto_sim.experiments.markdown import markdown_table
from csto_sim.experiments.results import read_table
from csto_sim.experiments.store import Store
from csto_sim.experiments.tables import tables_from
from csto_sim.hindcast import measurement, outcomes
from csto_sim.hindcast.answer_prior import answer_prior
from csto_sim.hindcast.calibration import hindcast, ranges
from csto_sim.hindcast.measurement import FITTED_TO
from csto_sim.hindcast.nulls import NULL_MODELS, NullModel
from csto_sim.hindcast.patterns import HELD_OUT_FROM
from csto_sim.inference import regression_abc
from csto_sim.inference.priors import ReferencePrior
from csto_sim.inference.simulator import Simulator

PERIODS: tuple[str, ...] = ("fit", "whole")
"""What a fit sees: the fitted period 2002-2014 (the validation posterior, whose held-out
test is 2015-2024), or the whole record 2002-2024 (the production posterior, for
projections)."""


def fit_cases(period: str = "fit") -> pd.DataFrame:
    """The recorded cases a fit over ``period`` sees (``PERIODS``)."""
    cases = outcomes.recorded_cases()
    if period not in PERIODS:
        raise ValueError(f"unknown period {period!r}; choose one of {', '.join(PERIODS)}")
    if period == "whole":
        return cases.reset_index(drop=True)
    return cases[cases["period"] == "fit"].reset_index(drop=True)


def prior_ranges(null: str = "", period: str = "whole") -> dict[str, tuple[float, float]]:
    """What the posterior is over, with the range of each uniform prior: the searched
    parameters, then the uncertain judgements (named ``@ID``), then, for a fit of the fitted
    period only, the parameters whose defaults rest on evidence of the held-out years
    (registry prior ``hindsight``); for a null model (its name,
    :data:`csto_sim.hindcast.nulls.NULL_MODELS`), without the parameters it switches off."""
    judged = {judgements.PREFIX + k: (j.low, j.high) for k, j in judgements.uncertain().items()}
    later = {}
    if period == "fit":
        later = {k.split(".", 1)[1]: (j.low, j.high) for k, j in judgements.hindsight().items()}
    off = null_model(null).parameters if null else {}
    return {k: v for k, v in (ranges() | judged | later).items() if k not in off}


def null_model(name: str) -> NullModel:
    """The null model called ``name`` (``ValueError`` naming the choices if none is)."""
    found = {m.name: m for m in NULL_MODELS}
    if name not in found:
        raise ValueError(f"no null model {name!r}; choose one of {', '.join(found)}")
    return found[name]


def split(values: dict[str, float]) -> tuple[dict[str, float], dict[str, float]]:
    """Parameter values and judgement values (``@ID`` keys, returned without the ``@``)."""
    params = {k: v for k, v in values.items() if not k.startswith(judgements.PREFIX)}
    judged = {k[1:]: v for k, v in values.items() if k.startswith(judgements.PREFIX)}
    return params, judged


def fitted_period(values: dict[str, Any] | None = None, period: str = "fit") -> Scenario:
    """The built-in hindcast with these parameter and judgement values, run to the end of
    the fitted period (``period="fit"``) or of the record (``"whole"``); built from the data
    once, each vector only sets its values."""
    params, judged = split(values or {})
    spec = _whole_record()
    spec = spec.with_parameters(**params) if params else spec
    spec = spec.with_judgements(judged) if judged else spec
    if period == "whole":
        return spec
    return spec.model_copy(update={"time": spec.time.model_copy(update={"end": HELD_OUT_FROM})})


@functools.cache
def _whole_record() -> Scenario:
    return hindcast()


def observed(leave_out: Sequence[str] = (), period: str = "fit") -> dict[str, float]:
    """What history says, as summary statistics: 1 for a case that happened, 0 for one that
    did not; without the cases left out (a case id, or an event label: all its cases)."""
    cases = fit_cases(period)
    names = set(cases["case"]) | set(cases["label"]) - {""}
    unknown = [x for x in leave_out if x not in names]
    if unknown:
        events = ", ".join(sorted(set(cases["label"]) - {""}))
        raise ValueError(
            f"no case or event {unknown[0]!r} of the period to leave out (events: {events})"
        )
    repeated = [x for i, x in enumerate(leave_out) if x in leave_out[:i]]
    if repeated:
        raise ValueError(f"{repeated[0]!r} is given twice; name each case or event once")
    kept = cases[~(cases["case"].isin(leave_out) | cases["label"].isin(leave_out))]
    if kept.empty:
        raise ValueError("it leaves out every case of the period; keep at least one")
    return dict(zip(kept["case"], kept["happened"].astype(float), strict=True))


@functools.cache
def cells() -> pd.DataFrame:
    """The measured series the fit compares (``series, member, partner, year, value``):
    every member-partner-year (arms: window) after each series' first value, which the
    measurement model takes as given (2003-2014 for UN votes and trade, 2002-2011 for arms)."""
    d = measurement.data()
    d = d[(d["year"] > d["series"].map(measurement.PERSISTENCE_FROM)) & (d["year"] <= FITTED_TO)]
    return d.sort_values(KEYS, ignore_index=True)


KEYS = ["series", "member", "partner", "year"]


def observation(leave_out: Sequence[str] = (), period: str = "fit") -> np.ndarray:
    """What history says, as the fit's raw summaries: the cases of :func:`observed` (1 or 0),
    then the measured series of :func:`cells`."""
    return np.concatenate([list(observed(leave_out, period).values()), cells()["value"]])


@dataclass(frozen=True)
class Fit:
    """What a fit sees and draws (picklable, for worker processes): the ``period``
    (:data:`PERIODS`), the cases left out, the null model whose mechanism is switched off
    ("" for the full model), and the ``seed`` of its reference table."""

    period: str = "fit"
    leave_out: tuple[str, ...] = ()
    null: str = ""
    seed: int = 2002

    @property
    def ranges(self) -> dict[str, tuple[float, float]]:
        return prior_ranges(self.null, self.period)

    def build(self, values: dict[str, Any]) -> Scenario:
        spec = fitted_period(values, self.period)
        return null_model(self.null).scenario(spec) if self.null else spec

    def summaries(self, tables: dict[str, pd.DataFrame]) -> np.ndarray:
        """Per-run raw summaries ``(n, k)``: whether each fitted case happens (1, 0; -1 for an
        exit case whose member the run has not kept in), then the run's measured series with
        a draw of their measurement noise (from the run's seed)."""
        kept = list(observed(self.leave_out, self.period))
        cases = fit_cases(self.period).set_index("case").loc[kept].reset_index()
        hits = outcomes.case_hits(tables, cases).to_numpy(dtype=float)
        series = tables["observables"].pivot_table(index="run", columns=KEYS, values="value")
        mean = series.reindex(columns=pd.MultiIndex.from_frame(cells()[KEYS])).to_numpy()
        sd = cells()["series"].map(observables.equations().groupby("series")["sd"].first())
        seeds = tables["runs"].set_index("run").loc[series.index, "seed"]
        noise = np.stack([_noise(int(s), len(sd)) for s in seeds])
        return np.hstack([np.nan_to_num(hits, nan=-1.0), mean + noise * sd.to_numpy()])

    def simulator(self) -> Simulator:
        """The hindcast as a :class:`Simulator` over this fit's dimensions: one run per row of
        parameter values, summarised as :meth:`summaries`."""
        return Simulator(self.build, self.summaries, tuple(self.ranges), tables_from, TABLES)

    def observation(self) -> np.ndarray:
        """What history says, as this fit's raw summaries (:func:`observation`)."""
        return observation(self.leave_out, self.period)

    @property
    def prior(self) -> ReferencePrior:
        """The prior the reference table is drawn from (:func:`answer_prior`)."""
        return _prior(self.period, self.null)

    def chunk(self, index: int, size: int, chunk: int) -> tuple[np.ndarray, np.ndarray]:
        """Chunk ``index`` of the reference table: its prior draws and their summaries."""
        rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(index,)))
        theta = self.prior.draw(size, rng)
        seeds = [run_seed(self.seed, index * chunk + i) for i in range(size)]
        return theta, self.simulator()(theta, seeds)


@functools.cache
def _prior(period: str, null: str) -> ReferencePrior:
    """The prior of a fit over ``period`` of the full model or a null model (made once per
    process: reading the answer chance's law takes a second)."""
    fit = Fit(period, null=null)
    return answer_prior(fit.build({}), fit.ranges)


def _noise(seed: int, k: int) -> np.ndarray:
    """Standard normal measurement noise of one run (its own stream of the run's seed)."""
    stream = np.random.SeedSequence(seed, spawn_key=(NOISE_STREAM,))
    return np.random.default_rng(stream).normal(size=k)


NOISE_STREAM = 1000
"""The spawn key of the measurement noise's stream (past the model's own streams)."""


def simulator(period: str = "fit", leave_out: Sequence[str] = ()) -> Simulator:
    """The hindcast over ``period`` as a :class:`Simulator` (:meth:`Fit.simulator`)."""
    return Fit(period, tuple(leave_out)).simulator()


TABLES = ("runs", "events", "timeseries", "members", "observables")
CHUNK = 1000
"""Simulations per chunk of the reference table (a file in ``out/reference/``)."""


def reference(
    out: str | Path,
    simulations: int,
    fit: Fit = Fit(),
    workers: int | None = None,
    executor: Executor | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The reference table of ``fit``: ``simulations`` prior draws and their summaries, made
    in chunks of :data:`CHUNK` in the results store ``out/reference/``, so a rerun reuses
    what is there, a larger ``simulations`` extends it and a smaller one reads the first
    chunks, keeping the other whole ones for later. A chunk is a function of the fit
    and its index only: any number of workers gives the same table. A folder made for
    another fit, or with other measurement terms, is refused, naming what differs."""
    spec = {
        "period": fit.period,
        "leave_out": sorted(fit.leave_out),
        "null": fit.null,
        "seed": fit.seed,
        "chunk": CHUNK,
        "dimensions": list(fit.ranges),
        "summaries": len(fit.observation()),
        "measurement": _measurement_digest(),
        "prior": {"answer_chance": [fit.prior.a, fit.prior.b]},
    }
    sizes = [min(CHUNK, simulations - start) for start in range(0, simulations, CHUNK)]
    jobs = {f"{i:05d}-{n}": (i, n, CHUNK) for i, n in enumerate(sizes)}  # by chunk name
    names = spec["dimensions"]
    whole = f"-{CHUNK}"
    with Store(Path(out) / "reference", ("reference",)) as store:
        saved = store.open({"identity": spec}, keep=lambda n, _: n in jobs or n.endswith(whole))
        todo = [name for name in jobs if name not in saved]
        with worker_pool(workers, executor, jobs=len(todo)) as pool:
            for k, (theta, summaries) in run_jobs(fit.chunk, [jobs[n] for n in todo], pool):
                part = pd.DataFrame(summaries, columns=[f"s{j}" for j in range(summaries.shape[1])])
                part = pd.concat([pd.DataFrame(theta, columns=names), part], axis=1)
                store.record(store.write_chunk(todo[k], {"reference": part}))
        store.finish()
        used = {n: e for n, e in store.manifest["chunks"].items() if n in jobs}
    table = read_table(
        Path(out) / "reference", "reference", manifest=store.manifest | {"chunks": used}
    )
    return table[names].to_numpy(), table.drop(columns=names).to_numpy()


def _measurement_digest() -> str:
    """SHA-256 of the measurement terms the summaries are read with (a table made with other
    terms is another table)."""
    text = observables.equations().to_csv(index=False) + observables.shifts().to_csv(index=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def fit_posterior(
    out: str | Path,
    simulations: int = 40_000,
    accept: float = 0.033,
    fit: Fit = Fit(),
    workers: int | None = None,
    executor: Executor | None = None,
) -> pd.DataFrame:
    """The posterior of ``fit``'s recorded cases and measured series
    (:mod:`csto_sim.inference.regression_abc` over a reference table of ``simulations``
    hindcast runs from the prior, :func:`reference`; the ``accept`` share of the searched
    table nearest the record kept and adjusted); written to ``out/posterior.csv``. A fit that
    leaves cases out (ids or event labels) is a leave-one-event-out fit, whose posterior then
    predicts the event it did not see; a fit of a null model is over the dimensions it keeps."""
    theta, summaries = reference(out, simulations, fit, workers, executor)
    samples = regression_abc.fit(fit.ranges, theta, summaries, fit.observation(), accept)
    path = Path(out) / "posterior.csv"
    check_finite(samples, path, "posterior samples").to_csv(path, index=False)
    return samples


def recovery(
    out: str | Path,
    simulations: int,
    tests: int = 200,
    accept: float = 0.033,
    fit: Fit = Fit(),
    workers: int | None = None,
    executor: Executor | None = None,
) -> pd.DataFrame:
    """The recovery check of ``fit`` (:func:`csto_sim.inference.regression_abc.recovery`):
    ``tests`` histories simulated from prior draws (a table of their own in ``out/tests``,
    seed ``fit.seed + 1``) fitted against the reference table of ``simulations`` in ``out``
    (the one :func:`fit_posterior` with the same ``out`` and fit uses)."""
    table = reference(out, simulations, fit, workers, executor)
    held_fit = Fit(fit.period, fit.leave_out, fit.null, fit.seed + 1)
    held = reference(Path(out) / "tests", tests, held_fit, workers, executor)
    return regression_abc.recovery(fit.ranges, table, held, accept, prior_sd=fit.prior.sd())


def recovery_summary(check: pd.DataFrame) -> dict[str, float]:
    """The recovery check in two numbers: the share of (test, dimension) pairs whose 90%
    interval holds the true value, and the median over tests of each fit's median width."""
    return {
        "covered": float(check["inside"].mean()),
        "width": float(check.groupby("test")["width"].median().median()),
    }


def identifiability(samples: pd.DataFrame, null: str = "") -> pd.DataFrame:
    """How far history pins each dimension of ``samples`` down
    (:func:`csto_sim.inference.regression_abc.identifiability`), each width over the sd of the
    fit's prior (:attr:`Fit.prior`; the fitted period's, which holds every dimension)."""
    prior = Fit("fit", null=null).prior
    held = {k: v for k, v in prior.ranges.items() if k in samples.columns}
    return regression_abc.identifiability(samples, held, prior.sd())


def prior_density(null: str = "", period: str = "fit", bins: int = 15) -> pd.DataFrame:
    """The density of each dimension under the fit's prior (:attr:`Fit.prior`) in ``bins``
    equal bins of its range (``parameter, left, right, density``; from 20,000 fixed-seed
    draws), for drawing the prior beside the posterior."""
    prior = Fit(period, null=null).prior
    theta = prior.draw(20_000, np.random.default_rng(1))
    rows = []
    for j, (name, (lo, hi)) in enumerate(prior.ranges.items()):
        density, edges = np.histogram(theta[:, j], bins=bins, range=(lo, hi), density=True)
        rows += [
            {"parameter": name, "left": a, "right": b, "density": d}
            for a, b, d in zip(edges[:-1], edges[1:], density, strict=True)
        ]
    return pd.DataFrame(rows)


def identifiability_table(samples: pd.DataFrame) -> str:
    """:func:`identifiability` as the Markdown table of ``docs/calibration.md`` (narrowest
    first), with the median ``width`` under it."""
    t = identifiability(samples)
    rows = markdown_table(
        t,
        "parameter or judgement | posterior mean | 90% interval | prior range | width",
        "`{parameter}` | {mean:.3g} | {q05:.3g} - {q95:.3g} | {prior_low:g} - {prior_high:g} "
        "| {width:.2f}",
    )
    rows += ["", f"Median width: {t['width'].median():.2f} over {len(t)} dimensions."]
    return "\n".join(rows)
