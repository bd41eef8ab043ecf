"""Start the dashboard and drive headless Chromium: shared by the browser test and the dashboard benchmark."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "screenshots"
CHROMIUM = "/usr/bin/chromium"
PLAYWRIGHT_DISABLED_FEATURES = [  # Playwright 1.65's own --disable-features (see CHROMIUM_ARGS)
    "AvoidUnnecessaryBeforeUnloadCheckSync",
    "DestroyProfileOnBrowserClose",
    "HttpsUpgrades",
    "HttpsFirstBalancedModeAutoEnable",
    "LensOverlay",
    "MediaRouter",
    "PaintHolding",
    "ThirdPartyStoragePartitioning",
    "AvoidCorsURLLoaderRestartOnRedirect",
    "TcpPortRandomizationWin",
    "OptimizationHints",
    "NetworkTimeServiceQuerying",
    "AimEnabled",
    "PreconnectToSearch",
]
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Chromium 156 preloads its omnibox popup (a WebUI page in its own renderer, ~0.6 s CPU) for every new
    # window, and each Playwright page is one: browser chrome, not the dashboard, competing for the 2 cores.
    # Chromium keeps only the last --disable-features flag, so Playwright's own list (1.65) is repeated here.
    "--disable-features=" + ",".join([*PLAYWRIGHT_DISABLED_FEATURES, "WebUIOmniboxPopup", "WebUIOmniboxAimPopup"]),
]
READY_JS = """() => {
  const app = document.querySelector('[data-testid=stApp]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (!document.querySelector('h1') || document.querySelector('[data-testid=stSkeleton]')) return false;
  const shown = sel => [...document.querySelectorAll(sel)].filter(d => d.checkVisibility());
  const frames = shown('[data-testid=stDataFrame]'), plots = shown('[data-testid=stPlotlyChart]');
  return frames.every(d => d.querySelector('canvas')) && plots.every(p => p.querySelector('.main-svg'));
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(
    runs: Path, cache: Path, port: int, log: Path, env: dict[str, str] | None = None, plain: bool = False
) -> subprocess.Popen:
    """The dashboard as users start it (``scripts/dashboard.py`` = ``streamlit run app.py`` + pre-imports) on
    127.0.0.1:<port> reading ``runs``; returns once /_stcore/health answers. ``plain``: ``streamlit run app.py``.

    ``env``: variables set for the server beyond this process's (e.g. ``HYBRID_IR_DATA``).
    """
    env = {
        **os.environ,
        **(env or {}),
        "HYBRID_IR_RUNS": str(runs),
        "HYBRID_IR_CACHE": str(cache),
        "PYTHONPATH": str(REPO),
    }
    env.setdefault("HYBRID_IR_DATA", str(REPO.parent / "shared" / "data"))
    cmd = [
        sys.executable,
        *(["-m", "streamlit", "run", "app.py"] if plain else ["scripts/dashboard.py"]),
        "--server.address",
        "127.0.0.1",
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
    ]
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT)  # noqa: SIM115
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.1)
    proc.terminate()
    raise RuntimeError(f"streamlit did not start; see {log}")


COUNT_JS = """() => ['stPlotlyChart', 'stDataFrame', 'stMarkdown', 'stAlert']
  .map(t => document.querySelectorAll(`[data-testid=${t}]`).length).join(',')"""


def wait_ready(page, timeout: float = 90_000) -> float:
    """The script has finished, every visible table and chart has drawn, and the element counts are stable.

    Returns the ``time.perf_counter()`` at which the final state was first seen: the 0.4 s spent
    confirming that nothing more appears is not part of the page's rendering time.
    """
    page.wait_for_selector("[data-testid=stAppViewContainer]", timeout=timeout)
    deadline = time.monotonic() + timeout / 1000
    last, seen = None, 0.0
    while time.monotonic() < deadline:
        page.wait_for_function(READY_JS, timeout=timeout, polling=50)
        counts = page.evaluate(COUNT_JS)
        if counts == last:
            return seen
        last, seen = counts, time.perf_counter()
        page.wait_for_timeout(400)
    raise TimeoutError("page did not settle")


def screenshot(page, name: str) -> None:
    """Full-height screenshot (Streamlit scrolls inside its main container, so grow the viewport first)."""
    SHOTS.mkdir(exist_ok=True)
    height = page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollHeight")
    page.set_viewport_size({"width": 1400, "height": min(max(900, height + 40), 8000)})
    page.wait_for_timeout(600)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    page.set_viewport_size({"width": 1400, "height": 900})


def open_custom_queries(page, url: str, dataset: str = "tiny-parallel") -> None:
    """The Custom queries page with ``dataset`` picked in "Search in"."""
    page.goto(f"{url}/custom_queries")
    wait_ready(page)
    page.get_by_role("combobox", name="Search in").click()
    page.get_by_role("option", name=dataset).click()
    wait_ready(page)


def ask(page, query: str, until: str) -> None:
    """Type ``query`` into the Query box, wait until ``until`` shows and the page settles; no exception on it."""
    box = page.get_by_role("textbox", name="Query", exact=True)
    box.fill(query)
    box.press("Enter")
    page.get_by_text(until).wait_for(timeout=60_000)
    wait_ready(page)
    assert page.locator("[data-testid=stException]").count() == 0


@contextmanager
def dashboard(runs: Path, cache: Path, log: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """A dashboard server over ``runs`` for the ``with`` block (``env``: more variables it starts with); yields its
    URL and stops the server at the end."""
    port = free_port()
    proc = start_server(runs, cache, port, log, env)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@contextmanager
def demo_server(root: Path, make, n_questions: int) -> Iterator[dict]:
    """A dashboard over runs that ``make(runs, models, ds)`` writes through the real core (tiny models) on a seeded
    ``n_questions`` XQuAD-R slice (the built-in tiny set when XQuAD-R is absent); yields url, runs, dataset, log."""
    from tests.conftest import SHARED_DATA
    from tests.dashboard.helpers import built_store
    from tests.dashboard.tiny_runs import demo_dataset

    data = os.environ.get("HYBRID_IR_DATA", str(SHARED_DATA))
    store = built_store(root, make, lambda: demo_dataset(n_questions), HYBRID_IR_DATA=data)
    with dashboard(store.runs, store.cache, root / "server.log", {"HYBRID_IR_DATA": data}) as url:
        yield {"url": url, "runs": store.runs, "dataset": store.ds.name, "log": root / "server.log"}
