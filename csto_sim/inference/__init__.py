"""Fitting and conditioning, on the model's core alone: posterior samples and which one each
run draws (``posterior``), the particle filter that conditions projections on the record
(``conditioning``), the simulator interface for fits (``simulator``), and the fit itself:
rejection ABC with learned summaries and regression adjustment (``regression_abc``)."""

from csto_sim._exports import lazy

__all__, __getattr__, __dir__ = lazy(
    __name__,
    {
        "posterior": ["Posterior", "load_posterior", "choose_posterior"],
        "simulator": ["Simulator"],
        "regression_abc": ["fit", "recovery", "identifiability"],
        "conditioning": ["conditions"],
    },
)
