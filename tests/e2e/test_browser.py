"""The dashboard in a real browser: ``scripts/dashboard.py`` (``streamlit run app.py``) + headless Chromium, each page.

Run folders come from the real core with tiny random models on a 30-question XQuAD-R slice (all 11
languages; the built-in tiny set when XQuAD-R is absent). Each page must render its key elements with
no ``stException``; screenshots go to ``screenshots/`` (git-ignored). Needs Debian's Chromium
(``apt-get install -y chromium``); it is started only through Playwright (``conftest.py``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hybrid_core.runs import RunStore
from tests.e2e.browser_utils import ask, demo_server, open_custom_queries, screenshot, wait_ready

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from tests.dashboard.tiny_runs import make_runs

    def make(runs, models, ds):
        return make_runs(runs, models, ds, n_eval=2, sweep_alphas=(0.0, 0.5, 1.0))

    with demo_server(tmp_path_factory.mktemp("browser"), make, 30) as server:
        yield server


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

    open_custom_queries(page, server["url"])
    ask(page, "Where does the Danube rise?", until="Languages among the hits")
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
