"""Every computed table checked finite before it is written.

A NaN or an infinity in a result means an input drove the model out of range; it is never
written as if it were a number. :func:`check_finite` raises a :class:`NonFiniteError` (an
:class:`~csto_sim.core.files.InputError`: one line, exit 2 on the command line) naming the
file, the first non-finite column, and the run and year of its row.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from csto_sim.core.files import InputError, first_nonfinite

MISSING_SUFFIXES: tuple[str, ...] = ("_year", "_rate")
"""Columns whose name ends so may be empty (NaN) but never infinite: the year something
happened (empty when it never did) and a rate (empty with nothing to divide, such as an
answer rate of a run without requests)."""


class NonFiniteError(InputError):
    """A computed result that is not a finite number (not written)."""


def check_finite(
    frame: pd.DataFrame,
    file: str | Path,
    what: str = "",
    quantity: str | None = None,
    at: Iterable[str] = ("run", "year"),
    empty: bool = False,
) -> pd.DataFrame:
    """``frame`` if every number in it is finite; else a :class:`NonFiniteError` naming
    ``file``, ``what`` (the table), the column (with the row's ``quantity`` in a long table,
    such as summary.csv's ``measure``) and the row's ``at`` columns (run and year). A column
    named with a :data:`MISSING_SUFFIXES` ending (or, in a long table, a row whose
    ``quantity`` is) may be NaN, and with ``empty`` any number may (a summary of tables
    checked when they were written, whose empty cells are what was not computed, such as a
    path no run takes); none may be infinite. Rows of failed runs (``status`` other than ``ok``) are
    skipped: their error is recorded."""
    rows = frame
    if "status" in frame and "error" in frame:
        rows = frame[frame["status"] == "ok"]
    empty_ok = np.full(len(rows), empty)
    if quantity:
        empty_ok |= rows[quantity].astype(str).str.endswith(MISSING_SUFFIXES).to_numpy()
    columns = []
    for name in rows.columns:
        values = rows[name].to_numpy()
        if values.dtype.kind in "fc":
            may = empty_ok | str(name).endswith(MISSING_SUFFIXES)
            values = np.where(may & np.isnan(values), 0.0, values)  # empty: nothing to say
        columns.append((str(name), values))
    bad = first_nonfinite(columns)
    if bad is None:
        return frame
    column, i = bad
    row = rows.iloc[i]
    name = f"{row[quantity]} ({column})" if quantity else column
    where = ", ".join(f"{k} {_text(row[k])}" for k in at if k in rows)
    raise NonFiniteError(
        file,
        f"{what}: {name}" if what else name,
        f"{row[column]} in row {i + 1}{f' ({where})' if where else ''}: not a finite number, "
        "so not written (an input drove the model out of range; see docs/TROUBLESHOOTING.md)",
    )


def _text(value: object) -> str:
    return f"{value:g}" if isinstance(value, (float, np.floating)) else str(value)


__all__ = ["MISSING_SUFFIXES", "NonFiniteError", "check_finite"]
