"""The browser demo's fixtures: the site served on a free loopback port, and the page open in
headless Debian chromium driven by Playwright (never a downloaded browser).

Tests that need the browser skip, with the reason, only where chromium, Playwright or npm is
truly missing; `make setup` installs all three.
"""

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
SHIPPED_MODELS = Path(__file__).resolve().parents[2] / "saved_models"


def litert_js_or_skip():
    from deepedge.errors import WebAssetsError
    from deepedge.web.assets import install_litert_js

    try:
        install_litert_js()
    except WebAssetsError as e:
        if shutil.which("npm") is None:
            pytest.skip(f"LiteRT.js is not installed and npm is missing: {e}")
        raise


@pytest.fixture(scope="session")
def site():
    """`(server, base url)` of `deepedge serve` on the shipped models, in a thread."""
    from deepedge.web.server import serve_in_thread

    litert_js_or_skip()
    server, url = serve_in_thread(port=0)
    yield server, url
    server.shutdown()
    server.server_close()


def launch_chromium(browser_type, flags=()):
    sandbox = ["--no-sandbox"] if os.geteuid() == 0 else []  # root (CI) cannot use chromium's sandbox
    return browser_type.launch(executable_path=str(CHROMIUM), args=[*sandbox, *flags])


@pytest.fixture(scope="session")
def chromium():
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (apt-get install chromium; `make setup` does it as root)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed "
                                   "(pip install 'deepedge[dev]')")
    with sync_api.sync_playwright() as playwright:
        browser = launch_chromium(playwright.chromium)
        yield browser
        browser.close()


def open_page(browser, url, width=1280, height=900, query=""):
    """A page of the site, ready (`body[data-ready]`); page errors are collected in `page.errors`."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.goto(f"{url}/{query}")
    page.wait_for_selector("body[data-ready]", state="attached", timeout=120_000)
    assert page.get_attribute("body", "data-ready") == "1", page.inner_text("#status")
    return page


@pytest.fixture(scope="session")
def page(site, chromium):
    page = open_page(chromium, site[1])
    yield page
    page.close()
