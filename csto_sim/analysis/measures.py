"""The registry of measures: what each outcome is, its unit, direction and precision.

Every table, figure label and report sentence takes a measure's wording and number format
from :data:`MEASURES`; adding a measure is one entry. Member measures word themselves with
``{member}``; a member's alignment ``w_<pole>_final`` is made on demand by :func:`measure`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["MEASURES", "Measure", "fmt", "measure", "table_digits"]


@dataclass(frozen=True)
class Measure:
    """One outcome a comparison reports.

    ``words`` is the phrase of a sentence ("cohesion in the end year"; ``{member}`` for a
    member's measure), ``title`` a table row's or figure panel's name, ``unit`` what a
    number counts, ``better`` +1 when higher is better for the alliance's cohesion, -1 when
    worse, 0 when neither, ``digits`` the decimals it is printed with and ``definition`` how
    the model computes it (``{leader}`` and ``{n_min}`` filled in from the scenario).
    """

    name: str
    words: str
    title: str
    unit: str
    better: int
    digits: int
    definition: str = ""

    def say(self, member: str = "") -> str:
        """The measure in a sentence, of ``member`` when it is a member's."""
        return self.words.format(member=member)

    @property
    def direction(self) -> str:
        return {1: "higher is better", -1: "higher is worse", 0: "neither better nor worse"}[
            self.better
        ]


_END = "in the end year"
_OUT = "members frozen or withdrawn"

# fmt: off
MEASURES: dict[str, Measure] = {m.name: m for m in (
    Measure("cohesion_final", f"cohesion {_END}", "cohesion at the end", "index 0-1", 1, 3,
            "the share of members other than {leader} that are active, times the mean of (a) "
            "the active members' mean security-alignment weight on {leader}'s pole and (b) one "
            "minus the mean distance (total variation) between the security alignments of "
            "the active members, {leader} included"),
    Measure("n_active_final", f"active members {_END}", "active members at the end", "members",
            1, 2, "members ({leader} included) active in the end year"),
    Measure("n_frozen_final", f"frozen members {_END}", "members frozen at the end", "members",
            -1, 2, "members that have suspended their participation but stay members"),
    Measure("n_withdrawn_final", f"withdrawn members {_END}", "members withdrawn at the end",
            "members", -1, 2, "members that have left (a member may return)"),
    Measure("collapsed", "the chance of collapse", "chance of collapse", "probability", -1, 2,
            "at some recorded time of the projection, its first year included, fewer than "
            "{n_min} members other than {leader} are active (members may return afterwards)"),
    Measure("requests", "requests for help", "requests for help", "requests", 0, 2,
            "the members' requests for help to the alliance"),
    Measure("responses", "requests answered", "requests answered", "requests", 1, 2,
            "requests the alliance answered with a deployment or more (a mediation mission, "
            "for a clash between members under a charter with mediation)"),
    Measure("response_rate", "the share of requests answered", "share of requests answered",
            "share of requests", 1, 3, "responses / requests (runs without requests left out)"),
    Measure("clash_answer_rate", "the share of requests over border clashes, incursions and "
            "clashes between members answered", "share of clash requests answered",
            "share of requests", 1, 3,
            "the response rate of border clashes, incursions and clashes between members"),
    Measure("level_deployment", "requests answered with a deployment",
            "requests answered with a deployment", "requests", 1, 2,
            "requests whose answer went as far as a deployment (and no further)"),
    Measure("vetoed", "requests whose collective answer a member vetoed", "requests vetoed",
            "requests", -1, 2, "requests whose collective answer at least one member vetoed"),
    Measure("unanswered_severity", "the severity left unanswered by anyone",
            "severity left unanswered by anyone", "severity units", -1, 2,
            "the summed severity (each threat event 0-1) of events answered neither by the "
            "alliance nor by a pole's bilateral help"),
    Measure("alliance_unanswered_severity", "the severity the alliance left unanswered",
            "severity the alliance left unanswered", "severity units", -1, 2,
            "the summed severity of events the alliance did not answer (unrequested included)"),
    Measure("answered", "{member}'s answered requests", "answered requests", "requests", 1, 2,
            "a member's requests the alliance answered"),
    Measure("member_requests", "{member}'s requests", "requests", "requests", 0, 2,
            "a member's requests for help"),
    Measure("exited", "the chance that {member} froze or left", "froze or left",
            "probability", -1, 2, "whether (0/1) a member first froze or withdrew during the run"),
    Measure("exit_year", "the year {member} first froze or left (runs where it did in both)",
            "year of first exit", "years", 1, 1, "when a member first froze or withdrew"),
    Measure("commitment_final", f"{{member}}'s commitment {_END}", "commitment at the end",
            "index 0-1", 1, 3, "a member's commitment to the alliance in the end year"),
)}
# fmt: on
"""Every measure a comparison reports, by the column name the results tables give it (a
member's ``requests`` is ``member_requests`` here)."""


def measure(name: str, poles: dict[str, str] | None = None, member: bool = False) -> Measure:
    """The registry entry of ``name``; a member's ``w_<pole>_final`` is its security alignment
    with that pole (``poles`` maps lower-case names to their spelling). An unknown name is a
    neutral measure worded as its name. ``member`` picks the member entry of a name both
    tables have (``requests``)."""
    if member and f"member_{name}" in MEASURES:
        return MEASURES[f"member_{name}"]
    if name in MEASURES:
        return MEASURES[name]
    if name.startswith("w_") and name.endswith("_final"):
        pole = (poles or {}).get(name[2:-6], name[2:-6])
        words = f"{{member}}'s security alignment with {pole} in the end year"
        return Measure(
            name, words, f"alignment with {pole}", "weight 0-1", 0, 3,
            f"a member's security-alignment weight on {pole} in the end year",
        )  # fmt: skip
    return Measure(name, name, name, "", 0, 3)


def fmt(value: float, digits: int, sign: bool = False) -> str:
    """A number to ``digits`` decimals, never ``-0.00``; ``sign`` adds ``+`` to positives;
    n/a when not finite."""
    if value is None or not math.isfinite(value):
        return "n/a"
    rounded = round(float(value), digits) + 0.0  # -0.0 + 0.0 is 0.0
    return f"{rounded:+.{digits}f}" if sign else f"{rounded:.{digits}f}"


def table_digits(names: list[str] | tuple[str, ...]) -> int:
    """The one precision of a table holding these measures: the finest any of them needs."""
    return max((measure(n).digits for n in names), default=3)
