"""Statistics of a results folder: tables that read only the saved results, never the model."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from csto_sim.core.scenario import Scenario
from csto_sim.core.vocabulary import RESPONSE_LEVELS
from csto_sim.experiments.ensemble import run_ensemble
from csto_sim.experiments.results import ResultsError, read_manifest, read_table


class UnknownReference(ValueError):
    """The reference scenario of a comparison is not in the results folder."""


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


def outcome_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean, median and 5-95% range of the outcome measures per scenario (successful runs
    only); ``collapsed`` is 0/1 per run, so its mean is the probability of collapse."""
    ok = runs[runs["status"] == "ok"]
    rows = []
    for name, group in ok.groupby("scenario", sort=False):
        for fig in (*OUTCOME_FIGURES, "collapsed"):
            values = group[fig].astype(float).dropna()
            rows.append(
                {
                    "scenario": name,
                    "measure": fig,
                    "mean": values.mean(),
                    "median": values.median(),
                    "p05": values.quantile(0.05) if len(values) else np.nan,
                    "p95": values.quantile(0.95) if len(values) else np.nan,
                }
            )
    return pd.DataFrame(rows)


HORIZON = 2030.0
"""The intermediate year of the comparison report (exits and collapse "by 2030")."""

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


def _blocks(frame: pd.DataFrame) -> np.ndarray:
    """The resampling block of each run: its posterior ``draw`` (runs sharing one parameter
    sample are resampled together), else the run itself."""
    if "draw" in frame and frame["draw"].notna().all():
        return frame["draw"].to_numpy()
    return np.arange(len(frame))


def _boot_interval(
    d: np.ndarray, blocks: np.ndarray, rng: np.random.Generator, n_boot: int
) -> tuple[float, float]:
    """95% percentile interval of the mean of ``d`` (finite values) by bootstrap: the wider
    of resampling whole blocks (runs sharing a posterior draw) and resampling runs, so that
    a few draws never give an interval narrower than independent runs would."""
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
    paired difference removes the noise the scenarios share. Over a posterior (a ``draw``
    column) the bootstrap also resamples whole draws and keeps the wider interval, so it
    carries the uncertainty of sampling the parameters as well as the dice. The table also gives the standard
    deviation of the paired and of the unpaired differences, which shows how much
    variance the pairing removes.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for name, ref, other, common in _pairs(runs, reference):
        blocks = _blocks(other.loc[common])
        for fig in figures:
            a = other.loc[common, fig].astype(float).to_numpy()
            b = ref.loc[common, fig].astype(float).to_numpy()
            d = a - b
            keep = np.isfinite(d)
            if not keep.any():
                continue
            low, high = _boot_interval(d, blocks, rng, n_boot)
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


HEADLINE: tuple[str, ...] = ("cohesion_final", "n_active_final", "collapsed")
"""The outcomes whose uncertainty is split into parameters and dice when runs draw their
parameters from a posterior."""


def parameter_uncertainty(
    runs: pd.DataFrame, reference: str, figures: tuple[str, ...] = HEADLINE
) -> pd.DataFrame:
    """For runs over a posterior (a ``draw`` column): the paired difference to the reference
    per draw (runs sharing one posterior sample), and how its spread splits into parameter
    uncertainty and the dice (one-way random effects): ``sd_dice`` is the pooled sd of runs
    within a draw; ``sd_parameters`` the sd between draws less what the dice put into the
    draws' means (``sqrt(max(0, var(means) - mean(within var / runs))``), so it is about 0
    when every draw has the same parameters; the 5-95% range of the draws' means is given
    as it is. Empty without draws."""
    if "draw" not in runs or runs["draw"].isna().all():
        return pd.DataFrame()
    rows = []
    for name, ref, other, common in _pairs(runs, reference):
        draws = other.loc[common, "draw"]
        for fig in figures:
            d = other.loc[common, fig].astype(float) - ref.loc[common, fig].astype(float)
            by = d.groupby(draws)
            means = by.mean()
            within = by.var(ddof=1).dropna()
            in_means = (within / by.size()[within.index]).mean() if len(within) else 0.0
            between = float(means.var(ddof=1)) - in_means if len(means) > 1 else np.nan
            rows.append(
                {
                    "scenario": name,
                    "measure": fig,
                    "mean_difference": float(d.mean()),
                    "draws": int(len(means)),
                    "over_parameters_p05": float(means.quantile(0.05)),
                    "over_parameters_p95": float(means.quantile(0.95)),
                    "sd_parameters": float(np.sqrt(max(between, 0.0))),
                    "sd_dice": float(np.sqrt(within.mean())) if len(within) else np.nan,
                }
            )
    return pd.DataFrame(rows)


def uncertainty_note(manifest: dict[str, Any]) -> str:
    """What the report's spreads and intervals cover, in one sentence."""
    post = manifest.get("posterior")
    if not post:
        return (
            "All runs use each scenario's own behavioural parameters: spreads and 95% intervals "
            "cover the dice (Monte-Carlo variation) only, not uncertainty about the parameters."
        )
    shared = (
        "runs that continue histories of one draw share it"
        if any((manifest.get("conditioning") or {}).values())
        else f"{post['runs_per_draw']} consecutive runs share one draw"
    )
    text = (
        f"Runs draw their behavioural parameters from the posterior `{Path(post['file']).name}` "
        f"({post['samples']} samples; {shared}): spreads and 95% intervals cover parameter "
        "uncertainty and the dice; the section 'Parameters against dice' separates the two."
    )
    fixed = {name: values for name, values in post.get("fixed", {}).items() if values}
    for name, values in fixed.items():
        listed = ", ".join(f"`{k}` = {v:g}" for k, v in values.items())
        text += (
            f" In {name}, parameters set by the scenario stay fixed in every run ({listed}); "
            "the posterior's other parameters are drawn."
        )
    return text


MIN_ESS = 100
"""An effective sample size below this is too few histories to forecast from (said so)."""


def conditioning_note(manifest: dict[str, Any]) -> str:
    """How the histories the projections continue were conditioned on the record ("" if
    no scenario conditions)."""
    done = {name: c for name, c in (manifest.get("conditioning") or {}).items() if c}
    if not done:
        return ""
    text = (
        "Histories conditioned on the record: each run continues a history that holds every "
        "membership status, request and answer its history's record gives (a guided particle "
        "filter, `csto_sim.inference.conditioning`: each member's status drawn among those the "
        "record allows and each recorded request and answer drawn as recorded, each history "
        "weighted by the model's chance of them, the histories resampled to equal weight once, "
        "at the end of the history)."
    )
    for name, c in done.items():
        text += (
            f" {name}: {c['histories']} histories simulated, {c['accepted']} accepted, "
            f"effective sample size {c['ess']:g}; its runs continue {c['distinct']} distinct "
            "histories."
        )
        if c["ess"] < MIN_ESS:
            text += (
                f" **Too few histories hold the record for {name} (effective sample size "
                f"{c['ess']:g} < {MIN_ESS}): its results rest on a handful of histories; "
                "do not read them as a forecast.**"
            )
    return text


def response_rates(runs: pd.DataFrame) -> pd.DataFrame:
    """Requests, responses and the pooled response rate per scenario, and the response-level
    mix: the share of requests that got each level at most (pooled over runs), and the
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


def recorded_requests() -> tuple[int, int]:
    """Requests for help the CSTO's history records (2002-2024) and how many it answered
    (``csto_sim/data/events_2002_2024.csv``, columns ``request`` and ``csto_response``)."""
    path = resources.files("csto_sim").joinpath("data", "events_2002_2024.csv")
    with path.open(encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["request"] == "yes"]
    return len(rows), sum(r["csto_response"] == "yes" for r in rows)


def answered_beside_history(responses: pd.DataFrame) -> str:
    """The share of requests answered in each scenario beside the share history answered."""
    asked, answered = recorded_requests()
    shares = ", ".join(
        f"{row.scenario} {_share(row.response_rate)}" for row in responses.itertuples()
    )
    return (
        f"Requests answered, beside history: of the {asked} requests for help the record "
        f"of 2002-2024 holds, the CSTO answered {answered} ({_share(answered / asked)}; "
        f"`events_2002_2024.csv`); in these runs: {shares}."
    )


def _share(value: float) -> str:
    return "-" if pd.isna(value) else f"{100 * value:.0f}%"


MEMBER_FIGURES: tuple[str, ...] = (
    "answered",
    "requests",
    "exited",
    "exit_year",
    "commitment_final",
)
"""Per-member figures compared run by run (with each ``w_<pole>_final``)."""


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
    keys = ["scenario", "run", "status", *(["draw"] if "draw" in runs else [])]
    ok = runs.loc[runs["status"] == "ok", keys]
    wide = ok.merge(wide.reset_index(), on=["scenario", "run"])
    out = paired_differences(wide, reference, tuple(wide.columns[len(keys) :]), n_boot)
    if out.empty:
        return out
    split = out["measure"].str.split("|", n=1, expand=True)
    return out.assign(member=split[0], measure=split[1])[
        ["scenario", "reference", "member", *out.columns.drop(["scenario", "reference"])]
    ]


FIGURE_WORDS: dict[str, str] = {
    "cohesion_final": "cohesion in the end year",
    "n_active_final": "active members in the end year",
    "n_frozen_final": "frozen members in the end year",
    "n_withdrawn_final": "withdrawn members in the end year",
    "collapsed": "the chance of collapse",
    "response_rate": "the share of requests answered",
    "clash_answer_rate": "the share of requests over border clashes, incursions and clashes between members answered",
    "level_deployment": "requests answered with a deployment",
    "vetoed": "requests whose collective answer a member vetoed",
    "unanswered_severity": "the severity left unanswered by anyone",
    "alliance_unanswered_severity": "the severity the alliance left unanswered",
    "answered": "{member}'s answered requests",
    "requests": "{member}'s requests",
    "exited": "the chance that {member} froze or left",
    "exit_year": "the year {member} first froze or left (runs where it did in both)",
    "commitment_final": "{member}'s commitment in the end year",
}


def _words(measure: str, member: str = "", poles: dict[str, str] | None = None) -> str:
    if measure.startswith("w_") and measure.endswith("_final"):
        pole = (poles or {}).get(measure[2:-6], measure[2:-6])
        return f"{member}'s security alignment with {pole} in the end year"
    return FIGURE_WORDS.get(measure, measure).format(member=member)


def lever_effects(
    paired: pd.DataFrame,
    members: pd.DataFrame,
    targets: dict[str, list[str]] | None = None,
    top: int = 4,
    poles: Iterable[str] = (),
    leader: str = "",
) -> str:
    """What each scenario did against the reference, in words. First the outcomes it names
    as its ``targets`` (a scenario file's ``targets``: a run measure such as
    ``clash_answer_rate``, or ``"Member measure"`` such as ``"Armenia answered"``), each with
    its paired difference and whether its 95% interval excludes zero; then up to ``top``
    other differences whose intervals exclude zero, the largest relative to the reference's
    level first. The ``leader``'s own rows are left out (its alignment with its own pole
    says nothing)."""
    frames = [paired.assign(member="")]
    if len(members):
        frames.append(members[members["member"] != leader])
    both = pd.concat(frames, ignore_index=True)
    if both.empty:
        return "(only one scenario)"
    both["key"] = (both["member"] + " " + both["measure"]).str.strip()
    scale = both["reference_mean"].abs().where(both["reference_mean"].abs() > 1e-9)
    both["size"] = both["mean_difference"].abs() / scale
    names = {p.lower(): p for p in poles}

    def say(r) -> str:
        verb = "rose" if r.mean_difference > 0 else "fell"
        return (
            f"{_words(r.measure, r.member, names)} {verb} by {abs(r.mean_difference):.3g} "
            f"({r.ci_low:+.3g} to {r.ci_high:+.3g})"
        )

    lines = []
    for name in both["scenario"].unique():
        mine = both[both["scenario"] == name]
        wanted = (targets or {}).get(name, [])
        parts = []
        if wanted:
            said = []
            for key in wanted:
                hit = mine[mine["key"] == key]
                if hit.empty:
                    said.append(f"{key}: not measured")
                    continue
                r = next(hit.itertuples())
                clear = r.ci_low > 0 or r.ci_high < 0
                said.append(say(r) + ("" if clear else ", an interval that includes zero"))
            parts.append("its targets: " + "; ".join(said))
        clear = mine[((mine["ci_low"] > 0) | (mine["ci_high"] < 0)) & ~mine["key"].isin(wanted)]
        rows = clear.sort_values("size", ascending=False).head(top)
        if len(rows):
            lead = "Also: " if wanted else "clear effects: "
            parts.append(lead + "; ".join(say(r) for r in rows.itertuples()))
        if not parts:
            parts.append("no difference whose 95% interval excludes zero")
        lines.append(f"- **{name}**: " + ". ".join(parts) + ".")
    return "\n".join(lines)


Z95 = 1.959963984540054
"""The standard normal quantile of a two-sided 95% interval."""


def proportion_interval(hits: np.ndarray, blocks: np.ndarray | None = None) -> tuple[float, ...]:
    """A probability (share of runs) and its 95% Wilson score interval.

    With ``blocks`` (the posterior draw of each run) the number of runs is divided by the
    design effect of runs sharing a draw (the variance of the share over blocks against
    that of independent runs, at least 1), so the interval carries the uncertainty of
    sampling the parameters as well as the dice.
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


def start_status(root: str | Path, members: pd.DataFrame) -> pd.Series:
    """Each member's status in the first year of its run's projection, aligned with
    ``members`` (one entry per row), from the ``timeseries`` table (its first step of the
    scenario's own span): a scenario that continues a history starts each run where that
    history run ended. Missing (None) without a ``timeseries`` table."""
    keys = ["scenario", "run", "member"]
    manifest = read_manifest(root)
    where = {"period": "scenario"} if manifest.get("with_history") else {"step": 0}
    try:
        ts = read_table(root, "timeseries", [*keys, "step", "status"], where)
    except ResultsError:
        return pd.Series(None, index=members.index, dtype=object)
    first = ts.groupby("scenario")["step"].transform("min")
    ts = ts[ts["step"] == first].drop(columns="step")
    merged = members[keys].merge(ts, on=keys, how="left")
    return pd.Series(merged["status"].to_numpy(), index=members.index, dtype=object)


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
    draw when there is one): one row per scenario, member and path."""
    ok = runs.loc[runs["status"] == "ok", ["scenario", "run", *_draw_column(runs)]]
    flags = pd.concat([members[["scenario", "run", "member"]], _path_flags(members, start)], axis=1)
    flags = flags.merge(ok, on=["scenario", "run"])
    rows = []
    for (name, member), group in flags.groupby(["scenario", "member"], sort=False):
        blocks = group["draw"].to_numpy() if "draw" in group else None
        for path in MEMBER_PATHS:
            p, low, high = proportion_interval(group[path].to_numpy(), blocks)
            rows.append(
                {"scenario": name, "member": member, "path": path, "p": p}
                | {"ci_low": low, "ci_high": high}
            )
    return pd.DataFrame(rows)


def _draw_column(runs: pd.DataFrame) -> list[str]:
    return ["draw"] if "draw" in runs and runs["draw"].notna().all() else []


def collapse_table(runs: pd.DataFrame, years: dict[str, float], start: float) -> pd.DataFrame:
    """Per scenario, the probability that the alliance has collapsed at the start of the
    projection and before each named year, with 95% intervals (:func:`proportion_interval`)."""
    ok = runs[runs["status"] == "ok"]
    rows = []
    for name, group in ok.groupby("scenario", sort=False):
        blocks = group["draw"].to_numpy() if _draw_column(group) else None
        year = group["collapse_year"].astype(float)
        checks = {"at_start": year <= start + 1e-9} | {k: year < y for k, y in years.items()}
        for label, hit in checks.items():
            p, low, high = proportion_interval(hit.to_numpy(), blocks)
            rows.append({"scenario": name, "when": label, "p": p, "ci_low": low, "ci_high": high})
    return pd.DataFrame(rows)


def mean_table(runs: pd.DataFrame, figures: tuple[str, ...] = OUTCOME_FIGURES) -> pd.DataFrame:
    """Per scenario and measure: the mean over runs with its 95% interval (block bootstrap,
    by posterior draw when there is one), the median and the 5-95% range of the runs."""
    ok = runs[runs["status"] == "ok"]
    rng = np.random.default_rng(0)
    rows = []
    for name, group in ok.groupby("scenario", sort=False):
        blocks = _blocks(group)
        for fig in figures:
            v = group[fig].astype(float).to_numpy()
            if not np.isfinite(v).any():
                continue
            low, high = _boot_interval(v, blocks, rng, 2000)
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


def _flat(tree: Any, path: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    """A nested mapping as {key path: leaf} (lists are leaves)."""
    if isinstance(tree, dict):  # an empty table has no settings
        return {k: v for key, sub in tree.items() for k, v in _flat(sub, (*path, str(key))).items()}
    return {path: tree}


def _short_value(value: Any, limit: int = 48) -> str:
    """A setting's value in a few characters (numbers with 4 significant digits)."""
    if isinstance(value, float):
        text = f"{value:.4g}"
    elif isinstance(value, list):
        text = "[" + ", ".join(_short_value(v, limit) for v in value) + "]"
    elif isinstance(value, dict):  # an added table: its short entries
        shown = [f"{k} {_short_value(v)}" for k, v in value.items() if v not in ("", None, {}, [])]
        text = ", ".join(x for x in shown if len(x) <= 28)
    else:
        text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


SKIP_IN_DIFF: tuple[str, ...] = ("name", "description", "source", "targets")
"""Top-level scenario keys that do not change a run (left out of the settings diff)."""


def setting_changes(reference: dict[str, Any], other: dict[str, Any], limit: int = 5) -> str:
    """What a resolved scenario sets differently from the reference, in short: each key
    path with its reference and its own value; tables only one of them has are named by
    their parent (``events`` +name, -name). At most ``limit`` entries, then how many more."""
    ref = {k: v for k, v in reference.items() if k not in SKIP_IN_DIFF}
    own = {k: v for k, v in other.items() if k not in SKIP_IN_DIFF}
    changed: dict[str, str] = {}
    grouped: dict[str, list[str]] = {}
    for path in sorted(set(_flat(ref)) | set(_flat(own))):
        a, b = _lookup(ref, path), _lookup(own, path)
        if a == b:
            continue
        top = _first_missing(ref, own, path)
        if top == path and a is not _MISSING and b is not _MISSING:
            changed[".".join(path)] = f"{_short_value(a)} -> {_short_value(b)}"
        else:
            sign = "+" if _lookup(ref, top) is _MISSING else "-"
            names = grouped.setdefault(".".join(top[:-1]) or "(top level)", [])
            if sign + top[-1] not in names:
                names.append(sign + top[-1])
    entries = [f"`{k}` {v}" for k, v in changed.items()]
    entries += [
        f"`{parent}` {', '.join(_short_value(n, 40) for n in names[:4])}"
        + (f" (+{len(names) - 4} more)" if len(names) > 4 else "")
        for parent, names in grouped.items()
    ]
    if not entries:
        return "(none: the same settings)"
    more = len(entries) - limit
    return "; ".join(entries[:limit]) + (f"; and {more} more" if more > 0 else "")


_MISSING = object()


def _lookup(tree: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(tree, dict) or key not in tree:
            return _MISSING
        tree = tree[key]
    return tree


def _first_missing(a: dict, b: dict, path: tuple[str, ...]) -> tuple[str, ...]:
    """The shortest prefix of ``path`` that one of the two trees lacks (else the path)."""
    for i in range(1, len(path) + 1):
        if _lookup(a, path[:i]) is _MISSING or _lookup(b, path[:i]) is _MISSING:
            return path[:i]
    return path


def scenario_table(manifest: dict[str, Any], reference: str) -> pd.DataFrame:
    """One row per scenario: its name, its ``description`` and what it sets differently
    from the reference scenario."""
    spec = {s["name"]: s["contents"] for s in manifest["scenarios"]}
    return pd.DataFrame(
        {
            "scenario": name,
            "description": contents.get("description") or "(no description)",
            f"differs from {reference}": "(the reference)"
            if name == reference
            else setting_changes(spec[reference], contents),
        }
        for name, contents in spec.items()
    )


FRAGMENTATION: tuple[str, ...] = ("collapsed", "n_withdrawn_final")
"""How the headline ranks fragmentation: the chance of collapse first, then the number of
members withdrawn at the end."""


def _interval(r: Any, digits: int = 2) -> str:
    return f"{r.mean_difference:+.{digits}f} [{r.ci_low:+.{digits}f}, {r.ci_high:+.{digits}f}]"


def headline(
    runs: pd.DataFrame,
    paired: pd.DataFrame,
    collapse: pd.DataFrame,
    reference: str,
    covers: str,
    span: tuple[float, float] = (np.nan, np.nan),
) -> str:
    """The report's opening paragraph: which scenario fragments the alliance most against
    the reference (a clearly higher chance of collapse first, then clearly more members
    withdrawn at the end; "clearly": the 95% interval of the paired difference excludes
    zero), by how much, and whether it differs from the runner-up; or that none does."""
    first = collapse[collapse["when"] == "by_end"].set_index("scenario")

    def level(name: str) -> str:
        r = first.loc[name]
        return f"{r.p:.2f} [{r.ci_low:.2f}, {r.ci_high:.2f}]"

    if "measure" not in paired:  # one scenario: no paired differences
        paired = pd.DataFrame(columns=["scenario", "measure"])
    frag = paired[paired["measure"].isin(FRAGMENTATION)]
    covers = (
        f"Fragmentation is ranked by the chance that the alliance collapses between "
        f"{span[0]:g} and {span[1]:g}, then by the number of members withdrawn in {span[1]:g}, "
        f"each as a paired difference against {reference}. {covers}"
    )
    if frag.empty:
        return f"Only one scenario ({reference}): nothing to compare. {covers}"
    given = list(dict.fromkeys(frag["scenario"]))  # the manifest's order breaks ties
    wide = frag.pivot(index="scenario", columns="measure", values="ci_low").reindex(given)
    mean = frag.pivot(index="scenario", columns="measure", values="mean_difference").reindex(given)
    clear_up = wide.gt(0)
    worse = clear_up.any(axis=1)
    lower = frag[frag["ci_high"] < 0]
    if not worse.any():
        text = (
            f"No scenario fragments the alliance more than {reference}: none raises the "
            "chance of collapse or the number of members withdrawn at the end by more than "
            f"its 95% interval (collapse under {reference}: {level(reference)})."
        )
        if len(lower):
            names = ", ".join(dict.fromkeys(lower["scenario"]))
            text += f" Fragmentation is clearly lower under {names}."
        return f"{text} {covers}"
    order = pd.DataFrame(
        {
            "collapse_clear": clear_up.get("collapsed", False),
            **{f: mean.get(f, 0.0) for f in FRAGMENTATION},
        }
    )[worse]
    # a clear rise in collapse ranks first, by its size; without one, a noise-level collapse
    # difference says nothing, so those rank by withdrawn members
    by_collapse, by_exits = FRAGMENTATION[0], FRAGMENTATION[-1]
    order["key"] = order[by_collapse].where(order["collapse_clear"], order[by_exits])
    order = order.sort_values(
        ["collapse_clear", "key", *FRAGMENTATION], ascending=False, kind="stable"
    )
    top = order.index[0]
    mine = frag[frag["scenario"] == top].set_index("measure")
    parts = []
    if "collapsed" in mine.index:
        r = mine.loc["collapsed"]
        parts.append(
            f"the chance that the alliance collapses is {level(top)} against {level(reference)} "
            f"under {reference}, a paired difference of {_interval(r)}"
            + ("" if r.ci_low > 0 or r.ci_high < 0 else " (an interval that includes zero)")
        )
    if "n_withdrawn_final" in mine.index:
        parts.append(
            f"members withdrawn at the end change by {_interval(mine.loc['n_withdrawn_final'])}"
        )
    text = f"**{top}** fragments the alliance most, against {reference}: " + "; ".join(parts) + "."
    if len(order) > 1:
        text += " " + _runner_up(runs, top, order.index[1], bool(order.iloc[0]["collapse_clear"]))
    return f"{text} {covers}"


def _runner_up(runs: pd.DataFrame, top: str, second: str, by_collapse: bool) -> str:
    """Whether the most fragmenting scenario differs from the next one, paired run by run."""
    fig = "collapsed" if by_collapse else "n_withdrawn_final"
    both = runs[runs["scenario"].isin([top, second])]
    d = paired_differences(both, second, (fig,))
    r = next(d.itertuples())
    what = "the chance of collapse" if by_collapse else "members withdrawn at the end"
    if r.ci_low > 0:
        return f"It exceeds the next, {second}, by {_interval(r)} in {what}."
    if r.ci_high < 0:
        s = next(paired_differences(both, top, (fig,)).itertuples())
        return (
            f"The next, {second}, is higher still in {what}, by {_interval(s)}, but its own "
            "difference from the reference is less certain."
        )
    return (
        f"It does not differ from the next, {second}, by more than the interval "
        f"({what}: {_interval(r)}): the two fragment the alliance about as much."
    )


def covers_note(manifest: dict[str, Any]) -> str:
    """What the intervals of the report cover, in one sentence."""
    post = manifest.get("posterior")
    if not post:
        return (
            "Intervals are 95% and cover the dice (Monte-Carlo variation) only: every run "
            "uses each scenario's own parameters (`--posterior none`)."
        )
    blocks = (
        "the runs that continue histories of one posterior draw share its parameters"
        if any((manifest.get("conditioning") or {}).values())
        else f"every block of {post['runs_per_draw']} runs draws its parameters from the posterior"
    )
    return (
        f"Intervals are 95% and cover parameter uncertainty and the dice: {blocks} "
        f"({post['samples']} samples); bootstrap intervals are the wider of resampling whole "
        "draws and resampling runs, and the Wilson intervals of probabilities count the runs "
        "as fewer by how much the draws differ."
    )


def definitions(manifest: dict[str, Any]) -> str:
    """The measures the report uses, defined as the model computes them."""
    spec = manifest["scenarios"][0]["contents"]
    n_min = spec.get("parameters", {}).get("collapse_min_active", "`collapse_min_active`")
    leader = spec.get("alliance", {}).get("leader", "the leader")
    items = {
        "cohesion (`cohesion_final`)": "an index in [0, 1] at the end year: the share of "
        f"members other than {leader} that are active, times the mean of (a) the active "
        f"members' mean security-alignment weight on {leader}'s pole and (b) one minus the "
        "mean distance (total variation) between the active members' security alignments.",
        "collapse (`collapsed`)": f"at some recorded time of the projection, its first year "
        f"included, fewer than {n_min} members other than {leader} are active; the "
        "probability of collapse is the share of runs where this happens (members may "
        "return afterwards).",
        "active, frozen, withdrawn": "a member's status: active takes full part; frozen has "
        "suspended its participation but stays a member; withdrawn has left (it may "
        "return). `n_active_final`, `n_frozen_final`, `n_withdrawn_final` count the members "
        f"({leader} included) in each status at the end year.",
        "frozen / withdrawn at the start": "the member's status in the first year of the "
        "projection: a scenario that continues a history starts each run where its history "
        "run ended, so this differs between runs.",
        "froze / withdrew during the run": "the member entered that status at some step "
        "after the start (a member frozen from the start has not frozen; it counts once it "
        "withdraws, or returns and freezes again).",
        "requests, responses, `response_rate`": "per run, the members' requests for help, "
        "those the alliance answered (a deployment or more, or a mediation mission for a "
        "clash between members under a charter with mediation) and responses / requests "
        "(runs without requests left out); `clash_answer_rate`: the same for border "
        "clashes, incursions and clashes between members.",
        "`unanswered_severity`": "per run, the summed severity (each threat event 0-1) of "
        "events answered neither by the alliance nor by a pole's bilateral help; "
        "`alliance_unanswered_severity`: of events the alliance did not answer (unrequested "
        "ones included).",
        "`level_*`, `vetoed`": "per run, the requests that got at most a statement or "
        "consultations, a mission, a deployment (`level_deployment`), a standing "
        "peacekeeping mission; `vetoed`: requests whose collective answer a member vetoed.",
        "per member: `answered`, `requests`, `exited`, `exit_year`, `commitment_final`, "
        "`w_<pole>_final`": "its requests answered and made; whether (0/1) and when it first "
        "froze or withdrew during the run; its commitment to the alliance (0-1) and its "
        "security-alignment weight on each pole in the end year.",
        "paired difference": "the mean over run indices i of (run i of the scenario minus "
        "run i of the reference); run i of every scenario shares its seed (common random "
        "numbers)"
        + (" and its parameter draw" if manifest.get("posterior") else "")
        + ", so the difference is the scenario's effect without the noise the runs share.",
    }
    return "\n".join(f"- **{k}**: {v}" for k, v in items.items())


def _with_interval(p: float, low: float, high: float) -> str:
    return f"{p:.2f} [{low:.2f}, {high:.2f}]" if np.isfinite(p) else "n/a"


def _paths_markdown(paths: pd.DataFrame) -> pd.DataFrame:
    """The member paths as one row per scenario and member, each cell "p [low, high]"."""
    cells = paths.assign(
        cell=[_with_interval(*r) for r in paths[["p", "ci_low", "ci_high"]].to_numpy()]
    )
    wide = cells.pivot_table(
        index=["scenario", "member"], columns="path", values="cell", aggfunc="first", sort=False
    )
    return wide[list(MEMBER_PATHS)].rename(columns=MEMBER_PATHS).reset_index()


def _clear(paired: pd.DataFrame) -> pd.DataFrame:
    """The paired differences whose 95% intervals exclude zero."""
    return paired[(paired["ci_low"] > 0) | (paired["ci_high"] < 0)]


def _markdown(frame: pd.DataFrame, digits: int = 3) -> str:
    """A DataFrame as a GitHub-flavoured Markdown table (no extra dependency)."""
    cols = list(frame.columns)
    lines = ["| " + " | ".join(map(str, cols)) + " |", "|" + "---|" * len(cols)]
    for _, row in frame.iterrows():
        cells = [f"{v:.{digits}f}" if isinstance(v, float) else str(v) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def comparison(
    root: str | Path, reference: str | None = None, horizon: float = HORIZON
) -> dict[str, pd.DataFrame]:
    """The comparison tables of a results folder: ``outcomes`` (over runs), ``means`` (with
    intervals), ``paths`` (what happened to each member's membership), ``collapse``
    (probabilities with intervals), ``exits`` (first freeze or withdrawal during the run,
    by year), ``responses``, ``paired``, ``paired_members``, ``uncertainty`` and
    ``scenarios``."""
    runs = read_table(root, "runs")
    members = read_table(root, "members")
    manifest = read_manifest(root)
    names = [s["name"] for s in manifest["scenarios"]]
    reference = reference or names[0]
    if reference not in names:
        raise UnknownReference(
            f"no scenario named {reference!r} in {root} (have: {', '.join(names)})"
        )
    first, end = projection_span(manifest)
    years = {f"by_{horizon:g}": horizon, "by_end": end + 1e-9}
    return {
        "scenarios": scenario_table(manifest, reference),
        "outcomes": outcome_table(runs),
        "means": mean_table(runs),
        "paths": member_paths(members, start_status(root, members), runs),
        "collapse": collapse_table(runs, years, first),
        "exits": exit_probabilities(members, years),
        "responses": response_rates(runs),
        "paired": paired_differences(runs, reference),
        "paired_members": member_paired_differences(members, runs, reference),
        "uncertainty": parameter_uncertainty(runs, reference),
    }


def projection_span(manifest: dict[str, Any]) -> tuple[float, float]:
    """The first and the last year of the scenarios' projections (earliest start, latest end)."""
    times = [s["contents"]["time"] for s in manifest["scenarios"]]
    return min(t["start"] for t in times), max(t["end"] for t in times)


def summary_frame(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """All comparison numbers as one tidy table (scenario, measure, statistic, value) for
    summary.csv."""
    parts = []
    out = tables["outcomes"].melt(id_vars=["scenario", "measure"], var_name="statistic")
    parts.append(out)
    means = tables["means"].drop(columns=["median", "p05", "p95", "runs"])
    means = means.melt(id_vars=["scenario", "measure"], var_name="statistic")
    means["statistic"] = "mean_" + means["statistic"].str.replace("mean", "value")
    parts.append(means)
    ex = tables["exits"].melt(id_vars=["scenario", "member"], var_name="statistic")
    ex["measure"] = "p_exit_" + ex.pop("member")
    parts.append(ex)
    paths = tables["paths"].melt(id_vars=["scenario", "member", "path"], var_name="statistic")
    paths["measure"] = paths.pop("member") + " " + paths.pop("path")
    parts.append(paths)
    col = tables["collapse"].melt(id_vars=["scenario", "when"], var_name="statistic")
    col["measure"] = "p_collapse"
    col["statistic"] = col.pop("when") + "_" + col["statistic"].str.replace("p", "value")
    col["statistic"] = col["statistic"].str.replace("_value", "")
    parts.append(col)
    resp = tables["responses"].melt(id_vars=["scenario"], var_name="measure")
    resp["statistic"] = "total"
    parts.append(resp)
    if len(tables["paired"]):
        pr = (
            tables["paired"]
            .drop(columns=["reference", "runs"])
            .melt(id_vars=["scenario", "measure"], var_name="statistic")
        )
        pr["statistic"] = "paired_" + pr["statistic"]
        parts.append(pr)
    members = tables.get("paired_members", pd.DataFrame())
    if len(members):
        pm = members.drop(columns=["reference", "runs"])
        pm["measure"] = pm.pop("member") + " " + pm["measure"]  # the key a scenario's targets use
        pm = pm.melt(id_vars=["scenario", "measure"], var_name="statistic")
        pm["statistic"] = "paired_" + pm["statistic"]
        parts.append(pm)
    if len(tables.get("uncertainty", ())):
        un = (
            tables["uncertainty"]
            .drop(columns=["draws"])
            .melt(id_vars=["scenario", "measure"], var_name="statistic")
        )
        un["statistic"] = "posterior_" + un["statistic"]
        parts.append(un)
    return pd.concat(parts, ignore_index=True)[["scenario", "measure", "statistic", "value"]]


def _means_markdown(means: pd.DataFrame) -> pd.DataFrame:
    """The mean table with "mean [low, high]" cells and the spread over runs."""
    return pd.DataFrame(
        {
            "scenario": means["scenario"],
            "measure": means["measure"],
            "mean [95% interval]": [
                f"{m:.3f} [{lo:.3f}, {hi:.3f}]"
                for m, lo, hi in means[["mean", "ci_low", "ci_high"]].to_numpy()
            ],
            "median": means["median"],
            "5th percentile of runs": means["p05"],
            "95th percentile of runs": means["p95"],
            "runs": means["runs"],
        }
    )


def _collapse_markdown(collapse: pd.DataFrame, first: float, horizon: float) -> pd.DataFrame:
    labels = {"at_start": f"collapsed at the start ({first:g})", "by_end": "by the end year"}
    cells = collapse.assign(
        cell=[_with_interval(*r) for r in collapse[["p", "ci_low", "ci_high"]].to_numpy()],
        when=collapse["when"].map(lambda w: labels.get(w, w.replace("by_", "before "))),
    )
    wide = cells.pivot_table(
        index="scenario", columns="when", values="cell", aggfunc="first", sort=False
    )
    return wide[list(dict.fromkeys(cells["when"]))].reset_index()


DIFFERENCES_FIGURE = "figures/differences.png"
"""The figure of the headline outcomes' paired differences (drawn by ``csto-sim compare``
and ``csto-sim plot``)."""


def write_report(root: str | Path, reference: str | None = None, horizon: float = HORIZON) -> str:
    """Write ``report.md`` and ``summary.csv`` into a results folder and return the report text."""
    root = Path(root)
    tables = comparison(root, reference, horizon)
    manifest = read_manifest(root)
    reference = reference or manifest["scenarios"][0]["name"]
    runs = read_table(root, "runs")
    failed = int((runs["status"] == "error").sum())
    first, end = projection_span(manifest)
    covers = covers_note(manifest)
    posterior = bool(manifest.get("posterior"))
    spec = manifest["scenarios"][0]["contents"]
    text = [
        "# csto-sim comparison report",
        "",
        headline(runs, tables["paired"], tables["collapse"], reference, covers, (first, end)),
        f"The paired differences of the headline outcomes are drawn in `{DIFFERENCES_FIGURE}`.",
        "",
        f"Projection from {first:g} to {end:g} (the end year); scenarios: "
        f"{', '.join(s['name'] for s in manifest['scenarios'])}; {manifest['runs']} runs each, "
        f"seed {manifest['seed']} (run i of every scenario shares its random draws"
        + (" and its parameter draw" if posterior else "")
        + f"); reference: {reference}."
        + (f" {failed} runs failed and are left out." if failed else ""),
        "",
        uncertainty_note(manifest),
        "",
        *([conditioned, ""] if (conditioned := conditioning_note(manifest)) else []),
        "## Scenarios",
        "",
        _markdown(tables["scenarios"]),
        "",
        "## Measures",
        "",
        definitions(manifest),
        "",
        f"## Collapse (probability [95% interval]; {_covers_short(posterior)})",
        "",
        _markdown(_collapse_markdown(tables["collapse"], first, horizon)),
        "",
        f"## What happened to each member's membership (probability [95% interval]; "
        f"{_covers_short(posterior)})",
        "",
        f"Members frozen or withdrawn in the first year of the projection ({first:g}) are "
        "counted there, not as freezing or withdrawing during the run; the end-of-run "
        f"shares are the status in {end:g}. `figures/exit_heatmap.png` draws the same numbers."
        + (
            " The start is n/a: the folder has no `timeseries` table."
            if tables["paths"].query("path == 'frozen_at_start'")["p"].isna().all()
            else ""
        ),
        "",
        _markdown(_paths_markdown(tables["paths"])),
        "",
        f"## Outcome measures per scenario (mean over runs [95% interval of the mean; "
        f"{_covers_short(posterior)}] and the spread of runs)",
        "",
        _markdown(_means_markdown(tables["means"])),
        "",
        "## Requests and responses (pooled over runs)",
        "",
        "`level_*`: the share of requests answered at most with nothing, a statement or "
        "consultations, a mission, a deployment, a standing peacekeeping mission; `vetoed`: "
        "the share whose collective answer at least one member vetoed.",
        "",
        _markdown(tables["responses"]),
        "",
        answered_beside_history(tables["responses"]),
        "",
        f"## What each scenario did, against {reference}",
        "",
        "Paired differences (run i against the reference's run i, which shares its random "
        "draws): first the outcomes a scenario names as its targets, then up to four others "
        "whose 95% bootstrap intervals exclude zero, the largest relative change first; the "
        f"intervals cover {_covers_short(posterior)}.",
        "",
        lever_effects(
            tables["paired"],
            tables["paired_members"],
            {sc["name"]: sc["contents"].get("targets", []) for sc in manifest["scenarios"]},
            poles=spec["poles"],
            leader=spec["alliance"]["leader"],
        ),
        "",
        f"## Paired differences against {reference} (95% bootstrap intervals; "
        f"{_covers_short(posterior)})",
        "",
        "Each run is compared with the reference run of the same index (common random numbers)"
        + (
            "; the interval is the wider of resampling whole parameter draws and resampling runs"
            if posterior
            else ""
        )
        + ". `sd_paired` against `sd_unpaired` shows how much noise the pairing removes.",
        "",
        _markdown(tables["paired"]) if len(tables["paired"]) else "(only one scenario)",
        "",
        f"## Paired differences per member against {reference} (95% bootstrap intervals; "
        f"{_covers_short(posterior)})",
        "",
        "Only the differences whose intervals exclude zero; `summary.csv` holds them all.",
        "",
        _markdown(_clear(tables["paired_members"]))
        if len(tables["paired_members"])
        else "(only one scenario)",
        "",
    ]
    if len(tables["uncertainty"]):
        text += [
            f"## Parameters against dice: paired differences against {reference}",
            "",
            "Per draw (runs sharing one posterior sample) the mean paired difference; "
            "`over_parameters_p05`-`p95` is its 5-95% range over draws (parameter uncertainty, "
            "with the dice of a draw's few runs), `sd_parameters` the sd between draws with "
            "the dice's share of the draws' means taken out (0: the parameters add nothing "
            "the dice do not explain) and `sd_dice` the pooled sd of runs within a draw (the "
            "dice alone).",
            "",
            _markdown(tables["uncertainty"]),
            "",
        ]
    report = "\n".join(text)
    (root / "report.md").write_text(report)
    summary_frame(tables).to_csv(root / "summary.csv", index=False)
    return report


def write_summary(root: str | Path, reference: str | None = None) -> Path:
    """Write only ``summary.csv`` (the numbers the figures draw) into a results folder."""
    path = Path(root) / "summary.csv"
    summary_frame(comparison(root, reference)).to_csv(path, index=False)
    return path


def _covers_short(posterior: bool) -> str:
    return "parameters and dice" if posterior else "dice only"


def compare(
    scenarios: Iterable[Scenario | str | Path],
    runs: int,
    out: str | Path,
    reference: str | None = None,
    horizon: float = HORIZON,
    **options: Any,
) -> dict[str, pd.DataFrame]:
    """Run scenarios with common random numbers and return the comparison tables.

    The same as ``csto-sim compare`` without the figures: runs the ensemble (``options`` go
    to :func:`~csto_sim.experiments.ensemble.run_ensemble`, for example ``executor=`` or
    ``workers=``), writes ``report.md`` and ``summary.csv`` into ``out`` and returns the
    tables (``outcomes``, ``exits``, ``collapse``, ``responses``, ``paired``) as DataFrames.
    """
    run_ensemble(scenarios, runs, out, **options)
    write_report(out, reference, horizon)
    return comparison(out, reference, horizon)
