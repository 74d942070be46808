"""The scenario schema: pydantic models of a scenario file's sections, validated field by field.

A scenario names the simulated span, the members and their starting state, the poles and their
strength over time, the relations network, hazard rates, scripted events and behavioural
parameters. :class:`Scenario` is the whole, with the copies the experiments vary
(``with_parameters``, ``with_factors``, ``with_leader_strength``, ``with_judgements``).
Checks across sections are in :mod:`csto_sim.core.crosschecks`, reading files in
:mod:`csto_sim.core.loading`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictBool,
    ValidationError,
    field_validator,
)

from csto_sim.core.crosschecks import cross_check
from csto_sim.core.errors import (
    ParameterError,
    did_you_mean,
    format_loc,
    pydantic_error,
    short,
    show,
)
from csto_sim.core.files import SEED_MAX
from csto_sim.core.parameters import Parameters
from csto_sim.core.vocabulary import EVENT_KINDS, KIND_ALIASES, THREAT_KINDS, TIE_KINDS

Unit = Annotated[float, Field(ge=0.0, le=1.0)]
Pair = Annotated[list[float], Field(min_length=2, max_length=2)]
Logit = Annotated[float, Field(ge=-10.0, le=10.0)]


def _pairs(v: Any) -> Any:
    """A series given as a list holds [year, value] pairs of finite numbers: the pair at
    fault is named (the union's own error would call the whole list not a valid number)."""
    for i, pair in enumerate(v if isinstance(v, list) else ()):
        numbers = isinstance(pair, list) and len(pair) == 2
        numbers = numbers and all(
            isinstance(x, int | float) and not isinstance(x, bool) for x in pair
        )
        if not (numbers and all(math.isfinite(x) for x in pair)):
            raise ValueError(f"pair {i}, {show(pair)}: expected [year, value], two finite numbers")
    return v


Series = Annotated[float | list[Pair], BeforeValidator(_pairs)]
"""A time series: one number for all years, or [year, value] pairs (linear in between, flat outside)."""
StatusName = Literal["active", "frozen", "withdrawn", "non_member"]

MAX_NAME = 64
"""The longest name of a scenario, member, pole, actor or event."""

NAME = re.compile(rf"[\w+][\w.+-]{{0,{MAX_NAME - 1}}}")
"""What a scenario name may be: it names files and folders, so no separators or dot files."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class TimeSpan(_Strict):
    """The simulated span in decimal years and the length of a step."""

    start: float
    end: float
    step: float = Field(0.25, gt=0, le=1.0)


class Alliance(_Strict):
    """Which member leads the alliance and which pole is its own; how it decides on collective
    action (``decision``: consensus, majority or the leader alone) and whether its charter
    offers mediation in clashes between members (``mediation``); how the leader meets members
    drifting away (``leader_strategy``: courting them with better offers, coercing them with
    its leverage, or neither)."""

    leader: str
    leader_pole: str
    leader_distraction: Unit = 0.0
    decision: Literal["consensus", "majority", "leader"] = "consensus"
    mediation: StrictBool = False
    leader_strategy: Literal["court", "coerce", "neither"] = "court"


MAX_STRENGTH = 1000.0
"""The largest pole strength a scenario may give (in units of the leader's capability at the
start of the hindcast; the strongest pole of the bundled scenarios is under 9): beyond it
the pulls' exponentials overflow and the answers become NaN."""


class Pole(_Strict):
    """An outside power: its strength over time on one cross-pole scale (CINC relative to the
    leader's at the start of the hindcast), and its reach in each channel (log-attraction
    beyond strength and ties, estimated from the hindcast's starting cross-section by
    ``csto_sim.hindcast.build``)."""

    strength: Series
    security_reach: float = Field(0.0, ge=-10.0, le=10.0)
    economic_reach: float = Field(0.0, ge=-10.0, le=10.0)

    @field_validator("strength")
    @classmethod
    def _check(cls, v: Series) -> Series:
        return _check_series(v, low=0.0, high=MAX_STRENGTH)


class Member(_Strict):
    """A member state's starting state and attributes."""

    alignment: dict[str, float] = {}
    economic: dict[str, float] = {}
    commitment: Unit | None = None
    trust: Unit | None = None
    status: StatusName | None = None
    capability: float = Field(ge=0.0, le=1.0)  # a CINC share of the world
    budget_share: Unit = 0.0
    leverage: Unit = 0.0
    adversaries: list[str] = []
    hazards: dict[str, float] = {}
    security_affinity: dict[str, Logit] = {}
    economic_affinity: dict[str, Logit] = {}

    @field_validator("adversaries")
    @classmethod
    def _once(cls, v: list[str]) -> list[str]:
        if twice := sorted({a for a in v if v.count(a) > 1}):
            raise ValueError(f"{show(twice[0])} is listed twice")
        return v

    @field_validator("alignment", "economic")
    @classmethod
    def _simplex(cls, v: dict[str, float], info: Any) -> dict[str, float]:
        if not v:
            return v
        for pole, w in v.items():
            if not isinstance(w, int | float) or isinstance(w, bool):
                raise ValueError(f"weight of {short(pole, 40)} is not a number")
            if w < 0:
                raise ValueError(f"weight of {short(pole, 40)} is negative ({w:g})")
        total = sum(v.values())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"weights sum to {total:g}, expected 1")
        return v

    @field_validator("hazards")
    @classmethod
    def _hazards(cls, v: dict[str, float]) -> dict[str, float]:
        return _check_hazards(v)


class Actor(_Strict):
    """A non-member adversary: how friendly it is to the alliance leader, and the pole that
    backs it (``patron``, empty for none): members aligned with that pole veto action against it."""

    leader_affinity: Unit = 0.0
    patron: str = ""


class Event(_Strict):
    """A scripted, dated event."""

    date: dt.date | float
    kind: str
    member: str = ""
    counterpart: str = ""
    severity: Unit = 0.5
    territorial: StrictBool = True
    pole: str = ""
    channel: Literal["security", "economic"] = "economic"
    pull_change: Annotated[float, Field(ge=-5.0, le=5.0)] = 0.0
    threat: str = ""
    rate_factor: Annotated[float, Field(ge=0.0, le=10.0)] = 1.0
    source: str = ""

    @field_validator("kind")
    @classmethod
    def _kind(cls, v: str) -> str:
        v = KIND_ALIASES.get(v, v)
        if v not in EVENT_KINDS:
            raise ValueError(f"unknown event kind {show(v)}{did_you_mean(v, EVENT_KINDS)}")
        return v

    @property
    def year(self) -> float:
        """The event's date as a decimal year."""
        return decimal_year(self.date)


class Recorded(_Strict):
    """A membership status the record gives a member from a date on: the statuses it may
    hold (one, or several the record does not tell apart). A projection that conditions on
    its history's record continues only histories that hold them."""

    date: dt.date | float
    status: list[StatusName] = Field(min_length=1, max_length=4)

    @property
    def year(self) -> float:
        """The date as a decimal year."""
        return decimal_year(self.date)


class RecordedRequest(_Strict):
    """What the record gives of a scripted threat: whether the struck member asked the
    alliance for help and, if it did, whether the alliance answered. A projection that
    conditions on its history's record continues only histories that hold it."""

    asked: StrictBool
    answered: StrictBool | None = None


class Tie(_Strict):
    """A dated structural tie between a member and a pole (``structural_ties.csv``)."""

    kind: str
    member: str
    pole: str
    start: dt.date | float | None = None
    end: dt.date | float | None = None
    source: str = ""

    @field_validator("kind")
    @classmethod
    def _kind(cls, v: str) -> str:
        if v not in TIE_KINDS:
            raise ValueError(f"unknown tie kind {show(v)}{did_you_mean(v, TIE_KINDS)}")
        return v

    @property
    def span(self) -> tuple[float, float]:
        """(start, end) as decimal years; an open end is infinite."""
        start = -math.inf if self.start is None else decimal_year(self.start)
        end = math.inf if self.end is None else decimal_year(self.end)
        return start, end

    def active(self, year: np.ndarray) -> np.ndarray:
        """Whether the tie holds at each decimal year."""
        start, end = self.span
        return (year >= start) & (year < end)


class Scenario(_Strict):
    """A validated scenario, defaults filled and ``extends`` resolved."""

    name: str
    description: str = ""
    seed: int = Field(0, ge=0, le=SEED_MAX)  # as --seed: a seed numpy takes
    time: TimeSpan
    alliance: Alliance
    poles: dict[str, Pole]
    members: dict[str, Member]
    relations: dict[str, dict[str, Annotated[float, Field(ge=-1.0, le=1.0)]]] = {}
    actors: dict[str, Actor] = {}
    hazards: dict[str, float] = {}
    events: dict[str, Event] = {}
    ties: dict[str, Tie] = {}
    structural_ties: StrictBool = False
    history: Scenario | None = None
    condition: StrictBool = True
    record: dict[str, list[Recorded]] = {}
    recorded_requests: dict[str, RecordedRequest] = {}
    guided: StrictBool = False
    parameters: Parameters = Parameters()
    posterior: str = ""
    targets: list[str] = []
    source: str = ""
    _judged: dict[str, list] = PrivateAttr(default_factory=dict)

    @field_validator("hazards")
    @classmethod
    def _hazards(cls, v: dict[str, float]) -> dict[str, float]:
        return _check_hazards(v)

    @field_validator("description")
    @classmethod
    def _description(cls, v: str) -> str:
        if not v.isprintable():  # a line break or a control character would break tables
            raise ValueError("one line of printable characters (no line breaks or tabs)")
        return v

    @field_validator("guided")
    @classmethod
    def _guided(cls, v: bool) -> bool:
        if v:  # the filter guides a history and weighs it; run alone, it would script it
            raise ValueError(
                "not a scenario setting: a history is guided by its record only inside a "
                "projection that conditions on it (condition = true), where each history is "
                "weighted by its chance of the record"
            )
        return v

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not NAME.fullmatch(v):
            raise ValueError(
                f"a scenario name is 1-{MAX_NAME} letters, digits, '_', '-', '.' or '+', "
                "not starting with '.' or '-' (it names files and folders)"
            )
        return v

    @field_validator("poles", "members", "actors", "events", "relations", "ties")
    @classmethod
    def _keys(cls, v: dict[str, Any]) -> dict[str, Any]:
        seen: dict[str, str] = {}
        for key in v:
            if not 0 < len(key) <= MAX_NAME or not key.isprintable():
                raise ValueError(f"{short(key, 40)!r}: names are 1-{MAX_NAME} printable characters")
            other = seen.setdefault(key.casefold(), key)
            if other != key:
                raise ValueError(f"{key!r} and {other!r} differ only in case")
        return v

    @property
    def member_names(self) -> list[str]:
        """Members in file order: the order of every members axis."""
        return list(self.members)

    @property
    def pole_names(self) -> list[str]:
        """Poles in file order: the order of every poles axis."""
        return list(self.poles)

    @property
    def n_steps(self) -> int:
        """Number of steps between start and end."""
        return int(round((self.time.end - self.time.start) / self.time.step))

    def to_dict(self) -> dict[str, Any]:
        """The scenario as plain data (JSON-compatible)."""
        return json.loads(self.model_dump_json())

    def digest(self) -> str:
        """SHA-256 of the resolved scenario's canonical JSON: what the results were made from.

        Only the content counts: not the file it was read from, nor its comments or layout.
        """
        return content_digest(self.to_dict())

    @property
    def judged(self) -> dict[str, list]:
        """Where the judgements it references stood: judgement id -> key paths (this
        scenario's; its history keeps its own)."""
        return dict(self._judged)

    def with_judgements(self, values: Mapping[str, float]) -> Scenario:
        """A copy with some judgements set to other values wherever this scenario (or the
        history it continues) references them; ids it does not reference change nothing."""
        data = self.to_dict()
        for id_, v in values.items():
            for path in self._judged.get(id_, []):
                _set_at(data, path, float(v))
        history = None if self.history is None else self.history.with_judgements(values)
        data.pop("history", None)
        out = _revalidate(data, self.source, history)
        out._judged = dict(self._judged)
        return out.model_copy(update={"parameters": _as_set(out.parameters, self.parameters)})

    def with_leader_strength(self, factor: float) -> Scenario:
        """A copy whose leader pole's strength series is multiplied by ``factor`` (a finite
        number >= 0 that keeps the strength within :data:`MAX_STRENGTH`)."""
        name = self.alliance.leader_pole
        series = self.poles[name].strength
        peak = series if isinstance(series, int | float) else max(v for _, v in series)
        try:
            factor = float(factor)
        except (TypeError, ValueError):
            raise ValueError(
                f"leader_strength: expected a number, got {short(repr(factor), 40)}"
            ) from None
        if not (math.isfinite(factor) and factor >= 0 and factor * peak <= MAX_STRENGTH):
            raise ValueError(
                f"leader_strength: expected a finite factor >= 0 that keeps {name}'s strength "
                f"at most {MAX_STRENGTH:g}, got {factor}"
            )
        scaled = (
            series * factor
            if isinstance(series, int | float)
            else [[y, v * factor] for y, v in series]
        )
        return self.model_copy(
            update={
                "poles": self.poles
                | {name: self.poles[name].model_copy(update={"strength": scaled})}
            }
        )

    def with_parameters(self, **values: Any) -> Scenario:
        """A copy with some behavioural parameters changed (validated: a
        :class:`ParameterError` names the first bad name or value)."""
        try:  # what was set stays set (a posterior draws the rest): not the whole dump
            params = Parameters.model_validate(
                self.parameters.model_dump(exclude_unset=True) | values
            )
        except ValidationError as exc:
            err = exc.errors()[0]
            where = format_loc(err["loc"])
            if err["type"] == "extra_forbidden" and where in DRIVERS:
                raise ParameterError(
                    f"{where}: a driver, not a behavioural parameter: set it with "
                    f"Scenario.with_{where}, or as a factor of evaluate"
                ) from None
            if err["type"] == "extra_forbidden":
                known = Parameters.model_fields
                raise ParameterError(
                    f"unknown parameter {where!r}{did_you_mean(where, known)}"
                ) from None
            raise ParameterError(
                f"{where}: {err['msg']} (got {short(repr(err.get('input')), 40)})"
            ) from None
        return self.model_copy(update={"parameters": params})

    def with_factors(self, values: Mapping[str, Any]) -> Scenario:
        """A copy with factor values applied: drivers (:data:`DRIVERS`) transform the inputs,
        every other name is a behavioural parameter.

        Numbers may be numpy scalars; a whole-number parameter takes an integer-valued float
        (``3.0``). Unknown names and invalid values raise ``ValueError``.
        """
        if not isinstance(values, Mapping):
            raise ValueError(
                f"factors: expected names and values (a dict), got {type(values).__name__}"
            )
        params: dict[str, Any] = {}
        for name, value in values.items():
            if name in DRIVERS:
                continue
            base, _, key = name.partition(".")
            table = getattr(self.parameters, base, None) if key else None
            if isinstance(table, dict) and key in table:  # one entry, as `csto-sim params` lists
                value = value.item() if isinstance(value, np.generic) else value
                params[base] = params.get(base, dict(table)) | {key: value}
                continue
            if name not in Parameters.model_fields:
                known = [*DRIVERS, *Parameters.model_fields]
                raise ValueError(f"unknown factor {name!r}{did_you_mean(name, known)}")
            params[name] = _coerce(name, value)
        spec = self.with_parameters(**params) if params else self
        if "leader_strength" in values:
            spec = spec.with_leader_strength(values["leader_strength"])
        return spec


DRIVERS: dict[str, tuple[float, float, str]] = {
    "leader_strength": (
        0.5,
        1.5,
        "multiplier on the leader pole's strength series (its post-war strength in the bundled projections)",
    ),
}
"""Scenario drivers that can be varied like parameters: name -> (low, high, meaning)."""


def _coerce(name: str, value: Any) -> Any:
    """A factor value as the plain Python type its parameter has."""
    if isinstance(value, np.generic):
        value = value.item()
    if Parameters.model_fields[name].annotation is int and isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"{name}: expected a whole number, got {value}")
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value) if Parameters.model_fields[name].annotation is float else value
    return value


def decimal_year(value: dt.date | float) -> float:
    """A date or decimal year as a decimal year (the 5th of January -> the year + 0.011)."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        start = dt.date(value.year, 1, 1)
        days = (dt.date(value.year + 1, 1, 1) - start).days
        return value.year + (value - start).days / days
    return float(value)


def _check_series(v: Series, low: float, high: float) -> Series:
    values = [v] if isinstance(v, int | float) else [val for _, val in v]
    if not isinstance(v, int | float):
        if not v:
            raise ValueError("a time series needs at least one [year, value] pair")
        years = [y for y, _ in v]
        if any(b <= a for a, b in zip(years, years[1:], strict=False)):
            raise ValueError("years of a time series must increase")
    for val in values:
        if not low <= val <= high:
            bound = f"[{low:g}, {high:g}]" if math.isfinite(high) else f">= {low:g}"
            raise ValueError(f"value {val:g} outside {bound}")
    return v


def _check_hazards(v: dict[str, float]) -> dict[str, float]:
    out = {}
    for kind, rate in v.items():
        kind = KIND_ALIASES.get(kind, kind)
        if kind not in THREAT_KINDS:
            raise ValueError(f"unknown threat kind {show(kind)}{did_you_mean(kind, THREAT_KINDS)}")
        if not isinstance(rate, int | float) or isinstance(rate, bool) or rate < 0:
            raise ValueError(
                f"{kind} = {show(rate)}: a hazard rate is a number >= 0 (events per year)"
            )
        out[kind] = float(rate)
    return out


_UNSET = {"condition": True, "record": {}, "recorded_requests": {}, "guided": False}
"""Conditioning fields at their defaults: left out of digests (results made before they
existed keep their identity)."""


def content_digest(data: dict[str, Any]) -> str:
    """:meth:`Scenario.digest` of a scenario's plain data (:meth:`Scenario.to_dict`), for
    example the contents a results folder's manifest saved."""
    skip = ("source", "posterior", "targets")  # where it was read from; which samples
    # runs draw from; which outcomes the report names
    content = _content(data, skip)
    if content.get("history"):
        content["history"] = _content(content["history"], skip)
    text = json.dumps(content, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _content(data: dict, skip: tuple[str, ...]) -> dict:
    return {k: v for k, v in data.items() if k not in skip and not (k in _UNSET and v == _UNSET[k])}


def _revalidate(data: dict[str, Any], source: str, history: Scenario | None) -> Scenario:
    """A scenario from its own plain data (:meth:`Scenario.to_dict`, without the history,
    given apart as a scenario), checked again."""
    try:
        scenario = Scenario.model_validate_json(json.dumps(data))
    except ValidationError as exc:
        raise pydantic_error(Scenario, exc, {}, Path(source)) from None
    scenario = scenario.model_copy(update={"history": history})
    cross_check(scenario, {}, Path(source))
    return scenario


def _as_set(params: Parameters, like: Parameters) -> Parameters:
    """``params`` with the parameters ``like`` sets marked as set, and no others (a
    scenario rebuilt from its full data keeps which parameters its file or code set)."""
    return Parameters.model_construct(like.model_fields_set, **dict(params))


def _set_at(data: Any, path: list, value: float) -> None:
    for key in path[:-1]:
        data = data[key]
    data[path[-1]] = value
