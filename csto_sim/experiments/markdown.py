"""Tables as GitHub-flavoured Markdown text (the tables of ``docs/calibration.md``)."""

from __future__ import annotations

import pandas as pd


def markdown_table(frame: pd.DataFrame, header: str, row: str) -> list[str]:
    """The lines of a Markdown table of ``frame``: the ``header`` (column titles separated
    by ``" | "``), its separator, and per row of ``frame`` the ``row`` template (cells
    separated the same way) formatted with the row's columns (:meth:`str.format` fields)."""
    columns = header.count(" | ") + 1
    cells = (row.format(**r) for r in frame.to_dict("records"))
    return [f"| {header} |", "|" + "---|" * columns, *(f"| {c} |" for c in cells)]
