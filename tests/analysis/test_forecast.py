"""Dated forecasts: questions answered from run tables, exact small cases, and scores
checked against hand-computed Brier and log scores."""

from __future__ import annotations

import datetime as dt
import math
import os

import numpy as np
import pandas as pd
import pytest
from conftest import BASELINE, ROOT

from csto_sim.analysis.forecast import (
    ForecastError,
    Question,
    happened,
    interval,
    load_questions,
    read_forecast,
    read_resolutions,
    score,
)
from csto_sim.cli import main

QUESTIONS = ROOT / "forecasts" / "questions_2026_2030.toml"


def _timeseries() -> pd.DataFrame:
    """Three runs, two members, steps at 2025.0, 2026.0, 2027.0, 2028.0."""
    status = {
        # run 0: Armenia frozen at the start and stays frozen; Kyrgyzstan freezes at 2027.0
        (0, "Armenia"): ["frozen"] * 4,
        (0, "Kyrgyzstan"): ["active", "active", "frozen", "frozen"],
        # run 1: Armenia withdraws at 2028.0 (after the end of 2027 ... it is the state at 2028.0)
        (1, "Armenia"): ["frozen", "frozen", "frozen", "withdrawn"],
        (1, "Kyrgyzstan"): ["active"] * 4,
        # run 2: Armenia withdraws at 2026.0 and returns
        (2, "Armenia"): ["frozen", "withdrawn", "active", "active"],
        (2, "Kyrgyzstan"): ["active"] * 4,
    }
    rows = [
        {"run": r, "member": m, "step": i, "year": 2025.0 + i, "status": s}
        for (r, m), seq in status.items()
        for i, s in enumerate(seq)
    ]
    return pd.DataFrame(rows)


def _events() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "run": [0, 1, 1, 2],
            "year": [2025.5, 2027.75, 2028.0, 2026.0],
            "member": ["Kyrgyzstan", "Armenia", "Kyrgyzstan", "Armenia"],
            "requested": [True, True, True, False],
            "level": ["deployment", "statement", "peacekeeping", "none"],
        }
    )


def _question(**kw) -> Question:
    return Question(id="q", text="?", **kw)


def test_status_questions_count_entries_after_the_start_by_the_date() -> None:
    ts, ev = _timeseries(), _events()
    leaves_2026 = _question(members=["Armenia"], status=["withdrawn"], by=dt.date(2026, 12, 31))
    leaves_2027 = _question(members=["Armenia"], status=["withdrawn"], by=dt.date(2027, 12, 31))
    freezes = _question(
        members=["Armenia", "Kyrgyzstan"], status=["frozen"], by=dt.date(2030, 1, 1)
    )
    assert happened(leaves_2026, ts, ev).tolist() == [False, False, True]
    # the state at 2028.0 is the state at the end of 2027
    assert happened(leaves_2027, ts, ev).tolist() == [False, True, True]
    # Armenia frozen from the start has not frozen; Kyrgyzstan froze in run 0
    assert happened(freezes, ts, ev).tolist() == [True, False, False]


def test_a_move_between_listed_statuses_enters_the_second() -> None:
    """Frozen at the start, Armenia has not entered [frozen, withdrawn]; withdrawing later
    enters withdrawn, one of the listed statuses (it counted as nothing)."""
    ts, ev = _timeseries(), _events()
    out = _question(members=["Armenia"], status=["frozen", "withdrawn"], by=dt.date(2027, 12, 31))
    assert happened(out, ts, ev).tolist() == [False, True, True]


def test_a_status_question_dated_within_a_year_counts_its_last_quarter() -> None:
    """With quarterly steps, a withdrawal in the step from 2027.25 to 2027.5 (the state at
    2027.5) happened by 30 June 2027, as an event of that step does; one in the next step
    did not."""
    years = [2027.0, 2027.25, 2027.5, 2027.75]
    ts = pd.DataFrame(
        {
            "run": np.repeat([0, 1], 4),
            "member": "Armenia",
            "step": np.tile(range(4), 2),
            "year": np.tile(years, 2),
            "status": ["frozen", "frozen", "withdrawn", "withdrawn"]
            + ["frozen", "frozen", "frozen", "withdrawn"],
        }
    )
    leaves = _question(members=["Armenia"], status=["withdrawn"], by=dt.date(2027, 6, 30))
    assert happened(leaves, ts, _events()).tolist() == [True, False]


def test_request_and_response_questions_read_the_events() -> None:
    ts, ev = _timeseries(), _events()
    by_2027 = dt.date(2027, 12, 31)
    assert happened(_question(request=True, by=by_2027), ts, ev).tolist() == [True, True, False]
    asks = _question(request=True, members=["Kyrgyzstan"], by=by_2027)
    assert happened(asks, ts, ev).tolist() == [True, False, False]
    deploys = _question(response="deployment", by=by_2027)
    assert happened(deploys, ts, ev).tolist() == [True, False, False]  # 2028.0 is too late
    deploys_2028 = _question(response="deployment", by=dt.date(2028, 12, 31))
    assert happened(deploys_2028, ts, ev).tolist() == [True, True, False]


def test_a_question_has_exactly_one_kind() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        _question(request=True, response="mission", by=dt.date(2027, 1, 1))
    with pytest.raises(ValueError, match="names its members"):
        _question(status=["frozen"], by=dt.date(2027, 1, 1))
    with pytest.raises(ValueError, match="'Armenia' is listed twice"):
        _question(members=["Armenia", "Armenia"], status=["frozen"], by=dt.date(2027, 1, 1))


def test_interval_resamples_whole_clusters() -> None:
    hits = np.array([1, 1, 0, 0, 1, 0], dtype=bool)
    same = np.zeros(6, dtype=int)  # one cluster: no Monte Carlo spread left
    assert interval(hits, same) == (0.5, 0.5)
    low, high = interval(hits, np.arange(6))
    assert 0.0 <= low < 0.5 < high <= 1.0
    assert interval(hits, np.arange(6)) == (low, high)  # a fixed seed


def test_scores_match_hand_computed_brier_and_log_scores(tmp_path) -> None:
    forecast = tmp_path / "forecast.csv"
    forecast.write_text("id,probability\na,0.8\nb,0.25\nc,0\nd,0.5\n")
    resolutions = tmp_path / "resolutions.csv"
    resolutions.write_text("id,outcome,date\na,yes,2027-12-31\nb,No,2028-12-31\nc,yes,\nd,,\n")
    table = score(read_forecast(forecast), read_resolutions(resolutions)).set_index("id")
    assert list(table.index) == ["a", "b", "c"]  # d is not yet resolved
    assert table["brier"].tolist() == pytest.approx([0.04, 0.0625, 1.0])
    expected_log = [-math.log(0.8), -math.log(0.75), -math.log(0.001)]
    assert table["log_score"].tolist() == pytest.approx(expected_log)
    assert table["date"].tolist()[:2] == ["2027-12-31", "2028-12-31"]  # kept beside the scores


def test_score_command_prints_the_scores_and_means(tmp_path, capsys) -> None:
    (tmp_path / "forecast.csv").write_text("id,probability\na,0.8\nb,0.3\n")
    (tmp_path / "resolutions.csv").write_text("id,outcome\na,yes\nb,no\n")
    out = tmp_path / "scores.csv"
    assert main(["score", str(tmp_path), str(tmp_path / "resolutions.csv"), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "2 of 2 questions resolved" in text
    # by hand: Brier (0.2^2 + 0.3^2) / 2 = 0.065; log score (-ln 0.8 - ln 0.7) / 2 = 0.28991
    assert "mean Brier 0.0650, mean log score 0.2899" in text
    assert pd.read_csv(out)["brier"].tolist() == pytest.approx([0.04, 0.09])


@pytest.mark.parametrize(
    ("forecast", "resolutions", "names"),
    [
        ("id,probability\na,1.5\n", "id,outcome\na,yes\n", "forecast.csv: line 2, probability"),
        ("id,probability\na,nan\n", "id,outcome\na,yes\n", "forecast.csv: line 2, probability"),
        ("id,probability\na,0.5\n", "id,outcome\na,maybe\n", "resolutions.csv: line 2, outcome"),
        ("id,p\na,0.5\n", "id,outcome\na,yes\n", "forecast.csv: no column 'probability'"),
        ("id,probability\na,0.5\n", 'id,outcome\na,"yes\n', "resolutions.csv: line 2: not CSV"),
        ("id,probability\na,0.5\n", "id,outcome\na,yes,x\n", "resolutions.csv: line 2: 3 fields"),
        ("id,probability\n\x00,0.5\n", "id,outcome\na,yes\n", "forecast.csv: line 2, id"),
        (
            "id,probability\na,0.5\n",
            "id,outcome\na,yes\nb_typo,no\n",
            "resolutions.csv: line 3, id: 'b_typo' is not a question of the forecast (a)",
        ),
        (
            "id,probability\na,0.5\na,0.2\n",
            "id,outcome\na,yes\n",
            "forecast.csv: line 3, id: 'a' appears twice",
        ),
    ],
)
def test_bad_forecast_or_resolution_files_exit_2_naming_them(
    tmp_path, capsys, forecast, resolutions, names
) -> None:
    (tmp_path / "forecast.csv").write_text(forecast)
    (tmp_path / "resolutions.csv").write_text(resolutions)
    code = main(["score", str(tmp_path / "forecast.csv"), str(tmp_path / "resolutions.csv")])
    err = capsys.readouterr().err
    assert code == 2 and names in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_the_shipped_questions_load_and_name_members_of_their_scenario() -> None:
    questions, scenario = load_questions(QUESTIONS)
    assert scenario.resolve() == (ROOT / "scenarios" / "baseline.toml").resolve()
    assert len(questions.questions) >= 5


def test_a_bad_question_file_names_the_key(tmp_path, capsys) -> None:
    path = tmp_path / "q.toml"
    path.write_text(
        f'scenario = "{(ROOT / "scenarios" / "baseline.toml").as_posix()}"\n'
        '[[questions]]\nid = "x"\ntext = "?"\nby = 2027-12-31\nmembers = ["Narnia"]\n'
        'status = ["withdrawn"]\n'
    )
    assert main(["forecast", str(path), "--runs", "2", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "q.toml: questions[0].members: ['Narnia']" in err
    path.write_text(path.read_text().replace("Narnia", "Armenja"))
    assert main(["forecast", str(path), "--runs", "2", "--out", str(tmp_path / "o")]) == 2
    assert "(did you mean 'Armenia'?)" in capsys.readouterr().err
    with pytest.raises(ForecastError, match=r"questions\[0\]\.by \(line 5\)"):
        path.write_text(
            'scenario = "s.toml"\n[[questions]]\nid = "x"\ntext = "?"\nby = "soon"\nrequest = true\n'
        )
        load_questions(path)


def test_a_forecast_without_questions_is_refused(tmp_path, capsys) -> None:
    forecast, resolutions = tmp_path / "f.csv", tmp_path / "r.csv"
    forecast.write_text("id,probability\n")
    resolutions.write_text("id,outcome\n")
    assert main(["score", str(forecast), str(resolutions)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"csto-sim: {forecast}: no questions (a forecast file has a row per question)"]


def test_scores_never_overwrite_their_inputs(tmp_path, capsys) -> None:
    forecast, resolutions = tmp_path / "forecast.csv", tmp_path / "resolutions.csv"
    forecast.write_text("id,probability\na,0.8\n")
    resolutions.write_text("id,outcome\na,yes\n")
    for out in (forecast, resolutions):
        assert main(["score", str(tmp_path), str(resolutions), "--out", str(out)]) == 2
        assert "is an input of this command" in capsys.readouterr().err
    assert forecast.read_text() == "id,probability\na,0.8\n"
    assert resolutions.read_text() == "id,outcome\na,yes\n"


@pytest.mark.parametrize(
    ("line", "names"),
    [
        (
            "by = 2020-01-01\nrequest = true",
            "questions[0].by: 2020-01-01 is outside the projection",
        ),
        (
            "by = 2099-01-01\nrequest = true",
            "questions[0].by: 2099-01-01 is outside the projection",
        ),
        (  # the end of the projection is the start of its last year: it answers to the day before
            "by = 2040-01-01\nrequest = true",
            "its dates run from 2025-01-01 to 2039-12-31",
        ),
        ('by = 2027-12-31\nrequest = "yes"', "questions[0].request"),
        ("by = 2027\nrequest = true", "questions[0].by (line 5): expected a date such as"),
        ("by = 2027.5\nrequest = true", "questions[0].by (line 5): expected a date such as"),
        (
            'by = 2027-12-31\nrequest = true\n[[questions]]\nid = "x"\ntext = "?"\n'
            "by = 2028-12-31\nrequest = true",
            "q.toml: questions[1].id: 'x' repeats questions[0].id",
        ),
        (  # a misspelt key is named, with the key it misses
            'by = 2027-12-31\nrequest = true\n[[questions]]\nid = "y"\ntxt = "?"\n'
            "by = 2028-12-31\nrequest = true",
            "q.toml: questions[1].txt (line 9): not a key here (did you mean 'text'?)",
        ),
    ],
)
def test_a_question_outside_the_projection_or_a_lax_boolean_is_refused(
    tmp_path, capsys, line, names
) -> None:
    path = tmp_path / "q.toml"
    baseline = (ROOT / "scenarios" / "baseline.toml").as_posix()
    path.write_text(f'scenario = "{baseline}"\n[[questions]]\nid = "x"\ntext = "?"\n{line}\n')
    assert main(["forecast", str(path), "--runs", "2", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and names in err[0], err
    assert not (tmp_path / "o").exists()  # refused before any work


@pytest.mark.slow
def test_forecast_writes_probabilities_intervals_and_provenance(tmp_path) -> None:
    out = tmp_path / "f"
    assert main(["forecast", str(QUESTIONS), "--runs", "20", "--out", str(out), "--quiet"]) == 0
    table = pd.read_csv(out / "forecast.csv")
    questions, _ = load_questions(QUESTIONS)
    assert table["id"].tolist() == [q.id for q in questions.questions]
    assert ((table["low"] <= table["probability"]) & (table["probability"] <= table["high"])).all()
    assert table["posterior"].str.startswith("production").all()
    assert (table["ess"] > 0).all() and table["commit"].notna().all()
    assert (table["runs"] == 20).all() and (table["samples"] <= table["draws"]).all()
    assert (table["accepted"] <= table["histories"]).all() and table["fixed"].isna().all()


def test_two_question_files_of_one_projection_keep_their_own_forecasts(
    tmp_path, monkeypatch
) -> None:
    """Without --out each question file gets its own folder (the second replaced the
    first's forecast.csv in the one folder of the projection's runs)."""
    monkeypatch.chdir(tmp_path)
    text = QUESTIONS.read_text(encoding="utf-8").replace(
        'scenario = "../scenarios/baseline.toml"', f'scenario = "{BASELINE.as_posix()}"'
    )
    (tmp_path / "a.toml").write_text(text, encoding="utf-8")
    (tmp_path / "b.toml").write_text(text.replace('id = "armenia_', 'id = "b_armenia_'))
    for name in ("a.toml", "b.toml"):
        assert main(["forecast", name, "--runs", "2", "--workers", "1", "--quiet"]) == 0
    folders = sorted((tmp_path / "results" / "forecast").iterdir())
    assert [f.name.split("-")[0] for f in folders] == ["baseline+a", "baseline+b"]
    ids = [pd.read_csv(f / "forecast.csv")["id"].iloc[0] for f in folders]
    assert ids == ["armenia_leaves_by_2027", "b_armenia_leaves_by_2027"]


def test_a_second_question_file_into_one_out_is_refused(tmp_path, monkeypatch, capsys) -> None:
    """With --out, the second file would replace the first's forecast.csv unannounced."""
    monkeypatch.chdir(tmp_path)
    text = QUESTIONS.read_text(encoding="utf-8").replace(
        'scenario = "../scenarios/baseline.toml"', f'scenario = "{BASELINE.as_posix()}"'
    )
    (tmp_path / "a.toml").write_text(text, encoding="utf-8")
    (tmp_path / "b.toml").write_text(text.replace('id = "armenia_', 'id = "b_armenia_'))
    args = ["--runs", "2", "--workers", "1", "--quiet", "--out", "f"]
    assert main(["forecast", "a.toml", *args]) == 0
    before = (tmp_path / "f" / "forecast.csv").read_text()
    capsys.readouterr()
    assert main(["forecast", "b.toml", *args]) == 2
    assert "answers other questions (armenia_leaves_by_2027" in capsys.readouterr().err
    assert (tmp_path / "f" / "forecast.csv").read_text() == before
    assert main(["forecast", "a.toml", *args]) == 0  # the same questions again: reused
    assert main(["forecast", "b.toml", *args, "--overwrite"]) == 0
    assert pd.read_csv(tmp_path / "f" / "forecast.csv")["id"].iloc[0] == "b_armenia_leaves_by_2027"


def test_a_question_file_naming_no_scenario_file_is_blamed(tmp_path, capsys) -> None:
    path = tmp_path / "q.toml"
    path.write_text(
        'scenario = "nosuch.toml"\n[[questions]]\nid = "x"\ntext = "?"\n'
        "by = 2027-12-31\nrequest = true\n"
    )
    assert main(["forecast", str(path), "--runs", "2", "--out", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err.startswith(f"csto-sim: {path}: scenario: no scenario file")


def test_a_fifo_or_a_folder_is_refused_at_once(tmp_path, capsys) -> None:
    fifo = tmp_path / "q.toml"
    os.mkfifo(fifo)
    assert main(["forecast", str(fifo), "--runs", "2"]) == 2
    assert "q.toml: not a regular file" in capsys.readouterr().err
    (tmp_path / "r").mkdir()
    (tmp_path / "forecast.csv").write_text("id,probability\na,0.5\n")
    assert main(["score", str(tmp_path / "forecast.csv"), str(tmp_path / "r")]) == 2
    assert "r: a folder, not a resolution file" in capsys.readouterr().err


@pytest.mark.slow
def test_forecast_asks_the_questions_of_another_projection(tmp_path) -> None:
    out = tmp_path / "w"
    weak = ROOT / "scenarios" / "russia_weakened.toml"
    args = ["forecast", str(QUESTIONS), "--scenario", str(weak), "--runs", "5", "--out", str(out)]
    assert main([*args, "--quiet"]) == 0
    assert (pd.read_csv(out / "forecast.csv")["scenario"] == "russia_weakened").all()


@pytest.mark.slow
def test_a_parameter_the_scenario_sets_is_named_as_not_drawn(tmp_path) -> None:
    mine = tmp_path / "mine.toml"
    base = (ROOT / "scenarios" / "baseline.toml").as_posix()
    mine.write_text(f'extends = "{base}"\n[parameters]\nfreeze_threshold = 0.4\n')
    out = tmp_path / "w"
    args = ["forecast", str(QUESTIONS), "--scenario", str(mine), "--runs", "5", "--out", str(out)]
    assert main([*args, "--quiet"]) == 0
    assert (pd.read_csv(out / "forecast.csv")["fixed"] == "freeze_threshold = 0.4").all()


def test_the_printed_forecast_says_what_its_intervals_cover() -> None:
    from csto_sim.cli.forecast import format_forecast, too_few

    row = {
        "scenario": "baseline",
        "runs": 50,
        "draws": 50,
        "samples": 40,
        "fixed": "",
        "histories": None,
        "accepted": None,
        "ess": None,
        "commit": "abc",
        "probability": 0.5,
        "low": 0.4,
        "high": 0.6,
        "id": "q",
        "question": "?",
    }
    none = format_forecast(pd.DataFrame([row | {"posterior": "none"}]))
    assert "own parameters (no posterior)" in none and "over runs (dice only)" in none
    assert "posterior" not in none.replace("no posterior", "") and "not conditioned" in none
    drawn = pd.DataFrame([row | {"posterior": "production (sha256 x)"}])
    text = format_forecast(drawn)
    assert "50 draws of 40 posterior samples (production" in text
    assert "posterior samples (parameters and dice)" in text and "set by the scenario" not in text
    assert too_few(drawn) == ""  # nothing conditioned: nothing to warn of
    filtered = row | {"posterior": "x", "fixed": "freeze_threshold = 0.4"}
    filtered |= {"histories": 1200, "accepted": 1127, "ess": 87.3}
    text = format_forecast(pd.DataFrame([filtered]))
    assert "1200 histories simulated, 1127 accepted, effective sample size 87.3" in text
    assert "set by the scenario, not drawn: freeze_threshold = 0.4" in text
    assert "effective sample size 87.3 < 100" in too_few(pd.DataFrame([filtered]))
    assert too_few(pd.DataFrame([filtered | {"ess": 100.0}])) == ""
