"""Shared paths, fixtures and Hypothesis profiles of the test suite.

Tests are laid out like the package (``core/``, ``abm/``, ``experiments/``, ``analysis/``,
``hindcast/``, ``viz/``, ``cli/``); repository-wide checks (documentation, notebooks) sit
at the top. Import the paths with ``from conftest import ROOT, SCENARIOS, BASELINE``.

Hypothesis runs under the ``ci`` profile unless ``--hypothesis-profile`` names another: the
same examples on every run and machine (``derandomize``), no example database (no failing
case saved in ``.hypothesis/`` to replay on the next run) and no deadline (the suite shares
busy machines; a test that must be fast says so itself). To look for new failing cases, draw
at random (``random``: a new draw each run, or the one ``--hypothesis-seed`` names)::

    python -m pytest tests/core -p no:cacheprovider --hypothesis-profile=random --hypothesis-seed=7

and keep each case found as an ``@example`` of its test.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None, deadline=None, print_blob=True)
settings.register_profile(
    "random", derandomize=False, database=None, deadline=None, print_blob=True
)
settings.load_profile("ci")  # the hypothesis plugin loads --hypothesis-profile after this

ROOT = Path(__file__).resolve().parents[1]
"""The repository folder."""

SCENARIOS = ROOT / "scenarios"
"""The bundled scenario files."""

BASELINE = SCENARIOS / "baseline.toml"
"""The reference projection scenario."""

HINDCAST = SCENARIOS / "hindcast_2002_2024.toml"
"""The bundled 2002-2024 hindcast."""

BUNDLED = sorted(SCENARIOS.glob("*.toml"))
"""Every bundled scenario file."""

STANDALONE_STATE = {
    "Russia": "alignment = { Russia = 0.94, China = 0.05, Turkey = 0.01 }\ncommitment = 0.95\ntrust = 0.9",
    "Belarus": "alignment = { Russia = 0.85, EU = 0.03, China = 0.11, Turkey = 0.01 }\ncommitment = 0.85\ntrust = 0.7",
    "Kazakhstan": "alignment = { Russia = 0.45, EU = 0.2, China = 0.28, Turkey = 0.07 }\ncommitment = 0.6\ntrust = 0.6",
    "Kyrgyzstan": "alignment = { Russia = 0.5, EU = 0.05, China = 0.33, Turkey = 0.12 }\ncommitment = 0.5\ntrust = 0.35",
    "Tajikistan": "alignment = { Russia = 0.52, EU = 0.04, China = 0.37, Turkey = 0.07 }\ncommitment = 0.6\ntrust = 0.45",
    "Armenia": 'status = "frozen"\nalignment = { Russia = 0.35, EU = 0.45, China = 0.1, Turkey = 0.1 }\ncommitment = 0.15\ntrust = 0.1',
}
"""A 2025 starting state for each baseline member (test values, not data): for scenarios
that do not continue a history, so that a test controls every member's start."""


def standalone_text() -> str:
    """The baseline's text without its history, each member given :data:`STANDALONE_STATE`."""
    text = BASELINE.read_text(encoding="utf-8")
    text = text.replace('history = "hindcast_2002_2024.toml"\n', "")
    for member, state in STANDALONE_STATE.items():
        text = text.replace(f"[members.{member}]\n", f"[members.{member}]\n{state}\n")
    return text


@pytest.fixture(scope="module")
def small_chunks():
    """Ensembles of chunks of 5 runs (for a module), so a small ensemble has several."""
    from csto_sim.experiments import ensemble

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ensemble, "CHUNK", 5)
        yield


@pytest.fixture(scope="session")
def baseline():
    """The baseline scenario, loaded once."""
    from csto_sim import load_scenario

    return load_scenario(BASELINE)


@pytest.fixture(scope="session")
def standalone(tmp_path_factory):
    """The baseline without its history, from :func:`standalone_text`, loaded once."""
    from csto_sim import load_scenario

    path = tmp_path_factory.mktemp("standalone") / "standalone.toml"
    path.write_text(standalone_text(), encoding="utf-8")
    return load_scenario(path)


@pytest.fixture(scope="session")
def hindcast():
    """The bundled hindcast scenario, loaded once."""
    from csto_sim import load_scenario

    return load_scenario(HINDCAST)


def run_variant(
    scenario, runs: int = 30, alliance: dict | None = None, parameters: dict | None = None
):
    """Runs 0..``runs``-1 of a copy of ``scenario`` with some ``alliance`` settings or
    ``parameters`` changed (batched engine): its inputs, trajectory and event record."""
    from csto_sim.core.batch import history_seeds, run_batch
    from csto_sim.core.randomness import run_seed

    update = {}
    if alliance:
        update["alliance"] = scenario.alliance.model_copy(update=alliance)
    if parameters:
        update["parameters"] = scenario.parameters.model_copy(update=parameters)
    spec = scenario.model_copy(update=update)
    seeds = [run_seed(spec.seed, r) for r in range(runs)]
    return run_batch(spec, seeds, history_seeds(spec, range(runs)))


def synthetic_comparison(
    runs, members=None, reference="base", targets=None, posterior=None, **tables
):
    """A :class:`Comparison` of made-up ``runs`` (and ``members``) tables, scenarios in the
    order they appear, a leader named ``L``, a projection of 2025-2040; ``tables`` are
    comparison tables given instead of computed (for example ``paired``)."""
    import pandas as pd

    from csto_sim.analysis.comparison import Comparison
    from csto_sim.experiments.results import Results

    names = list(dict.fromkeys(runs["scenario"]))
    contents = {
        "time": {"start": 2025.0, "end": 2040.0},
        "alliance": {"leader": "L"},
        "poles": {},
        "members": {},
    }
    manifest = {
        "scenarios": [
            {"name": n, "contents": contents | {"targets": (targets or {}).get(n, [])}}
            for n in names
        ],
        "tables": {"runs": {}, "members": {}},
        "runs": len(runs),
        "seed": 0,
        "posterior": posterior,
    }
    if members is None:
        members = pd.DataFrame(columns=["scenario", "run", "member"])
    c = Comparison(Results(Path("."), manifest), reference, runs, members)
    c.__dict__.update(tables)  # cached tables, given
    return c
