"""``csto-sim dashboard``: the Solara dashboard of one model run."""

from __future__ import annotations

import argparse
import contextlib
import errno
import importlib.util
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from csto_sim.cli.common import EXIT_INTERRUPTED, EXIT_TERMINATED, EXIT_USAGE, say
from csto_sim.cli.options import port
from csto_sim.experiments.executors import Terminated
from csto_sim.viz.draws import FIRST_DRAW_ENV, make_first_draw

SERVER_ENV = {"SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False"}
"""Solara settings for the server (unless the user set them): no usage telemetry."""

STOP_WAIT = 10.0
"""Seconds an interrupted dashboard waits for its server to end before killing it."""


def add_parser(sub) -> None:
    p = sub.add_parser(
        "dashboard",
        help="open the interactive dashboard of one model run (needs the viz extra)",
        description="Start the Solara dashboard (csto_sim/viz/app.py) and print its address: "
        "choose a scenario, move the parameter sliders, reset and step one run. Works offline. "
        "Needs: pip install 'csto-sim[viz]'.",
    )
    p.add_argument("--host", default="localhost", help="host to listen on (default localhost)")
    p.add_argument("--port", type=port, default=8765, help="port, 1-65535 (default 8765)")


def bind_error(host: str, port: int) -> str | None:
    """Why the server could not listen on ``host:port`` (None: it can)."""
    try:
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        return f"--host {host}: unknown host ({exc.strerror})"
    try:
        with socket.create_server((host, port)):
            return None
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        option = f"--host {host}" if exc.errno == errno.EADDRNOTAVAIL else f"--port {port}"
        return f"{option}: cannot listen on {host}:{port} ({reason})"


def server_env() -> dict[str, str]:
    """The server's environment: this one, with :data:`SERVER_ENV` unless the user set them,
    without a ``VIRTUAL_ENV`` naming another environment than this Python's (a caller's: the
    server's IPython would add that environment's packages to its own, and warn)."""
    env = SERVER_ENV | os.environ
    venv = env.get("VIRTUAL_ENV")
    if venv is not None and Path(venv).resolve() != Path(sys.prefix).resolve():
        del env["VIRTUAL_ENV"]
    return env


def installed(module: str) -> bool:
    """Whether a top-level module can be imported."""
    return importlib.util.find_spec(module) is not None


def run(args: argparse.Namespace, argv: list[str]) -> int:
    if not installed("solara"):
        say("dashboard: solara is not installed; pip install 'csto-sim[viz]'")
        return EXIT_USAGE
    problem = bind_error(args.host, args.port)
    if problem:
        say(f"dashboard: {problem}")
        return EXIT_USAGE
    if not installed("solara_assets"):
        say(
            "dashboard: solara-assets is not installed, so the page loads its scripts from the "
            "internet and stays blank offline; pip install 'csto-sim[viz]'"
        )
    app = Path(__file__).parent.parent / "viz" / "app.py"
    # production: no file watching or hot reload (a user's dashboard needs neither, and the
    # watchers take inotify instances, of which a machine has few)
    cmd = [sys.executable, "-m", "solara", "run", str(app), "--production", "--host", args.host]
    with tempfile.TemporaryDirectory(prefix="csto-dashboard-") as tmp:
        handover = Path(tmp) / "first_draw.npz"
        env = server_env() | {FIRST_DRAW_ENV: str(handover)}
        server = subprocess.Popen([*cmd, "--port", str(args.port)], env=env)
        try:
            # the first page's particle filter, made here while the server starts
            with contextlib.suppress(Exception):  # the server makes it itself if this fails
                make_first_draw(handover)
            return server.wait()
        except KeyboardInterrupt as exc:
            return _stop(server, isinstance(exc, Terminated))


def _stop(server: subprocess.Popen, terminated: bool) -> int:
    """End the server after an interrupt: Ctrl-C reached it too (one process group), a
    SIGTERM only this process, so it is passed on; one that does not end within
    :data:`STOP_WAIT` seconds is killed. The exit code: 143 terminated, 130 interrupted."""
    with contextlib.suppress(KeyboardInterrupt):
        if terminated:
            server.terminate()
        try:
            server.wait(timeout=STOP_WAIT)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    say("terminated" if terminated else "interrupted")
    return EXIT_TERMINATED if terminated else EXIT_INTERRUPTED
