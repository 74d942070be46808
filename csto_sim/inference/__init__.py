"""Fitting and conditioning, on the model's core alone: posterior samples and which one each
run draws (``posterior``), the particle filter that conditions projections on the record
(``conditioning``), the simulator interface for fits (``simulator``), and the fit itself:
rejection ABC with learned summaries and regression adjustment (``regression_abc``)."""
