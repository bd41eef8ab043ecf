"""Browser fixtures shared by the e2e tests: one headless Debian Chromium per module, a fresh page per test.

Chromium is started only through Playwright with :data:`tests.e2e.browser_utils.CHROMIUM_ARGS`; without it
(``apt-get install -y chromium``) the browser tests skip.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.browser_utils import CHROMIUM, CHROMIUM_ARGS


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).is_file():
        pytest.skip("Chromium not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    """A 1400 x 900 page in its own context; downloads are kept (``page.expect_download``)."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    pg = context.new_page()
    yield pg
    context.close()
