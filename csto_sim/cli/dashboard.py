"""``csto-sim dashboard``: the Solara dashboard of one model run."""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
from pathlib import Path

from csto_sim.cli.common import EXIT_INTERRUPTED, EXIT_USAGE, positive, say


def add_parser(sub) -> None:
    p = sub.add_parser(
        "dashboard",
        help="open the interactive dashboard of one model run (needs the viz extra)",
        description="Start the Solara dashboard (csto_sim/viz/app.py) in the browser: choose a "
        "scenario, move the parameter sliders, reset and step one run. Needs: pip install "
        "'csto-sim[viz]'.",
    )
    p.add_argument("--host", default="localhost", help="host to listen on (default localhost)")
    p.add_argument("--port", type=positive, default=8765, help="port (default 8765)")


def run(args: argparse.Namespace, argv: list[str]) -> int:
    if importlib.util.find_spec("solara") is None:
        say("dashboard: solara is not installed; pip install 'csto-sim[viz]'")
        return EXIT_USAGE
    app = Path(__file__).parent.parent / "viz" / "app.py"
    cmd = [sys.executable, "-m", "solara", "run", str(app), "--host", args.host]
    try:
        return subprocess.call([*cmd, "--port", str(args.port)])
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
