"""The 2002-2024 case: the hindcast built from data, its historical patterns, and calibration."""
