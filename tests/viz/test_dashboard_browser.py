"""The dashboard in a real browser: ``csto-sim dashboard`` on a free local port, driven in
headless Chromium (Debian's ``chromium`` and ``chromium-driver``) through Selenium.

Nothing may come from the internet: the browser resolves every host but the local one to
nothing, and the server's CDN is an unreachable local address, so the page renders only
from the assets installed with the ``viz`` extra. The screenshot is saved as
``dashboard.png`` in the test's temporary folder. The server's log has no warning when the
page first shows, nor after it is opened at ``127.0.0.1`` (solara warned about its session
cookie at every host name but ``localhost``).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import BASELINE, ROOT

from csto_sim.viz.headless import OFFLINE_CDN, chromium, headless_browser

pytestmark = pytest.mark.browser

if chromium() is None:
    pytest.skip(
        "no chromium executable (Debian: apt-get install chromium chromium-driver)",
        allow_module_level=True,
    )
pytest.importorskip("solara")  # the viz extra
pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from csto_sim.core.parameters import MAIN_PARAMETERS  # noqa: E402
from csto_sim.core.scenario import load_scenario  # noqa: E402

TITLE = "CSTO alliance cohesion"
FIGURES = 4  # network, alignment, cohesion, requests and responses
STEP_YEARS = load_scenario(BASELINE).time.step
WARNING = re.compile(r"\w+Warning: |^WARNING\b", re.M)  # Python's warnings, or logged ones


def _free_port() -> int:
    with socket.create_server(("localhost", 0)) as s:
        return s.getsockname()[1]


def _wait_until_serving(url: str, proc: subprocess.Popen, log: Path, timeout: float = 40) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the dashboard exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"the dashboard did not answer at {url} within {timeout} s:\n{log.read_text()}")


@pytest.fixture
def dashboard_url(tmp_path):
    """``csto-sim dashboard`` on a free port, offline; its log is ``server.log``."""
    port = _free_port()
    log = tmp_path / "server.log"
    # a caller's VIRTUAL_ENV of another environment, which the dashboard keeps from its server
    # (IPython there would warn in the log and add that environment's packages)
    env = os.environ | {
        "VIRTUAL_ENV": str(tmp_path / "another-venv"),
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "SOLARA_ASSETS_CDN": OFFLINE_CDN,
    }
    cmd = [sys.executable, "-m", "csto_sim.cli", "dashboard", "--port", str(port)]
    with log.open("w") as out:
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        url = f"http://localhost:{port}/"
        _wait_until_serving(url, proc, log)
        yield url, log
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the command and the solara server it started
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture
def browser(tmp_path):
    """Headless Chromium with a fresh profile."""
    driver_path = shutil.which("chromedriver")
    assert driver_path, (
        "chromium is installed but chromedriver is not: apt-get install chromium-driver"
    )
    driver = headless_browser(tmp_path / "profile", console_log=True)
    try:
        yield driver
    finally:
        driver.quit()


def _figures(driver) -> list[str]:
    """The ``src`` of every figure image that has loaded."""
    return [
        img.get_attribute("src")
        for img in driver.find_elements(By.CSS_SELECTOR, "img.solara-image")
        if driver.execute_script("return arguments[0].naturalWidth", img) > 0
    ]


def _text(driver) -> str:
    return driver.find_element(By.TAG_NAME, "body").text


def _year(driver) -> str | None:
    """The model's year as the members' table states it."""
    found = re.search(r"year (\d{4}\.\d\d)", _text(driver))
    return found.group(1) if found else None


def _button(driver, label: str):
    return next(b for b in driver.find_elements(By.TAG_NAME, "button") if b.text == label)


def _settled(driver, quiet: float = 1.0, tries: int = 40) -> str | None:
    """The year once it has not changed for ``quiet`` seconds. A play frame whose pause
    between steps had begun when the pause arrived still lands, as a manual step of the
    steps slider's value (Mesa's ``ModelController``), so a test that steps after pausing
    waits for it."""
    year = _year(driver)
    for _ in range(tries):
        time.sleep(quiet)
        now, year = year, _year(driver)
        if now == year:
            return year
    raise AssertionError(f"the year kept changing after the pause: {year}")


def test_dashboard_renders_offline_and_steps(dashboard_url, browser, tmp_path):
    url, log = dashboard_url
    browser.get(url)
    wait = WebDriverWait(browser, 40)
    wait.until(lambda d: len(_figures(d)) >= FIGURES and _year(d))
    assert not WARNING.search(log.read_text()), log.read_text()  # on start and first load
    text = _text(browser)
    assert browser.title == TITLE
    assert TITLE in browser.find_element(By.CSS_SELECTOR, ".v-app-bar, header").text
    # every parameter has a slider that shows its value
    assert len(browser.find_elements(By.CSS_SELECTOR, ".v-slider")) >= len(MAIN_PARAMETERS)
    for name in MAIN_PARAMETERS:
        assert re.search(rf"^{name}: -?\d+(\.\d+)?$", text, re.M), f"no value shown for {name}"
    assert "scenario" in text and "baseline" in text
    assert "Page 0" not in text and "PAGE 0" not in text
    assert "runs on Solara" not in text  # the badge that covered the event log
    assert "Event log" in text

    # one step: the year advances by the scenario's step and every figure is redrawn
    before, figures = _year(browser), _figures(browser)
    _button(browser, "STEP").click()
    wait.until(lambda d: _year(d) != before)
    wait.until(lambda d: len(_figures(d)) == FIGURES and _figures(d) != figures)
    assert float(_year(browser)) == pytest.approx(float(before) + STEP_YEARS)

    # play runs the model until paused
    before = _year(browser)
    _button(browser, "▶").click()
    wait.until(lambda d: _year(d) != before)
    _button(browser, "❚❚").click()
    wait.until(lambda d: any(b.text == "▶" for b in d.find_elements(By.TAG_NAME, "button")))
    _settled(browser)

    # the steps slider, moved with the keyboard, shows its new value and sets the step size
    thumb = browser.find_elements(By.CSS_SELECTOR, ".v-slider [role=slider]")[0]
    thumb.send_keys(Keys.END)
    wait.until(lambda d: re.search(r"steps per click: (\d+)", _text(d)).group(1) != "1")
    steps = int(re.search(r"steps per click: (\d+)", _text(browser)).group(1))
    before = _year(browser)
    _button(browser, "STEP").click()
    wait.until(lambda d: _year(d) != before)
    assert float(_year(browser)) == pytest.approx(float(before) + steps * STEP_YEARS)
    wait.until(lambda d: "latest" in _text(d))  # the event log lists events
    time.sleep(1)  # let the redrawn figures paint before the screenshot
    shot = tmp_path / "dashboard.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000

    # the page at another name of this machine: a new session, and no cookie warning
    browser.get(url.replace("localhost", "127.0.0.1"))
    wait.until(lambda d: len(_figures(d)) >= FIGURES and _year(d))
    console = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not console, console
    server = log.read_text()
    assert "Could not load URL" not in server, server
    assert "Traceback" not in server, server
    assert "Warning" not in server, server  # e.g. Mesa 3.3's hook warning at start
    assert not WARNING.search(server), server
