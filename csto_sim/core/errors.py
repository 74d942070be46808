"""Scenario errors: :class:`ScenarioError` and how a problem in a scenario file reads.

One line names the file, the key path and what is wrong. This module quotes values from a
file short, suggests the name meant, finds the file a key came from (``extends``), and turns
the first problem pydantic finds into a :class:`ScenarioError`. It knows the schema only as
the root model class it is given.
"""

from __future__ import annotations

import difflib
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from csto_sim.core.files import InputError, short

MAX_KEY = 80
"""The longest key path a :class:`ScenarioError` names (longer ones are elided in the middle)."""

MAX_MESSAGE = 300
"""The most characters a :class:`ScenarioError` adds to the file it names: ``": key: message"``
(or ``": message"``), separators included, so its one line is at most ``len(file) + MAX_MESSAGE``."""


class ScenarioError(InputError):
    """A problem in a scenario file: which file, which key, what is wrong, on one line of at most
    ``len(file) +`` :data:`MAX_MESSAGE` characters. Values from the file are quoted short where
    a message is built (:func:`show`); a message still too long is elided in the middle."""

    def __init__(self, file: str | Path, key: str, message: str):
        self.file, self.key = str(file), short(key, MAX_KEY)
        head = f": {self.key}: " if self.key else ": "
        self.message = short(message, MAX_MESSAGE - len(head))
        Exception.__init__(self, f"{self.file}{head}{self.message}")


class ParameterError(InputError, ValueError):
    """A behavioural parameter set from code (``with_parameters``, ``CSTOModel(**overrides)``)
    with an unknown name or a value out of its range: one line naming it."""


def show(value: Any, limit: int = 40) -> str:
    """A value from a scenario file as a message quotes it: its ``repr``, elided in the middle
    past ``limit`` characters (a file can hold a name or kind of any length)."""
    return short(repr(value), limit)


def did_you_mean(word: str, choices: Any) -> str:
    """`` (did you mean 'x'?)`` for the choice closest to ``word``; empty when none is close."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def unknown(what: str, name: str, known: list[str]) -> str:
    """The message for a name that is not one of ``known``."""
    return f"unknown {what} {show(name)}{did_you_mean(name, known)}"


def file_for(loc: tuple, origin: dict, default: Path | None) -> Path | None:
    """The file a key path came from (``origin``: key path -> file, from the ``extends``
    chain); ``default`` when none of it is listed."""
    for n in range(len(loc), 0, -1):
        if tuple(loc[:n]) in origin:
            return origin[tuple(loc[:n])]
    return default


NEW_MEMBER_STATE: tuple[str, ...] = ("alignment", "commitment")
"""The starting state a member not in the history must be given (the rest has defaults)."""

NAMED_TABLES: dict[str, str] = {"members": "member", "poles": "pole"}
"""Tables of named entries a scenario may add to (new members, new poles): an entry missing
what a new one needs and named close to a known one is taken for that name misspelt."""

ENTRY_TABLES: tuple[str, ...] = ("poles", "members", "actors", "events")
"""Tables of a scenario whose entries are models: an unknown key in one is suggested a field
of its model."""


def entry_model(root: type[BaseModel], table: str) -> type[BaseModel]:
    """The model of an entry of one of the ``root`` scenario model's tables (``dict[str, Model]``)."""
    return typing.get_args(root.model_fields[table].annotation)[1]


def foreign_pole(name: str, history: Any) -> str:
    """The problem with a pole that the history a scenario continues does not have."""
    poles = history.pole_names
    return (
        f"unknown pole{did_you_mean(name, poles)}; a scenario that continues a history has "
        f"its poles ({', '.join(poles)})"
    )


def unknown_entry(root: type[BaseModel], section: str, name: str, known: list[str]) -> str:
    """The problem with a member or pole entry whose ``name`` is close to
    one of ``known`` (other than itself): "unknown member (did you mean ...?); a new member
    needs ..."; an empty string when none is close."""
    hint = did_you_mean(name, [n for n in known if n != name])
    if not hint:
        return ""
    what = NAMED_TABLES[section]
    model = entry_model(root, section)
    needs = [f for f, info in model.model_fields.items() if info.is_required()]
    needs = [*NEW_MEMBER_STATE, *needs] if section == "members" else needs
    listed = ", ".join(needs[:-1]) + " and " + needs[-1] if len(needs) > 1 else needs[0]
    return f"unknown {what}{hint}; a new {what} needs {listed}"


def _model_at(root: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """The pydantic model a location points into, to suggest the key meant."""
    model = root
    i = 0
    while i < len(loc):
        key = str(loc[i])
        field = model.model_fields.get(key)
        if field is None:
            return None
        if model is root and key in ENTRY_TABLES:
            if i + 1 >= len(loc):
                return None
            model, i = entry_model(root, key), i + 2
            continue
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            model, i = ann, i + 1
            continue
        return None
    return model


def format_loc(loc: tuple) -> str:
    """A pydantic location as a key path (``poles.EU.strength``)."""
    parts = [str(p) for p in loc if not str(p).startswith(("function-", "tuple[", "list["))]
    # A union's branch tag ("float", "date") comes last, after the field (poles.X.strength,
    # members.X.offers.Y, inputs.X.date); drop only that one, not a field called "date".
    if len(parts) >= 4 and parts[-1] in ("float", "int", "date", "constrained-float"):
        parts.pop()
    return ".".join(parts)


def _known_names(section: str, data: Mapping[str, Any]) -> list[str]:
    """The names of a section (members, poles) in the scenario data and in its history."""
    history = data.get("history")
    inherited = list(getattr(history, section, None) or {}) if history is not None else []
    return inherited + [n for n in data.get(section) or {} if n not in inherited]


def _misnamed(
    root: type[BaseModel], loc: tuple, data: Mapping[str, Any]
) -> tuple[tuple, str] | None:
    """(key path, message) when ``loc`` lies in a member or pole whose name is close to
    another known one (:func:`_known_names`); None otherwise."""
    if len(loc) < 3 or loc[0] not in NAMED_TABLES:
        return None
    section, name = str(loc[0]), str(loc[1])
    history = data.get("history")
    if section == "poles" and history is not None and name not in history.poles:
        return (section, name), foreign_pole(name, history)
    message = unknown_entry(root, section, name, _known_names(section, data))
    return ((section, name), message) if message else None


def pydantic_error(
    root: type[BaseModel],
    exc: ValidationError,
    origin: dict,
    path: Path,
    data: Mapping[str, Any] | None = None,
) -> ScenarioError:
    """The first problem pydantic found validating ``root`` (the scenario model), as a
    :class:`ScenarioError`: an unknown key before anything else (a misspelt key, ``extend``
    for ``extends``, leaves the keys it meant missing), and a member or pole missing what a
    new one needs, named like a known one, as that name misspelt."""
    errors = exc.errors(include_url=False)
    err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = tuple(err["loc"])
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        key = str(loc[-1])
        model = _model_at(root, loc[:-1])
        fields = list(model.model_fields) if model else []
        if model is root:
            fields.append("extends")  # read before validation, so not a field
        msg = f"unknown key{did_you_mean(key, fields)}"
    elif err["type"] == "missing":
        msg = "missing required key"
        misnamed = _misnamed(root, loc, data or {})
        if misnamed:
            loc, msg = misnamed
    elif "input" in err and err["type"].endswith(("_type", "_parsing", "_than", "_than_equal")):
        msg = f"{msg} (got {short(repr(err['input']), 40)})"
    return ScenarioError(file_for(loc, origin, path), format_loc(loc), msg)
