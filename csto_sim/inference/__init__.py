"""Inference: simulating many parameter vectors at once, and handing them to a fit."""
