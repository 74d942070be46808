"""The comparison report: ``report.md`` and ``summary.csv``, rendered from a Comparison.

Every number comes from one :class:`~csto_sim.analysis.comparison.Comparison`; each table
has one precision (the finest its measures need, from the registry) and names its
measures by the registry's titles.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from csto_sim.analysis import prose
from csto_sim.analysis import statistics as st
from csto_sim.analysis.comparison import HORIZON, Comparison, UnknownReference
from csto_sim.analysis.measures import fmt, measure, table_digits
from csto_sim.analysis.statistics import MEMBER_PATHS
from csto_sim.core.finite import check_finite
from csto_sim.core.scenario import Scenario, load_scenario
from csto_sim.experiments.ensemble import run_ensemble
from csto_sim.experiments.store import record_derived

__all__ = ["UnknownReference", "compare", "markdown", "write_report", "write_summary"]

DIFFERENCES_FIGURE = "figures/differences.png"
"""The figure of the headline outcomes' paired differences."""


def markdown(frame: pd.DataFrame, digits: int) -> str:
    """A table as GitHub-flavoured Markdown, every float to ``digits`` decimals (never
    ``-0.000``), whole numbers as they are."""
    cols = list(frame.columns)
    lines = ["| " + " | ".join(map(str, cols)) + " |", "|" + "---|" * len(cols)]
    for row in frame.itertuples(index=False):
        cells = [fmt(v, digits) if isinstance(v, float) else str(v) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _titled(frame: pd.DataFrame, poles: dict[str, str], member: bool = False) -> pd.DataFrame:
    """The ``measure`` column in the registry's titles."""
    titles = [measure(m, poles, member).title for m in frame["measure"]]
    return frame.assign(measure=titles)


def _probabilities(frame: pd.DataFrame, index: list[str], column: str, order: list) -> str:
    """Probabilities with intervals as one row per ``index``, a column per ``column`` value."""
    cells = frame.assign(
        cell=[prose.probability(*r) for r in frame[["p", "ci_low", "ci_high"]].to_numpy()]
    )
    wide = cells.pivot_table(
        index=index, columns=column, values="cell", aggfunc="first", sort=False
    )
    return markdown(wide[order].reset_index(), 2)


def _collapse(c: Comparison) -> str:
    first, _ = c.span
    labels = {"at_start": f"collapsed at the start ({first:g})", "by_end": "by the end year"}
    table = c.collapse.assign(
        when=c.collapse["when"].map(lambda w: labels.get(w, w.replace("by_", "before ")))
    )
    return _probabilities(table, ["scenario"], "when", list(dict.fromkeys(table["when"])))


def _paths(c: Comparison) -> str:
    table = c.paths.assign(path=c.paths["path"].map(MEMBER_PATHS))
    return _probabilities(table, ["scenario", "member"], "path", list(MEMBER_PATHS.values()))


def _means(c: Comparison, poles: dict[str, str]) -> str:
    means = c.means
    digits = table_digits(list(means["measure"]))
    intervals = [
        f"{fmt(m, digits)} [{fmt(lo, digits)}, {fmt(hi, digits)}]"
        for m, lo, hi in means[["mean", "ci_low", "ci_high"]].to_numpy()
    ]
    table = pd.DataFrame(
        {
            "scenario": means["scenario"],
            "measure": _titled(means, poles)["measure"],
            "mean [95% interval]": intervals,
            "median": means["median"],
            "5th percentile of runs": means["p05"],
            "95th percentile of runs": means["p95"],
            "runs": means["runs"],
        }
    )
    return markdown(table, digits)


def _paired(frame: pd.DataFrame, poles: dict[str, str], member: bool = False) -> str:
    if frame.empty:
        return "(only one scenario)"
    digits = table_digits(list(frame["measure"]))
    return markdown(_titled(frame.drop(columns="reference"), poles, member), digits)


def _sections(c: Comparison) -> list[str]:
    first, end = c.span
    ref, short = c.reference, prose.covers(c, short=True)
    poles = {p.lower(): p for p in c.results.all_poles}
    sure = c.paired_members
    if len(sure):
        sure = sure[(sure["ci_low"] > 0) | (sure["ci_high"] < 0)]
    no_start = c.paths.query("path == 'frozen_at_start'")["p"].isna().all()
    return [
        f"## Collapse (probability [95% interval]; {short})",
        _collapse(c),
        f"## What happened to each member's membership (probability [95% interval]; {short})",
        f"Members frozen or withdrawn in the first year of the projection ({first:g}) are "
        "counted there, not as freezing or withdrawing during the run; the end-of-run shares "
        f"are the status at the start of {end:g}. The exit heat map "
        "(`figures/exit_heatmap.png`, drawn by `compare` and `csto-sim plot`) shows them."
        + (" The start is n/a: the folder has no `timeseries` table." if no_start else ""),
        _paths(c),
        "## Outcome measures per scenario (mean over runs [95% interval of the mean; "
        f"{short}] and the spread of runs)",
        _means(c, poles),
        "## Requests and responses (pooled over runs)",
        "`level_*`: the share of requests whose answer was each level (nothing, a statement or "
        "consultations, a mission, a deployment, a standing peacekeeping mission; they add up "
        "to one); `vetoed`: "
        "the share whose collective answer at least one member vetoed.",
        markdown(c.responses, 3),
        prose.answered_beside_history(c),
        f"## What each scenario did, against {ref}",
        "Paired differences (run i against the reference's run i, which shares its random "
        "draws): first the outcomes a scenario names as its targets, then up to four others "
        "whose 95% bootstrap intervals exclude zero, the largest relative change first; the "
        f"intervals cover {short}.",
        prose.lever_effects(c),
        f"## Paired differences against {ref} (95% bootstrap intervals; {short})",
        "Each run is compared with the reference run of the same index (common random numbers)"
        + ("; the interval is the wider of resampling whole parameter draws and resampling runs"
           if c.posterior else "")
        + ". `sd_paired` against `sd_unpaired` shows how much noise the pairing removes.",
        _paired(c.paired, poles),
        f"## Paired differences per member against {ref} (95% bootstrap intervals; {short})",
        "Only the differences whose intervals exclude zero; `summary.csv` holds them all.",
        _paired(sure, poles, member=True) if len(c.paired_members) else "(only one scenario)",
    ]  # fmt: skip


def _uncertainty(c: Comparison) -> list[str]:
    if c.uncertainty.empty:
        return []
    table = _titled(c.uncertainty, {p.lower(): p for p in c.results.all_poles})
    return [
        f"## Parameters against dice: paired differences against {c.reference}",
        "Per parameter set (the runs that took one posterior sample; `draws` of them, "
        "`replicated` with two runs or more) the mean paired difference; "
        "`over_parameters_p05`-`p95` is its 5-95% range over the sets (parameter "
        "uncertainty, with the dice of a set's few runs), `sd_dice` the pooled sd of runs "
        "within a set (the dice alone, from the replicated sets) and `sd_parameters` the sd "
        "between the sets' means with the dice's share of them taken out (0: the parameters "
        "add nothing the dice do not explain; n/a without a replicated set). With few "
        "replicated sets both are rough.",
        markdown(table, table_digits(list(c.uncertainty["measure"]))),
    ]


def render(c: Comparison) -> str:
    """The Markdown report of a comparison."""
    first, end = c.span
    names = ", ".join(c.names)
    opening = [
        "# csto-sim comparison report",
        prose.headline(c)
        + (
            f"\nThe paired differences of the headline outcomes are drawn in "
            f"`{DIFFERENCES_FIGURE}`."
            if c.others
            else ""
        ),
        f"Runs from {first:g} to the start of {end:g} (the end year); scenarios: {names}; "
        f"{c.manifest['runs']} runs each, seed {c.manifest['seed']} (run i of every scenario "
        "shares its random draws"
        + (" and its parameter draw" if c.posterior else "")
        + f"); reference: {c.reference}."
        + (f" {c.failed} runs failed and are left out." if c.failed else ""),
        prose.conditioning(c),
        "## Scenarios",
        markdown(c.scenarios, 3),
        "## Measures",
        prose.definitions(c),
    ]
    parts = [p for p in [*opening, *_sections(c), *_uncertainty(c)] if p]
    return "\n\n".join(parts) + "\n"


def write_report(
    comparison: Comparison | str | Path, reference: str | None = None, horizon: float = HORIZON
) -> str:
    """Write ``report.md`` and ``summary.csv`` into the results folder of a comparison (or
    of the comparison of a folder against ``reference``) and return the report's text."""
    c = _comparison(comparison, reference, horizon)
    write_summary(c, record=False)  # its numbers checked finite: the report shows them
    report = render(c)
    (c.results.root / "report.md").write_text(report, encoding="utf-8")
    record_derived(c.results.root, ["report.md", "summary.csv"])
    return report


def write_summary(
    comparison: Comparison | str | Path,
    reference: str | None = None,
    horizon: float = HORIZON,
    record: bool = True,
) -> Path:
    """Write ``summary.csv``, every number of the comparison as one tidy table (checked
    first: a cell may be empty, what was not computed, but no number may be infinite; its
    checksum recorded in the manifest, unless not ``record``)."""
    c = _comparison(comparison, reference, horizon)
    path = c.results.root / "summary.csv"
    tidy = check_finite(
        c.tidy(), path, quantity="measure", at=("scenario", "statistic"), empty=True
    )
    tidy.to_csv(path, index=False)
    if record:
        record_derived(c.results.root, ["summary.csv"])
    return path


def _comparison(comparison: Comparison | str | Path, reference: str | None, horizon: float):
    if isinstance(comparison, Comparison):
        return comparison
    return Comparison.of(comparison, reference, horizon)


def compare(
    scenarios: Iterable[Any],
    runs: int,
    out: str | Path,
    reference: str | None = None,
    horizon: float = HORIZON,
    **options: Any,
) -> Comparison:
    """Run scenarios with common random numbers, write ``report.md`` and ``summary.csv``
    into ``out`` and return the :class:`Comparison` (what ``csto-sim compare`` does without
    the figures; ``options`` go to :func:`~csto_sim.experiments.ensemble.run_ensemble`,
    for example ``executor=`` or ``workers=``). A ``reference`` none of the scenarios is
    named is refused before anything runs."""
    if isinstance(scenarios, Scenario | str | Path):  # one scenario
        scenarios = [scenarios]
    scenarios = [s if isinstance(s, Scenario) else load_scenario(s) for s in scenarios]
    names = [s.name for s in scenarios]
    if reference is not None and reference not in names:
        raise UnknownReference(f"no scenario named {reference!r} (have: {', '.join(names)})")
    finite = isinstance(horizon, int | float) and not isinstance(horizon, bool)
    if not (finite and math.isfinite(horizon)):
        raise ValueError(f"horizon: expected a year (a finite number), got {horizon!r}")
    for s in scenarios:
        st.check_targets(s)
    run_ensemble(scenarios, runs, out, **options)
    comparison = Comparison.of(out, reference, horizon)
    write_report(comparison)
    return comparison
