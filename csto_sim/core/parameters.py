"""The behavioural parameters: every one with its default, unit, meaning and plausible range.

This module is the single place where a parameter is defined. Scenario files override
values under ``[parameters]``; the ODD protocol's parameter table, the sensitivity
analysis and the calibration read names, units and ranges from here.
"""

from __future__ import annotations

import reprlib
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from csto_sim.core import judgements
from csto_sim.core.vocabulary import THREAT_KINDS, TIE_KINDS

MAX_LOGIT = 100.0
"""The largest magnitude of a parameter on a logit scale (a logit, or a logit per unit of a
quantity of at most about 1): a logistic is 1 to double precision past 37, so nothing above
changes a decision, while 1e30 in ``rival_drift``, ``rival_weakness`` or ``court_weight``
made the cohesion of a run NaN (found by fuzzing; the plausible ranges end at 16)."""


def _bounds(unit: str) -> dict[str, float]:
    """Hard validity bounds implied by a unit (the plausible range is narrower and advisory)."""
    if unit.startswith(("share", "probability", "commitment")):
        return {"ge": 0.0, "le": 1.0}
    if unit.startswith("logit per"):
        return {"ge": 0, "le": MAX_LOGIT}
    if unit == "logit":
        return {"ge": -MAX_LOGIT, "le": MAX_LOGIT}
    if unit in ("1/year", "members"):
        return {"ge": 0}
    if unit == "years":
        return {"gt": 0.0}
    return {}


def P(default: Any, unit: str, meaning: str, low: float, high: float) -> Any:
    """Declare a parameter: its default, unit, one-line meaning and plausible range."""
    return Field(
        default=default,
        description=meaning,
        json_schema_extra={"unit": unit, "range": [low, high]},
        **({} if isinstance(default, dict) else _bounds(unit)),
    )


def _per_kind(values: dict[str, float]) -> dict[str, float]:
    return {k: values[k] for k in THREAT_KINDS}


def _per_tie(values: dict[str, float]) -> dict[str, float]:
    return {k: values[k] for k in TIE_KINDS}


class Parameters(BaseModel):
    """Behavioural parameters of the model; units are given per parameter."""

    model_config = ConfigDict(
        extra="forbid", validate_assignment=True, strict=True, allow_inf_nan=False
    )

    # --- the member's request decision (logistic) ---
    request_base: float = P(
        judgements.value("parameter.request_base"),
        "logit",
        "intercept of a struck member's request decision",
        -4,
        1,
    )
    request_severity: float = P(
        judgements.value("parameter.request_severity"),
        "logit per unit severity",
        "graver threats are more likely to be brought to the alliance",
        0,
        6,
    )
    request_trust: float = P(
        judgements.value("parameter.request_trust"),
        "logit per unit trust",
        "members ask when they expect the alliance to answer",
        0,
        6,
    )
    request_fit: float = P(
        judgements.value("parameter.request_fit"),
        "logit per unit charter fit",
        "members ask for what the charter is written for",
        0,
        4,
    )
    request_sovereignty: float = P(
        judgements.value("parameter.request_sovereignty"),
        "logit per unit distance from the leader",
        "sovereignty cost of inviting the leader's troops: members aligned away from its pole ask less",
        0,
        6,
    )
    request_against_member: float = P(
        judgements.value("parameter.request_against_member"),
        "logit",
        "members rarely ask the alliance to act against another active member",
        0,
        6,
    )
    # --- the alliance's response decision (logistic) ---
    response_base: float = P(
        -7.399, "logit", "intercept of the alliance's response decision", -9, -2
    )
    response_fit: float = P(
        0.21, "logit per unit charter fit", "the alliance acts on threats its charter covers", 0, 6
    )
    response_internal: float = P(
        0.35, "logit", "reluctance to act in a member's internal affairs", 0, 5
    )
    response_both_members: float = P(
        judgements.value("parameter.response_both_members"),
        "logit",
        "reluctance to take sides between two active members",
        0,
        8,
    )
    response_affinity: float = P(
        5.092,
        "logit per unit affinity",
        "reluctance to act against an adversary friendly to the leader",
        0,
        6,
    )
    response_capacity: float = P(
        0.287,
        "logit per unit capacity",
        "a leader with more available capacity answers more (can and will)",
        0,
        6,
    )
    response_alignment: float = P(
        3.964,
        "logit per unit weight",
        "the leader answers requesters aligned with its pole",
        0,
        5,
    )
    response_stake: float = P(
        7.535,
        "logit per unit stake",
        "the leader answers members whose capability is large (their stake)",
        0,
        8,
    )
    response_budget: float = P(
        judgements.value("parameter.response_budget"),
        "logit per unit budget",
        "a funded budget makes action possible",
        0,
        3,
    )
    response_severity: float = P(
        0.827, "logit per unit severity", "graver threats draw more response", 0, 4
    )
    # --- how far the answer goes (the leader's graded decision) ---
    level_statement: float = P(
        judgements.value("parameter.level_statement"),
        "logit",
        "how much likelier at least consultations or a statement are than a deployment",
        3,
        8,
    )
    level_mission: float = P(
        judgements.value("parameter.level_mission"),
        "logit",
        "how much likelier at least a fact-finding or monitoring mission is than a deployment",
        0.5,
        4,
    )
    level_peacekeeping: float = P(
        judgements.value("parameter.level_peacekeeping"),
        "logit",
        "how much less likely a standing peacekeeping mission is than a deployment (negative)",
        -6,
        -1,
    )
    # --- the members' vetoes of collective action (missions and above) ---
    veto_base: float = P(
        judgements.value("parameter.veto_base"),
        "logit",
        "intercept of a member's veto of collective action on another member's request",
        -6,
        -2,
    )
    veto_self: float = P(
        judgements.value("parameter.veto_self"),
        "logit",
        "a member vetoes collective action against itself (unless the charter offers mediation)",
        4,
        10,
    )
    veto_patron: float = P(
        judgements.value("parameter.veto_patron"),
        "logit per unit alignment",
        "members aligned with the adversary's patron pole veto action against it",
        0,
        8,
    )
    # --- adversaries read the alliance's record ---
    deterrence: float = P(
        judgements.value("parameter.deterrence"),
        "log factor per unit record",
        "how much an adversary's chance of striking falls with the alliance's record of answering (rises with its record of not answering)",
        0,
        1.5,
    )
    record_step: float = P(
        judgements.value("parameter.record_step"),
        "record units per threat",
        "how far one answered (or unanswered) threat moves the record adversaries read",
        0,
        1,
    )
    # --- poles that react, and the leader's answer to drift ---
    rival_weakness: float = P(
        judgements.value("parameter.rival_weakness"),
        "logit per unit lost capacity",
        "rival poles raise their offers where they have ties, as the leader's free capacity falls",
        0,
        3,
    )
    rival_drift: float = P(
        judgements.value("parameter.rival_drift"),
        "logit per unit distance from the leader",
        "rival poles court members that have drifted from the leader's pole",
        0,
        3,
    )
    court_weight: float = P(
        judgements.value("parameter.court_weight"),
        "logit per unit distance",
        "a courting leader raises its offer to drifting members, as far as its free capacity allows",
        0,
        3,
    )
    coerce_weight: float = P(
        judgements.value("parameter.coerce_weight"),
        "share per unit distance",
        "a coercing leader raises its leverage over drifting members",
        0,
        1,
    )
    coerce_resentment: float = P(
        judgements.value("parameter.coerce_resentment"),
        "share per year per unit distance",
        "coercion breeds grievance in the coerced member",
        0,
        1,
    )
    # --- help from outside the alliance ---
    bilateral_help: float = P(
        judgements.value("parameter.bilateral_help"),
        "probability per unit attraction",
        "scale of the chance that some pole (the leader too, bilaterally) helps when the alliance does not",
        0,
        1,
    )
    # --- feedback from answered and ignored requests ---
    commitment_gain_answered: float = P(
        judgements.value("parameter.commitment_gain_answered"),
        "share of gap per unit severity",
        "an answered request raises the requester's commitment",
        0,
        1,
    )
    commitment_loss_ignored: float = P(
        0.455,
        "share per unit severity",
        "an ignored request lowers the requester's commitment",
        0,
        1,
    )
    observer_weight: float = P(
        judgements.value("parameter.observer_weight"),
        "share",
        "how strongly other members feel a response or refusal they watch",
        0,
        1,
    )
    trust_learning: float = P(
        judgements.value("parameter.trust_learning"),
        "share per unit severity",
        "weight of one observed outcome on a member's trust",
        0,
        1,
    )
    alignment_shift_answered: float = P(
        judgements.value("parameter.alignment_shift_answered"),
        "share per unit severity",
        "an answered request pulls alignment toward the leader's pole",
        0,
        0.5,
    )
    alignment_shift_ignored: float = P(
        judgements.value("parameter.alignment_shift_ignored"),
        "share per unit severity",
        "an ignored request pushes alignment away from the leader's pole",
        0,
        0.5,
    )
    # --- continuous drift ---
    pole_pull_rate: float = P(
        0.381,
        "1/year",
        "speed at which alignment moves toward the poles' offers times strength",
        0,
        0.5,
    )
    network_rate: float = P(
        judgements.value("parameter.network_rate"),
        "1/year",
        "speed of influence along the relations network (signed ties)",
        0,
        0.5,
    )
    commitment_rate: float = P(
        0.838, "1/year", "speed at which commitment moves toward its anchor", 0, 1
    )
    commitment_alignment_weight: float = P(
        0.901,
        "share",
        "anchor of commitment: weight of alignment with the leader (rest: trust)",
        0.3,
        1,
    )
    trust_drift_rate: float = P(
        judgements.value("parameter.trust_drift_rate"),
        "1/year",
        "speed at which trust drifts toward the member's expected chance of an answer",
        0,
        1,
    )
    distraction_halflife: float = P(
        judgements.value("parameter.distraction_halflife"),
        "years",
        "half-life of the leader's capacity tied up by a war elsewhere",
        0.5,
        10,
    )
    # --- membership ---
    freeze_threshold: float = P(
        0.258,
        "commitment",
        "commitment at which staying active and freezing are worth the same when nothing else weighs (no grievance, alternatives, economic dependence, exit cost or status-quo bias; 7.11)",
        0.2,
        0.7,
    )
    membership_commitment: float = P(
        15.333,
        "logit per unit commitment",
        "how much commitment above the freeze threshold makes full membership worth keeping",
        2,
        16,
    )
    membership_grievance: float = P(
        5.998,
        "logit per unit grievance",
        "how much remembered unanswered threats devalue membership",
        0,
        8,
    )
    membership_alternatives: float = P(
        0.07,
        "logit per unit credibility",
        "how much credible security alternatives (help received from other poles, or their security pull close to the leader's) devalue membership",
        0,
        8,
    )
    status_quo_bias: float = P(
        3.254,
        "logit per change of status",
        "extra utility of keeping one's current status (changing status is a political cost)",
        0,
        6,
    )
    exit_cost_weight: float = P(
        5.702,
        "logit per unit leverage",
        "what the leader's leverage (bases, remittances, energy) makes withdrawing cost (half for freezing)",
        0,
        6,
    )
    decision_rate: float = P(
        2.836, "1/year", "rate at which a member reconsiders its membership", 0.1, 4
    )
    grievance_gain: float = P(
        0.512,
        "share per unit severity",
        "an unanswered threat adds to a member's grievance (a refused request fully, an unasked one by its charter fit)",
        0,
        1,
    )
    alternatives_gain: float = P(
        judgements.value("parameter.alternatives_gain"),
        "share per unit severity",
        "help from a pole other than the leader's makes a member's security alternatives credible",
        0,
        1,
    )
    memory_halflife: float = P(
        judgements.value("parameter.memory_halflife"),
        "years",
        "half-life of remembered grievances, help from other poles and the record adversaries read",
        1,
        15,
    )
    alignment_shift_helped: float = P(
        judgements.value("parameter.alignment_shift_helped"),
        "share per unit severity",
        "bilateral help pulls the helped member's security alignment toward the helping pole",
        0,
        0.5,
    )
    collapse_min_active: int = P(
        2,
        "members",
        "the alliance collapses when fewer members than this, besides the leader, are active",
        1,
        5,
    )
    membership_economic: float = P(
        judgements.value("parameter.membership_economic"),
        "logit per unit economic weight",
        "economic dependence on the leader's pole (market access, remittances) makes full membership worth more",
        0,
        4,
    )
    # --- the pull of the poles, by kind of structural tie ---
    tie_security: dict[str, float] = P(
        _per_tie(
            {
                "border": 0.196,
                "language": 0.2526,
                "institution": 0.0974,
                "agreement": 0.0655,
                "base": 0.6392,
            }
        ),
        "logit per tie",
        "how much a tie of each kind adds to a pole's pull on a member's security alignment (fitted on the hindcast's starting cross-section)",
        -2,
        2,
    )
    tie_economic: dict[str, float] = P(
        _per_tie(
            {
                "border": 0.3461,
                "language": 0.0382,
                "institution": 0.2814,
                "agreement": -0.1589,
                "base": -0.1061,
            }
        ),
        "logit per tie",
        "how much a tie of each kind adds to a pole's pull on a member's economic alignment (fitted on the hindcast's starting cross-section)",
        -2,
        2,
    )
    # --- by kind of threat (judgements: csto_sim/data/judgements.csv) ---
    charter_fit: dict[str, float] = P(
        _per_kind(judgements.values_under("charter_fit")),
        "share",
        "how well the charter (collective defence, the mutual-assistance clause, Article 4 of the Collective Security Treaty; transnational threats, Article 8) fits a threat of each kind",
        0,
        1,
    )
    internal_affairs: dict[str, float] = P(
        _per_kind(judgements.values_under("internal_affairs")),
        "share",
        "how much a threat of each kind counts as a member's internal affair",
        0,
        1,
    )
    severity_mean: dict[str, float] = P(
        _per_kind(judgements.values_under("severity_mean")),
        "severity",
        "mean severity of a random threat event of each kind",
        0.05,
        0.95,
    )
    extraterritorial_fit: float = P(
        judgements.value("parameter.extraterritorial_fit"),
        "share",
        "multiplier on charter fit for an event outside a member's recognised territory",
        0,
        1,
    )

    @model_validator(mode="after")
    def _levels_ordered(self) -> Parameters:
        """Each response level is at most as likely as the one below it."""
        if not self.level_statement >= self.level_mission >= 0.0 >= self.level_peacekeeping:
            raise ValueError(
                "response levels out of order: need level_statement >= level_mission >= 0 "
                ">= level_peacekeeping"
            )
        return self

    @field_validator(
        "charter_fit",
        "internal_affairs",
        "severity_mean",
        "tie_security",
        "tie_economic",
        mode="before",
    )
    @classmethod
    def _fill_kinds(cls, value: Any, info: Any) -> Any:
        """Complete a per-kind table with defaults, rejecting unknown kinds and values out of range.

        Mean severities must lie in [0.05, 0.95] (the severity distribution degenerates at 0
        and 1); tie weights in [-5, 5]; the other tables in [0, 1].
        """
        if not isinstance(value, dict):
            return value
        kinds = TIE_KINDS if info.field_name.startswith("tie_") else THREAT_KINDS
        unknown = [k for k in value if k not in kinds]
        if unknown:
            what = "tie kind" if kinds is TIE_KINDS else "threat kind"
            raise ValueError(
                f"unknown {what} {reprlib.repr(unknown[0])}; known: {', '.join(kinds)}"
            )
        if kinds is TIE_KINDS:
            low, high = -5.0, 5.0
        else:
            low, high = (0.05, 0.95) if info.field_name == "severity_mean" else (0.0, 1.0)
        for k, v in value.items():
            if not isinstance(v, int | float) or isinstance(v, bool):
                raise ValueError(f"{k}: expected a number, got {reprlib.repr(v)}")
            if not low <= float(v) <= high:
                raise ValueError(f"{k}: {v} is outside [{low:g}, {high:g}]")
        default = cls.model_fields[info.field_name].default
        return default | {k: float(v) for k, v in value.items()}


MAIN_PARAMETERS: tuple[str, ...] = (
    "response_base",
    "response_capacity",
    "response_stake",
    "commitment_alignment_weight",
    "freeze_threshold",
    "exit_cost_weight",
    "pole_pull_rate",
    "alignment_shift_ignored",
)
"""The behavioural parameters users tune first (dashboard sliders, default sensitivity factors)."""


def parameter_table() -> list[dict[str, Any]]:
    """Rows (name, default, unit, meaning, low, high) for every behavioural parameter."""
    rows = []
    for name, field in Parameters.model_fields.items():
        extra = field.json_schema_extra or {}
        rows.append(
            {
                "name": name,
                "default": field.default,
                "unit": extra["unit"],
                "meaning": field.description,
                "low": extra["range"][0],
                "high": extra["range"][1],
            }
        )
    return rows


def plausible_ranges() -> dict[str, tuple[float, float]]:
    """The plausible range of every numeric (non-table) parameter: what analyses vary it over."""
    return {
        r["name"]: (float(r["low"]), float(r["high"]))
        for r in parameter_table()
        if not isinstance(r["default"], dict)
    }
