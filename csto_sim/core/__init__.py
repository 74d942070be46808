"""The model without Mesa: vocabulary, parameters, scenarios, compiled inputs, random streams,
threat events, rules, decisions, the step, the batched engine and the outcome metrics."""
