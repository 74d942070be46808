"""The Mesa model (``CSTOModel``) and its agents (``MemberState``)."""
