"""Benchmark: how long a new user waits for the dashboard's first page.

Usage::

    python benchmarks/dashboard_first_content.py [--repeat 1] [--timeout 120]
                                                 [--address localhost]

Starts ``csto-sim dashboard`` on a free local port (as a user does, a fresh server process
each time) and opens its page in headless Chromium (Debian's ``chromium`` and
``chromedriver``, through Selenium), started before the server so that its own start-up is
not counted. Prints, per launch:

- ``server start -> answers HTTP``: from starting the command until the page's address
  answers 200 (interpreter start, imports, solara executing the app);
- ``answers -> first content``: from then until the page shows its first figure or table
  in the DOM (an image with pixels or a rendered table, not the loading spinner);
- ``answers -> all figures``: until every figure of the page has loaded;
- the server log's warnings (a Python warning's first line, ``...Warning: ...``, or a
  logged ``WARNING``), if any;
- the machine's load average before the launch (other work on the machine slows all of it).

``--address`` is the host name the browser opens the page at: ``127.0.0.1`` is what a user
types who does not use the printed ``localhost`` address (solara sets its session cookie
differently for other names).

The page loads offline (the browser resolves every other host to nothing and the server's
CDN is an unreachable local address), as in ``tests/viz/test_dashboard_browser.py``.
Nothing is asserted: the numbers are printed for a person to read.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from csto_sim.viz.headless import OFFLINE_CDN, headless_browser

ROOT = Path(__file__).resolve().parents[1]
FIGURES = 4  # network, alignment, cohesion, requests and responses
CONTENT = """
const figures = [...document.querySelectorAll('img.solara-image')]
    .filter(img => img.complete && img.naturalWidth > 0).length;
const tables = document.querySelectorAll('.solara-markdown table').length;
return [figures, tables];
"""
"""Script giving the figures with pixels and the rendered tables now in the page."""
WARNING = re.compile(r"\w+Warning: |^WARNING\b")
"""A warning's line in the server log: Python's (``file:line: UserWarning: ...``) or logged."""


def free_port() -> int:
    with socket.create_server(("localhost", 0)) as s:
        return s.getsockname()[1]


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def launch(folder: Path, address: str, timeout: float) -> dict[str, float | list[str]]:
    """One launch of the dashboard and one first page load: the times and warnings."""
    driver = headless_browser(folder / "profile")
    port = free_port()
    url = f"http://{address}:{port}/"
    log = folder / "server.log"
    env = os.environ | {
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "SOLARA_ASSETS_CDN": OFFLINE_CDN,
    }
    cmd = [sys.executable, "-m", "csto_sim.cli", "dashboard", "--port", str(port)]
    times: dict[str, float] = {}
    start = time.monotonic()
    with log.open("w") as out:
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        while not answers(url):
            if proc.poll() is not None or time.monotonic() - start > timeout:
                raise RuntimeError(f"the dashboard did not answer:\n{log.read_text()}")
            time.sleep(0.05)
        served = time.monotonic()
        times["server start -> answers HTTP"] = served - start
        driver.get(url)
        while "answers -> all figures" not in times:
            figures, tables = driver.execute_script(CONTENT)
            now = time.monotonic() - served
            if figures or tables:
                times.setdefault("answers -> first content", now)
            if figures >= FIGURES:
                times["answers -> all figures"] = now
            if now > timeout:
                raise RuntimeError(f"no content after {timeout} s:\n{log.read_text()}")
            time.sleep(0.05)
        time.sleep(1)  # anything the server logs just after the first load
    finally:
        driver.quit()
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    warned = [line for line in log.read_text().splitlines() if WARNING.search(line)]
    return times | {"warnings": warned}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=1, help="launches (default 1)")
    parser.add_argument("--timeout", type=float, default=120, help="seconds per wait")
    parser.add_argument("--address", default="localhost", help="host name the browser opens")
    args = parser.parse_args()
    for i in range(args.repeat):
        load = os.getloadavg()[0]
        with tempfile.TemporaryDirectory(prefix="csto-dashboard-") as tmp:
            result = launch(Path(tmp), args.address, args.timeout)
        print(f"launch {i + 1} (load average before: {load:.2f}):")
        for name, value in result.items():
            if name != "warnings":
                print(f"  {name:<30} {value:6.2f} s")
        print(f"  {'warnings in the server log':<30} {len(result['warnings'])}")
        for line in result["warnings"]:
            print(f"    {line}")


if __name__ == "__main__":
    main()
