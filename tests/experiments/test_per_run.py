"""Per-run parameters in the batched engine: a batch whose runs differ in every behavioural
parameter and in judged numbers gives, run for run, what the Mesa model gives for each
run's own parameter set."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import BASELINE

from csto_sim import load_scenario
from csto_sim.core import batch
from csto_sim.core.inputs import inputs_for
from csto_sim.core.judgements import registry
from csto_sim.core.parameters import Parameters, plausible_ranges
from csto_sim.core.stack import Unstackable, stack_inputs
from csto_sim.experiments.engines import run_chunk
from csto_sim.inference.posterior import load_posterior

JUDGED = (  # judged numbers of the baseline and its history, of every kind the step reads
    "hindcast.leverage.Kazakhstan",
    "hindcast.affinity.Azerbaijan",
    "hindcast.hazard.Tajikistan.terrorism_spillover",
    "hindcast.relation.Russia.Belarus",
    "hindcast.event.2008-08-08.war_elsewhere.Russia.severity",
    "hindcast.event.2010-06-12.internal_unrest.Kyrgyzstan.severity",
    "hindcast.event.2013-09-07.pole_shift.pull_change",
)


def _everything_varies(tmp_path, samples: int = 3):
    """A posterior file whose samples spread every numeric parameter over its plausible
    range, and the judgements above over theirs."""
    rng = np.random.default_rng(5)
    columns = {}
    defaults = Parameters().model_dump()
    for name, (low, high) in plausible_ranges().items():
        values = rng.uniform(low, high, samples)
        columns[name] = np.round(values) if isinstance(defaults[name], int) else values
    levels = np.sort(np.abs([columns["level_statement"], columns["level_mission"]]), axis=0)
    columns["level_statement"], columns["level_mission"] = levels[1], levels[0]  # ordered
    columns["level_peacekeeping"] = -np.abs(columns["level_peacekeeping"])
    for ref in JUDGED:
        j = registry()[ref]
        columns["@" + ref] = rng.uniform(j.low, j.high, samples)
    path = tmp_path / "posterior.csv"
    pd.DataFrame(columns).to_csv(path, index=False)
    return load_posterior(path, runs_per_draw=1)


@pytest.mark.slow
def test_every_parameter_and_judgement_may_vary_by_run_in_one_batch(tmp_path):
    post = _everything_varies(tmp_path)
    # histories not conditioned on the record, which would keep only the likeliest set
    spec = load_scenario(BASELINE).model_copy(update={"condition": False})
    runs = list(range(7))
    batched = run_chunk(spec, runs, 3, posterior=post, with_history=True)
    assert batched["runs"]["sample"].nunique() == 3  # all three sets in the batch
    agents = run_chunk(spec, runs, 3, engine="agents", posterior=post, with_history=True)
    for t in agents:
        pd.testing.assert_frame_equal(batched[t], agents[t], check_exact=True, obj=t)
    for sample, mine in batched["runs"].groupby("sample"):  # and what each set gives alone
        alone = run_chunk(post.scenario_for(spec, sample), list(mine["run"]), 3, with_history=True)
        pd.testing.assert_frame_equal(
            mine.drop(columns=["draw", "sample"]).reset_index(drop=True),
            alone["runs"],
            check_exact=True,
        )


def test_varying_fields_carry_the_runs_axis_where_the_step_reads_them(tmp_path):
    post = _everything_varies(tmp_path, samples=2)
    spec = load_scenario(BASELINE)
    parts = [inputs_for(post.scenario_for(spec, i)).history for i in range(2)]
    inp = stack_inputs(parts, [0, 1, 1])  # the history: judged pole shifts and wars
    T, M, P = parts[0].economic_offers.shape
    assert inp.runs == 3
    assert inp.economic_offers.shape == (T, 3, M, P)  # economic_offers[t] is (R, M, P)
    assert inp.strength.shape == (T, 3, 1, P)  # strength[t] is (R, 1, P)
    assert inp.capacity.shape == (T, 3)
    assert inp.leverage.shape == (3, M)  # a judged leverage
    assert inp.shares.network.shape == (3, M) and inp.shares.pole_pull.shape == (3,)
    assert inp.params["response_base"].shape == (3,)
    np.testing.assert_array_equal(inp.economic_offers[:, 2], parts[1].economic_offers)
    assert inp.members == parts[0].members  # structure is shared
    same = stack_inputs([parts[0], parts[0]], [0, 1])
    assert (
        same.offers is parts[0].offers
        and same.params["response_base"] == (parts[0].params["response_base"])
    )


def test_parameter_sets_that_differ_in_structure_cannot_share_a_batch():
    a = inputs_for(load_scenario(BASELINE))
    b = inputs_for(load_scenario(BASELINE.parent / "hindcast_2002_2024.toml"))
    with pytest.raises(Unstackable):
        stack_inputs([a, b], [0, 1])


def test_a_batch_over_one_scenario_per_run_is_the_ordinary_batch():
    spec = load_scenario(BASELINE)
    seeds = [11, 12, 13]
    past = batch.history_seeds(spec, range(3))
    _, one, _ = batch.run_batch(spec, seeds, past)
    _, each, _ = batch.run_batch([spec] * 3, seeds, past)
    np.testing.assert_array_equal(one.w, each.w)
    np.testing.assert_array_equal(one.status, each.status)
