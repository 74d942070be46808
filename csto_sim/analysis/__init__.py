"""Reading results for conclusions: comparison reports, sensitivity analysis, scenario discovery."""
