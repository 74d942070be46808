"""What history pins down, and what it leaves to move the headline: per posterior dimension,
its posterior/prior sd and how far a headline swings over its posterior range.

With the record: the same sd once the samples are weighed as a conditioned projection's
runs take them (the filter's weights, summed by sample: the fit's posterior times the
record's likelihood; the facts of the record the fit already saw count twice, which if
anything narrows it more than a fit on the record's whole likelihood would).

The headline is a scenario's collapse probability by its end year. For each dimension of
the posterior (a searched parameter or an uncertain judgement), the scenario is run over
the posterior with that dimension fixed at its posterior 5% quantile in every sample, and
again at its 95% quantile (:meth:`~csto_sim.inference.posterior.Posterior.fixing`); the
other dimensions are drawn as usual, with the same seeds (common random numbers). The swing
is the difference: how much the headline rests on what history leaves open in that
dimension. Its noise is that of two ensembles of ``runs`` runs (a binomial sd of about
``sqrt(2 p (1 - p) / runs)``; conditioned projections draw their histories anew for each).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from csto_sim.analysis.statistics import blocks_of, boot_interval
from csto_sim.core import judgements
from csto_sim.core.parameters import Parameters
from csto_sim.core.scenario import Scenario
from csto_sim.experiments.ensemble import filter_mapper, run_ensemble
from csto_sim.experiments.markdown import markdown_table
from csto_sim.inference import conditioning, regression_abc
from csto_sim.inference.posterior import Posterior


def headline(
    scenario: Scenario, posterior: Posterior, runs: int, seed: int, workers: int | None
) -> float:
    """The scenario's collapse probability over ``posterior`` (share of ``runs`` runs)."""
    result = run_ensemble(
        [scenario], runs, seed=seed, workers=workers, progress=False, tables=("runs",),
        posterior=posterior,
    )  # fmt: skip
    return float(result.tables["runs"]["collapsed"].mean())


RECORD_RUNS = 1000
"""Runs whose filters weigh the posterior by the record (``width_record``): 24,000 histories."""


def swing(
    scenario: Scenario,
    posterior: Posterior,
    prior: dict[str, tuple[float, float]],
    runs: int = 200,
    seed: int | None = None,
    workers: int | None = None,
    on_row: Callable[[dict], None] | None = None,
    prior_sd: dict[str, float] | None = None,
    record_runs: int = RECORD_RUNS,
) -> pd.DataFrame:
    """Per dimension of ``prior`` the posterior has: the identifiability columns
    (:func:`csto_sim.inference.regression_abc.identifiability`: ``width`` = posterior/prior sd,
    the prior's sd ``prior_sd`` where given, else its range's uniform), ``width_record``, the
    same once the filter of ``record_runs`` runs has weighed the samples by the scenario's
    record (:func:`record_weights`), and the headline at the dimension's 5% and 95% posterior
    quantiles, and their difference (``swing``), narrowest dimension first; ``on_row`` sees
    each row as it is done."""
    seed = scenario.seed if seed is None else seed
    known = {k: v for k, v in prior.items() if k in posterior.samples.columns}
    table = regression_abc.identifiability(
        posterior.samples.assign(weight=posterior.weights), known, prior_sd
    )
    weights = record_weights(scenario, posterior, record_runs, seed, workers)
    held = regression_abc.identifiability(posterior.samples.assign(weight=weights), known, prior_sd)
    record = dict(zip(held["parameter"], held["width"], strict=True))
    rows = (
        {"dimension": r.parameter, "width": r.width, "width_record": record[r.parameter]}
        | _at_ends(
            scenario, posterior, r.parameter, {"q05": r.q05, "q95": r.q95}, runs, seed, workers
        )
        for r in table.itertuples()
    )
    return _collect(rows, on_row)


def record_weights(
    scenario: Scenario, posterior: Posterior, runs: int, seed: int, workers: int | None
) -> np.ndarray:
    """``posterior``'s sample weights once the record is held too: what the first ``runs``
    runs of ``scenario`` draw from (:func:`csto_sim.inference.conditioning.sample_weights`)."""
    with filter_mapper(runs, workers) as mapper:
        return conditioning.sample_weights(scenario, posterior, seed, range(runs), mapper)


def _at_ends(
    scenario: Scenario,
    posterior: Posterior,
    column: str,
    ends: dict[str, float],
    runs: int,
    seed: int,
    workers: int | None,
) -> dict[str, float]:
    """The ``ends`` (name -> value) and, for each, the headline over ``posterior`` with
    ``column`` fixed at that value in every run (``headline_NAME``), and the second's
    headline minus the first's (``swing``)."""
    got = {
        f"headline_{end}": headline(
            scenario, posterior.fixing({column: value}), runs, seed, workers
        )
        for end, value in ends.items()
    }
    first, second = got.values()
    return ends | got | {"swing": second - first}


def _collect(rows: Iterable[dict], on_row: Callable[[dict], None] | None) -> pd.DataFrame:
    """The table of ``rows``, each shown to ``on_row`` (if any) as it is done."""
    done = []
    for row in rows:
        done.append(row)
        if on_row is not None:
            on_row(row)
    return pd.DataFrame(done)


def fixed_judgements(scenario: Scenario) -> dict[str, tuple[str, float, float]]:
    """The hand-set numbers a scenario's headline rests on: each judgement the scenario (or
    the history it continues) references and each behavioural parameter the registry sets
    (``parameter.NAME``), fixed for projections (prior ``fixed`` or ``hindsight``) and with a range, as column -> (registry id, low,
    high). A column is what :meth:`Posterior.fixing` takes: ``@ID`` or a parameter's name."""
    used = set(scenario.judged) | set(scenario.history.judged if scenario.history else ())
    out = {}
    for key, j in judgements.registry().items():
        if j.prior not in ("fixed", "hindsight") or j.high <= j.low:
            continue
        if key in used:
            out[judgements.PREFIX + key] = (key, j.low, j.high)
        elif key.startswith(PARAMETER) and key[len(PARAMETER) :] in Parameters.model_fields:
            out[key[len(PARAMETER) :]] = (key, j.low, j.high)
    return out


PARAMETER = "parameter."


def sweep(
    scenario: Scenario,
    posterior: Posterior,
    runs: int = 1000,
    seed: int | None = None,
    workers: int | None = None,
    on_row: Callable[[dict], None] | None = None,
    only: Sequence[str] = (),
) -> pd.DataFrame:
    """Per hand-set judgement of :func:`fixed_judgements` (or only those whose registry ids
    are in ``only``): the headline over ``posterior`` with the judgement at the low and the
    high end of its registry range in every run (the others as usual, the same seeds), the
    difference (``swing``) and its 95% interval over the paired runs: the comparison of
    :func:`sweep_differences` with no other scenario."""
    table = sweep_differences(scenario, [], posterior, runs, seed, workers, on_row, only)
    return table.drop(columns="scenario")


def sweep_differences(
    reference: Scenario,
    others: Sequence[Scenario],
    posterior: Posterior,
    runs: int = 1000,
    seed: int | None = None,
    workers: int | None = None,
    on_row: Callable[[dict], None] | None = None,
    only: Sequence[str] = (),
) -> pd.DataFrame:
    """The headlines of a comparison over each hand-set judgement any of the scenarios rests
    on (or those ``only`` names, by registry id or as the table does): ``reference``'s
    collapse probability and each of ``others``' difference from it, with the judgement at
    the low and the high end of its range in every run of every scenario (a scenario's own
    row moves with the same row of the others: ``baseline.leverage.Belarus`` with
    ``russia_weakened.leverage.Belarus``), the same seeds. One row per judgement and
    scenario: its ends (``headline_low``, ``headline_high``), their difference (``swing``)
    and the swing's 95% interval over the paired runs (``swing_low``, ``swing_high``)."""
    scenarios = [reference, *others]
    seed = reference.seed if seed is None else seed
    groups = _judgement_groups(scenarios)
    named = {key: {key, *map(_registry_id, columns)} for key, columns in groups.items()}
    unknown = set(only) - set().union(*named.values())
    if unknown:
        of = " or ".join(s.name for s in scenarios)
        raise ValueError(f"{sorted(unknown)[0]!r} is not a hand-set judgement of {of}")
    rows = (
        row
        for key, columns in groups.items()
        if not only or named[key] & set(only)
        for row in _differences_at_ends(key, columns, scenarios, posterior, runs, seed, workers)
    )
    return _collect(rows, on_row)


def _registry_id(column: str) -> str:
    """The registry id of a column :meth:`Posterior.fixing` takes (``@ID`` or a parameter)."""
    prefix = judgements.PREFIX
    return column[len(prefix) :] if column.startswith(prefix) else PARAMETER + column


def _judgement_groups(scenarios: Sequence[Scenario]) -> dict[str, dict[str, tuple[float, float]]]:
    """Each hand-set judgement of ``scenarios`` (:func:`fixed_judgements`), a row of any of
    several named with ``*`` for the scenario (``*.leverage.Belarus``: the baseline's row,
    which the scenarios that extend it read, and a scenario's own): its columns, each with
    its range."""
    names = {s.name for s in scenarios} if len(scenarios) > 1 else set()  # one: its own ids
    groups: dict[str, dict[str, tuple[float, float]]] = {}
    for s in scenarios:
        for column, (key, low, high) in fixed_judgements(s).items():
            head, _, rest = key.partition(".")
            group = f"*.{rest}" if head in names else key
            groups.setdefault(group, {})[column] = (low, high)
    return groups


def _differences_at_ends(key, columns, scenarios, posterior, runs, seed, workers) -> list[dict]:
    """The rows of :func:`sweep_differences` for one judgement (``columns``: its columns
    with their ranges)."""
    reference = scenarios[0].name
    ends = {}
    for end, i in (("low", 0), ("high", 1)):
        values = {column: bounds[i] for column, bounds in columns.items()}
        result = run_ensemble(
            scenarios, runs, seed=seed, workers=workers, progress=False,
            tables=("runs",), posterior=posterior.fixing(values),
        )  # fmt: skip
        table = result.tables["runs"].sort_values(["scenario", "run"], kind="stable")
        ends[end] = {n: g for n, g in table.groupby("scenario", sort=False)}
    rng = np.random.default_rng(seed)
    blocks = blocks_of(ends["low"][reference].reset_index(drop=True))
    rows = []
    for s in scenarios:
        own = [c for c in columns if c.startswith(f"{judgements.PREFIX}{s.name}.")]
        low, high = columns[own[0] if own else next(iter(columns))]
        hit = {
            e: ends[e][s.name]["collapsed"].to_numpy(float)
            - (0.0 if s.name == reference else ends[e][reference]["collapsed"].to_numpy(float))
            for e in ends
        }
        paired = hit["high"] - hit["low"]
        ci = boot_interval(paired, blocks, rng, 2000)
        rows.append(
            {"judgement": key, "scenario": s.name, "low": low, "high": high}
            | {f"headline_{e}": float(np.nanmean(v)) for e, v in hit.items()}
            | {"swing": float(np.nanmean(paired)), "swing_low": ci[0], "swing_high": ci[1]}
        )
    return rows


def differences_table(t: pd.DataFrame, reference: str, runs: int, posterior: str = "") -> str:
    """:func:`sweep_differences` as Markdown: the 20 largest swings (the reference's of its
    collapse probability, the others' of their difference from it), and which exceed 0.1."""
    top = t.reindex(t["swing"].abs().sort_values(ascending=False).index).head(20)
    lines = markdown_table(
        top,
        "judgement | scenario | range | at low | at high | swing | 95% interval",
        "`{judgement}` | {scenario} | {low:g} - {high:g} | {headline_low:+.3f} "
        "| {headline_high:+.3f} | {swing:+.3f} | {swing_low:+.3f} - {swing_high:+.3f}",
    )
    big = t[t["swing"].abs() > 0.1]
    clear = big[(big["swing_low"] > 0.1) | (big["swing_high"] < -0.1)]

    def name(r) -> str:
        return f"`{r.judgement}` ({r.scenario} {r.swing:+.2f})"

    over = f" over the posterior `{posterior}`" if posterior else ""
    lines += [
        "",
        f"{t['judgement'].nunique()} hand-set judgements, {runs} runs per end{over}; "
        f"{reference}: its collapse probability, the others: their difference from it. "
        "Swings above 0.1: "
        + (", ".join(name(r) for r in big.itertuples()) if len(big) else "none")
        + "; clear of 0.1 (95% interval over the paired runs): "
        + (", ".join(name(r) for r in clear.itertuples()) if len(clear) else "none")
        + ".",
    ]
    return "\n".join(lines)


def _big(t: pd.DataFrame, name: str, runs: int) -> str:
    """The sentences naming the rows whose swing exceeds 0.1, and the noise of a swing
    (two binomial sds of the difference of two shares of ``runs`` runs at the mean level):
    a swing within it is not told apart from zero."""
    big = t.loc[t["swing"].abs() > 0.1, name].tolist()
    levels = t.filter(like="headline_").to_numpy(dtype=float)
    p = float(np.nanmean(levels)) if levels.size else 0.0
    noise = 2 * np.sqrt(2 * p * (1 - p) / runs)
    within = t.loc[(t["swing"].abs() > 0.1) & (t["swing"].abs() <= noise), name].tolist()
    said = "Swings above 0.1: " + (", ".join(f"`{d}`" for d in big) if big else "none") + "."
    said += f" Noise of a swing: about +-{noise:.3f} (two sds of a difference of two shares)"
    if within:
        said += "; within it: " + ", ".join(f"`{d}`" for d in within) + " (more --runs)"
    return said + "."


def sweep_table(t: pd.DataFrame, scenario: str, runs: int, posterior: str = "") -> str:
    """:func:`sweep` as the Markdown table of ``docs/calibration.md`` (largest swing first)."""
    t = t.reindex(t["swing"].abs().sort_values(ascending=False).index)
    lines = markdown_table(
        t,
        f"judgement | registry range | {scenario} collapse at low | at high | swing",
        "`{judgement}` | {low:g} - {high:g} | {headline_low:.3f} | {headline_high:.3f} "
        "| {swing:+.3f}",
    )
    over = f" over the posterior `{posterior}`" if posterior else ""
    lines += [
        "",
        f"{len(t)} hand-set judgements, {runs} runs per end{over}. {_big(t, 'judgement', runs)}",
    ]
    return "\n".join(lines)


def swing_table(t: pd.DataFrame, scenario: str, runs: int, posterior: str = "") -> str:
    """:func:`swing` as the Markdown table of ``docs/calibration.md``."""
    lines = markdown_table(
        t,
        f"dimension | posterior/prior sd | with the record | 90% posterior range "
        f"| {scenario} collapse at 5% | at 95% | swing",
        "`{dimension}` | {width:.2f} | {width_record:.2f} | {q05:.3g} - {q95:.3g} "
        "| {headline_q05:.3f} | {headline_q95:.3f} | {swing:+.3f}",
    )
    lines += [
        "",
        f"Median posterior/prior sd {t['width'].median():.2f} over {len(t)} dimensions "
        f"({t['width_record'].median():.2f} with the record); {runs} runs per end"
        f"{f' over the posterior `{posterior}`' if posterior else ''}. "
        f"{_big(t, 'dimension', runs)}",
    ]
    return "\n".join(lines)
