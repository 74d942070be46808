"""Running the model many times: engines, executors, ensembles, the results store and reader,
and the evaluation API for other tools."""
