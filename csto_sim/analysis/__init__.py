"""Reading results for conclusions: one comparison of scenarios and its registry of measures,
the report, sensitivity analysis, scenario discovery, swings, and dated forecasts.

(``sensitivity`` and ``swing`` are also module names: import their functions from
``csto_sim.analysis.sensitivity`` and ``csto_sim.analysis.swing``.)"""

from csto_sim._exports import lazy

__all__, __getattr__, __dir__ = lazy(
    __name__,
    {
        "comparison": ["Comparison", "UnknownReference"],
        "measures": ["MEASURES", "Measure", "measure"],
        "report": ["compare", "write_report", "write_summary"],
        "discovery": ["discover"],
        "swing": ["sweep"],
        "forecast": ["load_questions", "answer", "score"],
    },
)
