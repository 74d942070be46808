"""The comparison report's reading aids: the headline written from the numbers, the
scenario table, the definitions, probabilities with intervals, members' start status kept
apart from what happens during the run, and the block bootstrap over posterior draws."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from conftest import standalone_text, synthetic_comparison

from csto_sim.analysis.comparison import FRAGMENTATION, Comparison
from csto_sim.analysis.prose import covers, headline
from csto_sim.analysis.report import compare
from csto_sim.analysis.settings import setting_changes
from csto_sim.analysis.statistics import (
    mean_table,
    member_paths,
    paired_differences,
    proportion_interval,
)

START, END = 2025.0, 2040.0


def _scenario(name: str, p_collapse: float, withdrawn: float, runs: int = 200) -> pd.DataFrame:
    """Synthetic runs: collapse in the first ``p_collapse`` share of runs (by run index, so
    that scenarios are paired), ``withdrawn`` members withdrawn in every run."""
    idx = np.arange(runs)
    gone = idx < p_collapse * runs
    return pd.DataFrame(
        {
            "scenario": name,
            "run": idx,
            "status": "ok",
            "collapsed": gone,
            "collapse_year": np.where(gone, 2033.0, np.nan),
            "n_withdrawn_final": withdrawn + (idx % 3 == 0),
        }
    )


def _headline(*scenarios: pd.DataFrame) -> str:
    runs = pd.concat(scenarios, ignore_index=True)
    paired = paired_differences(runs, "base", FRAGMENTATION, n_boot=500)
    return headline(synthetic_comparison(runs, paired=paired))


def test_headline_names_the_scenario_that_clearly_fragments_most_and_the_runner_up():
    text = _headline(
        _scenario("base", 0.1, 1.0),
        _scenario("mild", 0.1, 1.0),
        _scenario("worse", 0.6, 2.0),
        _scenario("bad", 0.3, 1.0),
    )
    assert text.startswith("**worse** fragments the alliance most, against base")
    assert "+0.50 [" in text  # the paired difference in the chance of collapse
    assert "0.60 [" in text and "0.10 [" in text  # both probabilities, with intervals
    assert "It exceeds the next, bad, by +0.30 [" in text
    assert "mild" not in text
    assert text.endswith("not uncertainty about the parameters.")  # what intervals cover


def test_without_a_clear_rise_in_collapse_withdrawals_rank_not_collapse_noise():
    text = _headline(
        _scenario("base", 0.1, 1.0),
        _scenario("noise", 0.105, 1.5),  # one more collapse in 200 runs: not clear
        _scenario("exits", 0.1, 2.5),  # clearly more members withdrawn
    )
    assert text.startswith("**exits** fragments the alliance most"), text
    assert "It exceeds the next, noise, by +1.00 [" in text


def test_tied_scenarios_rank_in_the_order_given_not_by_name():
    text = _headline(
        _scenario("base", 0.1, 1.0), _scenario("zeta", 0.5, 1.0), _scenario("alpha", 0.5, 1.0)
    )
    assert text.startswith("**zeta** fragments the alliance most"), text


def test_headline_says_when_no_scenario_differs_from_the_reference():
    text = _headline(_scenario("base", 0.2, 1.0), _scenario("same", 0.2, 1.0))
    assert text.startswith("No scenario fragments the alliance more than base")
    assert "by more than its 95% interval" in text


def test_headline_says_when_the_two_worst_do_not_differ():
    text = _headline(
        _scenario("base", 0.1, 1.0), _scenario("one", 0.5, 1.0), _scenario("two", 0.5, 1.0)
    )
    assert "fragments the alliance most" in text
    assert "does not differ from the next" in text


def test_headline_names_a_clearly_lower_fragmentation():
    text = _headline(_scenario("base", 0.4, 2.0), _scenario("better", 0.05, 1.0))
    assert text.startswith("No scenario fragments the alliance more than base")
    assert "clearly lower under better" in text


def test_intervals_say_what_they_cover():
    runs = _scenario("base", 0.1, 1.0)
    assert "dice (Monte-Carlo variation) only" in covers(synthetic_comparison(runs))
    posterior = {"file": "/home/me/p.csv", "samples": 400, "runs_per_draw": 10}
    text = covers(synthetic_comparison(runs, posterior=posterior))
    assert "parameter uncertainty and the dice" in text and "`p.csv`" in text
    assert "/home/me" not in text


def test_block_bootstrap_carries_the_spread_between_parameter_draws():
    rng = np.random.default_rng(1)
    effect = np.repeat(rng.normal(0.0, 1.0, 20), 10)  # differs by draw, not within one
    base = pd.DataFrame({"scenario": "base", "run": range(200), "status": "ok", "x": 0.0})
    other = base.assign(scenario="other", x=effect)
    runs = pd.concat([base, other], ignore_index=True)
    by_run = paired_differences(runs, "base", ("x",), n_boot=1000).iloc[0]
    by_draw = paired_differences(runs.assign(draw=runs["run"] // 10), "base", ("x",), 1000)
    width = by_draw.iloc[0]["ci_high"] - by_draw.iloc[0]["ci_low"]
    assert width > 2 * (by_run["ci_high"] - by_run["ci_low"])


def test_runs_of_one_posterior_sample_are_resampled_together_even_across_draws():
    """After the filter resamples histories, several draws can hold one sample (its
    parameters, and perhaps its history): the bootstrap's block is the sample."""
    rng = np.random.default_rng(1)
    effect = np.repeat(rng.normal(0.0, 1.0, 10), 20)  # differs by sample only
    base = pd.DataFrame({"scenario": "base", "run": range(200), "status": "ok", "x": 0.0})
    runs = pd.concat([base, base.assign(scenario="other", x=effect)], ignore_index=True)
    runs = runs.assign(draw=runs["run"] // 10)  # each sample spans two draws
    by_draw = paired_differences(runs, "base", ("x",), 1000).iloc[0]
    by_sample = paired_differences(runs.assign(sample=runs["run"] // 20), "base", ("x",), 1000)
    width = by_sample.iloc[0]["ci_high"] - by_sample.iloc[0]["ci_low"]
    assert width > 1.2 * (by_draw["ci_high"] - by_draw["ci_low"])


def test_proportion_interval_is_never_empty_and_widens_with_shared_draws():
    p, low, high = proportion_interval(np.zeros(100))
    assert p == 0.0 and low == 0.0 and 0.0 < high < 0.06
    hits = np.repeat([0.0, 1.0], 50)
    plain = proportion_interval(hits)
    blocked = proportion_interval(hits, np.arange(100) // 10)  # all variation between draws
    assert plain[0] == blocked[0] == 0.5
    assert blocked[2] - blocked[1] > 2 * (plain[2] - plain[1])


def test_collapsed_row_has_median_and_percentiles():
    runs = _scenario("base", 0.3, 1.0).assign(
        **{c: 1.0 for c in ("cohesion_final", "n_active_final", "requests", "responses")},
        response_rate=0.5,
        unanswered_severity=1.0,
        alliance_unanswered_severity=1.0,
    )
    row = mean_table(runs, ("collapsed",)).set_index("measure").loc["collapsed"]
    assert row["mean"] == pytest.approx(0.3)
    assert (row["median"], row["p05"], row["p95"]) == (0.0, 0.0, 1.0)


def test_member_paths_keep_the_start_apart_from_the_run():
    members = pd.DataFrame(
        {
            "scenario": "s",
            "run": [0, 0, 1, 1],
            "member": ["A", "B", "A", "B"],
            "status_final": ["frozen", "frozen", "withdrawn", "active"],
            "frozen_year": [np.nan, 2030.0, np.nan, np.nan],
            "withdrawn_year": [np.nan, np.nan, 2031.0, np.nan],
        }
    )
    start = pd.Series(["frozen", "active", "frozen", "active"])
    runs = pd.DataFrame({"scenario": "s", "run": [0, 1], "status": "ok"})
    got = member_paths(members, start, runs).set_index(["member", "path"])["p"]
    assert got["A", "frozen_at_start"] == 1.0 and got["A", "froze"] == 0.0
    assert got["A", "withdrew"] == 0.5 and got["A", "ends_withdrawn"] == 0.5
    assert got["B", "frozen_at_start"] == 0.0 and got["B", "froze"] == 0.5


def test_setting_changes_name_values_and_added_tables_in_short():
    ref = {"name": "a", "alliance": {"x": 0.35}, "events": {}, "poles": {"P": {"s": 1.0}}}
    other = {
        "name": "b",
        "alliance": {"x": 0.2},
        "events": {"new_event": {"kind": "k"}},
        "poles": {"P": {"s": 1.0}},
    }
    assert setting_changes(ref, other) == "`alliance.x` 0.35 -> 0.2; `events` +new_event"
    assert setting_changes(ref, ref) == "(none: the same settings)"
    many = {"events": {f"e{i}": {"k": i} for i in range(9)}, "alliance": {"x": 0.35}}
    assert setting_changes(ref | {"events": {}}, ref | many).endswith("(+5 more)")


# --- a real comparison: a standalone baseline (Armenia frozen at the start) and a variant


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report")
    base = tmp / "standalone.toml"
    base.write_text(standalone_text().replace('name = "baseline"', 'name = "base"'))
    weak = tmp / "weak.toml"
    weak.write_text(
        'extends = "standalone.toml"\nname = "weak"\n'
        'description = "Russia far weaker"\n[poles.Russia]\nstrength = 0.3\n'
    )
    out = tmp / "out"
    compare([base, weak], runs=20, out=out, workers=1, progress=False)
    return out


def test_report_opens_with_a_headline_and_states_horizon_and_scenarios(folder):
    report = (folder / "report.md").read_text()
    first = report.split("\n")[2]
    assert "fragments the alliance" in first and "Monte-Carlo error" in first
    assert "figures/differences.png" in report
    assert f"Runs from {START:g} to the start of {END:g} (the end year)" in report
    assert "| weak | Russia far weaker | `poles.Russia.strength` " in report
    assert not re.search(r"\bnan\b", report, re.I)
    assert "| figure |" not in report and "| measure |" in report


def test_report_defines_every_measure_it_tabulates(folder):
    report = (folder / "report.md").read_text()
    measures = report.split("## Measures")[1].split("\n## ")[0]
    c = Comparison.of(folder, "base")
    used = set(c.paired["measure"]) | set(c.paired_members["measure"])
    for name in used:
        key = re.sub(r"^w_.*_final$", "w_<pole>_final", re.sub(r"^level_.*", "level_*", name))
        assert f"`{key}`" in measures or f"({name})" in measures or f"`{name}`" in measures, name


def test_members_frozen_at_the_start_are_reported_as_such(folder):
    paths = Comparison.of(folder, "base").paths.set_index(["scenario", "member", "path"])["p"]
    for name in ("base", "weak"):
        assert paths[name, "Armenia", "frozen_at_start"] == 1.0
        assert paths[name, "Belarus", "frozen_at_start"] == 0.0
    report = (folder / "report.md").read_text()
    row = next(line for line in report.splitlines() if line.startswith("| base | Armenia |"))
    assert row.split(" | ")[2].startswith("1.00 [")


def test_setting_changes_name_files_of_this_machine_by_their_names():
    ref = {"history": {"source": "/home/someone/csto/scenarios/hindcast_2002_2024.toml"}}
    other = {"history": {"source": "/srv/elsewhere/my_history.toml"}}
    text = setting_changes(ref, other)
    assert text == "`history.source` hindcast_2002_2024.toml -> my_history.toml"
    assert "/home" not in text and "/srv" not in text
