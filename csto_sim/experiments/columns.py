"""The column types every results table keeps, checked on each read.

A table read from a results folder (the chunks' dataset, or a table written whole) must have
the columns asked for, text where text is kept, integers where runs and steps are counted,
finite years, and no infinite number anywhere (an empty number is NaN: a run that failed, a
member that never left). Anything else is a ``ResultsError`` naming the table's file, the
column and what was expected.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from csto_sim.experiments.manifest import ResultsError

TEXT_COLUMNS: frozenset[str] = frozenset(
    {"scenario", "status", "error", "member", "label", "kind", "counterpart", "status_final"}
)
"""Columns that hold text in every table: a CSV reader must not turn them into numbers."""

INTEGER_COLUMNS: frozenset[str] = frozenset({"run", "step", "seed"})
"""Columns that count: runs, steps and seeds are whole numbers, never empty."""

FINITE_COLUMNS: frozenset[str] = frozenset({"year"})
"""Numeric columns that are never empty (a row is at a year)."""


def check_names(source: Path, have: Sequence[str], wanted: Sequence[str] | None) -> None:
    """Every column of ``wanted`` is among ``have``; else a ResultsError naming ``source``."""
    missing = [c for c in wanted or () if c not in have]
    if missing:
        shown = ", ".join(have[:12]) + (", ..." if len(have) > 12 else "")
        raise ResultsError(source, missing[0], f"no such column (the table has: {shown})")


def check_frame(source: Path, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` if its columns have their types (see the module); else a ResultsError
    naming ``source``, the column and the first row at fault."""
    if frame.empty:
        return frame
    for name in frame.columns:
        column = frame[name]
        if name in TEXT_COLUMNS:
            if not pd.api.types.is_string_dtype(column):
                raise ResultsError(source, name, f"expected text, got {column.dtype}")
            continue
        if name in INTEGER_COLUMNS and column.dtype.kind not in "iu":
            raise ResultsError(source, name, f"expected whole numbers, got {column.dtype}")
        if column.dtype.kind not in "fc":
            continue
        values = column.to_numpy()
        bad = np.isinf(values) | (np.isnan(values) if name in FINITE_COLUMNS else False)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise ResultsError(
                source, name, f"row {row + 1}: expected a finite number, got {values[row]}"
            )
    return frame
