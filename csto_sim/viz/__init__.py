"""What users look at: outcome figures of a results folder and the Solara dashboard."""
