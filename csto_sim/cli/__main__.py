"""``python -m csto_sim.cli``: the same as the ``csto-sim`` command."""

import sys

from csto_sim.cli import main

sys.exit(main())
