"""A real headless browser for the dashboard tests: Chromium and its driver from Debian's packages,
driven through Selenium. Screenshots go to .local/screenshots (kept out of git, like CI artifacts)."""
import os
import pathlib
import shutil

import pytest

from conftest import ROOT

SCREENSHOTS = ROOT / ".local" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def require_browser():
    """Fails in CI, and skips saying why elsewhere, when Chromium or its driver is missing."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not os.path.exists(path)]
    if missing:
        message = f"{', '.join(missing)} missing: `make test` installs chromium and chromium-driver from Debian's packages"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def open_browser(downloads: pathlib.Path):
    """A headless Chromium that saves downloads into `downloads` without asking."""
    require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1440,900", "--lang=en-US"):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    driver.set_page_load_timeout(30)
    return driver


def screenshot(driver, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path
