"""Mutations of a CSV file for the property-based tests of the files a user hands the program
(the judgement registry, posterior sample files): cells, header names, columns, rows and
bytes, drawn by Hypothesis. ``CSTO_FUZZ_EXAMPLES`` sets the number of cases of the long
(``slow``) runs."""

from __future__ import annotations

import csv
import io
import os

from hypothesis import strategies as st

LONG_EXAMPLES = int(os.environ.get("CSTO_FUZZ_EXAMPLES", "1000"))
"""Cases per file kind of a long (``slow``) fuzzing run."""

QUICK_EXAMPLES = 50
"""Cases per file kind in the quick suite."""

ODD_CELLS = [
    "nan", "NaN", "inf", "-inf", "infinity", "", " ", "x", "1e308", "-1e308", "1.7976931348623157e308",
    "1e400", str(10**400), str(-(10**400)), "9" * 5000, "1e-320", "0", "-0", "0.5", "1.5", "-1", "2",
    "3", " 1 ", "1_0", "0x10", "١", "\x00", "a,b", 'say "no"', "line\nbreak", "é", "@hindcast.trust",
    "fixed", "uniform", "source", "2026-12-06", "2026-13-45", "True",
]  # fmt: skip
"""Cell values that break numbers, text and CSV quoting, or sit at the edge of a range."""

BYTES = [b"\xff", b"\x00", b"\r", b'"', b",", b"\n", b"\xc3", b"\xef\xbb\xbf"]
"""Single byte strings inserted anywhere: not UTF-8, NUL, a bare quote, field and line breaks."""


def read_rows(text: str) -> list[list[str]]:
    """The rows of CSV text."""
    return list(csv.reader(io.StringIO(text, newline="")))


def write_rows(rows: list[list[str]]) -> str:
    """CSV text of rows (quoted where a cell needs it)."""
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


@st.composite
def mutated_csv(draw, rows: list[list[str]], names: list[str]) -> bytes:
    """The CSV ``rows`` (header first) with 1-3 mutations of cells, header names, columns or
    rows, written out and then perhaps damaged byte by byte. ``names`` are header names to
    try (known, unknown, near misses)."""
    rows = [list(r) for r in rows]
    cells = st.sampled_from(ODD_CELLS) | st.sampled_from([c for r in rows[1:] for c in r] or [""])
    for _ in range(draw(st.integers(1, 3))):
        width = max(len(rows[0]), 1) if rows else 1
        action = draw(
            st.sampled_from(
                ["cell", "cell", "cell", "cell", "name", "drop column", "add column",
                 "drop row", "copy row", "short row", "long row", "only header"]
            )
        )  # fmt: skip
        body = len(rows) - 1
        if action == "cell" and body > 0:
            r, c = draw(st.integers(1, body)), draw(st.integers(0, width - 1))
            if c < len(rows[r]):
                rows[r][c] = draw(cells)
        elif action == "name" and rows and rows[0]:
            rows[0][draw(st.integers(0, len(rows[0]) - 1))] = draw(
                st.sampled_from(names) | st.sampled_from(rows[0])
            )
        elif action == "drop column" and rows and len(rows[0]) > 1:
            c = draw(st.integers(0, len(rows[0]) - 1))
            rows = [[v for i, v in enumerate(r) if i != c] for r in rows]
        elif action == "add column" and rows:
            at = draw(st.integers(0, len(rows[0])))
            rows[0].insert(at, draw(st.sampled_from(names)))
            for r in rows[1:]:
                r.insert(at, draw(cells))
        elif action == "drop row" and body > 0:
            del rows[draw(st.integers(1, body))]
        elif action == "copy row" and body > 0:
            rows.insert(draw(st.integers(1, body + 1)), list(rows[draw(st.integers(1, body))]))
        elif action == "short row" and body > 0:
            r = draw(st.integers(1, body))
            rows[r] = rows[r][: draw(st.integers(0, max(len(rows[r]) - 1, 0)))]
        elif action == "long row" and body > 0:
            rows[draw(st.integers(1, body))].append(draw(cells))
        elif action == "only header":
            rows = rows[:1]
    data = write_rows(rows).encode("utf-8")
    damage = draw(st.sampled_from(["none", "none", "none", "truncate", "insert", "crlf", "bom"]))
    if damage == "truncate":
        data = data[: draw(st.integers(0, len(data)))]
    elif damage == "insert":
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.sampled_from(BYTES)) + data[at:]
    elif damage == "crlf":
        data = data.replace(b"\n", b"\r\n")
    elif damage == "bom":
        data = b"\xef\xbb\xbf" + data
    return data
