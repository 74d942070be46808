"""The observables table: what a run's latent alignment says the measured series would read.

The measurement model (made by :mod:`csto_sim.hindcast.measurement`, shipped as
``csto_sim/data/measurement.csv`` and ``measurement_shifts.csv``) gives one linear equation
per series, member and partner::

    value = offset + scale * latent[member, pole] + shift[series, partner, year]

``latent`` is the security alignment ``w`` (UN agreement, arms shares) or the economic
alignment ``e`` (trade shares), averaged over the calendar year (UN votes, trade) or over a
ten-year window (arms, ``year`` its last year; windows start at the run's first whole
year). ``shift`` is the UN agenda's year effect (the last estimated year's beyond the data).
``value`` is the equation's mean given the run's state, in the data's units (agreement 0-1,
shares in percent); each series' noise sd is in ``measurement.csv`` (``sd``): a predictive
interval adds it. Members the data do not hold, and whole years or windows a run does not
cover, have no rows.
"""

from __future__ import annotations

import functools
from importlib import resources

import numpy as np
import pandas as pd

SERIES: tuple[str, ...] = ("un_agreement", "trade_share", "arms_share")
"""The measured series, as named in the ``series`` column."""

COLUMNS: tuple[str, ...] = ("scenario", "run", "year", "member", "series", "partner", "value")
"""Columns of the observables table."""

WINDOW = 10
"""Years in an arms window (the length of the data's windows)."""

YEARLY = {"un_agreement": True, "trade_share": True, "arms_share": False}


@functools.cache
def equations() -> pd.DataFrame:
    """The shipped measurement equations (``measurement.csv``)."""
    return _read("measurement.csv")


@functools.cache
def shifts() -> pd.DataFrame:
    """The shipped year effects (``measurement_shifts.csv``)."""
    return _read("measurement_shifts.csv")


def _read(name: str) -> pd.DataFrame:
    with resources.files("csto_sim").joinpath("data", name).open(encoding="utf-8") as f:
        return pd.read_csv(f, keep_default_na=False)  # "" is a supplier that is no pole


def periods(years: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The whole calendar years a run covers, and the last years of its whole arms windows."""
    start, end = float(years[0]), float(years[-1])
    first = int(np.ceil(start - 1e-9))
    whole = np.arange(first, int(np.floor(end + 1e-9)), dtype=np.int64)
    ends = np.arange(first + WINDOW - 1, whole[-1] + 1 if len(whole) else first, WINDOW)
    return whole, ends.astype(np.int64)


def averages(latent: np.ndarray, years: np.ndarray, spans: list[tuple[int, int]]) -> np.ndarray:
    """The mean of ``latent`` ``(R, T+1, M, P)`` over the states of each span of years
    ``[first, last]`` (the states at ``first``, ``first + dt``, ... before ``last + 1``):
    ``(R, len(spans), M, P)``."""
    out = np.empty((latent.shape[0], len(spans), *latent.shape[2:]))
    for i, (first, last) in enumerate(spans):
        inside = (years >= first - 1e-9) & (years < last + 1 - 1e-9)
        out[:, i] = latent[:, inside].mean(axis=1)
    return out


def observables(
    name: str,
    members: list[str],
    poles: list[str],
    years: np.ndarray,
    run_ids: np.ndarray,
    w: np.ndarray,
    e: np.ndarray,
    eqs: pd.DataFrame | None = None,
    shift: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The observables table of runs ``run_ids`` from their alignment paths ``w`` and ``e``
    ``(R, T+1, M, P)`` (see the module docstring); ``eqs`` and ``shift`` default to the
    shipped measurement model."""
    eqs = equations() if eqs is None else eqs
    shift = shifts() if shift is None else shift
    eqs = eqs[eqs["member"].isin(members)]
    whole, ends = periods(years)
    parts = []
    for series, rows in eqs.groupby("series", sort=False):
        at = whole if YEARLY[series] else ends
        if not len(at) or not len(rows):
            continue
        first = at if YEARLY[series] else at - (WINDOW - 1)
        latent = w if rows["latent"].iloc[0] == "w" else e
        mean = averages(latent, years, list(zip(first.tolist(), at.tolist(), strict=True)))
        m = np.array([members.index(x) for x in rows["member"]])
        has_pole = rows["pole"].isin(poles).to_numpy()
        p = np.array([poles.index(x) if x in poles else 0 for x in rows["pole"]])
        level = mean[:, :, m, p] * has_pole  # (R, Y, E)
        value = rows["offset"].to_numpy() + rows["scale"].to_numpy() * level
        value = value + _shift(shift, series, rows["partner"].to_numpy(), at)
        R, Y, E = value.shape
        parts.append(
            pd.DataFrame(
                {
                    "scenario": name,
                    "run": np.repeat(np.asarray(run_ids, dtype=np.int32), Y * E),
                    "year": np.tile(np.repeat(at.astype(np.int32), E), R),
                    "member": np.tile(rows["member"].to_numpy(dtype=object), R * Y),
                    "series": series,
                    "partner": np.tile(rows["partner"].to_numpy(dtype=object), R * Y),
                    "value": value.reshape(-1),
                }
            )
        )
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=_DTYPES.get(c, object)) for c in COLUMNS})
    return pd.concat(parts, ignore_index=True).sort_values("run", kind="stable", ignore_index=True)


_DTYPES = {"run": "int32", "year": "int32", "value": "float64"}


def _shift(shift: pd.DataFrame, series: str, partners: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The year effect of each partner at each year ``(Y, E)`` (0 where none; beyond the
    estimated years, the nearest estimated year's)."""
    out = np.zeros((len(at), len(partners)))
    rows = shift[shift["series"] == series].sort_values("year")
    paths = {
        p: (g["year"].to_numpy(float), g["shift"].to_numpy(float))
        for p, g in rows.groupby("partner")
    }
    for j, partner in enumerate(partners):
        if partner in paths:
            out[:, j] = np.interp(at, *paths[partner])
    return out
