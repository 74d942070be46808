"""Statistics of comparison tables: pure functions of the runs and members tables.

Intervals are 95%, the Monte Carlo error of an average over the runs. Over a posterior
they carry the error of sampling the parameters as well as the dice: bootstraps also
resample whole blocks of runs sharing a posterior sample (:func:`block_column`), and the
Wilson interval of a probability counts runs as fewer by the design effect of those blocks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from csto_sim.core.vocabulary import RESPONSE_LEVELS

OUTCOME_FIGURES: tuple[str, ...] = (
    "cohesion_final",
    "n_active_final",
    "requests",
    "responses",
    "response_rate",
    "unanswered_severity",
    "alliance_unanswered_severity",
)
"""Per-run outcome measures summarised in every report."""


PAIRED_FIGURES: tuple[str, ...] = (
    "cohesion_final",
    "n_active_final",
    "n_frozen_final",
    "n_withdrawn_final",
    "collapsed",
    "response_rate",
    "clash_answer_rate",
    "level_deployment",
    "vetoed",
    "unanswered_severity",
    "alliance_unanswered_severity",
)
"""Outcome figures compared run by run against the reference scenario."""


HEADLINE: tuple[str, ...] = ("cohesion_final", "n_active_final", "collapsed")
"""The outcomes whose uncertainty is split into parameters and dice when runs draw their
parameters from a posterior."""


MEMBER_FIGURES: tuple[str, ...] = (
    "answered",
    "requests",
    "exited",
    "exit_year",
    "commitment_final",
)
"""Per-member figures compared run by run (with each ``w_<pole>_final``)."""


def check_targets(scenario) -> None:
    """Refuse a scenario whose ``targets`` name an outcome the report does not compare: a
    runs measure of :data:`PAIRED_FIGURES`, or ``"Member measure"`` with a member other than
    the leader and a measure of :data:`MEMBER_FIGURES` or ``w_<pole>_final``."""
    from csto_sim.core.errors import ScenarioError, did_you_mean, show

    figures = [*MEMBER_FIGURES, *(f"w_{p.lower()}_final" for p in scenario.poles)]
    members = [m for m in scenario.members if m != scenario.alliance.leader]
    known = [*PAIRED_FIGURES, *(f"{m} {f}" for m in members for f in figures)]
    for i, target in enumerate(scenario.targets):
        if target not in known:
            raise ScenarioError(
                scenario.source or scenario.name,
                f"targets[{i}]",
                f"{show(target)} is not an outcome the report compares{did_you_mean(target, known)}"
                f" (a runs measure such as 'clash_answer_rate', or 'Member measure' such as "
                f"'{members[0] if members else 'Armenia'} answered')",
            )


def member_status_table(members: pd.DataFrame) -> pd.DataFrame:
    """Share of runs in which each member ends active, frozen, withdrawn or outside, per scenario."""
    counts = (
        members.groupby(["scenario", "member"], sort=False)["status_final"]
        .value_counts(normalize=True)
        .unstack(fill_value=0.0)
    )
    for col in ("active", "frozen", "withdrawn", "non_member"):
        if col not in counts:
            counts[col] = 0.0
    return counts[["active", "frozen", "withdrawn", "non_member"]].reset_index()


def exit_probabilities(members: pd.DataFrame, years: dict[str, float]) -> pd.DataFrame:
    """Probability that each member has frozen or withdrawn by each named year, per scenario.

    ``years`` maps a column label to a decimal year (for example ``{"by_2030": 2030.0}``);
    a member counts once its first exit (freeze or withdrawal) happened before that year.
    """
    rows = []
    for (name, member), group in members.groupby(["scenario", "member"], sort=False):
        row = {"scenario": name, "member": member}
        for label, year in years.items():
            row[label] = float((group["exit_year"] < year).mean())
        rows.append(row)
    return pd.DataFrame(rows)


def _pairs(runs: pd.DataFrame, reference: str):
    """For each other scenario: its name, the reference's and its successful runs (indexed
    by run) and the run indices both have (paired by common random numbers)."""
    ok = runs[runs["status"] == "ok"]
    ref = ok[ok["scenario"] == reference].set_index("run")
    for name in ok["scenario"].unique():
        if name == reference:
            continue
        other = ok[ok["scenario"] == name].set_index("run")
        common = ref.index.intersection(other.index)
        if not common.empty:
            yield name, ref, other, common


def block_column(runs: pd.DataFrame) -> str | None:
    """The column whose runs a bootstrap resamples together: the posterior ``sample`` a
    run's parameters come from (runs of one sample share them and, conditioned on the
    record, may continue one history), else its ``draw``; None without a posterior."""
    for key in ("sample", "draw"):
        if key in runs and runs[key].notna().all():
            return key
    return None


def blocks_of(frame: pd.DataFrame) -> np.ndarray:
    """The resampling block of each run (:func:`block_column`), else the run itself."""
    key = block_column(frame)
    return frame[key].to_numpy() if key else np.arange(len(frame))


def boot_interval(
    d: np.ndarray, blocks: np.ndarray, rng: np.random.Generator, n_boot: int
) -> tuple[float, float]:
    """95% percentile interval of the mean of ``d`` (finite values) by bootstrap: the wider
    of resampling whole blocks (runs sharing a posterior sample) and resampling runs, so
    that a few blocks never give an interval narrower than independent runs would."""
    keep = np.isfinite(d)
    values = d[keep]
    low, high = np.inf, -np.inf
    for groups in {len(np.unique(blocks[keep])), len(values)}:
        codes = np.arange(len(values)) if groups == len(values) else pd.factorize(blocks[keep])[0]
        sums = np.bincount(codes, weights=values)
        counts = np.bincount(codes).astype(float)
        pick = rng.integers(0, len(sums), size=(n_boot, len(sums)))
        with np.errstate(invalid="ignore", divide="ignore"):  # a resample may hold no value
            means = sums[pick].sum(axis=1) / counts[pick].sum(axis=1)
        low = min(low, float(np.nanquantile(means, 0.025)))
        high = max(high, float(np.nanquantile(means, 0.975)))
    return low, high


def paired_differences(
    runs: pd.DataFrame,
    reference: str,
    figures: tuple[str, ...] = PAIRED_FIGURES,
    n_boot: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """Mean difference to the reference scenario, run by run, with 95% bootstrap intervals.

    Runs with the same index share their random draws (common random numbers), so the
    paired difference removes the noise the scenarios share. Over a posterior the bootstrap
    also resamples whole blocks (:func:`block_column`) and keeps the wider interval, so it
    carries the uncertainty of sampling the parameters as well as the dice. The table also gives the standard
    deviation of the paired and of the unpaired differences, which shows how much
    variance the pairing removes.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for name, ref, other, common in _pairs(runs, reference):
        blocks = blocks_of(other.loc[common])
        for fig in figures:
            a = other.loc[common, fig].astype(float).to_numpy()
            b = ref.loc[common, fig].astype(float).to_numpy()
            d = a - b
            keep = np.isfinite(d)
            if not keep.any():
                continue
            low, high = boot_interval(d, blocks, rng, n_boot)
            unpaired = np.nanstd(a) ** 2 + np.nanstd(b) ** 2
            rows.append(
                {
                    "scenario": name,
                    "reference": reference,
                    "measure": fig,
                    "reference_mean": float(b[keep].mean()),
                    "mean_difference": float(d[keep].mean()),
                    "ci_low": low,
                    "ci_high": high,
                    "sd_paired": float(d[keep].std()),
                    "sd_unpaired": float(np.sqrt(unpaired)),
                    "runs": int(keep.sum()),
                }
            )
    return pd.DataFrame(rows)


def parameter_uncertainty(
    runs: pd.DataFrame, reference: str, figures: tuple[str, ...] = HEADLINE
) -> pd.DataFrame:
    """For runs over a posterior: the paired difference to the reference per parameter set
    (runs sharing one posterior ``sample``, else one ``draw``), and how its spread splits
    into parameter uncertainty and the dice (one-way random effects, unbalanced):
    ``sd_dice`` is the pooled sd of runs within a set (from the sets of two runs or more,
    counted in ``replicated``); ``sd_parameters`` the sd between the sets' means less what
    the dice put into them (``sqrt(max(0, var(means) - sd_dice^2 * mean(1 / runs)))``, every
    set counted, one of a single run too), so it is about 0 when every set has the same
    parameters; both are NaN when no set holds two runs. The 5-95% range of the sets'
    means is given as it is. Empty without draws."""
    key = block_column(runs)
    if key is None:
        return pd.DataFrame()
    rows = []
    for name, ref, other, common in _pairs(runs, reference):
        sets = other.loc[common, key]
        for fig in figures:
            d = other.loc[common, fig].astype(float) - ref.loc[common, fig].astype(float)
            by = d.groupby(sets)
            means, sizes = by.mean(), by.size()
            df = int((sizes - 1).sum())
            dice = float(((sizes - 1) * by.var(ddof=1).fillna(0.0)).sum() / df) if df else np.nan
            spread = float(means.var(ddof=1)) if len(means) > 1 else np.nan
            between = spread - dice * float((1.0 / sizes).mean())
            rows.append(
                {
                    "scenario": name,
                    "measure": fig,
                    "mean_difference": float(d.mean()),
                    "draws": int(len(means)),
                    "replicated": int((sizes > 1).sum()),
                    "over_parameters_p05": float(means.quantile(0.05)),
                    "over_parameters_p95": float(means.quantile(0.95)),
                    "sd_parameters": float(np.sqrt(max(between, 0.0))) if df else np.nan,
                    "sd_dice": float(np.sqrt(dice)) if df else np.nan,
                }
            )
    return pd.DataFrame(rows)


def response_rates(runs: pd.DataFrame) -> pd.DataFrame:
    """Requests, responses and the pooled response rate per scenario, and the response-level
    mix: the share of requests whose answer was each level (pooled over runs), and the
    share whose collective answer some member vetoed."""
    ok = runs[runs["status"] == "ok"]
    levels = [f"level_{name}" for name in RESPONSE_LEVELS[1:] if f"level_{name}" in ok]
    cols = ["requests", "responses", *levels, *(["vetoed"] if "vetoed" in ok else [])]
    out = ok.groupby("scenario", sort=False)[cols].sum().reset_index()
    asked = out["requests"].where(out["requests"] > 0)
    out["response_rate"] = out["responses"] / asked
    for c in cols[2:]:
        out[c] = out[c] / asked
    out.insert(3, "level_none", 1.0 - out[levels].sum(axis=1) if levels else np.nan)
    return out


def member_paired_differences(
    members: pd.DataFrame, runs: pd.DataFrame, reference: str, n_boot: int = 2000
) -> pd.DataFrame:
    """:func:`paired_differences` of each member's figures (its answered requests, whether
    and when it froze or left, its final commitment and security alignments), with a
    ``member`` column."""
    m = members.assign(exited=members["exit_year"].notna().astype(float))
    figures = [f for f in MEMBER_FIGURES if f in m] + [
        c for c in m.columns if c.startswith("w_") and c.endswith("_final")
    ]
    wide = m.pivot_table(index=["scenario", "run"], columns="member", values=figures, dropna=False)
    wide.columns = [f"{member}|{measure}" for measure, member in wide.columns]
    keys = ["scenario", "run", "status", *block_columns(runs)]
    ok = runs.loc[runs["status"] == "ok", keys]
    wide = ok.merge(wide.reset_index(), on=["scenario", "run"])
    out = paired_differences(wide, reference, tuple(wide.columns[len(keys) :]), n_boot)
    if out.empty:
        return out
    split = out["measure"].str.split("|", n=1, expand=True)
    return out.assign(member=split[0], measure=split[1])[
        ["scenario", "reference", "member", *out.columns.drop(["scenario", "reference"])]
    ]


Z95 = 1.959963984540054
"""The standard normal quantile of a two-sided 95% interval."""


def proportion_interval(hits: np.ndarray, blocks: np.ndarray | None = None) -> tuple[float, ...]:
    """A probability (share of runs) and its 95% Wilson score interval.

    With ``blocks`` (each run's posterior sample, :func:`block_column`) the number of runs
    is divided by the design effect of runs sharing a block (the variance of the share over
    blocks against that of independent runs, at least 1), so the interval carries the
    uncertainty of sampling the parameters as well as the dice.
    """
    x = np.asarray(hits, dtype=float)
    keep = np.isfinite(x)
    x = x[keep]
    n = len(x)
    if n == 0:
        return (np.nan, np.nan, np.nan)
    p = float(x.mean())
    n_eff = float(n)
    if blocks is not None and 0.0 < p < 1.0:
        codes, _ = pd.factorize(np.asarray(blocks)[keep])
        sums, sizes = np.bincount(codes, weights=x), np.bincount(codes)
        g = len(sums)
        if g > 1:
            var_blocks = g / (g - 1) * np.sum((sums - p * sizes) ** 2) / n**2
            n_eff = n / max(1.0, var_blocks / (p * (1 - p) / n))
    z2 = Z95**2 / n_eff
    centre = (p + z2 / 2) / (1 + z2)
    half = Z95 * np.sqrt(p * (1 - p) / n_eff + z2 / (4 * n_eff)) / (1 + z2)
    low = 0.0 if p == 0.0 else max(0.0, centre - half)
    return (p, low, 1.0 if p == 1.0 else min(1.0, centre + half))


MEMBER_PATHS: dict[str, str] = {
    "frozen_at_start": "frozen at the start",
    "withdrawn_at_start": "withdrawn at the start",
    "froze": "froze during the run",
    "withdrew": "withdrew during the run",
    "ends_frozen": "frozen at the end",
    "ends_withdrawn": "withdrawn at the end",
}
"""What can happen to a member's membership in a run (columns of :func:`member_paths`)."""


def _path_flags(members: pd.DataFrame, start: pd.Series) -> pd.DataFrame:
    """0/1 per run and member for each of :data:`MEMBER_PATHS`."""
    end = members["status_final"]
    known = start.notna()
    return pd.DataFrame(
        {
            "frozen_at_start": start.eq("frozen").where(known),
            "withdrawn_at_start": start.eq("withdrawn").where(known),
            "froze": members["frozen_year"].notna(),
            "withdrew": members["withdrawn_year"].notna(),
            "ends_frozen": end.eq("frozen"),
            "ends_withdrawn": end.eq("withdrawn"),
        },
        index=members.index,
    ).astype(float)


def member_paths(members: pd.DataFrame, start: pd.Series, runs: pd.DataFrame) -> pd.DataFrame:
    """Per scenario and member, the probability (share of successful runs) of each of
    :data:`MEMBER_PATHS`, with 95% intervals (:func:`proportion_interval`, by posterior
    sample when there is one): one row per scenario, member and path."""
    ok = runs.loc[runs["status"] == "ok", ["scenario", "run", *block_columns(runs)]]
    flags = pd.concat([members[["scenario", "run", "member"]], _path_flags(members, start)], axis=1)
    flags = flags.merge(ok, on=["scenario", "run"])
    rows = []
    for (name, member), group in flags.groupby(["scenario", "member"], sort=False):
        blocks = blocks_of(group) if block_column(group) else None
        for path in MEMBER_PATHS:
            p, low, high = proportion_interval(group[path].to_numpy(), blocks)
            rows.append(
                {"scenario": name, "member": member, "path": path, "p": p}
                | {"ci_low": low, "ci_high": high}
            )
    return pd.DataFrame(rows)


def block_columns(runs: pd.DataFrame) -> list[str]:
    key = block_column(runs)
    return [key] if key else []


def collapse_table(runs: pd.DataFrame, years: dict[str, float], start: float) -> pd.DataFrame:
    """Per scenario, the probability that the alliance has collapsed at the start of the
    projection and before each named year, with 95% intervals (:func:`proportion_interval`)."""
    ok = runs[runs["status"] == "ok"]
    rows = []
    for name, group in ok.groupby("scenario", sort=False):
        blocks = blocks_of(group) if block_column(group) else None
        year = group["collapse_year"].astype(float)
        checks = {"at_start": year <= start + 1e-9} | {k: year < y for k, y in years.items()}
        for label, hit in checks.items():
            p, low, high = proportion_interval(hit.to_numpy(), blocks)
            rows.append({"scenario": name, "when": label, "p": p, "ci_low": low, "ci_high": high})
    return pd.DataFrame(rows)


def mean_table(runs: pd.DataFrame, figures: tuple[str, ...] = OUTCOME_FIGURES) -> pd.DataFrame:
    """Per scenario and measure: the mean over runs with its 95% interval (block bootstrap,
    by posterior sample when there is one), the median and the 5-95% range of the runs."""
    ok = runs[runs["status"] == "ok"]
    rng = np.random.default_rng(0)
    rows = []
    for name, group in ok.groupby("scenario", sort=False):
        blocks = blocks_of(group)
        for fig in (f for f in figures if f in group):
            v = group[fig].astype(float).to_numpy()
            if not np.isfinite(v).any():
                continue
            low, high = boot_interval(v, blocks, rng, 2000)
            rows.append(
                {
                    "scenario": name,
                    "measure": fig,
                    "mean": float(np.nanmean(v)),
                    "ci_low": low,
                    "ci_high": high,
                    "median": float(np.nanmedian(v)),
                    "p05": float(np.nanquantile(v, 0.05)),
                    "p95": float(np.nanquantile(v, 0.95)),
                    "runs": int(np.isfinite(v).sum()),
                }
            )
    return pd.DataFrame(rows)
