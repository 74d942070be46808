"""What users look at: outcome figures of a results folder and the Solara dashboard."""

from csto_sim._exports import lazy

__all__, __getattr__, __dir__ = lazy(
    __name__,
    {
        "figures": [
            "FIGURES",
            "SCENARIO_FIGURES",
            "plot_all",
            "plot_figure",
            "POLE_COLOURS",
            "pole_colours",
            "scenario_colours",
        ],
    },
)
