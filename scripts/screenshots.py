"""Full-page screenshots of every dashboard page over the run store you have (default ``cache/runs``).

    .venv/bin/python scripts/screenshots.py                      # -> screenshots/real-<page>.png
    .venv/bin/python scripts/screenshots.py --runs /path/to/runs --prefix demo
    .venv/bin/python scripts/screenshots.py --pages ablations robustness

Starts the dashboard (``scripts/dashboard.py``, i.e. ``streamlit run app.py``) on a free local port and drives
Debian's headless Chromium through each page (the same helpers as the browser test), so you can look at what a
user sees.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hybrid_core import paths  # noqa: E402
from tests.e2e.browser_utils import CHROMIUM, CHROMIUM_ARGS, free_port, screenshot, start_server, wait_ready  # noqa: E402

PAGES = ["", "compare", "language_pairs", "bias", "embeddings", "custom_queries", "ablations", "robustness", "jobs"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=Path, default=None, help="run store (default: $HYBRID_IR_RUNS or cache/runs)")
    ap.add_argument("--prefix", default="real", help="file name prefix under screenshots/")
    ap.add_argument("--pages", nargs="+", choices=PAGES, default=PAGES, metavar="PAGE", help="pages ('' = home)")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    runs = args.runs or paths.runs_dir()
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(runs, paths.cache_dir(), port, Path(tmp) / "server.log")
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                for name in args.pages:
                    page.goto(f"http://127.0.0.1:{port}/{name}")
                    wait_ready(page, timeout=300_000)
                    screenshot(page, f"{args.prefix}-{name or 'home'}")
                    print(f"screenshots/{args.prefix}-{name or 'home'}.png")
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
