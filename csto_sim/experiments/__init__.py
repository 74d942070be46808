"""Running the model many times: engines, executors, ensembles, the results store and reader,
and the evaluation API for other tools."""

from csto_sim._exports import lazy

__all__, __getattr__, __dir__ = lazy(
    __name__,
    {
        "ensemble": ["Ensemble", "run", "run_ensemble", "EnsembleResult", "Interrupted"],
        "store": ["Store"],
        "results": ["Results", "ResultsError", "read_table", "read_manifest"],
        "evaluate": ["evaluate", "factors", "mean_outcomes"],
    },
)
