"""The model without Mesa: vocabulary, parameters, scenarios, compiled inputs, random streams,
threat events, rules, decisions, the step, the batched engine and the outcome metrics."""

from csto_sim._exports import lazy

__all__, __getattr__, __dir__ = lazy(
    __name__,
    {
        "scenario": ["Scenario", "ScenarioError", "load_scenario", "DRIVERS"],
        "parameters": ["Parameters", "parameter_table", "plausible_ranges"],
        "vocabulary": ["Status", "STATUSES", "THREAT_KINDS"],
        "inputs": ["compile_inputs"],
        "batch": ["run_batch"],
        "judgements": ["registry"],
        "metrics": ["summarise"],
    },
)
