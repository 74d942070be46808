"""What a scenario sets differently from the reference: its settings diff, in short."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

import pandas as pd

__all__ = ["scenario_table", "setting_changes"]


def _flat(tree: Any, path: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    """A nested mapping as {key path: leaf} (lists are leaves)."""
    if isinstance(tree, dict):  # an empty table has no settings
        return {k: v for key, sub in tree.items() for k, v in _flat(sub, (*path, str(key))).items()}
    return {path: tree}


def _short_value(value: Any, limit: int = 48) -> str:
    """A setting's value in a few characters (numbers with 4 significant digits, files by
    their names)."""
    if isinstance(value, float):
        text = f"{value:.4g}"
    elif isinstance(value, list):
        text = "[" + ", ".join(_short_value(v, limit) for v in value) + "]"
    elif isinstance(value, dict):  # an added table: its short entries
        shown = [f"{k} {_short_value(v)}" for k, v in value.items() if v not in ("", None, {}, [])]
        text = ", ".join(x for x in shown if len(x) <= 28)
    elif isinstance(value, str) and PurePath(value).is_absolute():
        text = PurePath(value).name  # a file of this machine: its name, not its path
    else:
        text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


SKIP_IN_DIFF: tuple[str, ...] = ("name", "description", "source", "targets")
"""Top-level scenario keys that do not change a run (left out of the settings diff)."""


def setting_changes(reference: dict[str, Any], other: dict[str, Any], limit: int = 5) -> str:
    """What a resolved scenario sets differently from the reference, in short: each key
    path with its reference and its own value; tables only one of them has are named by
    their parent (``events`` +name, -name). At most ``limit`` entries, then how many more."""
    ref = {k: v for k, v in reference.items() if k not in SKIP_IN_DIFF}
    own = {k: v for k, v in other.items() if k not in SKIP_IN_DIFF}
    changed: dict[str, str] = {}
    grouped: dict[str, list[str]] = {}
    for path in sorted(set(_flat(ref)) | set(_flat(own))):
        a, b = _lookup(ref, path), _lookup(own, path)
        if a == b:
            continue
        top = _first_missing(ref, own, path)
        if top == path and a is not _MISSING and b is not _MISSING:
            changed[".".join(path)] = f"{_short_value(a)} -> {_short_value(b)}"
        else:
            sign = "+" if _lookup(ref, top) is _MISSING else "-"
            names = grouped.setdefault(".".join(top[:-1]) or "(top level)", [])
            if sign + top[-1] not in names:
                names.append(sign + top[-1])
    entries = [f"`{k}` {v}" for k, v in changed.items()]
    entries += [
        f"`{parent}` {', '.join(_short_value(n, 40) for n in names[:4])}"
        + (f" (+{len(names) - 4} more)" if len(names) > 4 else "")
        for parent, names in grouped.items()
    ]
    if not entries:
        return "(none: the same settings)"
    more = len(entries) - limit
    return "; ".join(entries[:limit]) + (f"; and {more} more" if more > 0 else "")


_MISSING = object()


def _lookup(tree: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(tree, dict) or key not in tree:
            return _MISSING
        tree = tree[key]
    return tree


def _first_missing(a: dict, b: dict, path: tuple[str, ...]) -> tuple[str, ...]:
    """The shortest prefix of ``path`` that one of the two trees lacks (else the path)."""
    for i in range(1, len(path) + 1):
        if _lookup(a, path[:i]) is _MISSING or _lookup(b, path[:i]) is _MISSING:
            return path[:i]
    return path


def scenario_table(manifest: dict[str, Any], reference: str) -> pd.DataFrame:
    """One row per scenario: its name, its ``description`` and what it sets differently
    from the reference scenario."""
    spec = {s["name"]: s["contents"] for s in manifest["scenarios"]}
    return pd.DataFrame(
        {
            "scenario": name,
            "description": contents.get("description") or "(no description)",
            f"differs from {reference}": "(the reference)"
            if name == reference
            else setting_changes(spec[reference], contents),
        }
        for name, contents in spec.items()
    )
