"""Headless Chromium for seeing the dashboard as a user does (its browser test and its
first-page benchmark): Debian's ``chromium`` and ``chromedriver`` through Selenium (the dev
extra), offline, with a fresh profile."""

from __future__ import annotations

import shutil
from pathlib import Path

OFFLINE_CDN = "http://127.0.0.1:9/npm/"
"""A CDN address nothing listens on (the discard port): the dashboard must not need one."""

CHROMIUM_FLAGS: tuple[str, ...] = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1500,1450",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
)
"""Headless, no network beyond this machine, one window size for every check."""


def chromium() -> str | None:
    """The Chromium executable, or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def headless_browser(profile: Path, console_log: bool = False):
    """A Selenium driver of headless Chromium with the profile folder ``profile``; with
    ``console_log`` it keeps the page's console messages (``driver.get_log("browser")``)."""
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = chromium()
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    if console_log:
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = webdriver.ChromeService(executable_path=shutil.which("chromedriver"))
    return webdriver.Chrome(options=options, service=service)
