"""Values handed to the library from code (a notebook, a script) are checked as the command
line checks its options: one line naming the argument, never a numpy or pydantic traceback
from deep inside, never a silent run on NaN."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import BASELINE, HINDCAST

from csto_sim import load_scenario
from csto_sim.abm.model import CSTOModel, relations_graph
from csto_sim.analysis.report import compare
from csto_sim.core.files import InputError
from csto_sim.experiments.ensemble import Ensemble, run_ensemble
from csto_sim.experiments.evaluate import evaluate, mean_outcomes

NAN, INF = math.nan, math.inf


@pytest.mark.parametrize(
    ("call", "names"),
    [
        (lambda: Ensemble.of([HINDCAST], runs=2, seed=-1), "seed: expected a whole number from 0"),
        (lambda: Ensemble.of([HINDCAST], runs=2, seed=NAN), "seed: expected a whole number"),
        (lambda: Ensemble.of([HINDCAST], runs=1.5), "runs: expected a whole number"),
        (lambda: Ensemble.of([HINDCAST], runs=True), "runs: expected a whole number"),
        (lambda: Ensemble.of([HINDCAST], runs=2, runs_per_draw=NAN), "runs_per_draw:"),
        (lambda: Ensemble.of([], runs=2), "scenarios: expected at least one"),
        (lambda: Ensemble.of([HINDCAST], runs=2, with_history="no"), "with_history:"),
        (lambda: Ensemble.of([HINDCAST], runs=2, tables="runs"), "tables: expected a list"),
        (lambda: evaluate(HINDCAST, runs=2, seed=NAN), "seed: expected a whole number"),
        (lambda: evaluate(HINDCAST, {"leader_strength": NAN}, runs=1), "leader_strength:"),
        (lambda: evaluate(HINDCAST, {"leader_strength": INF}, runs=1), "leader_strength:"),
        (
            lambda: run_ensemble([HINDCAST, BASELINE], runs=1, workers=1.5, posterior="none"),
            "workers: expected a whole number",
        ),
        (
            lambda: run_ensemble([HINDCAST, BASELINE], runs=1, workers=0, posterior="none"),
            "workers: expected a whole number from 1",
        ),
        (lambda: CSTOModel(HINDCAST, rng=NAN), "rng: expected a whole number"),
        (lambda: CSTOModel(HINDCAST, rng=-1), "rng: expected a whole number from 0"),
        (lambda: CSTOModel(HINDCAST, run=1.5), "run: expected a whole number"),
        (lambda: CSTOModel(HINDCAST, nosuch=1), "unknown parameter 'nosuch'"),
        (lambda: CSTOModel(HINDCAST, request_base=NAN), "request_base: Input should be a finite"),
        (lambda: load_scenario(HINDCAST).with_leader_strength(NAN), "leader_strength:"),
        (lambda: load_scenario(HINDCAST).with_leader_strength(1e6), "at most 1000"),
        (lambda: load_scenario(HINDCAST).with_leader_strength("x"), "expected a number"),
        (lambda: run_ensemble([HINDCAST], runs=1).read("nosuch"), "no table 'nosuch'"),
        (lambda: run_ensemble([HINDCAST], runs=1).read("runs", ["x"]), "runs: no column 'x'"),
        (lambda: run_ensemble([HINDCAST], runs=1).read("runs", "run"), "columns: expected a list"),
        (lambda: evaluate(HINDCAST, [("response_base", 0.5)], runs=1), "factors: expected names"),
        (lambda: evaluate(HINDCAST, runs=1, posterior="prodution"), "did you mean 'production'"),
        (lambda: CSTOModel(HINDCAST, posterior=3), "posterior: expected a name (validation"),
        (lambda: run_ensemble([HINDCAST], runs=1, worker=1), "no option 'worker' (did you mean"),
        (lambda: run_ensemble([HINDCAST], runs=1, format="csv"), "(options: fmt, seed"),
        (lambda: mean_outcomes(evaluate(HINDCAST, runs=1)["runs"]), "evaluate's tables with"),
        (lambda: CSTOModel(HINDCAST, leader_strength=0.5), "leader_strength: a driver, not"),
        (lambda: CSTOModel(HINDCAST, collect="no"), "collect: expected True or False"),
        (lambda: run_ensemble(5, runs=1), "scenarios: expected a scenario, a file or a list"),
        (lambda: run_ensemble([HINDCAST], runs=1, out=5), "out: expected a folder"),
        (lambda: run_ensemble([HINDCAST], runs=1, fmt="xml"), "fmt: expected 'parquet' or"),
        (lambda: run_ensemble([HINDCAST], runs=1, resume="yes"), "resume: expected True or"),
        (lambda: run_ensemble([HINDCAST], runs=1, executor="x"), "executor: expected a concurrent"),
        (lambda: relations_graph(None), "scenario: expected a Scenario"),
        (lambda: compare([HINDCAST], runs=1, out="o", horizon=NAN), "horizon: expected a year"),
        (lambda: compare([HINDCAST], runs=1, out="o", horizon="x"), "horizon: expected a year"),
    ],
)
def test_a_bad_value_from_code_is_one_line_naming_it(call, names):
    with pytest.raises(ValueError) as info:
        call()
    text = str(info.value)
    assert names in text and "\n" not in text, text


def test_the_one_lines_are_input_errors_the_command_line_says_in_one_line():
    with pytest.raises(InputError):
        Ensemble.of([HINDCAST], runs=1.5)
    with pytest.raises(InputError):
        load_scenario(HINDCAST).with_parameters(request_base=NAN)


def test_what_stays_accepted():
    assert Ensemble.of(HINDCAST, runs=np.int64(2), seed=np.int64(3)).seed == 3  # one file
    assert CSTOModel(HINDCAST, rng=np.random.default_rng(3), collect=False).seed >= 0
    assert CSTOModel(HINDCAST, rng=5, collect=False).seed == 5


@pytest.mark.parametrize("given", [None, 3, {"name": "x"}])
def test_a_scenario_that_is_neither_a_file_nor_a_scenario_is_named(given):
    for call in (load_scenario, CSTOModel, evaluate):
        with pytest.raises(InputError, match="scenario: expected a scenario file or a Scenario"):
            call(given)


def test_a_factor_may_name_one_entry_of_a_parameter_table():
    """`csto-sim params` lists `charter_fit.interstate_war`; evaluate takes that name."""
    base = load_scenario(HINDCAST)
    spec = base.with_factors({"charter_fit.interstate_war": 0.5, "charter_fit.incursion": 0.25})
    assert spec.parameters.charter_fit == base.parameters.charter_fit | {
        "interstate_war": 0.5,
        "incursion": 0.25,
    }
    with pytest.raises(ValueError, match="charter_fit: .*2.0 is outside"):
        base.with_factors({"charter_fit.interstate_war": 2.0})


def test_a_file_name_with_a_nul_byte_is_named_in_one_line():
    with pytest.raises(InputError, match="a file name with a NUL byte"):
        load_scenario("a\x00b.toml")


def test_refused_before_anything_is_written(tmp_path):
    """A bad executor or horizon is refused before the folder is taken or a run is made."""
    with pytest.raises(ValueError, match="executor"):
        run_ensemble([HINDCAST], runs=1, out=tmp_path / "e", executor="bogus")
    with pytest.raises(ValueError, match="horizon"):
        compare([HINDCAST], runs=1, out=tmp_path / "c", horizon=INF)
    assert not (tmp_path / "e").exists() and not (tmp_path / "c").exists()
