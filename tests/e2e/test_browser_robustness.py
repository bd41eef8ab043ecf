"""Robustness in a real browser: noisy-query curves, augmentation comparison, a perturbed custom query.

Runs come from the real evaluation path (tiny random models) on a 12-question XQuAD-R slice (the built-in
tiny set when XQuAD-R is absent), clean and at typo levels 0.05 / 0.1 / 0.2 / 0.4. Screenshots go to
``screenshots/robustness-*.png`` and ``screenshots/custom_queries-noise.png``.
"""

from __future__ import annotations

import pytest

from tests.e2e.browser_utils import ask, demo_server, open_custom_queries, screenshot, wait_ready

pytestmark = pytest.mark.e2e
LEVELS = ("typos:0.05", "typos:0.1", "typos:0.2", "typos:0.4")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from tests.dashboard.noisy_runs import make_noisy_runs

    def make(runs, models, ds):
        return make_noisy_runs(runs, models, ds, noise=LEVELS)

    with demo_server(tmp_path_factory.mktemp("browser-robust"), make, 12) as server:
        yield server


def _curves(pg) -> list[str]:
    """Legend names of the robustness chart: one entry per drawn line."""
    return pg.locator("[data-testid=stPlotlyChart] .legendtext").evaluate_all("els => els.map(e => e.textContent)")


def test_robustness_curves_and_augmentation(server, page) -> None:
    page.goto(f"{server['url']}/robustness")
    wait_ready(page)
    assert page.locator("[data-testid=stException]").count() == 0
    assert page.get_by_role("heading", name="Robustness").count() == 1
    chart = page.locator("[data-testid=stPlotlyChart]").first
    assert "under typos noise" in chart.inner_text()
    assert set(_curves(page)) >= {"tiny-0", "tiny-1", "aug-none"}
    # five levels per line (clean + four), drawn as markers
    assert chart.locator(".scatterlayer .trace .points path").count() >= 5 * 5
    screenshot(page, "robustness-noisy-queries")

    page.locator("[data-testid=stRadio]").first.get_by_text("change vs clean").click()  # the first tab's View
    wait_ready(page)
    assert page.locator("[data-testid=stException]").count() == 0
    assert "change in map vs clean" in page.locator("[data-testid=stPlotlyChart]").first.inner_text()
    screenshot(page, "robustness-change-vs-clean")

    page.get_by_role("tab", name="Augmentation").click()
    wait_ready(page)
    assert page.locator("[data-testid=stException]").count() == 0
    visible = [t for t in page.locator("[data-testid=stPlotlyChart]").all() if t.is_visible()]
    assert len(visible) == 1 and "noise=typos:0.1" in visible[0].inner_text()
    screenshot(page, "robustness-augmentation")


def test_custom_query_with_noise(server, page) -> None:
    open_custom_queries(page, server["url"])
    noise = page.get_by_role("textbox", name="Perturb the query (optional noise spec)")
    noise.fill("typos:0.2,casing:1")
    noise.press("Enter")
    wait_ready(page)
    ask(page, "Where does the Danube rise?", until="Noisy query (")
    assert page.get_by_text("Clean query", exact=True).count() == 1
    screenshot(page, "custom_queries-noise")
    noise.fill("typos:1.5")
    noise.press("Enter")
    page.get_by_text("rate 1.5 of typos is outside [0, 1]").wait_for(timeout=60_000)
