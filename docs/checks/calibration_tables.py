"""Refresh the tables of ``docs/calibration.md`` from the shipped posterior files.

Usage::

    python docs/checks/calibration_tables.py          # rewrite the tables in place
    python docs/checks/calibration_tables.py --check  # exit 1 if a table is out of date

Each table stands between ``<!-- table: NAME -->`` and ``<!-- end table -->`` and is made
by :func:`csto_sim.hindcast.posterior.identifiability_table` from the posterior it names
(``validation``, ``production``); ``tests/test_docs.py`` checks that they are current.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "calibration.md"
MARK = re.compile(r"(<!-- table: (\w+) -->\n)(.*?)(<!-- end table -->)", re.S)


def refreshed(text: str) -> str:
    """``text`` with every marked table made anew from its posterior."""
    from csto_sim.hindcast.posterior import identifiability_table
    from csto_sim.inference.posterior import load_posterior, named

    def table(match: re.Match) -> str:
        samples = load_posterior(named(match.group(2))).samples
        weights = load_posterior(named(match.group(2))).weights
        body = identifiability_table(samples.assign(weight=weights))
        return f"{match.group(1)}{body}\n{match.group(4)}"

    return MARK.sub(table, text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check; exit 1 if stale")
    args = parser.parse_args()
    text = DOC.read_text(encoding="utf-8")
    new = refreshed(text)
    if args.check:
        print("up to date" if new == text else f"{DOC} has stale tables")
        return 0 if new == text else 1
    DOC.write_text(new, encoding="utf-8")
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
