"""The measurement model: how the yearly UN votes, trade and arms series read the model's
latent alignment, estimated on the fitted period and checked against the data.

One linear equation per series, member and partner (:mod:`csto_sim.experiments.observables`
computes it in every run)::

    value = offset + scale * latent[member, pole] + shift[series, partner, year] + noise

- **trade shares** (percent) read the economic alignment ``e``. The 2002 ``e`` is the
  member's trade with the four poles normalised (China's discounted for re-exports;
  :func:`csto_sim.hindcast.build.initial_alignment`), so ``scale`` undoes that: the four
  shares' 2002 sum over the partner's discount; ``offset`` 0. Nothing is estimated but the
  noise: the equation reproduces 2002 by construction.
- **arms shares** (percent of a ten-year window's TIV) read the security alignment ``w``
  averaged over the window. The previous window (1992-2001) is the anchor:
  ``value = prev + scale * (w_window - w_2002)``, ``scale`` = 100 times the share of the
  previous window not from "Other", split equally among the suppliers standing for one
  pole (EU27 and USA for the West). "Other" is no pole: its share stays at the previous
  window's. Kyrgyzstan, with no imports in 1992-2001, is read in levels (``offset`` 0).
- **UN agreement** (0-1) with a reference state reads ``w`` toward its pole (France,
  Germany and the United States: the West, the EU pole):
  ``value = agree_2002 + gain * (w - w_2002) + shift[partner, year]``. The ``gain`` and the
  year effects ``shift`` (the agenda changes for everyone: the data's caveat) are estimated
  by least squares; ``shift`` is 0 in 2002.

Each series' noise sd is estimated by the method of moments: the mean squared difference
between the data and the mean over runs, less the mean variance across runs. All terms
come from hindcast runs of the fitted period 2002-2014 over the validation posterior (the
data end in 2014); ``python -m csto_sim.hindcast.measurement`` refits and writes them
(``csto_sim/data/measurement.csv``, ``measurement_shifts.csv``) and prints the check:
coverage of the 90% predictive intervals and RMSE against persistence (each series' first
value carried forward).
"""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from csto_sim.experiments import observables as obs
from csto_sim.hindcast.build import POLES, _rows, initial_alignment, members_in_data

PARTNER_POLE: dict[str, dict[str, str]] = {
    "un_agreement": {
        "Russia": "Russia",
        "China": "China",
        "Turkey": "Turkey",
        "France": "EU",
        "Germany": "EU",
        "United States": "EU",
    },
    "trade_share": {"Russia": "Russia", "China": "China", "Turkey": "Turkey", "EU27": "EU"},
    "arms_share": {
        "Russia": "Russia",
        "China": "China",
        "Turkey": "Turkey",
        "EU27": "EU",
        "USA": "EU",
        "Other": "",
    },
}
"""Data partner -> model pole, per series ("" for none: arms from "Other" suppliers). The
UN's reference states for the EU pole are those of :data:`csto_sim.hindcast.build.UN_POLES`
and the United States (the West)."""

LATENT = {"un_agreement": "w", "trade_share": "e", "arms_share": "w"}
FITTED_TO = 2014
"""The data's last year: every term is estimated on 2002-2014."""

DISCOUNT = "hindcast.reexport_discount."


def data() -> pd.DataFrame:
    """The measured series in the observables format: ``year, member, series, partner, value``
    (arms: ``year`` the window's last year)."""
    un = pd.DataFrame(_rows("unga_agreement_2002_2014.csv"))
    trade = pd.DataFrame(_rows("trade_shares_2002_2014.csv"))
    arms = pd.DataFrame(
        _rows("arms_import_shares_1992_2001.csv") + _rows("arms_import_shares_2002_2011.csv")
    )
    parts = [
        un.assign(series="un_agreement", partner=un["pole"], value=un["agree"]),
        trade.assign(series="trade_share", value=trade["share"]),
        arms.assign(
            series="arms_share",
            partner=arms["supplier"],
            value=arms["share_pct"],
            year=arms["window"].str[-4:],
        ),
    ]
    out = pd.concat([p[["year", "member", "series", "partner", "value"]] for p in parts])
    return out.astype({"year": int, "value": float}).reset_index(drop=True)


def structure() -> pd.DataFrame:
    """The equations as the data fix them: per series, member and partner the ``pole``,
    ``latent``, ``anchor`` (the first value; 0 if none), ``base`` (the 2002 latent) and
    ``scale`` (the UN's gain left at 1)."""
    d = data()
    rows = []
    for member in members_in_data()[1:]:
        first = _first_values(d[d["member"] == member])
        w0 = initial_alignment(member, "security")
        for series, partners in PARTNER_POLE.items():
            terms = _TERMS[series](member, first, w0, partners)
            for partner, pole in partners.items():
                anchor, base, scale = terms(partner, pole)
                rows.append(
                    {
                        "series": series,
                        "member": member,
                        "partner": partner,
                        "pole": pole,
                        "latent": LATENT[series],
                        "anchor": anchor,
                        "base": base,
                        "scale": scale,
                    }
                )
    return pd.DataFrame(rows)


def _first_values(mine: pd.DataFrame) -> dict[str, dict[str, float]]:
    """A member's first value of each series by partner (arms: the 1992-2001 window)."""
    first = mine[mine["year"] == mine["series"].map(PERSISTENCE_FROM)]
    return {
        series: dict(zip(g["partner"], g["value"], strict=True))
        for series, g in first.groupby("series")
    }


def _trade_terms(member, first, w0, partners):
    """Trade: ``scale`` undoes the 2002 normalisation (the four partners' share, China's
    discounted), so ``value = scale * e``."""
    from csto_sim.core import judgements

    trade0 = first["trade_share"]
    discount = {p: 1.0 for p in trade0}
    if DISCOUNT + member in judgements.registry():
        discount["China"] = judgements.value(DISCOUNT + member)
    covered = sum(trade0[p] * discount[p] for p in trade0)
    return lambda partner, pole: (0.0, 0.0, covered / discount[partner])


def _arms_terms(member, first, w0, partners):
    """Arms: anchored on the previous window at the 2002 alignment; a pole's share split
    equally among its suppliers; "Other" kept; levels where no previous window."""
    prev = first.get("arms_share", {})
    rest = 100.0 - prev.get("Other", 0.0)

    def terms(partner, pole):
        if not pole:
            return prev.get(partner, 0.0), 0.0, 0.0
        n = sum(1 for q in partners.values() if q == pole)
        return prev.get(partner, 0.0), (w0[pole] if prev else 0.0), rest / n

    return terms


def _un_terms(member, first, w0, partners):
    """UN votes: anchored on the 2002 agreement at the 2002 alignment (gain fitted later)."""
    votes = first["un_agreement"]
    return lambda partner, pole: (votes.get(partner, 0.0), w0[pole], 1.0)


_TERMS = {"trade_share": _trade_terms, "arms_share": _arms_terms, "un_agreement": _un_terms}


def latent_paths(
    ts: pd.DataFrame,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str], list[str], np.ndarray]:
    """``w``, ``e`` ``(R, T+1, M, P)``, the years, members, poles and run ids of a
    ``timeseries`` table (one scenario)."""
    ts = ts.sort_values(["run", "step"], kind="stable")
    runs = ts["run"].unique()
    members = list(dict.fromkeys(ts["member"]))
    named = {p.lower(): p for p in POLES}
    poles = [named.get(c[2:], c[2:]) for c in ts.columns if c.startswith("w_")]
    R, M = len(runs), len(members)
    steps = len(ts) // (R * M)
    years = ts["year"].to_numpy()[::M][:steps]
    shape = (R, steps, M, len(poles))

    def stack(prefix: str) -> np.ndarray:
        columns = [ts[f"{prefix}{p.lower()}"].to_numpy() for p in poles]
        return np.stack(columns, axis=-1).reshape(shape)

    return stack("w_"), stack("econ_"), years, members, poles, runs


def _equations(s: pd.DataFrame, gain: float, sd: dict[str, float]) -> pd.DataFrame:
    """Offsets and scales from the structure, the UN gain and the noise."""
    scale = np.where(s["series"] == "un_agreement", gain, s["scale"])
    offset = np.where(s["latent"] == "e", 0.0, s["anchor"] - scale * s["base"])
    out = s[["series", "member", "partner", "pole", "latent"]].assign(
        offset=np.round(offset, 6), scale=np.round(scale, 6), sd=s["series"].map(sd).round(6)
    )
    return out


def raw(name: str, ts: pd.DataFrame, s: pd.DataFrame) -> pd.DataFrame:
    """Each equation's latent level per run and year (offset 0, scale 1, no shift)."""
    w, e, years, members, poles, runs = latent_paths(ts)
    unit = s.assign(offset=0.0, scale=1.0)
    empty = pd.DataFrame(columns=["series", "partner", "year", "shift"])
    return obs.observables(name, members, poles, years, runs, w, e, unit, empty)


def estimate(ts: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The measurement terms from the ``timeseries`` of hindcast runs over 2002-2014:
    the equations (``measurement.csv``) and the UN year effects (``measurement_shifts.csv``)."""
    s = structure()
    level = raw("fit", ts, s)
    level = level[level["year"] <= FITTED_TO]
    mean = level.groupby(["series", "member", "partner", "year"])["value"].mean().rename("level")
    d = data().set_index(["series", "member", "partner", "year"])
    un = d.join(mean, how="inner").reset_index()
    un = un[un["series"] == "un_agreement"].merge(s, on=["series", "member", "partner"])
    gain, shift = _fit_un(un)
    eqs = _equations(s, gain, {k: 1.0 for k in PARTNER_POLE})
    pred = obs.observables("fit", *_args(ts), eqs, shift)
    pred = pred[pred["year"] <= FITTED_TO]
    sd = {
        series: _noise_sd(
            pred[pred["series"] == series], d.loc[series].reset_index(), PERSISTENCE_FROM[series]
        )
        for series in PARTNER_POLE
    }
    return _equations(s, gain, sd), shift


def _args(ts: pd.DataFrame):
    w, e, years, members, poles, runs = latent_paths(ts)
    return members, poles, years, runs, w, e


def _fit_un(un: pd.DataFrame) -> tuple[float, pd.DataFrame]:
    """Least squares of the change in agreement since 2002 on the change in the latent and
    one year effect per reference state and year after 2002."""
    later = un[un["year"] > un["year"].min()].reset_index(drop=True)
    cells = later[["partner", "year"]].drop_duplicates().reset_index(drop=True)
    index = {(p, y): i for i, (p, y) in enumerate(cells.itertuples(index=False))}
    x = np.zeros((len(later), 1 + len(cells)))
    x[:, 0] = later["level"] - later["base"]
    x[
        np.arange(len(later)),
        1 + np.array([index[(p, y)] for p, y in zip(later["partner"], later["year"], strict=True)]),
    ] = 1.0
    coef, *_ = np.linalg.lstsq(x, later["value"] - later["anchor"], rcond=None)
    first = un["year"].min()
    shift = pd.concat(
        [
            pd.DataFrame(
                {
                    "series": "un_agreement",
                    "partner": sorted(un["partner"].unique()),
                    "year": first,
                    "shift": 0.0,
                }
            ),
            cells.assign(series="un_agreement", shift=np.round(coef[1:], 6)),
        ]
    )[["series", "partner", "year", "shift"]]
    return float(round(coef[0], 6)), shift.sort_values(["partner", "year"], ignore_index=True)


def _noise_sd(pred: pd.DataFrame, observed: pd.DataFrame, first: int) -> float:
    """Method of moments over the cells after the anchor year: mean squared error of the
    mean over runs, less the mean variance across runs (floored at 0)."""
    g = pred.groupby(["member", "partner", "year"])["value"].agg(["mean", "var"]).reset_index()
    both = g.merge(observed, on=["member", "partner", "year"])
    both = both[both["year"] > first]
    excess = ((both["value"] - both["mean"]) ** 2).mean() - both["var"].fillna(0.0).mean()
    return float(np.sqrt(max(excess, 0.0)))


PERSISTENCE_FROM = {"un_agreement": 2002, "trade_share": 2002, "arms_share": 2001}
"""The value persistence carries forward: each series' first (the previous arms window)."""


def check(
    ts: pd.DataFrame, eqs: pd.DataFrame, shift: pd.DataFrame, seed: int = 2002, draws: int = 20
) -> pd.DataFrame:
    """Per series over the fitted period (after each series' first value): the cells
    (member-partner-years), the share inside the 90% predictive interval (runs' values plus
    ``draws`` noise draws each), and the RMSE of the predictive mean beside persistence's
    (over the cells persistence has) and, for a series whose equation has year effects,
    persistence's with its own (each partner-year's mean change across members: the same
    freedom)."""
    pred = obs.observables("fit", *_args(ts), eqs, shift)
    pred = pred[pred["year"] <= FITTED_TO]
    sd = eqs.groupby("series")["sd"].first()
    rng = np.random.default_rng(seed)
    noisy = pred.loc[pred.index.repeat(draws)].reset_index(drop=True)
    noisy["value"] += rng.standard_normal(len(noisy)) * noisy["series"].map(sd).to_numpy()
    keys = ["series", "member", "partner", "year"]
    band = noisy.groupby(keys)["value"].quantile([0.05, 0.95]).unstack()
    band.columns = ["low", "high"]
    band["mean"] = pred.groupby(keys)["value"].mean()
    d = data()
    first = d[d["year"] == d["series"].map(PERSISTENCE_FROM)]
    first = first.set_index(["series", "member", "partner"])["value"].rename("persistence")
    both = d.merge(band.reset_index(), on=keys).join(first, on=["series", "member", "partner"])
    both = both[both["year"] > both["series"].map(PERSISTENCE_FROM)]
    gap = both["value"] - both["persistence"]
    year_effect = gap.groupby([both["series"], both["partner"], both["year"]]).transform("mean")
    both["persistence_year"] = both["persistence"] + year_effect
    rows = []
    for series, g in both.groupby("series", sort=False):
        has = g.dropna(subset=["persistence"])
        shifted = series in set(shift["series"])
        rows.append(
            {
                "series": series,
                "cells": len(g),
                "covered": float(((g["value"] >= g["low"]) & (g["value"] <= g["high"])).mean()),
                "compared": len(has),
                "rmse_model": _rmse(has["value"] - has["mean"]),
                "rmse_persistence": _rmse(has["value"] - has["persistence"]),
                "rmse_persistence_year": (
                    _rmse(has["value"] - has["persistence_year"]) if shifted else np.nan
                ),
            }
        )
    out = pd.DataFrame(rows)
    total = pd.DataFrame(
        [
            {
                "series": "all",
                "cells": out["cells"].sum(),
                "covered": (out["covered"] * out["cells"]).sum() / out["cells"].sum(),
            }
        ]
    )
    return pd.concat([out, total], ignore_index=True)


def check_table(t: pd.DataFrame) -> str:
    """:func:`check` as the Markdown table of ``docs/calibration.md``."""

    def f(x: float, digits: int) -> str:
        return "" if pd.isna(x) else f"{x:.{digits}f}"

    rows = [
        "| series | cells | inside 90% interval | compared | RMSE model | RMSE persistence "
        "| RMSE persistence + year effects |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in t.itertuples():
        d = 3 if r.series == "un_agreement" else 2
        rows.append(
            f"| {r.series} | {r.cells} | {r.covered:.1%} | {f(r.compared, 0)} "
            f"| {f(r.rmse_model, d)} | {f(r.rmse_persistence, d)} "
            f"| {f(r.rmse_persistence_year, d)} |"
        )
    return "\n".join(rows)


def _rmse(error: pd.Series) -> float:
    return float(np.sqrt((error**2).mean()))


def fitted_runs(runs: int = 400, seed: int = 2002, posterior: str = "validation") -> pd.DataFrame:
    """The ``timeseries`` of ``runs`` hindcast runs over ``posterior`` (the whole record:
    its recorded statuses are dated to 2024; the terms read 2002-2014 only)."""
    from csto_sim.experiments.ensemble import run_ensemble
    from csto_sim.hindcast.posterior import fitted_period

    spec = fitted_period(None, "whole")
    res = run_ensemble(
        [spec],
        runs,
        seed=seed,
        posterior=posterior,
        tables=("timeseries",),
        progress=False,
        workers=1,
    )
    return res.tables["timeseries"]


def write(eqs: pd.DataFrame, shift: pd.DataFrame, folder: Path | None = None) -> None:
    """The terms as ``measurement.csv`` and ``measurement_shifts.csv`` (in the package's data)."""
    root = Path(folder) if folder else Path(str(resources.files("csto_sim").joinpath("data")))
    eqs.to_csv(root / "measurement.csv", index=False, lineterminator="\n")
    shift.to_csv(root / "measurement_shifts.csv", index=False, lineterminator="\n")


def main(argv: list[str] | None = None) -> int:
    """Refit the measurement terms on hindcast runs over the validation posterior, write
    them, and print the check."""
    ts = fitted_runs()
    eqs, shift = estimate(ts)
    write(eqs, shift)
    print(f"UN gain {eqs.loc[eqs['series'] == 'un_agreement', 'scale'].iloc[0]:.4f}")
    print(eqs.groupby("series")["sd"].first().to_string())
    print(check_table(check(ts, eqs, shift)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
