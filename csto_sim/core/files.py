"""Reading what a user hands the program: one error type and one check before any read.

Every external file (scenario, posterior sample, judgement registry, manifest, results table,
question and resolution files) is opened through :func:`checked`, so a FIFO, a device, a
folder or a huge file is refused before it is read, and every problem with such a file is an
:class:`InputError` whose one line names the file, the row or key, and what was expected. The
command line turns an :class:`InputError` into that line and exit code 2. This module imports
nothing of the package, so it can be used before anything else loads.
"""

from __future__ import annotations

import csv
import io
import math
import os
import stat
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

MAX_LINE = 300
"""The most characters an :class:`InputError` adds to the file it names."""


def short(text: str, limit: int) -> str:
    """``text`` on one line (control characters escaped), elided in the middle past ``limit``."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))
    if len(text) <= limit:
        return text
    half = (limit - 3) // 2
    return f"{text[:half]}...{text[-half:]}"


class InputError(Exception):
    """A file or value a user gave that cannot be used: ``file: key: message`` on one line
    (``file: message`` without a key). Values are quoted short and the line is bounded, so a
    message never floods a terminal whatever the file holds."""

    def __init__(self, file: str | Path, key: str = "", message: str = ""):
        if not key and not message:  # InputError(line): a line that names its file itself
            self.file, self.key, self.message = "", "", short(str(file), MAX_LINE + 200)
            super().__init__(self.message)
            return
        if not message:  # InputError(file, message)
            key, message = "", key
        self.file, self.key = str(file), short(key, 80)
        head = f": {self.key}: " if self.key else ": "
        self.message = short(message, MAX_LINE - len(head))
        super().__init__(f"{short(self.file, 200)}{head}{self.message}")


def checked(path: str | Path, max_bytes: int, what: str = "file") -> Path:
    """``path`` if it is a readable regular file of at most ``max_bytes``; else an
    :class:`InputError` saying which of these it is not (a FIFO would block a reader forever,
    a device or a huge file would never end)."""
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise InputError(path, f"no such {what}") from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the name
        raise InputError(path, f"cannot read ({_reason(exc)})") from None
    if stat.S_ISDIR(info.st_mode):
        raise InputError(path, f"a folder, not a {what}")
    if not stat.S_ISREG(info.st_mode):
        raise InputError(path, f"not a regular file (a {what} is read from a regular file)")
    if info.st_size > max_bytes:
        raise InputError(
            path, f"{info.st_size:,} bytes, more than the {max_bytes:,} a {what} may have"
        )
    if not os.access(path, os.R_OK):
        raise InputError(path, "not readable (permission denied)")
    return path


def read_bytes(path: str | Path, max_bytes: int, what: str = "file") -> bytes:
    """The content of a :func:`checked` file."""
    path = checked(path, max_bytes, what)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(path, f"cannot read ({_reason(exc)})") from None


def read_text(path: str | Path, max_bytes: int, what: str = "file") -> str:
    """The UTF-8 text of a :func:`checked` file (a byte that is not UTF-8 is named by offset)."""
    data = read_bytes(path, max_bytes, what)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            path, f"not UTF-8 text (byte {exc.start} is {data[exc.start]:#04x})"
        ) from None


def number(
    value: object, file: str | Path, key: str, low: float = -math.inf, high: float = math.inf
) -> float:
    """``value`` as a finite float within [low, high]; an :class:`InputError` naming ``key``
    otherwise (text, a bool, NaN, an infinity, or an integer too large for a float)."""
    if isinstance(value, bool) or value is None:
        raise InputError(file, key, f"expected a number, got {short(repr(value), 40)}")
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        raise InputError(
            file, key, f"expected a finite number, got {short(repr(value), 40)}"
        ) from None
    if not math.isfinite(out):
        raise InputError(file, key, f"expected a finite number, got {short(repr(value), 40)}")
    if not low <= out <= high:
        raise InputError(file, key, f"{short(repr(value), 40)} is outside [{low:g}, {high:g}]")
    return out


def first_nonfinite(columns: Iterable[tuple[str, object]]) -> tuple[str, int] | None:
    """(column, position) of the first non-finite number among named numeric arrays; None
    when every number is finite. Text columns are skipped."""
    import numpy as np

    for name, values in columns:
        array = np.asarray(values)
        if array.dtype.kind not in "fc":
            continue
        bad = np.flatnonzero(~np.isfinite(array))
        if bad.size:
            return name, int(bad[0])
    return None


def csv_rows(text: str, file: str | Path) -> Iterator[tuple[int, list[str]]]:
    """The rows of CSV ``text`` that are not blank, each with the line it starts on; the first
    is the header. A row with another number of fields than the header, or text the csv
    module cannot read, is an :class:`InputError` naming the line. A leading byte-order mark
    is skipped."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    width, line, end = 0, 0, 0  # fields of the header; the line a row starts and ends on
    try:
        for row in reader:
            line, end = end + 1, reader.line_num
            if not row:
                continue
            if width and len(row) != width:
                raise InputError(
                    file, f"line {line}", f"{len(row)} fields, expected {width} (one per column)"
                )
            width = width or len(row)
            yield line, row
    except csv.Error as exc:
        raise InputError(file, f"line {end + 1}", f"not a CSV row ({exc})") from None


@contextmanager
def raising(kind: type[InputError]) -> Iterator[None]:
    """Inside it, an :class:`InputError` of another type is raised as a ``kind`` (same file,
    key and message), so a reader's callers catch one type."""
    try:
        yield
    except kind:
        raise
    except InputError as exc:
        if not exc.file:  # InputError(line)
            raise kind(exc.message) from None
        raise kind(exc.file, exc.key, exc.message) from None


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or type(exc).__name__


class ArgumentError(InputError, ValueError):
    """A value given from code (a notebook, a script) of the wrong type or out of range:
    one line naming the argument, as the command line names its option."""


SEED_MAX = 2**63 - 1
"""The largest seed (a results table's 64-bit integer)."""


def whole_number(name: str, value: object, low: int, high: int) -> int:
    """``value`` as an ``int`` if it is a whole number (an ``int`` or a numpy integer, not a
    bool) from ``low`` to ``high``; else an :class:`ArgumentError` naming ``name``."""
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise ArgumentError(f"{name}: expected a whole number, got {short(repr(value), 40)}")
    number = value.__index__()
    if not low <= number <= high:
        raise ArgumentError(
            f"{name}: expected a whole number from {low:,} to {high:,}, got {short(f'{number:,}', 40)}"
        )
    return number


def true_or_false(name: str, value: object) -> bool:
    """``value`` if it is True or False; else an :class:`ArgumentError` naming ``name``
    (``"yes"`` or 1 would pass a truth test unnoticed)."""
    if not isinstance(value, bool):
        raise ArgumentError(f"{name}: expected True or False, got {short(repr(value), 40)}")
    return bool(value)


__all__ = [
    "SEED_MAX",
    "ArgumentError",
    "InputError",
    "checked",
    "csv_rows",
    "first_nonfinite",
    "number",
    "raising",
    "read_bytes",
    "read_text",
    "short",
    "true_or_false",
    "whole_number",
]
