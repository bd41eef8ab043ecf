"""The dashboard in a real browser: ``scripts/dashboard.py`` (``streamlit run app.py``) + headless Chromium, each page.

Run folders come from the real core with tiny random models on a 30-question XQuAD-R slice (all 11
languages; the built-in tiny set when XQuAD-R is absent). Each page must render its key elements with
no ``stException``; screenshots go to ``screenshots/`` (git-ignored). Needs Debian's Chromium
(``apt-get install -y chromium``); it is started only through Playwright with the flags below.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hybrid_core.runs import RunStore
from tests.e2e.browser_utils import CHROMIUM, CHROMIUM_ARGS, free_port, screenshot, start_server, wait_ready

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from tests.conftest import SHARED_DATA
    from tests.dashboard.tiny_runs import demo_dataset, make_runs

    root = tmp_path_factory.mktemp("browser")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HYBRID_IR_CACHE", str(root / "cache"))
        mp.setenv("HYBRID_IR_DATA", os.environ.get("HYBRID_IR_DATA", str(SHARED_DATA)))
        ds = demo_dataset(30)
        make_runs(root / "runs", root / "models", ds, n_eval=2, sweep_alphas=(0.0, 0.5, 1.0))
        port = free_port()
        proc = start_server(root / "runs", root / "cache", port, root / "server.log")
    yield {"url": f"http://127.0.0.1:{port}", "runs": root / "runs", "dataset": ds.name, "log": root / "server.log"}
    proc.terminate()
    proc.wait(timeout=20)


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
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    pg = context.new_page()
    yield pg
    context.close()


def visit(page, server, path: str, name: str) -> None:
    page.goto(f"{server['url']}/{path}")
    wait_ready(page)
    assert page.locator("[data-testid=stException]").count() == 0
    assert "Traceback" not in page.inner_text("[data-testid=stMain]")
    screenshot(page, name)


def test_deep_link_first_uses_app_navigation(server, page) -> None:
    """The very first request of the process is a deep link; the sidebar must still be app.py's navigation.

    The server is the README's launcher (``scripts/dashboard.py``): its pre-imports ran beside this first visit.
    """
    visit(page, server, "compare", "compare")
    assert "pre-import" not in server["log"].read_text()  # every warmed module imported cleanly
    nav = page.inner_text("[data-testid=stSidebarNav]")
    assert "Compare runs" in nav and "Language bias" in nav and "_ui" not in nav and "ui\n" not in nav
    assert page.locator("h1").first.inner_text() == "Compare runs"
    assert page.get_by_text("Page not found").count() == 0
    summary = RunStore(server["runs"]).get("tiny-0").summary(server["dataset"])
    assert f"{summary['macro']['mono']['map']:.3f} [" in page.inner_text("[data-testid=stDataFrame] table")
    page.get_by_role("tab", name="Chart").click()
    page.wait_for_selector("[data-testid=stPlotlyChart] .main-svg")
    page.get_by_role("tab", name="Paper view").click()
    page.get_by_text("reported in arXiv 2408.10536, not re-run here").wait_for()
    screenshot(page, "compare-paper-view")


@pytest.mark.parametrize(
    ("path", "title", "charts"),
    [
        ("", "hybrid-ir", 0),
        ("language_pairs", "Language pairs", 2),
        ("bias", "Language bias", 4),
        ("embeddings", "Embedding space", 1),
        ("ablations", "Ablations", 1),
        ("jobs", "Jobs", 0),
        ("custom_queries", "Custom queries", 0),
    ],
)
def test_every_page_renders(server, page, path, title, charts) -> None:
    visit(page, server, path, path or "home")
    assert page.locator("h1").first.inner_text() == title
    assert page.locator("[data-testid=stPlotlyChart]").count() == charts
    if path == "":
        assert "broken-run" in page.inner_text("[data-testid=stAlertContentError]")
        assert "tiny-0" in page.inner_text("[data-testid=stDataFrame] table")


def test_language_pair_difference_and_search(server, page) -> None:
    page.goto(f"{server['url']}/language_pairs")
    wait_ready(page)
    page.get_by_label("Compare with (optional)").click()
    page.get_by_role("option", name="tiny-1").click()
    page.wait_for_function("() => document.querySelectorAll('[data-testid=stPlotlyChart]').length === 3")
    wait_ready(page)
    assert page.get_by_text("red: tiny-1 better").count() >= 1
    screenshot(page, "language_pairs-diff")

    page.goto(f"{server['url']}/custom_queries")
    wait_ready(page)
    page.get_by_role("combobox", name="Search in").click()
    page.get_by_role("option", name="tiny-parallel").click()
    wait_ready(page)
    box = page.get_by_role("textbox", name="Query", exact=True)
    box.fill("Where does the Danube rise?")
    box.press("Enter")
    page.get_by_text("Languages among the hits").wait_for(timeout=60_000)
    wait_ready(page)
    assert page.locator("[data-testid=stException]").count() == 0
    screenshot(page, "custom_queries-search")


def test_figure_and_table_downloads(server, page) -> None:
    """PNG (rendered by Kaleido in the server on click) and LaTeX downloads from the Ablations page."""
    page.goto(f"{server['url']}/ablations")
    wait_ready(page)
    page.get_by_role("tab", name="Groups of runs").click()
    wait_ready(page)
    with page.expect_download(timeout=90_000) as png:
        page.get_by_role("button", name="PNG").first.click()
    data = Path(png.value.path()).read_bytes()
    assert png.value.suggested_filename.endswith(".png") and data[:8] == b"\x89PNG\r\n\x1a\n"
    with page.expect_download() as tex:
        page.get_by_role("button", name="LaTeX").first.click()
    assert "\\begin{tabular}" in Path(tex.value.path()).read_text()
