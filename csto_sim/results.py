"""Reading a results folder: the tables of the output contract and the manifest.

Reports, plots and notebooks read results only through here, so they work on results made
yesterday, on another machine or by a cluster, in Parquet or CSV.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd


class ResultsError(Exception):
    """A results folder is missing or incomplete."""


def table_path(root: str | Path, table: str) -> Path:
    """The file of a table, Parquet or CSV, whichever the folder holds."""
    root = Path(root)
    for ext in ("parquet", "csv"):
        path = root / f"{table}.{ext}"
        if path.exists():
            return path
    raise ResultsError(
        f"{root}: no {table}.parquet or {table}.csv (is this a csto-sim results folder?)"
    )


def read_table(root: str | Path, table: str, columns: list[str] | None = None) -> pd.DataFrame:
    """A table of a results folder (only the given columns, if any)."""
    path = table_path(root, table)
    if path.suffix == ".csv":
        return pd.read_csv(path, usecols=columns, keep_default_na=False, na_values=[""])
    return pd.read_parquet(path, columns=columns)


def read_manifest(root: str | Path) -> dict[str, Any]:
    """The manifest of a results folder."""
    path = Path(root) / "manifest.json"
    if not path.exists():
        raise ResultsError(f"{root}: no manifest.json (is this a csto-sim results folder?)")
    return json.loads(path.read_text())
