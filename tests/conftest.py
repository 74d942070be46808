"""Shared paths and fixtures of the test suite.

Tests are laid out like the package (``core/``, ``abm/``, ``experiments/``, ``analysis/``,
``hindcast/``, ``viz/``, ``cli/``); repository-wide checks (documentation, notebooks) sit
at the top. Import the paths with ``from conftest import ROOT, SCENARIOS, BASELINE``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

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


@pytest.fixture(scope="session")
def baseline():
    """The baseline scenario, loaded once."""
    from csto_sim import load_scenario

    return load_scenario(BASELINE)


@pytest.fixture(scope="session")
def hindcast():
    """The bundled hindcast scenario, loaded once."""
    from csto_sim import load_scenario

    return load_scenario(HINDCAST)
