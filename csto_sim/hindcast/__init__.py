"""The 2002-2024 case: the hindcast built from data, its historical patterns, every recorded
outcome as a case, null models, calibration and the posterior fits."""

from csto_sim._exports import lazy

__all__, __getattr__, __dir__ = lazy(
    __name__,
    {
        "build": ["hindcast_scenario", "hindcast_toml"],
        "patterns": ["PATTERNS", "load_tables"],
        "outcomes": ["recorded_cases", "brier_table"],
        "calibration": ["calibrate"],
        "posterior": ["fit_posterior", "recovery"],
        "nulls": ["NULL_MODELS", "NullModel"],
    },
)
