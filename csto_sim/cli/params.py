"""``csto-sim params``: the behavioural parameters with default, unit, meaning and range."""

from __future__ import annotations

import argparse
import difflib

import pandas as pd

from csto_sim.cli.common import EXIT_OK, EXIT_USAGE, say
from csto_sim.core.parameters import parameter_table

COLUMNS: tuple[str, ...] = ("name", "default", "unit", "low", "high", "meaning")
"""The columns printed, in order."""


def add_parser(sub) -> None:
    p = sub.add_parser(
        "params",
        help="list the behavioural parameters: default, unit, plausible range and meaning",
        description="List every behavioural parameter a scenario can set under [parameters] "
        "(csto_sim/core/parameters.py): its default, unit, plausible range (what the analyses "
        "vary it over) and meaning. A parameter with one value per threat or tie kind has one "
        "row per kind (name.kind; in a scenario: [parameters.name] kind = value).",
    )
    p.add_argument(
        "match",
        nargs="?",
        default=None,
        metavar="TEXT",
        help="only the parameters whose name or meaning contains TEXT, in any case (default: all)",
    )
    p.add_argument(
        "--format",
        choices=["text", "md", "csv"],
        default="text",
        help="text: aligned columns; md: a Markdown table; csv: comma-separated (default text)",
    )


def run(args: argparse.Namespace, argv: list[str]) -> int:
    table = parameters()
    if args.match:
        table = matching(table, args.match)
        if table.empty:
            names = parameters()["name"].str.partition(".")[0].unique()
            close = difflib.get_close_matches(args.match, names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            say(f"params: no parameter name or meaning contains {args.match!r}{hint}")
            return EXIT_USAGE
    print(render(table, args.format), end="")
    return EXIT_OK


def parameters() -> pd.DataFrame:
    """One row per parameter, or per kind of a parameter given per threat or tie kind."""
    rows = []
    for row in parameter_table():
        default = row["default"]
        entries = default.items() if isinstance(default, dict) else [(None, default)]
        for kind, value in entries:
            name = row["name"] if kind is None else f"{row['name']}.{kind}"
            rows.append(row | {"name": name, "default": value})
    return pd.DataFrame(rows, columns=list(COLUMNS))


def matching(table: pd.DataFrame, text: str) -> pd.DataFrame:
    """The rows whose name or meaning contains ``text`` (case-insensitive)."""
    hit = table["name"].str.contains(text, case=False, regex=False) | table["meaning"].str.contains(
        text, case=False, regex=False
    )
    return table[hit]


def render(table: pd.DataFrame, fmt: str) -> str:
    """The table as aligned text, a Markdown table or CSV."""
    if fmt == "csv":
        return table.to_csv(index=False)
    cells = table.astype(object).map(_cell)
    if fmt == "md":
        lines = ["| " + " | ".join(cells.columns) + " |", "|" + "---|" * len(cells.columns)]
        lines += ["| " + " | ".join(row) + " |" for row in cells.itertuples(index=False)]
        return "\n".join(lines) + "\n"
    text = cells.to_string(index=False, justify="left", formatters=_left(cells))
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


def _cell(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _left(cells: pd.DataFrame) -> dict:
    """Formatters that left-align the text columns (pandas right-aligns strings)."""
    widths = {c: max(len(c), *cells[c].str.len()) for c in ("name", "unit", "meaning")}
    return {c: (lambda v, w=w: f"{v:<{w}}") for c, w in widths.items()}
