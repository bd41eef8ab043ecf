"""Dashboard start-up: seconds from the README's launch command to the Compare page fully rendered, in Chromium.

The command is the one users run, ``python scripts/dashboard.py`` (``streamlit run app.py`` plus pre-imports of
pandas / pyarrow / the pages' modules in a thread while the browser loads); the plain ``streamlit run app.py`` is
measured beside it in the same process as the baseline (``--no-plain`` skips it), and the ratios are printed.
Ten runs on disk (ten tiny random models evaluated by the real core on an XQuAD-R slice, all 11
languages, every mono / cross / multi setting), all selected on the Compare page: its tables with
1,000-resample bootstrap CIs and 2,000-flip paired tests for every run x kind x metric, and the chart.
"Fully rendered" = the script finished and every visible table and chart has drawn
(``tests/e2e/browser_utils.wait_ready``). Chromium is started before the clock and keeps one profile, so
its HTTP cache holds Streamlit's static files after the first load, as in a user's browser.

Two conditions, each a fresh server process: **cold** (no compare cache on disk: the statistics are
computed) and **warm** (the report cached under ``<cache>/compare`` by an earlier start, as after any
restart); in each, the page is then opened again in a new tab of the same server (**running server**: a new
session, the process already warm). The run folders are built once into ``--workdir`` and reused. The load
average is printed: wall times on a loaded machine are not comparable with a quiet one.

    .venv/bin/python benchmarks/bench_dashboard.py --repeats 3
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.e2e.browser_utils import CHROMIUM, CHROMIUM_ARGS, free_port, start_server, wait_ready  # noqa: E402


def build_runs(workdir: Path, n_runs: int, questions: int) -> Path:
    """Ten evaluated tiny-model runs (built once; a marker file says they are complete)."""
    runs = workdir / "runs"
    marker = workdir / f"built-{n_runs}-{questions}"
    if marker.exists():
        return runs
    shutil.rmtree(workdir, ignore_errors=True)
    os.environ["HYBRID_IR_CACHE"] = str(workdir / "cache")
    from hybrid_core.data import load_dataset
    from hybrid_core.evaluation.run_eval import evaluate_model_as_run
    from hybrid_core.runs import RunStore
    from tests.dashboard.tiny_runs import build_tiny_model, dataset_texts

    ds = load_dataset("xquad-r").subset(max_questions=questions, seed=0, name=f"xquad-r-q{questions}")
    texts = dataset_texts(ds)
    t0 = time.perf_counter()
    for i in range(n_runs):
        model = build_tiny_model(workdir / "models" / f"m{i}", texts, seed=i)
        evaluate_model_as_run(str(model), [ds], run_name=f"run-{i:02d}", store=RunStore(runs), log=lambda *a: None)
    marker.touch()
    print(
        f"built {n_runs} runs on {ds.name} ({len(ds.queries)} queries, {len(ds.corpus)} candidates) "
        f"in {time.perf_counter() - t0:.0f} s"
    )
    return runs


def _check(page) -> None:
    assert page.locator("[data-testid=stException]").count() == 0
    assert page.locator("h1").first.inner_text() == "Compare runs"
    assert page.inner_text("[data-testid=stDataFrame] table").count("run-") >= 10


def measure(context, runs: Path, cache: Path, log: Path, port: int, plain: bool) -> tuple[float, float, float]:
    """(seconds to server health, seconds from server start to the rendered Compare page, seconds to render it
    again in a new tab of the same running server); ``plain``: started by ``streamlit run app.py``."""
    page = context.new_page()
    t0 = time.perf_counter()
    proc = start_server(runs, cache, port, log, plain=plain)
    t_up = time.perf_counter() - t0
    try:
        page.goto(f"http://127.0.0.1:{port}/compare")
        t_done = wait_ready(page) - t0  # when the final state was first seen (not after the stability check)
        _check(page)
        again = context.new_page()  # a second visit (new session) on the running server
        t1 = time.perf_counter()
        again.goto(f"http://127.0.0.1:{port}/compare")
        t_running = wait_ready(again) - t1
        _check(again)
        again.close()
    finally:
        page.close()
        proc.terminate()
        proc.wait(timeout=20)
    return t_up, t_done, t_running


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", default=str(REPO / "cache" / "bench-dashboard"))
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--questions", type=int, default=300, help="XQuAD-R questions (x 11 languages) per run")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-plain", action="store_true", help="skip the plain `streamlit run app.py` baseline")
    args = ap.parse_args()
    workdir = Path(args.workdir)
    runs = build_runs(workdir, args.runs, args.questions)
    cache = workdir / "cache"
    from playwright.sync_api import sync_playwright

    launches = {"launcher": False} if args.no_plain else {"launcher": False, "plain": True}
    results: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
    load0 = os.getloadavg()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        # one browser profile throughout, as a user's: its HTTP cache holds Streamlit's static files
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        port = free_port()  # one origin throughout, as a user's bookmark: the HTTP cache is per host:port
        for _ in range(args.repeats):
            for launch, plain in launches.items():  # interleaved: a drift in load hits both alike
                shutil.rmtree(cache / "compare", ignore_errors=True)
                results.setdefault(("cold", launch), []).append(
                    measure(context, runs, cache, workdir / "server.log", port, plain)
                )
                results.setdefault(("warm", launch), []).append(
                    measure(context, runs, cache, workdir / "server.log", port, plain)
                )
        browser.close()
    med = {}
    for (cond, launch), vals in results.items():
        up = statistics.median(v[0] for v in vals)
        done = [v[1] for v in vals]
        running = [v[2] for v in vals]
        med[cond, launch] = statistics.median(done), statistics.median(running)
        command = "streamlit run app.py" if launch == "plain" else "scripts/dashboard.py"
        print(
            f"{cond} ({command}): Compare page rendered {statistics.median(done):.2f} s after server start "
            f"(median of {len(done)}: {', '.join(f'{d:.2f}' for d in done)}; server healthy after {up:.2f} s); "
            f"again on the running server {statistics.median(running):.2f} s "
            f"({', '.join(f'{d:.2f}' for d in running)})"
        )
    if not args.no_plain:
        for cond in ("cold", "warm"):
            (a, ra), (b, rb) = med[cond, "launcher"], med[cond, "plain"]
            print(f"{cond}: launcher / plain = {a / b:.2f}x fresh start, {ra / rb:.2f}x running server")
    load1 = os.getloadavg()
    print(f"load average (1 min) {load0[0]:.1f} at start, {load1[0]:.1f} at end (2 cores: above ~0.5 is not quiet)")


if __name__ == "__main__":
    main()
