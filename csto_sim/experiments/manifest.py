"""The schema of a results folder's ``manifest.json``, checked before anything reads the folder.

Every command's manifest (an ensemble's: ``run``, ``compare``, ``validate``, ``swing``,
``forecast``...; an analysis': ``sensitivity``, ``discover``; a calibration's reference
table) shares :class:`Manifest`: the identity, the chunks with their files' checksums and the
finished tables. Other keys are kept as written, typed where a reader uses them;
:class:`EnsembleManifest` adds what an ensemble's readers need. A manifest that does not fit
is a :class:`~csto_sim.experiments.results.ResultsError` naming the file, the key and what
was expected.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from csto_sim.core.files import InputError, short


class ResultsError(InputError):
    """A results folder is missing, incomplete or damaged (names the file at fault)."""


MAX_BYTES = 256 << 20
"""The largest manifest read (one of a million runs of a few scenarios is a few tens of MB)."""

Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,199}$")]
"""A table or chunk name: it becomes part of a file's path, so no separator and no ``..``."""
Count = Annotated[int, Field(ge=0, le=2**63 - 1)]
Hex = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
Finite = Annotated[float, Field(allow_inf_nan=False)]


class _Model(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow", frozen=True)


class _Closed(_Model):
    model_config = ConfigDict(extra="forbid")


class File(_Closed):
    sha256: Hex
    rows: Count


class Chunk(_Model):
    files: dict[Name, File]
    scenario: Count | None = None
    runs: list[Count] | None = None

    @field_validator("runs")
    @classmethod
    def _span(cls, runs: list[int] | None) -> list[int] | None:
        if runs is not None and not (len(runs) == 2 and runs[0] < runs[1]):
            raise ValueError("expected [first run, last run + 1]")
        return runs


class Rows(_Closed):
    rows: Count


class Export(_Closed):
    file: Name
    sha256: Hex


class Manifest(_Model):
    """What every results folder's manifest holds."""

    identity: dict[str, Any]
    chunks: dict[Name, Chunk] = {}  # none yet (a writer starts over), a reader needs them
    tables: dict[Name, Rows] | None = None
    exports: dict[Name, Export] = {}
    derived: dict[Name, Export] = {}
    runs: Annotated[int, Field(ge=1, le=10**9)] | None = None
    seed: int | None = None
    command: str | None = None
    version: str | None = None
    conditioning: dict[str, dict[str, Any] | None] = {}
    posterior: dict[str, Any] | str | None = None  # an analysis names it, an ensemble details it


class Time(_Model):
    start: Finite
    end: Finite


class History(_Model):
    time: Time


class Contents(_Model):
    time: Time
    poles: dict[str, Any]
    members: dict[str, Any]
    alliance: dict[str, Any]
    history: History | None = None
    targets: list[str] = []  # not in the digest, so typed here
    posterior: str | None = None


class Scenario(_Model):
    name: str
    sha256: Hex
    contents: Contents

    @model_validator(mode="before")
    @classmethod
    def _digest(cls, data: Any) -> Any:
        """The saved contents are the scenario the runs were made from."""
        from csto_sim.core.schema import content_digest

        try:
            same = content_digest(data["contents"]) == data["sha256"]
        except (TypeError, KeyError, AttributeError, ValueError, RecursionError):
            return data  # the types say what is wrong
        if not same:
            raise ValueError("contents: not the scenario its sha256 records (edited?)")
        if data.get("name") != data["contents"].get("name"):
            raise ValueError("name: not the name in its contents (edited?)")
        return data


class Posterior(_Model):
    file: str | None
    sha256: Hex


class EnsembleManifest(Manifest):
    """An ensemble's manifest: the scenarios it ran (with their resolved contents), the runs
    of each, the seed."""

    chunks: dict[Name, Chunk]
    scenarios: list[Scenario] = Field(min_length=1)
    runs: Annotated[int, Field(ge=1, le=10**9)]
    seed: int
    with_history: bool = False
    posterior: Posterior | None = None

    @model_validator(mode="after")
    def _known_tables(self) -> EnsembleManifest:
        made = self.identity.get("tables")
        if not (isinstance(made, list) and all(isinstance(t, str) for t in made)):
            raise ValueError("identity.tables: expected the list of the tables made")
        unknown = sorted(set(self.tables or {}) - set(made))
        if unknown:
            raise ValueError(f"tables: {unknown[0]!r} is not one of identity.tables")
        if self.identity.get("seed", self.seed) != self.seed:
            raise ValueError(f"seed: {self.seed} is not identity.seed {self.identity['seed']}")
        if self.tables is not None and self.chunks:  # finished: its chunks hold what it says
            self._complete()
        return self

    def _complete(self) -> None:
        """Every chunk names its scenario and runs, and every run of every scenario is in
        one chunk (each chunk's files are checked against their own entries when read)."""
        bare = [n for n, c in self.chunks.items() if not c.runs or c.scenario is None]
        if bare:
            raise ValueError(
                f"chunks.{bare[0]}: a finished ensemble's chunk names its scenario and runs"
            )
        for name, c in self.chunks.items():  # the name says which runs it holds
            if name != chunk_name(c.scenario, c.runs[0], c.runs[1] - 1):
                raise ValueError(f"chunks.{name}: its scenario and runs are not its name's")
        held = sorted((c.scenario, *c.runs) for c in self.chunks.values())
        ends = {si: 0 for si in range(len(self.scenarios))}
        for si, first, end in held:
            if si not in ends or first != ends[si]:
                raise ValueError(f"chunks: scenario {si}'s runs are not held once each")
            ends[si] = end
        if any(end != self.runs for end in ends.values()):
            raise ValueError(f"chunks: they do not hold {self.runs} runs of each scenario")


def chunk_name(scenario: int, first: int, last: int) -> str:
    """A chunk's name: its scenario's index, its first and last run."""
    return f"{scenario:03d}-{first:07d}-{last:07d}"


def parse(path: Path, text: str) -> dict[str, Any]:
    """The manifest in ``text`` (read from ``path``) if it is a JSON object that fits
    :class:`Manifest`; else a ResultsError naming ``path`` and what is wrong."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ResultsError(path, f"unreadable: not JSON ({exc.msg} at line {exc.lineno})") from None
    except RecursionError:
        raise ResultsError(path, "not a csto-sim manifest (nested too deeply)") from None
    if not isinstance(data, dict):
        raise ResultsError(path, f"not a csto-sim manifest (a JSON {type(data).__name__})")
    check(path, data, Manifest)
    return data


def check(path: Path, data: dict[str, Any], model: type[Manifest]) -> None:
    """Whether a parsed manifest fits ``model``: a ResultsError naming ``path``, the first
    key that does not fit and what was expected, if not."""
    try:
        model.model_validate(data)
    except ValidationError as exc:
        raise ResultsError(path, *_line(exc.errors()[0])) from None
    except RecursionError:
        raise ResultsError(path, "not a csto-sim manifest (nested too deeply)") from None


def _line(error: Any) -> tuple[str, str]:
    """(key, what it needed) of a validation error, in words."""
    key = ".".join(str(k) for k in error["loc"])
    if error["type"] == "value_error":  # a validator's own words
        return key, str(error["ctx"]["error"])
    if error["type"] == "missing":
        return key, "missing (a manifest of this kind has it)"
    if error["type"] == "extra_forbidden":
        return key, "not a key of this entry"
    message = error["msg"][0].lower() + error["msg"][1:]
    got = short(repr(error["input"]), 40)
    return key, f"expected {message.removeprefix('input should be ')}, got {got}"
