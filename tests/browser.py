"""Headless Chromium driven by Selenium, for the tests that look at reports as a person would.

Chromium and its driver come from Debian's packages (`make browser`, part of
`make setup`) or from PATH; $CHROMIUM and $CHROMEDRIVER point elsewhere. The
driver's path is always given, so Selenium Manager never tries to download a
browser (it could not here). Without them the tests skip and say why.
Chromium runs with --no-sandbox because CI runs as root, where its sandbox
refuses to start. In CI ($CI set) a missing browser fails instead of skipping.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import pytest

BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome")
PAGE_LOAD_SECONDS = 30


def skip_unless_ci(reason: str) -> NoReturn:
    """Skip on a developer's machine; in CI ($CI set) a missing tool is a failure, so no green run hides it."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI is set, so the browser tests may not skip", pytrace=False)
    pytest.skip(reason)


def find_chromium() -> tuple[str, str]:
    """(browser, driver) paths, or skip the calling test with what is missing."""
    browser = os.environ.get("CHROMIUM") or next(filter(None, map(shutil.which, BROWSER_NAMES)), None)
    driver = os.environ.get("CHROMEDRIVER") or shutil.which("chromedriver")
    if not browser or not driver:
        missing = " and ".join(name for name, path in (("chromium", browser), ("chromedriver", driver)) if not path)
        skip_unless_ci(f"{missing} not found: `make setup` installs Debian's chromium and chromium-driver where "
                       "apt exists (or set $CHROMIUM and $CHROMEDRIVER)")
    return browser, driver


@contextmanager
def chromium(width: int = 1200, height: int = 900) -> Iterator[Any]:
    """One headless Chromium session; the console log is kept so tests can assert it holds no errors."""
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed; run `make setup`")
    from selenium.webdriver.chrome.service import Service

    browser, driver_path = find_chromium()
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-extensions", "--no-first-run", "--hide-scrollbars", f"--window-size={width},{height}"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    driver.set_page_load_timeout(PAGE_LOAD_SECONDS)
    try:
        yield driver
    finally:
        driver.quit()


def console_errors(driver: Any) -> list[str]:
    """Console messages of level SEVERE since the last call (reading the log empties it)."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def set_viewport(driver: Any, width: int, height: int = 900, mobile: bool = False, media: str = "") -> None:
    """Lay the page out at exactly `width` CSS pixels (a phone's, with `mobile`), for `media` ('' or 'print')."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": media})


def full_page_png(driver: Any, width: int) -> bytes:
    """A PNG of the whole page at `width` CSS pixels."""
    set_viewport(driver, width)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    set_viewport(driver, width, height)
    return driver.get_screenshot_as_png()
