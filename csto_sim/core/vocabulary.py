"""The model's fixed vocabulary: membership statuses, threat kinds and scripted control kinds.

Every array axis over statuses or kinds uses the orders defined here, so the scenario
schema, the compiled inputs, the rules and the output tables agree on what index means what.
"""

from __future__ import annotations

from enum import IntEnum


class Status(IntEnum):
    """Membership status; the integer is the code stored in the model's status arrays."""

    NON_MEMBER = 0
    ACTIVE = 1
    FROZEN = 2
    WITHDRAWN = 3

    @property
    def label(self) -> str:
        """The status as written in scenario files and output tables (``active``, ...)."""
        return self.name.lower()


NON_MEMBER, ACTIVE, FROZEN, WITHDRAWN = (int(s) for s in Status)
"""Plain integer codes of the statuses, for array comparisons in the rules."""

STATUSES: tuple[str, ...] = tuple(s.label for s in Status)
"""Status names by integer code: ``non_member``, ``active``, ``frozen``, ``withdrawn``."""

THREAT_KINDS: tuple[str, ...] = (
    "border_clash",
    "incursion",
    "interstate_war",
    "internal_unrest",
    "terrorism_spillover",
    "sabotage",
    "cyber_attack",
    "intra_alliance_clash",
)
"""Kinds of threat event, in the fixed order used by every array's kinds axis."""

KIND_ALIASES: dict[str, str] = {"border_incursion": "incursion"}
"""Names used in the historical event table that map onto a model kind."""

INTRA_ALLIANCE_KIND = "intra_alliance_clash"
"""The threat kind whose counterpart is a member with a hostile tie, not an outside adversary."""

KINDS_WITHOUT_COUNTERPART: tuple[str, ...] = ("internal_unrest",)
"""Threat kinds with no counterpart (internal affairs)."""

CONTROL_KINDS: tuple[str, ...] = ("accession", "pole_shift", "war_elsewhere", "hazard_change")
"""Scripted event kinds that are not threats: a member joins, a pole's pull shifts, the leader
fights elsewhere, a member's rate of one kind of threat changes (a settlement, a peace
agreement)."""

TIE_KINDS: tuple[str, ...] = ("border", "language", "institution", "agreement", "base")
"""Kinds of structural tie between a member and a pole (``structural_ties.csv``), in the order
of every ties axis: a land border, a shared (Turkic) language, membership of the pole's
institutions, a partnership agreement, a base of the pole on the member's soil."""

CHANNELS: tuple[str, ...] = ("security", "economic")
"""The two kinds of alignment: security (arms, bases, military cooperation) and economic
(trade, investment, institutions)."""

EVENT_KINDS: tuple[str, ...] = THREAT_KINDS + CONTROL_KINDS
"""Every kind a scripted event may have."""

RESPONSE_LEVELS: tuple[str, ...] = ("none", "statement", "mission", "deployment", "peacekeeping")
"""How far the alliance answers a request, in order: nothing; consultations or a statement; a
fact-finding, monitoring or mediation mission; a deployment of the Collective Rapid Reaction
Force; a standing peacekeeping mission. Missions and above are collective (members may veto)."""

NO_RESPONSE, STATEMENT, MISSION, DEPLOYMENT, PEACEKEEPING = range(len(RESPONSE_LEVELS))
"""Integer codes of the response levels."""

DECISION_RULES: tuple[str, ...] = ("consensus", "majority", "leader")
"""How the alliance decides on collective action: any active member's veto blocks it; vetoes
of more than half the active members block it; the leader decides alone."""

CLASH_KINDS: tuple[str, ...] = ("border_clash", "incursion", "intra_alliance_clash")
"""Threat kinds the CSTO Charter covers least clearly (border incidents and clashes between
members); reported together as an outcome (``clash_answer_rate``)."""
