"""The report's sentences: a :class:`~csto_sim.analysis.comparison.Comparison` in words.

Each function renders one paragraph from a computed comparison; measures are worded and
rounded by the registry (:mod:`csto_sim.analysis.measures`).
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

import pandas as pd

from csto_sim.analysis.comparison import FRAGMENTATION, Comparison
from csto_sim.analysis.measures import MEASURES, fmt, measure

__all__ = ["answered_beside_history", "conditioning", "covers", "definitions", "headline"]

MIN_ESS = 100
"""An effective sample size below this is too few histories to forecast from (said so)."""


def interval(r: Any, digits: int) -> str:
    """``+d [+low, +high]`` of a paired-difference row (see :func:`shown_digits`)."""
    digits = shown_digits(r, digits)
    low, high = fmt(r.ci_low, digits, sign=True), fmt(r.ci_high, digits, sign=True)
    return f"{fmt(r.mean_difference, digits, sign=True)} [{low}, {high}]"


def shown_digits(r: Any, digits: int) -> int:
    """``digits``, or more (up to six) until an interval that excludes zero shows no end as
    zero (``+0.00`` would read as including it)."""
    while clear(r) and digits < 6 and 0.0 in (round(r.ci_low, digits), round(r.ci_high, digits)):
        digits += 1
    return digits


def probability(p: float, low: float, high: float) -> str:
    """``p [low, high]`` of a probability, to two decimals."""
    return f"{fmt(p, 2)} [{fmt(low, 2)}, {fmt(high, 2)}]" if pd.notna(p) else "n/a"


def clear(r: Any) -> bool:
    """Whether the 95% interval of a paired difference excludes zero."""
    return bool(r.ci_low > 0 or r.ci_high < 0)


def covers(c: Comparison, short: bool = False) -> str:
    """What the intervals of the comparison cover, in one paragraph (``short``: in words)."""
    if short:
        if c.posterior:
            return "Monte-Carlo error of an average over parameters and dice"
        return "Monte-Carlo error over the dice, at one parameter set"
    post = c.manifest.get("posterior")
    if not post:
        return (
            "Every run uses each scenario's own behavioural parameters (`--posterior none`): "
            "spreads and 95% intervals cover the dice (Monte-Carlo variation) only, not "
            "uncertainty about the parameters."
        )
    shared = (
        "runs that continue histories of one draw share it"
        if c.conditioning
        else f"{post['runs_per_draw']} consecutive runs share one draw"
    )
    text = (
        f"Runs draw their behavioural parameters from the posterior "
        f"`{PurePath(post['file']).name}` ({post['samples']} samples; {shared}): "
        "probabilities, means and differences average over parameter uncertainty and the "
        "dice, and spreads (quantiles over runs) include both. Their 95% intervals say how "
        "precisely the runs estimate that average (Monte-Carlo error: they narrow as runs "
        "grow), not how far it moves over the parameters' range. Bootstrap intervals are the "
        "wider of resampling runs and resampling whole posterior samples (the runs of one "
        "sample share its parameters and may continue one history); the Wilson intervals of "
        "probabilities count the runs as fewer by how much the samples differ."
    )
    if not c.uncertainty.empty:
        text += (
            " How far a difference moves over the parameters is in the section 'Parameters "
            "against dice'."
        )
    for name, values in post.get("fixed", {}).items():
        if values:
            listed = ", ".join(f"`{k}` = {v:g}" for k, v in values.items())
            text += (
                f" In {name}, parameters set by the scenario stay fixed in every run ({listed}; "
                "in a projection from its start, the history it continues keeping the draw); "
                "the posterior's other parameters are drawn."
            )
    return text


def conditioning(c: Comparison) -> str:
    """How the histories the projections continue were conditioned ("" if none was)."""
    if not c.conditioning:
        return ""
    text = (
        "Histories conditioned on the record: each run continues a history that holds every "
        "membership status, request and answer its history's record gives (a guided particle "
        "filter, `csto_sim.inference.conditioning`: each member's status drawn among those the "
        "record allows and each recorded request and answer drawn as recorded, each history "
        "weighted by the model's chance of them, the histories resampled to equal weight once, "
        "at the end of the history). Nothing else of the record conditions them: members' "
        "alignment at the start is the model's own, not the measured UN-vote, trade and arms "
        "series. The effective sample size counts (parameter draw, history) pairs before "
        "resampling, so it can exceed the runs; the parameters rest on fewer: the effective "
        "number of posterior samples."
    )
    for name, k in c.conditioning.items():
        text += (
            f" {name}: {k['histories']} histories simulated, {k['accepted']} accepted, "
            f"effective sample size {k['ess']:g}; its runs continue {k['distinct']} distinct "
            "histories"
        )
        if "samples" in k:
            text += (
                f" of {k['samples']} posterior samples (effective number of samples "
                f"{k['ess_samples']:g})"
            )
        text += "."
        if k["ess"] < MIN_ESS:
            text += (
                f" **Too few histories hold the record for {name} (effective sample size "
                f"{k['ess']:g} < {MIN_ESS}): its results rest on a handful of histories; "
                "do not read them as a forecast.**"
            )
    return text


def headline(c: Comparison) -> str:
    """The report's opening paragraph: which scenario fragments the alliance most against
    the reference (a clearly higher chance of collapse first, then clearly more members
    withdrawn at the end; "clearly": the 95% interval of the paired difference excludes
    zero), by how much, and whether it differs from the runner-up; or that none does."""
    first, end = c.span
    ref = c.reference
    end_collapse = c.collapse[c.collapse["when"] == "by_end"].set_index("scenario")

    def level(name: str) -> str:
        r = end_collapse.loc[name]
        return probability(r.p, r.ci_low, r.ci_high)

    tail = (
        f"Fragmentation is ranked by the chance that the alliance collapses between "
        f"{first:g} and {end:g}, then by the number of members withdrawn in {end:g}, each as "
        f"a paired difference against {ref}: scenarios whose collapse difference is clear "
        "of zero come first, by its size; the others (a difference within the noise says "
        f"nothing) by their withdrawn members. {covers(c)}"
    )
    rank = c.ranking
    if not c.others:
        return f"Only one scenario ({ref}): nothing to compare. {tail}"
    if not rank.order:
        text = (
            f"No scenario fragments the alliance more than {ref}: none raises the chance of "
            "collapse or the number of members withdrawn at the end by more than its 95% "
            f"interval (collapse under {ref}: {level(ref)})."
        )
        if rank.lower:
            text += f" Fragmentation is clearly lower under {', '.join(rank.lower)}."
        return f"{text} {tail}"
    top = rank.order[0]
    mine = c.paired[c.paired["scenario"] == top].set_index("measure")
    parts = []
    if "collapsed" in mine.index:
        r = next(mine.loc[["collapsed"]].itertuples())
        parts.append(
            f"the chance that the alliance collapses is {level(top)} against {level(ref)} "
            f"under {ref}, a paired difference of {interval(r, 2)}"
            + ("" if clear(r) else " (an interval that includes zero)")
        )
    if "n_withdrawn_final" in mine.index:
        r = next(mine.loc[["n_withdrawn_final"]].itertuples())
        parts.append(f"members withdrawn at the end change by {interval(r, 2)}")
    text = f"**{top}** fragments the alliance most, against {ref}: " + "; ".join(parts) + "."
    if len(rank.order) > 1:
        text += " " + _runner_up(c)
    return f"{text} {tail}"


def _runner_up(c: Comparison) -> str:
    """Whether the most fragmenting scenario differs from the next one, paired run by run."""
    rank = c.ranking
    top, second = rank.order[:2]
    r, s = rank.runner_up.itertuples()
    name = FRAGMENTATION[0] if rank.by_collapse else FRAGMENTATION[-1]
    what, digits = measure(name).say(), measure(name).digits
    if r.ci_low > 0:
        return f"It exceeds the next, {second}, by {interval(r, digits)} in {what}."
    if r.ci_high < 0:
        return (
            f"The next, {second}, is higher still in {what}, by {interval(s, digits)}, but its "
            "own difference from the reference is less certain."
        )
    return (
        f"It does not differ from the next, {second}, by more than the interval "
        f"({what}: {interval(r, digits)}): the two fragment the alliance about as much."
    )


def lever_effects(c: Comparison, top: int = 4) -> str:
    """What each scenario did against the reference, in words. First the outcomes it names
    as its ``targets`` (a run measure such as ``clash_answer_rate``, or ``"Member measure"``
    such as ``"Armenia answered"``), each with its paired difference and whether its 95%
    interval excludes zero; then up to ``top`` other differences whose intervals exclude
    zero, the largest relative to the reference's level first."""
    both = pd.concat([c.paired.assign(member=""), c.paired_members], ignore_index=True)
    if both.empty:
        return "(only one scenario)"
    both["key"] = (both["member"] + " " + both["measure"]).str.strip()
    scale = both["reference_mean"].abs().where(both["reference_mean"].abs() > 1e-9)
    both["size"] = both["mean_difference"].abs() / scale
    poles = {p.lower(): p for p in c.results.all_poles}

    def say(r: Any) -> str:
        m = measure(r.measure, poles, member=bool(r.member))
        if r.mean_difference == r.ci_low == r.ci_high == 0:
            return f"{m.say(r.member)} did not change in any run"
        digits = shown_digits(r, m.digits)
        verb = "rose" if r.mean_difference > 0 else "fell"
        size = fmt(abs(r.mean_difference), digits)
        low, high = fmt(r.ci_low, digits, sign=True), fmt(r.ci_high, digits, sign=True)
        return f"{m.say(r.member)} {verb} by {size} ({low} to {high})"

    lines = []
    for name in c.others:
        mine = both[both["scenario"] == name]
        wanted = c.targets.get(name, [])
        parts = []
        if wanted:
            said = []
            for key in wanted:
                hit = mine[mine["key"] == key]
                if hit.empty:
                    said.append(f"{key}: not measured")
                    continue
                r = next(hit.itertuples())
                unclear = not clear(r) and (r.ci_low, r.ci_high) != (0, 0)
                said.append(say(r) + (", an interval that includes zero" if unclear else ""))
            parts.append("its targets: " + "; ".join(said))
        sure = mine[((mine["ci_low"] > 0) | (mine["ci_high"] < 0)) & ~mine["key"].isin(wanted)]
        rows = sure.sort_values("size", ascending=False).head(top)
        if len(rows):
            lead = "Also: " if wanted else "clear effects: "
            parts.append(lead + "; ".join(say(r) for r in rows.itertuples()))
        if not parts:
            parts.append("no difference whose 95% interval excludes zero")
        lines.append(f"- **{name}**: " + ". ".join(parts) + ".")
    return "\n".join(lines)


def answered_beside_history(c: Comparison) -> str:
    """The share of requests answered in each scenario beside the share history answered."""
    asked, answered = c.record
    shares = ", ".join(
        f"{r.scenario} "
        + (f"{fmt(100 * r.response_rate, 0)}%" if pd.notna(r.response_rate) else "-")
        for r in c.responses.itertuples()
    )
    return (
        f"Requests answered, beside history: of the {asked} requests for help the record "
        f"of 2002-2024 holds, the CSTO answered {answered} ({fmt(100 * answered / asked, 0)}%; "
        f"`events_2002_2024.csv`); in these runs: {shares}."
    )


def definitions(c: Comparison) -> str:
    """The words the report uses, then a table of its measures from the registry: name,
    unit, direction and how the model computes each."""
    spec = c.results.contents(c.reference)
    fill = {
        "leader": spec.get("alliance", {}).get("leader", "the leader"),
        "n_min": spec.get("parameters", {}).get("collapse_min_active", "`collapse_min_active`"),
    }
    words = {
        "active, frozen, withdrawn": "a member's status: active takes full part; frozen has "
        "suspended its participation but stays a member; withdrawn has left (it may return). "
        "{leader}, the alliance's leader, is left out of the members' tables.",
        "frozen / withdrawn at the start": "the member's status in the first year of the "
        "projection: a scenario that continues a history starts each run where its history "
        "run ended, so this differs between runs.",
        "froze / withdrew during the run": "the member entered that status at some step "
        "after the start (a member frozen from the start has not frozen; it counts once it "
        "withdraws, or returns and freezes again).",
        "`level_*`": "the share of requests whose answer was each level: nothing, a statement "
        "or consultations, a mission, a deployment, a standing peacekeeping mission (the "
        "shares add up to one; the runs table counts them).",
        "paired difference": "the mean over run indices i of (run i of the scenario minus "
        "run i of the reference); run i of every scenario shares its seed (common random "
        "numbers)"
        + (" and its parameter draw" if c.posterior else "")
        + ", so the difference is the scenario's effect without the noise the runs share.",
    }
    lines = [f"- **{k}**: {v.format(**fill)}" for k, v in words.items()]
    rows = [
        f"| {m.title} | `{m.name.removeprefix('member_')}` | {m.unit} | {m.direction} | "
        f"{m.definition.format(**fill)} |"
        for m in [*MEASURES.values(), measure("w_<pole>_final")]
    ]
    head = ["| measure | column | unit | direction | definition |", "|---|---|---|---|---|"]
    return "\n".join([*lines, "", *head, *rows])
