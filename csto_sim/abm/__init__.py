"""The Mesa model (``CSTOModel``) and its agents (``MemberState``)."""

from csto_sim._exports import lazy

__all__, __getattr__, __dir__ = lazy(
    __name__,
    {
        "model": ["CSTOModel", "relations_graph"],
        "agents": ["MemberState"],
    },
)
