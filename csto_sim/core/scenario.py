"""Scenario files: the TOML schema, ``extends`` resolution and validation with clear errors.

A scenario names the simulated span, the members and their starting state, the poles
and their strength and offers over time, the relations network, hazard rates, scripted
events and behavioural parameters. Every problem is reported as a :class:`ScenarioError`
naming the file and the key path, so the command line can print one line and exit 2.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import functools
import hashlib
import json
import math
import re
import tomllib
from collections.abc import Iterator, Mapping
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictBool,
    ValidationError,
    field_validator,
)

from csto_sim.core import judgements
from csto_sim.core.parameters import Parameters
from csto_sim.core.vocabulary import (
    EVENT_KINDS,
    INTRA_ALLIANCE_KIND,
    KIND_ALIASES,
    THREAT_KINDS,
    TIE_KINDS,
)

Unit = Annotated[float, Field(ge=0.0, le=1.0)]
Pair = Annotated[list[float], Field(min_length=2, max_length=2)]
Logit = Annotated[float, Field(ge=-10.0, le=10.0)]
Series = float | list[Pair]
StatusName = Literal["active", "frozen", "withdrawn", "non_member"]
"""A time series: one number for all years, or [year, value] pairs (linear in between, flat outside)."""

ATOMIC_TABLES: frozenset[str] = frozenset({"alignment", "economic"})
"""Tables that a file extending another replaces whole instead of merging key by key
(an alignment must sum to one, so mixing a child's weights with its base's makes no sense)."""


MAX_STEPS = 2_000
"""The most steps a scenario may have (500 years of quarters): a run's draws are held in memory."""

MAX_EXTENDS = 16
"""The longest ``extends`` chain (files extending files)."""

MAX_FILE_BYTES = 1_000_000
"""The largest scenario file read."""

MAX_NAME = 64
"""The longest name of a scenario, member, pole, actor or event."""

NAME = re.compile(rf"[\w+][\w.+-]{{0,{MAX_NAME - 1}}}")
"""What a scenario name may be: it names files and folders, so no separators or dot files."""


MAX_KEY = 80
"""The longest key path a :class:`ScenarioError` names (longer ones are elided in the middle)."""

MAX_MESSAGE = 300
"""The most characters a :class:`ScenarioError` adds to the file it names: ``": key: message"``
(or ``": message"``), separators included, so its one line is at most ``len(file) + MAX_MESSAGE``."""


class ScenarioError(Exception):
    """A problem in a scenario file: which file, which key, what is wrong, on one line of at most
    ``len(file) +`` :data:`MAX_MESSAGE` characters. Values from the file are quoted short where
    a message is built (:func:`_show`); a message still too long is elided in the middle."""

    def __init__(self, file: str | Path, key: str, message: str):
        self.file, self.key = str(file), _short(key, MAX_KEY)
        head = f": {self.key}: " if self.key else ": "
        self.message = _short(message, MAX_MESSAGE - len(head))
        super().__init__(f"{self.file}{head}{self.message}")


def _missing(what: str, name: str, resolved: Path) -> str:
    """The message for a file a scenario names that is not there: paths are relative to the
    naming file, which is what a newcomer trips over, so say where it was looked for."""
    return (
        f"{what} file {_show(name, 60)} does not exist (looked for {_short(str(resolved), 120)};"
        " paths are relative to this file's folder)"
    )


def _short(text: str, limit: int) -> str:
    """``text`` on one line (control characters escaped), elided in the middle past ``limit``."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))
    if len(text) <= limit:
        return text
    half = (limit - 3) // 2
    return f"{text[:half]}...{text[-half:]}"


def _show(value: Any, limit: int = 40) -> str:
    """A value from a scenario file as a message quotes it: its ``repr``, elided in the middle
    past ``limit`` characters (a file can hold a name or kind of any length)."""
    return _short(repr(value), limit)


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
    capability: float = Field(ge=0.0)
    budget_share: Unit = 0.0
    leverage: Unit = 0.0
    adversaries: list[str] = []
    hazards: dict[str, float] = {}
    security_affinity: dict[str, Logit] = {}
    economic_affinity: dict[str, Logit] = {}

    @field_validator("alignment", "economic")
    @classmethod
    def _simplex(cls, v: dict[str, float], info: Any) -> dict[str, float]:
        if not v:
            return v
        for pole, w in v.items():
            if not isinstance(w, int | float) or isinstance(w, bool):
                raise ValueError(f"weight of {_short(pole, 40)} is not a number")
            if w < 0:
                raise ValueError(f"weight of {_short(pole, 40)} is negative ({w:g})")
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
            raise ValueError(f"unknown event kind {_show(v)}{_did_you_mean(v, EVENT_KINDS)}")
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
            raise ValueError(f"unknown tie kind {_show(v)}{_did_you_mean(v, TIE_KINDS)}")
        return v

    def active(self, year: np.ndarray) -> np.ndarray:
        """Whether the tie holds at each decimal year."""
        start = -np.inf if self.start is None else decimal_year(self.start)
        end = np.inf if self.end is None else decimal_year(self.end)
        return (year >= start) & (year < end)


@functools.cache
def structural_ties() -> tuple[Tie, ...]:
    """The dated structural ties shipped with the package (``csto_sim/data/structural_ties.csv``),
    read once."""
    with (
        resources.files("csto_sim")
        .joinpath("data", "structural_ties.csv")
        .open(encoding="utf-8") as f
    ):
        return tuple(
            Tie(
                kind=r["kind"],
                member=r["member"],
                pole=r["pole"],
                start=dt.date.fromisoformat(r["start"]) if r["start"] else None,
                end=dt.date.fromisoformat(r["end"]) if r["end"] else None,
                source=r["source"],
            )
            for r in csv.DictReader(f)
        )


class Scenario(_Strict):
    """A validated scenario, defaults filled and ``extends`` resolved."""

    name: str
    description: str = ""
    seed: int = Field(0, ge=0)
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
                raise ValueError(
                    f"{_short(key, 40)!r}: names are 1-{MAX_NAME} printable characters"
                )
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
        skip = ("source", "posterior", "targets")  # where it was read from; which samples
        # runs draw from; which outcomes the report names
        content = _content(self.to_dict(), skip)
        if content.get("history"):
            content["history"] = _content(content["history"], skip)
        text = json.dumps(content, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()

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
        return out

    def with_leader_strength(self, factor: float) -> Scenario:
        """A copy whose leader pole's strength series is multiplied by ``factor`` (>= 0)."""
        if factor < 0:
            raise ValueError(f"leader strength factor must be >= 0, got {factor}")
        name = self.alliance.leader_pole
        series = self.poles[name].strength
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
        """A copy with some behavioural parameters changed (validated)."""
        params = Parameters.model_validate(self.parameters.model_dump() | values)
        return self.model_copy(update={"parameters": params})

    def with_factors(self, values: Mapping[str, Any]) -> Scenario:
        """A copy with factor values applied: drivers (:data:`DRIVERS`) transform the inputs,
        every other name is a behavioural parameter.

        Numbers may be numpy scalars; a whole-number parameter takes an integer-valued float
        (``3.0``). Unknown names and invalid values raise ``ValueError``.
        """
        params = {}
        for name, value in values.items():
            if name in DRIVERS:
                continue
            if name not in Parameters.model_fields:
                known = [*DRIVERS, *Parameters.model_fields]
                raise ValueError(f"unknown factor {name!r}{_did_you_mean(name, known)}")
            params[name] = _coerce(name, value)
        try:
            spec = self.with_parameters(**params) if params else self
        except ValidationError as exc:
            err = exc.errors()[0]
            raise ValueError(f"{_format_loc(err['loc'])}: {err['msg']}") from None
        if "leader_strength" in values:
            spec = spec.with_leader_strength(float(values["leader_strength"]))
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
            raise ValueError(
                f"unknown threat kind {_show(kind)}{_did_you_mean(kind, THREAT_KINDS)}"
            )
        if not isinstance(rate, int | float) or isinstance(rate, bool) or rate < 0:
            raise ValueError(f"{kind}: hazard rate must be a number >= 0 events per year")
        out[kind] = float(rate)
    return out


def _did_you_mean(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _read_toml(path: Path) -> dict[str, Any]:
    """A TOML file's data (a UTF-8 byte-order mark is accepted); one-line errors."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ScenarioError(path, "", f"larger than {MAX_FILE_BYTES:,} bytes")
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ScenarioError(path, "", "no such file") from None
    except IsADirectoryError:
        raise ScenarioError(path, "", "is a directory, expected a .toml file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(path, "", f"cannot read: {exc}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(path, "", f"TOML syntax error: {exc}") from None
    except RecursionError:
        raise ScenarioError(
            path, "", "TOML syntax error: arrays or tables nested too deeply"
        ) from None


def _merge(base: dict, over: dict, origin: dict, file: Path, prefix: tuple = ()) -> dict:
    """Deep-merge ``over`` onto ``base`` (tables merge key by key, anything else replaces)."""
    out = dict(base)
    for key, value in over.items():
        path = (*prefix, key)
        if isinstance(value, dict) and isinstance(out.get(key), dict) and key not in ATOMIC_TABLES:
            out[key] = _merge(out[key], value, origin, file, path)
        else:
            out[key] = value
            for p in [p for p in origin if p[: len(path)] == path]:
                del origin[p]
        origin[path] = file
    return out


def _resolve(path: Path, chain: tuple[Path, ...]) -> tuple[dict, dict]:
    """Read a file and its ``extends`` chain; returns merged data and the file each key came from."""
    raw = _read_toml(path)
    parent = raw.pop("extends", None)
    if parent is None:
        return raw, _origins(raw, path)
    if not isinstance(parent, str) or not 0 < len(parent) <= 255 or "\x00" in parent:
        raise ScenarioError(path, "extends", "expected a file name (a string of 1-255 characters)")
    if len(chain) >= MAX_EXTENDS:
        raise ScenarioError(path, "extends", f"extends chain longer than {MAX_EXTENDS} files")
    parent_path = (path.parent / parent).resolve()
    if not parent_path.is_file():
        raise ScenarioError(path, "extends", _missing("extended", parent, parent_path))
    if parent_path in chain or parent_path == path.resolve():
        cycle = " -> ".join(p.name for p in (*chain, path.resolve(), parent_path))
        raise ScenarioError(path, "extends", f"circular extends ({cycle})")
    base, origin = _resolve(parent_path, (*chain, path.resolve()))
    merged = _merge(base, raw, origin, path)
    return merged, origin


def _origins(data: dict, file: Path, prefix=()) -> dict:
    out = {}
    for key, value in data.items():
        out[(*prefix, key)] = file
        if isinstance(value, dict):
            out.update(_origins(value, file, (*prefix, key)))
    return out


def _file_for(loc: tuple, origin: dict, default: Path) -> Path:
    for n in range(len(loc), 0, -1):
        if tuple(loc[:n]) in origin:
            return origin[tuple(loc[:n])]
    return default


def _format_loc(loc: tuple) -> str:
    parts = [str(p) for p in loc if not str(p).startswith(("function-", "tuple[", "list["))]
    # A union's branch tag ("float", "date") comes last, after the field (poles.X.strength,
    # members.X.offers.Y, inputs.X.date); drop only that one, not a field called "date".
    if len(parts) >= 4 and parts[-1] in ("float", "int", "date", "constrained-float"):
        parts.pop()
    return ".".join(parts)


def _pydantic_error(
    exc: ValidationError, origin: dict, path: Path, data: Mapping[str, Any] | None = None
) -> ScenarioError:
    """The first problem pydantic found, as a :class:`ScenarioError`: an unknown key before
    anything else (a misspelt key, ``extend`` for ``extends``, leaves the keys it meant
    missing), and a member or pole missing what a new one needs, named like a known one, as
    that name misspelt."""
    errors = exc.errors(include_url=False)
    err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = tuple(err["loc"])
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        key = str(loc[-1])
        model = _model_at(loc[:-1])
        fields = list(model.model_fields) if model else []
        if model is Scenario:
            fields.append("extends")  # read before validation, so not a field
        msg = f"unknown key{_did_you_mean(key, fields)}"
    elif err["type"] == "missing":
        msg = "missing required key"
        misnamed = _misnamed(loc, data or {})
        if misnamed:
            loc, msg = misnamed
    elif "input" in err and err["type"].endswith(("_type", "_parsing", "_than", "_than_equal")):
        msg = f"{msg} (got {_short(repr(err['input']), 40)})"
    return ScenarioError(_file_for(loc, origin, path), _format_loc(loc), msg)


NAMED_TABLES: dict[str, str] = {"members": "member", "poles": "pole"}
"""Tables of named entries a scenario may add to (new members, new poles): an entry missing
what a new one needs and named close to a known one is taken for that name misspelt."""


def _known_names(section: str, data: Mapping[str, Any]) -> list[str]:
    """The names of a section (members, poles) in the scenario data and in its history."""
    history = data.get("history")
    inherited = list(getattr(history, section, None) or {}) if history is not None else []
    return inherited + [n for n in data.get(section) or {} if n not in inherited]


def _misnamed(loc: tuple, data: Mapping[str, Any]) -> tuple[tuple, str] | None:
    """(key path, message) when ``loc`` lies in a member or pole whose name is close to
    another known one (:func:`_known_names`); None otherwise."""
    if len(loc) < 3 or loc[0] not in NAMED_TABLES:
        return None
    section, name = str(loc[0]), str(loc[1])
    history = data.get("history")
    if section == "poles" and history is not None and name not in history.poles:
        return (section, name), _foreign_pole(name, history)
    message = _unknown_entry(section, name, _known_names(section, data))
    return ((section, name), message) if message else None


def _foreign_pole(name: str, history: Scenario) -> str:
    """The problem with a pole that the history a scenario continues does not have."""
    poles = history.pole_names
    return (
        f"unknown pole{_did_you_mean(name, poles)}; a scenario that continues a history has "
        f"its poles ({', '.join(poles)})"
    )


def _unknown_entry(section: str, name: str, known: list[str]) -> str:
    """The problem with a member or pole entry whose ``name`` is close to
    one of ``known`` (other than itself): "unknown member (did you mean ...?); a new member
    needs ..."; an empty string when none is close."""
    hint = _did_you_mean(name, [n for n in known if n != name])
    if not hint:
        return ""
    what = NAMED_TABLES[section]
    model = Member if section == "members" else Pole
    needs = [f for f, info in model.model_fields.items() if info.is_required()]
    needs = [*NEW_MEMBER_STATE, *needs] if section == "members" else needs
    listed = ", ".join(needs[:-1]) + " and " + needs[-1] if len(needs) > 1 else needs[0]
    return f"unknown {what}{hint}; a new {what} needs {listed}"


def _model_at(loc: tuple) -> type[BaseModel] | None:
    """The pydantic model a location points into, to suggest the key meant."""
    model: type[BaseModel] = Scenario
    mapping_of = {
        ("poles",): Pole,
        ("members",): Member,
        ("actors",): Actor,
        ("events",): Event,
    }
    i = 0
    while i < len(loc):
        key = str(loc[i])
        field = model.model_fields.get(key)
        if field is None:
            return None
        if model is Scenario and (key,) in mapping_of:
            if i + 1 >= len(loc):
                return None
            model, i = mapping_of[(key,)], i + 2
            continue
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            model, i = ann, i + 1
            continue
        return None
    return model


def load_scenario(path: str | Path) -> Scenario:
    """Load, merge (``extends``) and validate a scenario file; raise ScenarioError on any problem."""
    path = Path(path)
    data, origin = _resolve(path, ())
    data.setdefault("name", path.stem)
    data.setdefault("source", str(path))
    if "history" in data:
        data["history"] = _load_history(data["history"], _file_for(("history",), origin, path))
    if data.get("posterior"):
        data["posterior"] = _posterior_file(
            data["posterior"], _file_for(("posterior",), origin, path)
        )
    return scenario_from_data(data, path, origin)


POSTERIOR_NAMES: tuple[str, ...] = ("validation", "production", "shipped")
"""Posteriors that come with the package, by name: ``validation`` (fitted on the record's
fitted period, what ``validate`` tests on the held-out period), ``production`` (fitted on
the whole record, for projections);
``shipped`` is the old name of ``production``."""


def _posterior_file(value: Any, path: Path) -> str:
    """A scenario's posterior: a name of :data:`POSTERIOR_NAMES`, or a file name relative to
    ``path`` (made absolute, so variants in other folders that extend it draw from the same
    file)."""
    expected = "expected " + ", ".join(f'"{n}"' for n in POSTERIOR_NAMES) + " or a file name"
    if not isinstance(value, str) or not 0 < len(value) <= 255 or "\x00" in value:
        raise ScenarioError(path, "posterior", expected)
    if value in POSTERIOR_NAMES:
        return value
    file = (path.parent / value).resolve()
    if not file.is_file():
        raise ScenarioError(path, "posterior", _missing("posterior", value, file))
    return str(file)


def _load_history(value: Any, path: Path) -> Scenario:
    """The scenario a projection continues (``history = "file.toml"``, relative to ``path``)."""
    if not isinstance(value, str) or not 0 < len(value) <= 255 or "\x00" in value:
        raise ScenarioError(path, "history", "expected a file name (a string of 1-255 characters)")
    history_path = (path.parent / value).resolve()
    if not history_path.is_file():
        raise ScenarioError(path, "history", _missing("history", value, history_path))
    history = load_scenario(history_path)
    if history.history is not None:
        raise ScenarioError(path, "history", "a history cannot itself continue another history")
    return history


def scenario_from_data(
    data: dict[str, Any], source: str | Path, origin: dict | None = None
) -> Scenario:
    """Validate scenario data built in code (``source`` names it in error messages);
    ``"@ID"`` strings are judgements from the registry (:mod:`csto_sim.core.judgements`)."""
    source = Path(source)
    data = {"name": source.stem, "source": str(source)} | data
    history = data.pop("history", None)  # already a Scenario, resolved on its own
    try:
        data, judged = judgements.resolve(data)
    except judgements.JudgementError as exc:
        key, _, msg = str(exc).partition(": ")
        raise ScenarioError(
            _file_for(tuple(key.split(".")), origin or {}, source), key, msg
        ) from None
    if history is not None:
        data["history"] = history
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise _pydantic_error(exc, origin or {}, source, data) from None
    _cross_check(scenario, origin or {}, source)
    scenario._judged = judged
    return scenario


def _revalidate(data: dict[str, Any], source: str, history: Scenario | None) -> Scenario:
    """A scenario from its own plain data (:meth:`Scenario.to_dict`, without the history,
    given apart as a scenario), checked again."""
    try:
        scenario = Scenario.model_validate_json(json.dumps(data))
    except ValidationError as exc:
        raise _pydantic_error(exc, {}, Path(source)) from None
    scenario = scenario.model_copy(update={"history": history})
    _cross_check(scenario, {}, Path(source))
    return scenario


def _set_at(data: Any, path: list, value: float) -> None:
    for key in path[:-1]:
        data = data[key]
    data[path[-1]] = value


def _cross_check(s: Scenario, origin: dict, path: Path) -> None:
    """Checks that span several sections (names that must exist, dates inside the span);
    the first problem found is raised as a :class:`ScenarioError`."""
    checks = (
        _span_problems,
        _alliance_problems,
        _member_problems,
        _relation_problems,
        _history_problems,
        _record_problems,
        _recorded_request_problems,
    )
    for check in checks:
        for loc, msg in check(s):
            raise ScenarioError(_file_for(loc, origin, path), ".".join(map(str, loc)), msg)
    for eid, ev in s.events.items():
        for loc, msg in _event_problems(s, ("events", eid), ev):
            raise ScenarioError(_file_for(loc, origin, path), ".".join(map(str, loc)), msg)
    for tid, tie in s.ties.items():
        for loc, msg in _tie_problems(s, ("ties", tid), tie):
            raise ScenarioError(_file_for(loc, origin, path), ".".join(map(str, loc)), msg)


Problems = Iterator[tuple[tuple, str]]
"""(key path, message) of each problem a cross-check finds."""


def _unknown(what: str, name: str, known: list[str]) -> str:
    return f"unknown {what} {_show(name)}{_did_you_mean(name, known)}"


def _span_problems(s: Scenario) -> Problems:
    start, end, step = s.time.start, s.time.end, s.time.step
    if end <= start:
        yield ("time", "end"), f"end {end:g} is not after start {start:g}"
    if (end - start) / step > MAX_STEPS:
        yield ("time", "step"), f"{(end - start) / step:.3g} steps; at most {MAX_STEPS} can run"
    elif abs(s.n_steps * step - (end - start)) > 1e-9:
        yield (
            ("time", "step"),
            f"the span {start:g}-{end:g} is not a whole number of steps of {step:g}",
        )


def _alliance_problems(s: Scenario) -> Problems:
    if s.alliance.leader not in s.member_names:
        yield ("alliance", "leader"), _unknown("member", s.alliance.leader, s.member_names)
    if s.alliance.leader_pole not in s.pole_names:
        yield ("alliance", "leader_pole"), _unknown("pole", s.alliance.leader_pole, s.pole_names)
    for name, actor in s.actors.items():
        if actor.patron and actor.patron not in s.pole_names:
            yield ("actors", name, "patron"), _unknown("pole", actor.patron, s.pole_names)


STATE_FIELDS: tuple[str, ...] = ("alignment", "economic", "commitment", "trust", "status")
"""A member's starting state: given in the scenario, or taken from the history's end."""

NEW_MEMBER_STATE: tuple[str, ...] = ("alignment", "commitment")
"""The starting state a member not in the history must be given (the rest has defaults)."""


def _member_problems(s: Scenario) -> Problems:
    poles, known = s.pole_names, list(s.actors) + s.member_names
    continued = s.history.member_names if s.history is not None else []
    for name, m in s.members.items():
        if name in continued:
            for field in STATE_FIELDS:
                if getattr(m, field) not in (None, {}):
                    yield (
                        ("members", name, field),
                        "comes from the end of the history; remove it here",
                    )
        else:
            needs = [f for f in NEW_MEMBER_STATE if getattr(m, f) in (None, {})]
            misnamed = needs and _unknown_entry("members", name, [*continued, *s.member_names])
            if misnamed:
                yield ("members", name), misnamed
            for field in needs:
                yield ("members", name, field), "required (the member is not in a history)"
        for table in ("alignment", "economic", "security_affinity", "economic_affinity"):
            for pole in getattr(m, table):
                if pole not in poles:
                    yield (
                        ("members", name, table, pole),
                        f"unknown pole{_did_you_mean(pole, poles)}",
                    )
        for actor in m.adversaries:
            if actor not in known:
                yield ("members", name, "adversaries"), _unknown("actor", actor, known)


def _history_problems(s: Scenario) -> Problems:
    h = s.history
    if h is None:
        return
    if h.history is not None:
        yield ("history",), "a history cannot itself continue another history"
    if abs(h.time.end - s.time.start) > 1e-9:
        yield (
            ("history",),
            f"the history ends in {h.time.end:g}, the scenario starts in {s.time.start:g}",
        )
    if h.alliance.leader != s.alliance.leader or h.alliance.leader_pole != s.alliance.leader_pole:
        yield ("history",), "the history has another leader or leader pole"
    for pole in s.pole_names:
        if pole not in h.pole_names:
            yield ("poles", pole), _foreign_pole(pole, h)
    if sorted(h.pole_names) != sorted(s.pole_names):
        yield (
            ("history",),
            f"the history's poles {_show(h.pole_names, 100)} differ from "
            f"{_show(s.pole_names, 100)}",
        )


_UNSET = {"condition": True, "record": {}, "recorded_requests": {}, "guided": False}
"""Conditioning fields at their defaults: left out of digests (results made before they
existed keep their identity)."""


def _content(data: dict, skip: tuple[str, ...]) -> dict:
    return {k: v for k, v in data.items() if k not in skip and not (k in _UNSET and v == _UNSET[k])}


def _record_problems(s: Scenario) -> Problems:
    for name, entries in s.record.items():
        if name not in s.member_names:
            yield ("record", name), _unknown("member", name, s.member_names)
        dates = [e.year for e in entries]
        for i, year in enumerate(dates):
            if not s.time.start <= year < s.time.end:
                span = f"{s.time.start:g}-{s.time.end:g}"
                yield ("record", name, i, "date"), f"{year:g} is outside the simulated span {span}"
            if i and year < dates[i - 1]:
                yield ("record", name, i, "date"), "entries must be in date order"


def _recorded_request_problems(s: Scenario) -> Problems:
    for label, r in s.recorded_requests.items():
        e = s.events.get(label)
        if e is None or e.kind not in THREAT_KINDS:
            threats = [k for k, v in s.events.items() if v.kind in THREAT_KINDS]
            yield ("recorded_requests", label), _unknown("scripted threat", label, threats)
        elif r.answered is not None and not r.asked:
            yield ("recorded_requests", label, "answered"), "a request not asked cannot be answered"


def _relation_problems(s: Scenario) -> Problems:
    members = s.member_names
    for a, ties in s.relations.items():
        if a not in members:
            yield ("relations", a), f"unknown member{_did_you_mean(a, members)}"
        for b, w in ties.items():
            loc = ("relations", a, b)
            other = s.relations.get(b, {}).get(a)
            if b not in members:
                yield loc, f"unknown member{_did_you_mean(b, members)}"
            elif b == a:
                yield loc, "a member cannot have a tie to itself"
            elif other is not None and other != w:
                yield loc, f"tie given twice with different weights ({w:g} and {other:g})"


def _tie_problems(s: Scenario, loc: tuple, tie: Tie) -> Problems:
    if tie.member not in s.member_names:
        yield (*loc, "member"), _unknown("member", tie.member, s.member_names)
    if tie.pole not in s.pole_names:
        yield (*loc, "pole"), _unknown("pole", tie.pole, s.pole_names)
    if (
        tie.start is not None
        and tie.end is not None
        and decimal_year(tie.end) <= decimal_year(tie.start)
    ):
        yield (*loc, "end"), f"end {tie.end} is not after start {tie.start}"


def _event_problems(s: Scenario, loc: tuple, ev: Event) -> Problems:
    members, known = s.member_names, list(s.actors) + s.member_names
    if not s.time.start <= ev.year < s.time.end:
        span = f"{s.time.start:g}-{s.time.end:g}"
        yield (*loc, "date"), f"{ev.date} is outside the simulated span {span}"
    if ev.member and ev.member not in members:
        yield (*loc, "member"), _unknown("member", ev.member, members)
    if not ev.member and ev.kind in THREAT_KINDS:
        yield (*loc, "member"), f"a {ev.kind} event needs the member it strikes"
    if not ev.member and ev.kind == "accession":
        yield (*loc, "member"), "an accession needs the member that joins"
    if ev.kind == INTRA_ALLIANCE_KIND and ev.counterpart not in members:
        yield (*loc, "counterpart"), _unknown("member", ev.counterpart, members)
    if ev.kind == "pole_shift" and ev.pole not in s.pole_names:
        yield (*loc, "pole"), _unknown("pole", ev.pole, s.pole_names)
    if ev.kind == "hazard_change" and not ev.member:
        yield (*loc, "member"), "a hazard_change needs the member whose threat rate changes"
    if ev.kind == "hazard_change" and ev.threat not in THREAT_KINDS:
        yield (*loc, "threat"), _unknown("threat kind", ev.threat, list(THREAT_KINDS))
    if ev.counterpart and ev.counterpart not in known:
        yield (*loc, "counterpart"), _unknown("actor", ev.counterpart, known)
