"""UI tests: headless Chromium (Debian's `chromium`) driven by Playwright against live servers.

Screenshots of every page go to test-output/screenshots/ (gitignored).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.conftest import IN_CI, run_mltracker  # noqa: E402
from tests.ui.seed import seed_demo  # noqa: E402

CHROMIUM = os.environ.get("MLTRACKER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = REPO / "test-output" / "screenshots"


def _skip_or_fail(reason: str):
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: the browser tests must run)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _skip_or_fail("playwright is not installed (pip install -e '.[test]')")
    if not Path(CHROMIUM).exists():
        _skip_or_fail(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.dialogs = dialogs  # any alert() would mean injected script ran
    yield page
    context.close()
    assert not dialogs, f"a script ran in the page: {dialogs}"


def screenshot(page, name: str, full_page: bool = True) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


@pytest.fixture(scope="module")
def local_server(tmp_path_factory):
    """mltracker serve in local mode over SQLite, seeded with 61 candidates and some artifacts."""
    tmp = tmp_path_factory.mktemp("ui-local")
    uri, artifacts = f"sqlite:///{tmp}/mltracker.db", str(tmp / "artifacts")
    seeded = seed_demo(uri, artifacts)
    with run_mltracker(tmp, uri, artifacts) as server:
        server.seeded = seeded
        yield server
