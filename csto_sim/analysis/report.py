"""Statistics of a results folder: tables that read only the saved results, never the model."""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from csto_sim.core.scenario import Scenario
from csto_sim.core.vocabulary import RESPONSE_LEVELS
from csto_sim.experiments.ensemble import run_ensemble
from csto_sim.experiments.results import read_manifest, read_table


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
"""Per-run outcome figures summarised in every report."""


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
    """Mean, median and 5-95% range of the outcome figures per scenario (successful runs only)."""
    ok = runs[runs["status"] == "ok"]
    rows = []
    for name, group in ok.groupby("scenario", sort=False):
        for fig in OUTCOME_FIGURES:
            values = group[fig].astype(float).dropna()
            rows.append(
                {
                    "scenario": name,
                    "figure": fig,
                    "mean": values.mean(),
                    "median": values.median(),
                    "p05": values.quantile(0.05) if len(values) else np.nan,
                    "p95": values.quantile(0.95) if len(values) else np.nan,
                }
            )
        rows.append(
            {
                "scenario": name,
                "figure": "collapsed",
                "mean": group["collapsed"].astype(float).mean(),
                "median": np.nan,
                "p05": np.nan,
                "p95": np.nan,
            }
        )
    return pd.DataFrame(rows)


def format_run_summary(runs: pd.DataFrame, members: pd.DataFrame) -> str:
    """The short text summary printed after ``csto-sim run``."""
    lines = []
    status = member_status_table(members)
    outcomes = outcome_table(runs)
    for name in runs["scenario"].unique():
        n = int((runs["scenario"] == name).sum())
        failed = int(((runs["scenario"] == name) & (runs["status"] == "error")).sum())
        lines.append(f"Scenario {name}: {n} runs" + (f" ({failed} failed)" if failed else ""))
        table = status[status["scenario"] == name].drop(columns="scenario").set_index("member")
        lines.append("  share of runs ending in each status:")
        lines.extend(
            "    " + row
            for row in (table * 100)
            .round(0)
            .astype(int)
            .astype(str)
            .add("%")
            .to_string()
            .splitlines()
        )
        fig = outcomes[outcomes["scenario"] == name].set_index("figure")
        lines.append("  outcome figures (mean, median, 5-95% range over runs):")
        for f in OUTCOME_FIGURES:
            r = fig.loc[f]
            lines.append(
                f"    {f:<30} {r['mean']:8.3f} {r['median']:8.3f}   [{r['p05']:.3f}, {r['p95']:.3f}]"
            )
        lines.append(f"    {'collapse probability':<30} {fig.loc['collapsed', 'mean']:8.3f}")
    return "\n".join(lines)


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


def collapse_probabilities(runs: pd.DataFrame, years: dict[str, float]) -> pd.DataFrame:
    """Probability that the alliance has collapsed before each named year, per scenario."""
    ok = runs[runs["status"] == "ok"]
    rows = []
    for name, group in ok.groupby("scenario", sort=False):
        row = {"scenario": name}
        for label, year in years.items():
            row[label] = float((group["collapse_year"] < year).mean())
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


def paired_differences(
    runs: pd.DataFrame,
    reference: str,
    figures: tuple[str, ...] = PAIRED_FIGURES,
    n_boot: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """Mean difference to the reference scenario, run by run, with 95% bootstrap intervals.

    Runs with the same index share their random draws (common random numbers), so the
    paired difference removes the noise the scenarios share. The table also gives the
    standard deviation of the paired and of the unpaired differences, which shows how
    much variance the pairing removes.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for name, ref, other, common in _pairs(runs, reference):
        draws = rng.integers(0, len(common), size=(n_boot, len(common)))
        for fig in figures:
            a = other.loc[common, fig].astype(float).to_numpy()
            b = ref.loc[common, fig].astype(float).to_numpy()
            d = a - b
            keep = np.isfinite(d)
            if not keep.any():
                continue
            with warnings.catch_warnings():  # a resample may hold no finite value (NaN then)
                warnings.simplefilter("ignore", RuntimeWarning)
                d_boot = np.nanmean(np.where(keep[draws], d[draws], np.nan), axis=1)
            unpaired = np.nanstd(a) ** 2 + np.nanstd(b) ** 2
            rows.append(
                {
                    "scenario": name,
                    "reference": reference,
                    "figure": fig,
                    "reference_mean": float(b[keep].mean()),
                    "mean_difference": float(d[keep].mean()),
                    "ci_low": float(np.nanquantile(d_boot, 0.025)),
                    "ci_high": float(np.nanquantile(d_boot, 0.975)),
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
    uncertainty (between draws: the 5-95% range and sd of the draws' mean differences) and
    the dice (the pooled sd of runs within a draw). Empty without draws."""
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
            rows.append(
                {
                    "scenario": name,
                    "figure": fig,
                    "mean_difference": float(d.mean()),
                    "draws": int(len(means)),
                    "over_parameters_p05": float(means.quantile(0.05)),
                    "over_parameters_p95": float(means.quantile(0.95)),
                    "sd_parameters": float(means.std(ddof=1)) if len(means) > 1 else np.nan,
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
    return (
        f"Runs draw their behavioural parameters from the posterior `{post['file']}` "
        f"({post['samples']} samples; {post['runs_per_draw']} consecutive runs share one "
        "draw): spreads and 95% intervals cover parameter uncertainty and the dice; the "
        "section 'Parameters against dice' separates the two."
    )


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
    wide.columns = [f"{member}|{figure}" for figure, member in wide.columns]
    ok = runs.loc[runs["status"] == "ok", ["scenario", "run", "status"]]
    wide = ok.merge(wide.reset_index(), on=["scenario", "run"])
    out = paired_differences(wide, reference, tuple(wide.columns[3:]), n_boot)
    if out.empty:
        return out
    split = out["figure"].str.split("|", n=1, expand=True)
    return out.assign(member=split[0], figure=split[1])[
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


def _words(figure: str, member: str = "", poles: dict[str, str] | None = None) -> str:
    if figure.startswith("w_") and figure.endswith("_final"):
        pole = (poles or {}).get(figure[2:-6], figure[2:-6])
        return f"{member}'s security alignment with {pole} in the end year"
    return FIGURE_WORDS.get(figure, figure).format(member=member)


def lever_effects(
    paired: pd.DataFrame,
    members: pd.DataFrame,
    targets: dict[str, list[str]] | None = None,
    top: int = 4,
    poles: Iterable[str] = (),
    leader: str = "",
) -> str:
    """What each scenario did against the reference, in words. First the outcomes it names
    as its ``targets`` (a scenario file's ``targets``: a run figure such as
    ``clash_answer_rate``, or ``"Member figure"`` such as ``"Armenia answered"``), each with
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
    both["key"] = (both["member"] + " " + both["figure"]).str.strip()
    scale = both["reference_mean"].abs().where(both["reference_mean"].abs() > 1e-9)
    both["size"] = both["mean_difference"].abs() / scale
    names = {p.lower(): p for p in poles}

    def say(r) -> str:
        verb = "rose" if r.mean_difference > 0 else "fell"
        return (
            f"{_words(r.figure, r.member, names)} {verb} by {abs(r.mean_difference):.3g} "
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
    """The comparison tables of a results folder (outcomes, exits, collapse, responses, paired differences)."""
    runs = read_table(root, "runs")
    members = read_table(root, "members")
    manifest = read_manifest(root)
    names = [s["name"] for s in manifest["scenarios"]]
    reference = reference or names[0]
    if reference not in names:
        raise UnknownReference(
            f"no scenario named {reference!r} in {root} (have: {', '.join(names)})"
        )
    end = max(s["contents"]["time"]["end"] for s in manifest["scenarios"])
    years = {f"by_{horizon:g}": horizon, "by_end": end + 1e-9}
    return {
        "outcomes": outcome_table(runs),
        "exits": exit_probabilities(members, years),
        "collapse": collapse_probabilities(runs, years),
        "responses": response_rates(runs),
        "paired": paired_differences(runs, reference),
        "paired_members": member_paired_differences(members, runs, reference),
        "uncertainty": parameter_uncertainty(runs, reference),
    }


def summary_frame(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """All comparison figures as one tidy table (scenario, figure, statistic, value) for summary.csv."""
    parts = []
    out = tables["outcomes"].melt(id_vars=["scenario", "figure"], var_name="statistic")
    parts.append(out)
    ex = tables["exits"].melt(id_vars=["scenario", "member"], var_name="statistic")
    ex["figure"] = "p_exit_" + ex.pop("member")
    parts.append(ex)
    col = tables["collapse"].melt(id_vars=["scenario"], var_name="statistic")
    col["figure"] = "p_collapse"
    parts.append(col)
    resp = tables["responses"].melt(id_vars=["scenario"], var_name="figure")
    resp["statistic"] = "total"
    parts.append(resp)
    if len(tables["paired"]):
        pr = (
            tables["paired"]
            .drop(columns=["reference", "runs"])
            .melt(id_vars=["scenario", "figure"], var_name="statistic")
        )
        pr["statistic"] = "paired_" + pr["statistic"]
        parts.append(pr)
    members = tables.get("paired_members", pd.DataFrame())
    if len(members):
        pm = members.drop(columns=["reference", "runs"])
        pm["figure"] = pm.pop("member") + " " + pm["figure"]  # the key a scenario's targets use
        pm = pm.melt(id_vars=["scenario", "figure"], var_name="statistic")
        pm["statistic"] = "paired_" + pm["statistic"]
        parts.append(pm)
    if len(tables.get("uncertainty", ())):
        un = (
            tables["uncertainty"]
            .drop(columns=["draws"])
            .melt(id_vars=["scenario", "figure"], var_name="statistic")
        )
        un["statistic"] = "posterior_" + un["statistic"]
        parts.append(un)
    return pd.concat(parts, ignore_index=True)[["scenario", "figure", "statistic", "value"]]


def write_report(root: str | Path, reference: str | None = None, horizon: float = HORIZON) -> str:
    """Write ``report.md`` and ``summary.csv`` into a results folder and return the report text."""
    root = Path(root)
    tables = comparison(root, reference, horizon)
    manifest = read_manifest(root)
    reference = reference or manifest["scenarios"][0]["name"]
    runs = read_table(root, "runs", ["scenario", "status"])
    failed = int((runs["status"] == "error").sum())
    text = [
        "# csto-sim comparison report",
        "",
        f"Scenarios: {', '.join(s['name'] for s in manifest['scenarios'])}; {manifest['runs']} runs each, "
        f"seed {manifest['seed']} (run i of every scenario shares its random draws)."
        + (f" {failed} runs failed and are left out." if failed else ""),
        "",
        uncertainty_note(manifest),
        "",
        "## Outcome figures per scenario (over runs)",
        "",
        _markdown(tables["outcomes"]),
        "",
        f"## Probability that a member has frozen or withdrawn (by {horizon:g} and by the end year)",
        "",
        _markdown(tables["exits"]),
        "",
        "## Probability of collapse (fewer than the minimum of active members besides the leader)",
        "",
        _markdown(tables["collapse"]),
        "",
        "## Requests and responses (pooled over runs)",
        "",
        "`level_*`: the share of requests answered at most with nothing, a statement or "
        "consultations, a mission, a deployment, a standing peacekeeping mission; `vetoed`: "
        "the share whose collective answer at least one member vetoed.",
        "",
        _markdown(tables["responses"]),
        "",
        f"## What each scenario did, against {reference}",
        "",
        "Paired differences (run i against the reference's run i, which shares its random "
        "draws): first the outcomes a scenario names as its targets, then up to four others "
        "whose 95% bootstrap intervals exclude zero, the largest relative change first; the "
        "intervals cover "
        + ("parameter uncertainty and dice" if manifest.get("posterior") else "the dice only")
        + ".",
        "",
        lever_effects(
            tables["paired"],
            tables["paired_members"],
            {sc["name"]: sc["contents"].get("targets", []) for sc in manifest["scenarios"]},
            poles=manifest["scenarios"][0]["contents"]["poles"],
            leader=manifest["scenarios"][0]["contents"]["alliance"]["leader"],
        ),
        "",
        f"## Paired differences against {reference} (95% bootstrap intervals)",
        "",
        "Each run is compared with the reference run of the same index (common random numbers). "
        "`sd_paired` against `sd_unpaired` shows how much noise the pairing removes.",
        "",
        _markdown(tables["paired"]) if len(tables["paired"]) else "(only one scenario)",
        "",
        f"## Paired differences per member against {reference} (95% bootstrap intervals)",
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
            "with the dice of a draw's few runs), `sd_parameters` the sd between draws and "
            "`sd_dice` the pooled sd of runs within a draw (the dice alone).",
            "",
            _markdown(tables["uncertainty"]),
            "",
        ]
    report = "\n".join(text)
    (root / "report.md").write_text(report)
    summary_frame(tables).to_csv(root / "summary.csv", index=False)
    return report


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
