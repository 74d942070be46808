"""One comparison of the scenarios in a results folder, computed once.

A :class:`Comparison` reads the results dataset once and computes, per scenario and measure,
the estimates, their intervals (dice only, or parameters and dice over a posterior), the
paired differences against the reference scenario and the settings that differ. Each table
is computed on first use and kept. The views (``report.md``, ``summary.csv``, the figures,
``csto-sim run``'s summary) render a comparison; none reads another view's output.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from csto_sim.analysis import statistics as st
from csto_sim.analysis.settings import scenario_table
from csto_sim.experiments.results import Results

__all__ = ["HORIZON", "Comparison", "Ranking", "UnknownReference"]

HORIZON = 2030.0
"""The intermediate year of a comparison (exits and collapse "by 2030")."""

FRAGMENTATION: tuple[str, ...] = ("collapsed", "n_withdrawn_final")
"""How fragmentation is ranked: the chance of collapse first, then the members withdrawn."""


class UnknownReference(ValueError):
    """The reference scenario of a comparison is not in the results folder."""


@dataclass(frozen=True)
class Ranking:
    """The scenarios that clearly fragment the alliance more than the reference (the 95%
    interval of a paired difference in :data:`FRAGMENTATION` above zero), most first;
    ``by_collapse``: the first ranks by a clear rise in the chance of collapse (else by
    members withdrawn); ``lower``: scenarios with clearly less fragmentation; ``runner_up``:
    the first against the second, then the second against the first (empty with fewer)."""

    order: tuple[str, ...]
    by_collapse: bool
    lower: tuple[str, ...]
    runner_up: pd.DataFrame


@dataclass(frozen=True, eq=False)
class Comparison:
    """The scenarios of a results folder against a reference. Open with :meth:`of`; its
    ``runs`` and ``member_table`` are the folder's ``runs`` and ``members`` tables."""

    results: Results
    reference: str
    runs: pd.DataFrame = field(repr=False)
    member_table: pd.DataFrame = field(repr=False)
    horizon: float = HORIZON

    @classmethod
    def of(
        cls, root: str | Path | Results, reference: str | None = None, horizon: float = HORIZON
    ) -> Comparison:
        """The comparison of a results folder against ``reference`` (default: the first)."""
        res = Results.open(root)
        reference = reference or res.scenarios[0]
        if reference not in res.scenarios:
            have = ", ".join(res.scenarios)
            raise UnknownReference(f"no scenario named {reference!r} in {res.root} (have: {have})")
        members = (
            res.read("members")
            if "members" in res.manifest["tables"]
            else pd.DataFrame(columns=["scenario", "run", "member", "status_final"])
        )  # an ensemble run without it has no member tables
        return cls(res, reference, res.read("runs"), members, horizon)

    # --- what the manifest says ----------------------------------------------------------

    @property
    def manifest(self) -> dict[str, Any]:
        return self.results.manifest

    @property
    def names(self) -> list[str]:
        """The scenarios, in the order they were run."""
        return self.results.scenarios

    @property
    def others(self) -> list[str]:
        """The scenarios other than the reference."""
        return [n for n in self.names if n != self.reference]

    @property
    def posterior(self) -> bool:
        """Whether runs draw their parameters from a posterior (intervals cover them too)."""
        return bool(self.manifest.get("posterior"))

    @property
    def span(self) -> tuple[float, float]:
        """The first and the last year of the projections (earliest start, latest end)."""
        times = [self.results.contents(n)["time"] for n in self.names]
        return min(t["start"] for t in times), max(t["end"] for t in times)

    @property
    def years(self) -> dict[str, float]:
        """The years exits and collapse are counted before: the horizon and the end."""
        return {f"by_{self.horizon:g}": self.horizon, "by_end": self.span[1] + 1e-9}

    @property
    def leaders(self) -> dict[str, str]:
        """Each scenario's alliance leader (left out of the members' tables)."""
        return {n: self.results.contents(n).get("alliance", {}).get("leader") for n in self.names}

    @property
    def targets(self) -> dict[str, list[str]]:
        """The outcomes each scenario names as its ``targets``."""
        return {n: list(self.results.contents(n).get("targets", [])) for n in self.names}

    @property
    def conditioning(self) -> dict[str, dict[str, Any]]:
        """How the histories of each conditioned scenario were filtered (none: empty)."""
        return {n: c for n, c in (self.manifest.get("conditioning") or {}).items() if c}

    # --- the data, read once ---------------------------------------------------------------

    @cached_property
    def ok(self) -> pd.DataFrame:
        """The successful runs."""
        return self.runs[self.runs["status"] == "ok"]

    @property
    def failed(self) -> int:
        return int((self.runs["status"] == "error").sum())

    @cached_property
    def members(self) -> pd.DataFrame:
        """The ``members`` table without each scenario's leader (it never leaves)."""
        table = self.member_table
        leader = table["scenario"].map(self.leaders)
        return table[table["member"] != leader].reset_index(drop=True)

    # --- the tables --------------------------------------------------------------------

    @cached_property
    def scenarios(self) -> pd.DataFrame:
        """Each scenario's description and what it sets differently from the reference."""
        return scenario_table(self.manifest, self.reference)

    @cached_property
    def means(self) -> pd.DataFrame:
        """Per scenario and outcome: the mean over runs with its interval, median and 5-95%."""
        return st.mean_table(self.runs)

    @cached_property
    def status_final(self) -> pd.DataFrame:
        """Share of runs in which each member ends in each status."""
        return st.member_status_table(self.members)

    @cached_property
    def paths(self) -> pd.DataFrame:
        """Probability of each membership path per scenario and member, with intervals."""
        return st.member_paths(self.members, self.start_status(), self.runs)

    @cached_property
    def collapse(self) -> pd.DataFrame:
        """Probability of collapse at the start and before each of :attr:`years`."""
        return st.collapse_table(self.runs, self.years, self.span[0])

    @cached_property
    def exits(self) -> pd.DataFrame:
        """Probability that each member froze or left before each of :attr:`years`."""
        return st.exit_probabilities(self.members, self.years)

    @cached_property
    def responses(self) -> pd.DataFrame:
        """Requests, responses, the response rate and the response-level mix (pooled)."""
        return st.response_rates(self.runs)

    @cached_property
    def paired(self) -> pd.DataFrame:
        """Paired differences of the run outcomes against the reference."""
        return st.paired_differences(self.runs, self.reference)

    @cached_property
    def paired_members(self) -> pd.DataFrame:
        """Paired differences of each member's outcomes against the reference."""
        return st.member_paired_differences(self.members, self.runs, self.reference)

    @cached_property
    def uncertainty(self) -> pd.DataFrame:
        """The headline differences split into parameters and dice (empty without a posterior)."""
        return st.parameter_uncertainty(self.runs, self.reference)

    @cached_property
    def record(self) -> tuple[int, int]:
        """Requests for help the record of 2002-2024 holds, and how many the CSTO answered
        (``csto_sim/data/events_2002_2024.csv``, columns ``request`` and ``csto_response``)."""
        path = resources.files("csto_sim").joinpath("data", "events_2002_2024.csv")
        with path.open(encoding="utf-8") as f:
            rows = [r for r in csv.DictReader(f) if r["request"] == "yes"]
        return len(rows), sum(r["csto_response"] == "yes" for r in rows)

    @cached_property
    def ranking(self) -> Ranking:
        """Which scenarios fragment the alliance clearly more than the reference."""
        frag = self.paired[self.paired["measure"].isin(FRAGMENTATION)] if len(self.paired) else ()
        if not len(frag):
            return Ranking((), False, (), pd.DataFrame())
        given = list(dict.fromkeys(frag["scenario"]))  # the manifest's order breaks ties
        low = frag.pivot(index="scenario", columns="measure", values="ci_low").reindex(given)
        mean = frag.pivot(index="scenario", columns="measure", values="mean_difference")
        lower = tuple(dict.fromkeys(frag.loc[frag["ci_high"] < 0, "scenario"]))
        clear_up = low.gt(0)
        order = pd.DataFrame(
            {"collapse_clear": clear_up.get("collapsed", False)}
            | {f: mean.reindex(given).get(f, 0.0) for f in FRAGMENTATION}
        )[clear_up.any(axis=1)]
        if order.empty:
            return Ranking((), False, lower, pd.DataFrame())
        # a clear rise in collapse ranks first, by its size; without one, a noise-level
        # collapse difference says nothing, so those rank by withdrawn members
        order["key"] = order[FRAGMENTATION[0]].where(
            order["collapse_clear"], order[FRAGMENTATION[-1]]
        )
        order = order.sort_values(
            ["collapse_clear", "key", *FRAGMENTATION], ascending=False, kind="stable"
        )
        by_collapse = bool(order.iloc[0]["collapse_clear"])
        runner_up = pd.DataFrame()
        if len(order) > 1:
            top, second = order.index[:2]
            fig = FRAGMENTATION[0] if by_collapse else FRAGMENTATION[-1]
            both = self.runs[self.runs["scenario"].isin([top, second])]
            runner_up = pd.concat(
                [st.paired_differences(both, ref, (fig,)) for ref in (second, top)],
                ignore_index=True,
            )
        return Ranking(tuple(order.index), by_collapse, lower, runner_up)

    def start_status(self) -> pd.Series:
        """Each member's status in the first year of its run's projection, aligned with
        :attr:`members`, from the ``timeseries`` table (its first step of the scenario's own
        span): a scenario that continues a history starts each run where that history run
        ended. Missing (None) without a ``timeseries`` table."""
        keys = ["scenario", "run", "member"]
        where = {"period": "scenario"} if self.manifest.get("with_history") else {"step": 0}
        if "timeseries" not in self.manifest.get("tables", {}):
            return pd.Series(None, index=self.members.index, dtype=object)
        ts = self.results.read("timeseries", [*keys, "step", "status"], where=where)
        first = ts.groupby("scenario")["step"].transform("min")
        ts = ts[ts["step"] == first].drop(columns="step")
        merged = self.members[keys].merge(ts, on=keys, how="left")
        return pd.Series(merged["status"].to_numpy(), index=self.members.index, dtype=object)

    def tidy(self) -> pd.DataFrame:
        """Every number of the comparison as one tidy table (scenario, measure, statistic,
        value): what ``summary.csv`` holds."""
        parts = [self.means.melt(id_vars=["scenario", "measure"], var_name="statistic")]
        ex = self.exits.melt(id_vars=["scenario", "member"], var_name="statistic")
        ex["measure"] = "p_exit_" + ex.pop("member")
        paths = self.paths.melt(id_vars=["scenario", "member", "path"], var_name="statistic")
        paths["measure"] = paths.pop("member") + " " + paths.pop("path")
        col = self.collapse.melt(id_vars=["scenario", "when"], var_name="statistic")
        col["measure"] = "p_collapse"
        stat = col["statistic"].where(col["statistic"] != "p", "")
        col["statistic"] = (col.pop("when") + "_" + stat).str.rstrip("_")
        resp = self.responses.melt(id_vars=["scenario"], var_name="measure")
        resp["statistic"] = "total"
        parts += [ex, paths, col, resp]
        for table, prefix in (
            (self.paired, "paired_"),
            (_keyed(self.paired_members), "paired_"),
            (self.uncertainty, "posterior_"),
        ):
            if len(table):
                drop = [c for c in ("reference", "runs", "draws") if c in table]
                long = table.drop(columns=drop).melt(
                    id_vars=["scenario", "measure"], var_name="statistic"
                )
                parts.append(long.assign(statistic=prefix + long["statistic"]))
        return pd.concat(parts, ignore_index=True)[["scenario", "measure", "statistic", "value"]]


def _keyed(paired_members: pd.DataFrame) -> pd.DataFrame:
    """Member differences keyed ``"<member> <measure>"``, the key a scenario's targets use."""
    if paired_members.empty:
        return paired_members
    keyed = paired_members.copy()
    keyed["measure"] = keyed.pop("member") + " " + keyed["measure"]
    return keyed
