"""Dated forecasts: a file of yes/no questions answered from a projection's runs, and scored
once the questions resolve.

A question asks whether something happens between the projection's start and a date: a member
(one of several) enters a membership status, a member asks the alliance for help, or the
alliance answers a request at least at a given level. Its probability is the share of runs in
which it happens; runs continue histories conditioned on the record and draw their parameters
from the posterior, so the probability already averages over parameters and dice. Its 90%
interval is the Monte Carlo uncertainty of that share: a bootstrap over the posterior samples
the runs use (runs of one sample, which share its parameters and may continue one history,
resampled together).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import subprocess
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    field_validator,
    model_validator,
)

from csto_sim.analysis.statistics import blocks_of
from csto_sim.core.errors import did_you_mean
from csto_sim.core.files import InputError, read_text, short
from csto_sim.core.scenario import Scenario, decimal_year
from csto_sim.core.vocabulary import RESPONSE_LEVELS
from csto_sim.experiments.results import Results, read_manifest, read_table, verify_derived
from csto_sim.inference.posterior import name_of

BOOTSTRAP = 2000
"""Bootstrap resamples of the interval."""

LEVEL = 0.90
"""Coverage of the interval."""

MAX_BYTES = 5_000_000
"""The largest question, forecast or resolution file read (a bound against the wrong file)."""

LOG_FLOOR = 0.001
"""The log score reads a probability below this (or above 1 minus it) as this bound, so a
share of 0 or 1 from a finite ensemble scores finitely."""

FORECAST_COLUMNS: tuple[str, ...] = (
    "id",
    "question",
    "by",
    "probability",
    "low",
    "high",
    "runs",
    "draws",
    "samples",
    "scenario",
    "posterior",
    "fixed",
    "histories",
    "accepted",
    "ess",
    "made",
    "commit",
    "version",
)
"""Columns of ``forecast.csv``: ``low`` and ``high`` bound the 90% interval; ``draws`` and
``samples`` count the posterior draws and the distinct posterior samples the runs use;
``fixed`` lists the posterior's parameters the scenario sets itself (not drawn);
``histories``, ``accepted`` and ``ess`` are the filter's (empty when nothing conditions)."""


class ForecastError(InputError, ValueError):
    """A question, forecast or resolution file that cannot be used (names the file and key)."""


class Question(BaseModel):
    """One yes/no question about the projection's runs (exactly one of ``status``,
    ``request``, ``response``)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$", max_length=80)
    text: str = Field(min_length=1, max_length=500)
    by: dt.date
    members: list[str] | None = Field(default=None, min_length=1)
    status: list[Literal["active", "frozen", "withdrawn", "non_member"]] | None = Field(
        default=None, min_length=1
    )
    request: StrictBool = False
    response: Literal[tuple(RESPONSE_LEVELS[1:])] | None = None  # type: ignore[valid-type]

    @field_validator("members", "status")
    @classmethod
    def _once(cls, v: list[str] | None) -> list[str] | None:
        if v and (twice := sorted({x for x in v if v.count(x) > 1})):
            raise ValueError(f"{twice[0]!r} is listed twice")
        return v

    @field_validator("by", mode="before")
    @classmethod
    def _a_date(cls, value: Any) -> Any:
        """A TOML date (or its text): not a year or a number, which pydantic would read as a
        time stamp."""
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        raise ValueError(f"expected a date such as 2027-12-31, got {short(repr(value), 40)}")

    @model_validator(mode="after")
    def _one_kind(self) -> Question:
        kinds = [self.status is not None, self.request, self.response is not None]
        if sum(kinds) != 1:
            raise ValueError("give exactly one of status, request = true, response")
        if self.status is not None and not self.members:
            raise ValueError("a status question names its members")
        return self

    @property
    def until(self) -> float:
        """The question's date as a decimal year at the end of that day."""
        return decimal_year(self.by + dt.timedelta(days=1))


class Questions(BaseModel):
    """A question file: the projection scenario and its questions."""

    model_config = ConfigDict(extra="forbid")

    scenario: str = Field(min_length=1)
    questions: list[Question] = Field(min_length=1)


def load_questions(path: str | Path) -> tuple[Questions, Path]:
    """A question file and the path of its scenario (relative to the file); a
    :class:`ForecastError` names the file, the key (``questions[i].by``, with its line, or
    its ``[[questions]]`` table's when the key is not there) and what was expected."""
    path = Path(path)
    text = read_text(path, MAX_BYTES, "question file")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ForecastError(path, f"not a TOML question file: {exc}") from None
    except RecursionError:
        raise ForecastError(path, "not a TOML question file: nested too deeply") from None
    try:
        questions = Questions.model_validate(data)
    except ValidationError as exc:
        key, message = _first_error(exc, text)
        raise ForecastError(path, key, message) from None
    ids = [q.id for q in questions.questions]
    for i, qid in enumerate(ids):
        if qid in ids[:i]:
            raise ForecastError(
                path, f"questions[{i}].id", f"{qid!r} repeats questions[{ids.index(qid)}].id"
            )
    if "\x00" in questions.scenario or len(questions.scenario) > 1000:
        raise ForecastError(path, "scenario", "expected the path of a scenario file")
    return questions, (path.parent / questions.scenario)


def check_questions(questions: Questions, scenario: Scenario, path: Path) -> None:
    """Every member a question names is a member of the scenario, and every date falls after
    the projection's start and no later than its end (else the answer would be 0 or cut
    short)."""
    members, span = list(scenario.members), scenario.time
    for i, q in enumerate(questions.questions):
        unknown = sorted(set(q.members or ()) - set(members))
        if unknown:
            raise ForecastError(
                path,
                f"questions[{i}].members",
                f"{unknown} not members of the scenario{did_you_mean(unknown[0], members)} "
                f"(members: {', '.join(members)})",
            )
        if not span.start < q.until <= span.end + 1e-9:
            raise ForecastError(
                path,
                f"questions[{i}].by",
                f"{q.by} is outside the projection {scenario.name!r}: its dates run from "
                f"{_day_of(span.start)} to {_day_of(span.end) - dt.timedelta(days=1)}",
            )


def _day_of(year: float) -> dt.date:
    """The day a decimal year falls in (2040.0 -> 2040-01-01)."""
    first = dt.date(int(year), 1, 1)
    days = (dt.date(int(year) + 1, 1, 1) - first).days
    return first + dt.timedelta(days=int((year - int(year)) * days + 1e-9))


def happened(question: Question, timeseries: pd.DataFrame, events: pd.DataFrame) -> pd.Series:
    """For each run, whether the question's event happens after the start and by its date.

    ``timeseries`` needs run, step, year, member, status (the state at ``year``; step 0 is the
    start); ``events`` needs run, year, member, requested, level (an event's year is the start
    of its step). A member enters a status when a step that starts by the date changes its
    status to it (from frozen to withdrawn enters withdrawn whatever else is listed)."""
    runs = pd.Index(np.unique(timeseries["run"]), name="run")
    if question.status is not None:
        rows = timeseries[timeseries["member"].isin(question.members)]
        rows = rows.sort_values(["run", "member", "step"])
        past = rows.groupby(["run", "member"])[["status", "year"]].shift()
        changed = past["status"].notna() & (rows["status"] != past["status"])
        # the step that made the change started by the date (as an event's year does)
        entered = changed & rows["status"].isin(question.status)
        hit = rows.loc[entered & (past["year"] < question.until - 1e-9), "run"]
    else:
        rows = events[events["requested"].astype(bool) & (events["year"] < question.until - 1e-9)]
        if question.members:
            rows = rows[rows["member"].isin(question.members)]
        if question.response is not None:
            rank = {level: i for i, level in enumerate(RESPONSE_LEVELS)}
            rows = rows[rows["level"].map(rank) >= rank[question.response]]
        hit = rows["run"]
    return pd.Series(runs.isin(np.unique(hit)), index=runs, name=question.id)


def interval(hits: np.ndarray, clusters: np.ndarray, seed: int = 0) -> tuple[float, float]:
    """The 90% bootstrap interval of the share of hits, resampling whole clusters."""
    labels, index = np.unique(clusters, return_inverse=True)
    totals = np.bincount(index, weights=hits.astype(float), minlength=len(labels))
    sizes = np.bincount(index, minlength=len(labels)).astype(float)
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(labels), size=(BOOTSTRAP, len(labels)))
    shares = totals[pick].sum(axis=1) / sizes[pick].sum(axis=1)
    tail = (1 - LEVEL) / 2
    low, high = np.quantile(shares, [tail, 1 - tail])
    return float(low), float(high)


def answer(questions: Questions, root: str | Path, scenario: str) -> pd.DataFrame:
    """Each question's probability and 90% interval from a results folder's runs of
    ``scenario``, with the provenance columns of :data:`FORECAST_COLUMNS`."""
    results = Results.open(root)
    runs = read_table(root, "runs", where={"scenario": scenario})
    runs = runs[runs["status"] == "ok"].set_index("run")
    ts = read_table(
        root, "timeseries", ["run", "step", "year", "member", "status"], {"scenario": scenario}
    )
    ev = read_table(
        root, "events", ["run", "year", "member", "requested", "level"], {"scenario": scenario}
    )
    clusters = blocks_of(runs)
    counts = {
        "draws": runs["draw"].nunique() if "draw" in runs else 0,
        "samples": runs["sample"].nunique() if "sample" in runs else 0,
    }
    provenance = _provenance(results.manifest, scenario)
    rows = []
    for q in questions.questions:
        hits = happened(q, ts, ev).reindex(runs.index, fill_value=False).to_numpy()
        low, high = interval(hits, clusters)
        rows.append(
            {"id": q.id, "question": q.text, "by": q.by.isoformat()}
            | {"probability": round(float(hits.mean()), 4), "low": round(low, 4)}
            | {"high": round(high, 4), "runs": len(runs)}
            | counts
            | provenance
        )
    return pd.DataFrame(rows, columns=list(FORECAST_COLUMNS))


def _provenance(manifest: dict[str, Any], scenario: str) -> dict[str, Any]:
    posterior = manifest.get("posterior") or {}
    conditioning = (manifest.get("conditioning") or {}).get(scenario) or {}
    file = posterior.get("file")
    fixed = (posterior.get("fixed") or {}).get(scenario) or {}
    return {
        "scenario": scenario,
        "posterior": "none" if not file else f"{name_of(file)} (sha256 {posterior['sha256'][:12]})",
        "fixed": "; ".join(f"{k} = {v:g}" for k, v in fixed.items()),
        "histories": conditioning.get("histories"),  # these three: empty when not conditioned
        "accepted": conditioning.get("accepted"),
        "ess": conditioning.get("ess"),
        "made": dt.date.today().isoformat(),
        "commit": commit(),
        "version": manifest.get("version", "unknown"),
    }


def commit() -> str:
    """The git commit of the package's checkout (with ``-dirty`` when it has uncommitted
    changes), or ``unknown`` outside a git checkout."""
    here = Path(__file__).resolve().parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=10
        )
        if head.returncode != 0:
            return "unknown"
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


RESOLUTION_VALUES: dict[str, int] = {"yes": 1, "true": 1, "1": 1, "no": 0, "false": 0, "0": 0}
"""How a resolutions file may write an outcome (case ignored); empty means not yet resolved."""


def read_forecast(path: str | Path) -> pd.DataFrame:
    """A ``forecast.csv`` (or the one in a results folder): its ids and probabilities."""
    path = Path(path)
    if path.is_dir():
        verify_derived(path, read_manifest(path, missing_ok=True))
        path = path / "forecast.csv"
    frame, lines = _read_csv(path, ["id", "probability"], "forecast file")
    if frame.empty:
        raise ForecastError(path, "no questions (a forecast file has a row per question)")
    p = pd.to_numeric(frame["probability"], errors="coerce")
    bad = ~np.isfinite(p) | (p < 0) | (p > 1)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise ForecastError(
            path,
            f"line {lines[row]}, probability",
            f"expected a number from 0 to 1, got {short(repr(frame['probability'].iloc[row]), 40)}",
        )
    return frame.assign(probability=p)


def read_resolutions(path: str | Path, ids: Sequence[str] | None = None) -> pd.DataFrame:
    """A resolutions file: ``id`` (one of ``ids``, the forecast's questions, when given) and
    ``outcome`` (yes/no, true/false, 1/0; empty if not yet resolved), other columns (date,
    source) kept."""
    path = Path(path)
    frame, lines = _read_csv(path, ["id", "outcome"], "resolution file")
    foreign = ~frame["id"].isin(ids) if ids is not None else pd.Series(False, index=frame.index)
    if foreign.any():
        row = int(np.flatnonzero(foreign.to_numpy())[0])
        raise ForecastError(
            path,
            f"line {lines[row]}, id",
            f"{frame['id'].iloc[row]!r} is not a question of the forecast "
            f"({short(', '.join(ids), 200)})",
        )
    text = frame["outcome"].str.strip().str.lower()
    unknown = ~text.isin([*RESOLUTION_VALUES, ""])
    if unknown.any():
        row = int(np.flatnonzero(unknown.to_numpy())[0])
        raise ForecastError(
            path,
            f"line {lines[row]}, outcome",
            "expected yes or no (or empty while unresolved), "
            f"got {short(repr(frame['outcome'].iloc[row]), 40)}",
        )
    return frame.assign(outcome=text.map(RESOLUTION_VALUES))


def score(forecast: pd.DataFrame, resolutions: pd.DataFrame) -> pd.DataFrame:
    """Brier score and log score of each resolved question (both lower is better): Brier
    ``(p - o)^2``; log score ``-ln`` of the probability given to what happened, the
    probability held within [:data:`LOG_FLOOR`, 1 - :data:`LOG_FLOOR`]. The resolutions'
    other columns (``date``, ``source``) follow."""
    joined = forecast[["id", "probability"]].merge(
        resolutions.dropna(subset=["outcome"]), on="id", how="inner"
    )
    p, o = joined["probability"].to_numpy(float), joined["outcome"].to_numpy(float)
    held = np.clip(p, LOG_FLOOR, 1 - LOG_FLOOR)
    scored = joined.assign(
        outcome=o.astype(int),
        brier=(p - o) ** 2,
        log_score=-np.log(np.where(o == 1, held, 1 - held)),
    )
    first = ["id", "probability", "outcome", "brier", "log_score"]
    return scored[[*first, *(c for c in scored if c not in first)]]


ID = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
"""A question id (as :class:`Question` has it)."""


def _read_csv(path: Path, columns: list[str], what: str) -> tuple[pd.DataFrame, list[int]]:
    """The rows of a CSV file as text (``columns`` required, each ``id`` a question id and
    unique) and the line each row starts on; a :class:`ForecastError` names the line."""
    text = read_text(path, MAX_BYTES, what)
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), strict=True)
    rows, lines = [], []
    try:
        header = next(reader, None)
        for row in reader:
            if row:  # blank lines are skipped
                rows.append(row)
                lines.append(reader.line_num)
    except csv.Error as exc:
        raise ForecastError(path, f"line {max(reader.line_num, 1)}", f"not CSV ({exc})") from None
    if not header:
        raise ForecastError(path, f"empty; expected a header line with {', '.join(columns)}")
    missing = [c for c in columns if c not in header]
    if missing:
        raise ForecastError(
            path, f"no column {short(repr(missing[0]), 40)} (columns: {', '.join(header)})"
        )
    if len(set(header)) != len(header):
        twice = next(c for c in header if header.count(c) > 1)
        raise ForecastError(path, "line 1", f"column {short(repr(twice), 40)} appears twice")
    for row, line in zip(rows, lines, strict=True):
        if len(row) != len(header):
            raise ForecastError(
                path, f"line {line}", f"{len(row)} fields, the header has {len(header)}"
            )
    frame = (
        pd.DataFrame(rows, columns=header, dtype=str)
        if rows
        else pd.DataFrame(columns=header, dtype=str)
    )
    seen: set[str] = set()
    for value, line in zip(frame["id"], lines, strict=True):
        if not ID.match(value):
            raise ForecastError(
                path, f"line {line}, id", f"expected a question id, got {short(repr(value), 40)}"
            )
        if value in seen:
            raise ForecastError(path, f"line {line}, id", f"{value!r} appears twice")
        seen.add(value)
    return frame, lines


def _first_error(exc: ValidationError, text: str) -> tuple[str, str]:
    """The key (``questions[i].field``, with its line in the i-th ``[[questions]]`` table,
    or the table's, where it has one) and the message of a question file's first validation error; a
    misspelt key is named itself, with the key it misses, rather than the key as missing."""
    errors = exc.errors()
    err = errors[0]
    if err["type"] == "missing":
        where, wanted = err["loc"][:-1], err["loc"][-1]
        typo = [e for e in errors if e["type"] == "extra_forbidden" and e["loc"][:-1] == where]
        if typo:
            hint = did_you_mean(typo[0]["loc"][-1], [wanted]) or f" ({wanted!r} is missing)"
            err = typo[0] | {"msg": f"not a key here{hint}"}
    loc = list(err["loc"])
    key = ""
    for part in loc:
        key += f"[{part}]" if isinstance(part, int) else f".{part}" if key else str(part)
    if len(loc) > 1 and loc[0] == "questions" and isinstance(loc[1], int):
        lines = text.splitlines()
        headers = [i for i, line in enumerate(lines) if line.strip() == "[[questions]]"]
        if loc[1] < len(headers):
            key += f" (line {_line_of(lines, headers[loc[1]], loc[2:3]) + 1})"
    message = str(err["ctx"]["error"]) if err["type"] == "value_error" else err["msg"]
    return key or "(top level)", message


def _line_of(lines: list[str], header: int, field: list) -> int:
    """The line (from 0) of ``field`` in the ``[[questions]]`` table whose header is on line
    ``header``: its ``field = ...`` line, else the header's."""
    for n in range(header + 1, len(lines)):
        if lines[n].lstrip().startswith("["):
            break
        if field and lines[n].split("=", 1)[0].strip().strip("\"'") == str(field[0]):
            return n
    return header


__all__ = [
    "ForecastError",
    "Question",
    "Questions",
    "answer",
    "check_questions",
    "happened",
    "interval",
    "load_questions",
    "read_forecast",
    "read_resolutions",
    "score",
]
