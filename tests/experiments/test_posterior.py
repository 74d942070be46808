"""Runs over a posterior sample file: checked input, paired draws, exact parameters, both
engines, the results identity, and the report's split of parameters against dice."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import BASELINE

from csto_sim import load_scenario
from csto_sim.analysis.statistics import parameter_uncertainty
from csto_sim.cli import main
from csto_sim.core.scenario import ScenarioError
from csto_sim.experiments.engines import run_chunk
from csto_sim.experiments.results import read_table
from csto_sim.inference.posterior import Posterior, PosteriorError, load_posterior

WEAK = BASELINE.parent / "russia_weakened.toml"


def _file(tmp_path, text: str):
    path = tmp_path / "posterior.csv"
    path.write_text(text)
    return path


@pytest.fixture
def posterior_file(tmp_path):
    return _file(
        tmp_path,
        "response_base,freeze_threshold,weight\n-7.0,0.30,1\n-3.0,0.60,3\n-5.0,0.45,0\n",
    )


HUGE = 10**400
"""An integer too large for a float."""

BAD = {
    "unknown column": ("response_bse,weight\n1,1\n", "line 1, column 'response_bse': unknown column (expected behavioural parameters, judgements as @ID, and weight); did you mean 'response_base'?"),
    "column twice": ("response_base,response_base\n1,1\n", "line 1, column 'response_base': appears twice"),
    "table parameter": ("charter_fit\n0.5\n", "line 1, column 'charter_fit': a parameter given per kind"),
    "unknown judgement": ("@hindcast.trus\n0.5\n", "line 1, column '@hindcast.trus': unknown judgement 'hindcast.trus' (did you mean 'hindcast.trust'?)"),
    "not a reference": ("@ hindcast.trust\n0.5\n", "line 1, column '@ hindcast.trust': unknown column"),
    "only weights": ("weight\n1\n", "line 1: no parameter or judgement column"),
    "empty": ("", "empty: expected a header line naming the columns"),
    "header only": ("response_base,weight\n", "no samples: expected rows of numbers after the header"),
    "not UTF-8": (b"response_base\n-5\xff\n", "not UTF-8 text (byte 16 is 0xff)"),
    "few fields": ("response_base,weight\n-5,1\n-5\n", "line 3: 1 fields, expected 2 (one per column)"),
    "many fields": ("response_base,weight\n-5,1,1\n", "line 2: 3 fields, expected 2"),
    "nan": ("response_base,weight\nnan,1\n", "line 2, column 'response_base': expected a finite number, got 'nan'"),
    "text": ("response_base,weight\n-5,1\nlow,1\n", "line 3, column 'response_base': expected a finite number, got 'low'"),
    "empty cell": ("response_base,weight\n,1\n", "line 2, column 'response_base': expected a finite number, got ''"),
    "huge integer parameter": (f"response_base\n{HUGE}\n", "line 2, column 'response_base': expected a finite number, got '1000"),
    "huge integer count": (f"collapse_min_active\n{HUGE}\n", "line 2, column 'collapse_min_active': expected a finite number"),
    "huge integer weight": (f"response_base,weight\n-5,{HUGE}\n", "line 2, column 'weight': expected a finite number"),
    "infinite weight": ("response_base,weight\n-5,1e400\n", "line 2, column 'weight': expected a finite number, got '1e400'"),
    "negative weight": ("response_base,weight\n-5,1\n-5,-1\n", "line 3, column 'weight': a weight is at least 0; got -1"),
    "zero weights": ("response_base,weight\n-5,0\n-6,0\n", "weight: every weight is 0"),
    "parameter out of range": ("freeze_threshold\n0.5\n1.5\n", "line 3, column 'freeze_threshold': Input should be less than or equal to 1 (got 1.5)"),
    "fractional count": ("collapse_min_active\n2.5\n", "line 2, column 'collapse_min_active': Input should be a valid integer (got 2.5)"),
    "levels out of order": ("level_statement,level_mission\n1,2\n", "line 2: Value error, response levels out of order"),
    "judgement out of range": ("@hindcast.leverage.Belarus\n0.8\n0.5\n", "line 3, column '@hindcast.leverage.Belarus': 0.5 is outside the judgement's range [0.7, 1]"),
}  # fmt: skip
"""Damaged posterior files, and what each is refused with (after the file's name)."""


@pytest.mark.parametrize("case", BAD, ids=str)
def test_bad_posterior_files_are_refused_naming_file_line_and_column(tmp_path, case):
    content, says = BAD[case]
    path = tmp_path / "posterior.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(PosteriorError) as exc:
        load_posterior(path)
    assert str(exc.value).startswith(f"{path}: {says}"), str(exc.value)


@pytest.mark.parametrize("case", ["nan", "huge integer count", "not UTF-8"])
def test_a_bad_posterior_fails_a_command_in_one_line(tmp_path, capsys, case):
    path = _file(tmp_path, "")
    content = BAD[case][0]
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    args = ["run", str(BASELINE), "--runs", "2", "--posterior", str(path)]
    assert main([*args, "--out", str(tmp_path / "r")]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"csto-sim: --posterior: {path}: {BAD[case][1]}"), line


def test_odd_but_readable_posterior_files_load(tmp_path):
    """A byte-order mark, blank lines, CRLF line ends, quoted cells and weights near the
    largest float are read; whole numbers stay whole (as the table reader read them, so the
    digest of a file is unchanged)."""
    path = _file(tmp_path, "")
    text = (
        '\ufeffresponse_base,collapse_min_active,weight\r\n\r\n-5,2,1e308\r\n"-6",3,1e308\r\n\r\n'
    )
    path.write_text(text, encoding="utf-8", newline="")
    post = load_posterior(path)
    np.testing.assert_allclose(post.weights, [0.5, 0.5])
    assert post.samples.to_dict("list") == {
        "response_base": [-5, -6],
        "collapse_min_active": [2, 3],
    }
    assert post.samples["collapse_min_active"].dtype == np.int64
    assert load_posterior(path).digest() == post.digest()


def test_draws_follow_weights_share_samples_and_never_take_a_zero_weight(posterior_file):
    post = load_posterior(posterior_file, runs_per_draw=4)
    np.testing.assert_allclose(post.weights, [0.25, 0.75, 0.0])
    samples = [post.sample_of(7, r) for r in range(400)]
    assert 2 not in samples
    for r in range(0, 400, 4):
        assert len(set(samples[r : r + 4])) == 1  # a draw's runs share their sample
    share = np.mean(np.array(samples[::4]) == 1)
    assert 0.6 < share < 0.9  # about 0.75 over 100 draws
    assert post.sample_of(7, 5) == load_posterior(posterior_file, 4).sample_of(7, 5)


@pytest.mark.slow
def test_runs_over_a_posterior_are_the_sample_scenarios_runs_exactly(posterior_file):
    spec = load_scenario(BASELINE)
    post = load_posterior(posterior_file, runs_per_draw=2)
    runs = list(range(6))
    tables = run_chunk(spec, runs, 11, posterior=post)
    assert list(tables["runs"]["run"]) == runs
    for sample, mine in tables["runs"].groupby("sample"):  # a run takes its history's draw
        assert list(mine["sample"]) == [post.sample_of(11, j) for j in mine["history"]]
        group, past = list(mine["run"]), list(mine["history"])
        alone = run_chunk(post.scenario_for(spec, sample), group, 11, sources=past)
        pd.testing.assert_frame_equal(
            mine.drop(columns=["draw", "sample"]).reset_index(drop=True),
            alone["runs"],
            check_exact=True,
        )
    agents = run_chunk(spec, runs, 11, engine="agents", posterior=post)
    for t in tables:
        pd.testing.assert_frame_equal(tables[t], agents[t], check_exact=True, obj=t)


def test_common_random_numbers_hold_across_scenarios_over_a_posterior(posterior_file):
    post = load_posterior(posterior_file, runs_per_draw=3)
    a = run_chunk(load_scenario(BASELINE), range(6), 4, posterior=post)["runs"]
    b = run_chunk(load_scenario(WEAK), range(6), 4, posterior=post)["runs"]
    assert list(a["sample"]) == list(b["sample"]) and list(a["seed"]) == list(b["seed"])


def test_fixing_keeps_a_parameter_whatever_the_sample(posterior_file):
    post = load_posterior(posterior_file).fixing({"response_base": -9.0})
    spec = load_scenario(BASELINE)
    for i in range(3):
        assert post.scenario_for(spec, i).parameters.response_base == -9.0


@pytest.mark.slow
def test_the_posterior_is_part_of_the_identity_and_the_report_says_so(
    tmp_path, posterior_file, capsys
):
    out = tmp_path / "c"
    args = ["compare", str(BASELINE), str(WEAK), "--runs", "8", "--workers", "1", "--quiet"]
    args += ["--out", str(out), "--format", "csv"]
    assert (
        main([*args, "--posterior", str(posterior_file), "--runs-per-draw", "2", "--no-plots"]) == 0
    )
    report = (out / "report.md").read_text()
    assert "average over parameter uncertainty and the dice" in report
    assert "not how far it moves over the parameters' range" in report
    assert "Parameters against dice" in report
    assert main([*args, "--resume", "--no-plots"]) == 2  # without the posterior: refused
    assert "other posterior" in capsys.readouterr().err


def test_a_point_ensemble_report_says_its_intervals_are_dice_only(tmp_path):
    out = tmp_path / "p"
    args = ["compare", str(BASELINE), str(WEAK), "--runs", "4", "--workers", "1", "--quiet"]
    assert main([*args, "--out", str(out), "--no-plots", "--posterior", "none"]) == 0
    assert "cover the dice (Monte-Carlo variation) only" in (out / "report.md").read_text()


def test_parameter_uncertainty_splits_between_and_within_draws():
    runs = pd.DataFrame(
        {
            "scenario": ["ref"] * 4 + ["alt"] * 4,
            "run": [0, 1, 2, 3] * 2,
            "status": "ok",
            "draw": [0, 0, 1, 1] * 2,
            "cohesion_final": [0.5, 0.5, 0.5, 0.5, 0.4, 0.2, 0.5, 0.3],
        }
    )
    t = parameter_uncertainty(runs, "ref", ("cohesion_final",)).iloc[0]
    assert t["mean_difference"] == pytest.approx(-0.15)
    # the draws' means differ by no more than their runs' dice explain: no parameter part
    assert t["sd_parameters"] == 0.0
    assert t["sd_dice"] == pytest.approx(np.sqrt((0.02 + 0.02) / 2))
    assert parameter_uncertainty(runs.drop(columns="draw"), "ref").empty
    apart = runs.assign(cohesion_final=[0, 0, 0, 0, 1, 3, -1, -3])
    t = parameter_uncertainty(apart, "ref", ("cohesion_final",)).iloc[0]
    # means 2 and -2 (variance 8), runs varying by 2 within a draw of two (1 in a mean)
    assert t["sd_parameters"] == pytest.approx(np.sqrt(8 - 1))


def test_the_digest_changes_with_samples_weights_and_draw_size(posterior_file):
    post = load_posterior(posterior_file)
    assert isinstance(post, Posterior) and len(post.digest()) == 64
    assert post.digest() == load_posterior(posterior_file).digest()
    assert post.digest() != load_posterior(posterior_file, runs_per_draw=3).digest()
    assert post.digest() != post.fixing({"response_base": -9.0}).digest()
    other = Posterior(post.samples, post.weights[::-1].copy(), post.source, post.runs_per_draw)
    assert post.digest() != other.digest()


def test_scenarios_name_their_posterior_and_the_ensemble_follows(tmp_path, posterior_file):
    from csto_sim.inference.posterior import NONE, choose_posterior, named

    base = load_scenario(BASELINE)
    assert base.posterior == "production" and base.history.posterior == "validation"
    assert choose_posterior([base]).source == str(named("production"))
    assert choose_posterior([base], "validation").source == str(named("validation"))
    assert choose_posterior([base], "shipped").source == str(named("production"))  # old name
    assert choose_posterior([base], NONE) is None
    assert choose_posterior([base], posterior_file).source == str(posterior_file)
    mine = tmp_path / "mine.toml"
    mine.write_text(f'extends = "{BASELINE}"\nname = "mine"\nposterior = "{posterior_file.name}"\n')
    spec = load_scenario(mine)
    assert spec.posterior == str(posterior_file.resolve())
    assert spec.digest() == base.model_copy(update={"name": "mine"}).digest()  # not content
    with pytest.raises(PosteriorError, match="different posteriors"):
        choose_posterior([base, spec])
    missing = tmp_path / "missing.toml"
    missing.write_text(f'extends = "{BASELINE}"\nname = "x"\nposterior = "nope.csv"\n')
    with pytest.raises(ScenarioError, match="posterior file 'nope.csv' does not exist"):
        load_scenario(missing)


@pytest.mark.parametrize("name", ["validation", "production"])
def test_the_shipped_posteriors_load_and_cover_parameters_and_judgements(name):
    from csto_sim.core import judgements
    from csto_sim.hindcast.calibration import SEARCHED
    from csto_sim.inference.posterior import named

    post = load_posterior(named(name))
    columns = set(post.samples.columns)
    assert set(SEARCHED) <= columns
    assert {"@" + k for k in judgements.uncertain()} <= columns
    assert len(post.weights) >= 100 and np.isclose(post.weights.sum(), 1.0)


def test_an_old_posterior_name_is_noted_in_one_line(tmp_path, capsys):
    old = tmp_path / "old.toml"
    old.write_text(f'extends = "{BASELINE}"\nname = "old"\nposterior = "shipped"\n')
    args = ["run", str(old), "--runs", "2", "--workers", "1", "--out", str(tmp_path / "r")]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "note: posterior 'shipped' is now called \"production\"" in err
    runs = read_table(tmp_path / "r", "runs")
    assert "sample" in runs  # it drew from the production posterior


@pytest.mark.slow
def test_a_parameter_the_scenario_sets_is_fixed_the_others_drawn(tmp_path, posterior_file):
    mine = tmp_path / "mine.toml"
    mine.write_text(f'extends = "{BASELINE}"\nname = "mine"\n[parameters]\nresponse_base = 2.0\n')
    post = load_posterior(posterior_file)
    spec = load_scenario(mine)
    assert post.fixed_by(spec) == {"response_base": 2.0}
    assert post.drawn_for(spec) == ["freeze_threshold"]
    for i in range(3):
        drawn = post.scenario_for(spec, i).parameters
        assert drawn.response_base == 2.0
        assert drawn.freeze_threshold == post.samples["freeze_threshold"].iloc[i]
    out = tmp_path / "c"
    args = ["compare", str(BASELINE), str(mine), "--runs", "20", "--workers", "1", "--quiet"]
    args += ["--out", str(out), "--posterior", str(posterior_file), "--no-plots"]
    assert main(args) == 0
    report = (out / "report.md").read_text()
    assert "In mine, parameters set by the scenario stay fixed in every run" in report
    assert "`response_base` = 2" in report and "In baseline" not in report
    runs = read_table(out, "runs").groupby("scenario")["responses"].sum()
    assert runs["mine"] > runs["baseline"]  # the set value changes the result


def test_a_parameter_set_at_its_default_value_is_fixed_too(tmp_path, posterior_file):
    """A value the user sets wins even when it equals the default: in a file, in code
    (with_parameters, a CSTOModel keyword), and after judgements change other numbers; a
    parameter nobody sets is drawn."""
    from csto_sim import CSTOModel
    from csto_sim.core.parameters import Parameters

    default = Parameters().freeze_threshold
    post = load_posterior(posterior_file)
    mine = tmp_path / "mine.toml"
    mine.write_text(
        f'extends = "{BASELINE}"\nname = "mine"\n[parameters]\nfreeze_threshold = {default}\n'
    )
    in_file = load_scenario(mine)
    in_code = load_scenario(BASELINE).with_parameters(freeze_threshold=default)
    judged = in_code.with_judgements({"baseline.leader_distraction": 0.3})
    for spec in (in_file, in_code, judged):
        assert post.fixed_by(spec) == {"freeze_threshold": default}
        assert post.scenario_for(spec, 1).parameters.freeze_threshold == default
    assert post.fixed_by(load_scenario(BASELINE)) == {}
    model = CSTOModel(BASELINE, run=1, posterior=posterior_file, freeze_threshold=default)
    assert model.spec.parameters.freeze_threshold == default
    assert post.samples["freeze_threshold"].nunique() > 1  # a draw would have moved it


def test_a_posterior_that_is_not_a_regular_file_or_has_huge_weights(tmp_path):
    """A FIFO is refused before it is opened (reading one would wait forever); weights near
    the largest float are scaled, not summed into infinity."""
    import os

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(PosteriorError, match="not a regular file"):
        load_posterior(fifo)
    big = tmp_path / "big.csv"
    pd.DataFrame({"response_base": [-5.0, -6.0], "weight": [1e308, 1e308]}).to_csv(big, index=False)
    np.testing.assert_allclose(load_posterior(big).weights, [0.5, 0.5])


def test_parameter_uncertainty_counts_the_dice_of_draws_of_one_run():
    """Sets of one run carry the dice in full: the dice's share of the spread of the sets'
    means counts every set (runs of one posterior sample form one set, whatever their draw)."""
    runs = pd.DataFrame(
        {
            "scenario": ["ref"] * 6 + ["alt"] * 6,
            "run": list(range(6)) * 2,
            "status": "ok",
            "draw": [0, 1, 2, 3, 4, 5] * 2,  # one run per draw ...
            "sample": [7, 7, 8, 8, 9, 4] * 2,  # ... but two draws share samples 7 and 8
            "cohesion_final": [0.0] * 6 + [1.0, 3.0, -1.0, -3.0, 2.0, 0.0],
        }
    )
    t = parameter_uncertainty(runs, "ref", ("cohesion_final",)).iloc[0]
    assert (t["draws"], t["replicated"]) == (4, 2)
    # the sets' means 2, -2, 2, 0 (variance 11/3); the dice's variance 2 (pooled over the two
    # sets of two runs) puts 2 * mean(1/2, 1/2, 1, 1) = 1.5 into them
    assert t["sd_dice"] == pytest.approx(np.sqrt(2.0))
    assert t["sd_parameters"] == pytest.approx(np.sqrt(11 / 3 - 1.5))
    alone = parameter_uncertainty(runs.drop(columns="sample"), "ref", ("cohesion_final",))
    assert np.isnan(alone.iloc[0]["sd_dice"]) and np.isnan(alone.iloc[0]["sd_parameters"])
