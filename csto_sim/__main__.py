"""``python -m csto_sim`` and the ``csto-sim`` console script.

The commands are imported inside :func:`console`, so a damaged data file the package reads
as it loads (the judgement registry, ``csto_sim/data/judgements.csv``) is reported as one
line with exit code 2, like every other bad input, not as a traceback.
"""

from __future__ import annotations

import sys

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def console() -> None:
    """Import the commands, then run the one asked for (:func:`csto_sim.cli.console`); an
    interrupt while the package loads (about a second) is one line and exit 130 too."""
    try:
        from csto_sim.core.files import InputError

        try:
            from csto_sim.cli import console as run_command
        except InputError as exc:
            print(f"csto-sim: {exc}", file=sys.stderr)
            sys.exit(EXIT_USAGE)
        run_command()
    except KeyboardInterrupt:
        print("csto-sim: interrupted", file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)


if __name__ == "__main__":
    console()
