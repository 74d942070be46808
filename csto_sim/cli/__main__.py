"""``python -m csto_sim.cli``: the same as the ``csto-sim`` command."""

from csto_sim.__main__ import console

console()
