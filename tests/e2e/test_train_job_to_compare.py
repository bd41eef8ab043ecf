"""In a real browser: start a tiny training job on the Jobs page, wait, and see the run with numbers on Compare.

The server's data folder holds a synthetic LAReQA set under the name ``xquad-r`` and ``mlqa-r`` (tiny
vocabulary), and the base model is a tiny random model folder typed into the form: the whole job runs in
seconds, through the same CLI command, trainer and evaluation path as a real one.
"""

from __future__ import annotations

import re
import time

import pytest

from hybrid_core.runs import RunStore
from tests.e2e.browser_utils import dashboard, screenshot, wait_ready
from tests.training.conftest import build_tiny_model, write_synthetic_lareqa

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("train-job")
    data = root / "data"
    for name in ("xquad-r", "mlqa-r"):
        write_synthetic_lareqa(data / name, langs=("de", "en", "es"))
    model = build_tiny_model(root / "model", langs=("de", "en", "es"))
    env = {"HYBRID_IR_DATA": str(data), "HYBRID_IR_EMBEDDINGS": str(root / "emb"), "OMP_NUM_THREADS": "1"}
    with dashboard(root / "runs", root / "cache", root / "server.log", env) as url:
        yield {"url": url, "runs": root / "runs", "model": model, "log": root / "server.log"}


def test_train_job_from_jobs_page_reaches_compare(server, page) -> None:
    page.goto(f"{server['url']}/jobs")
    wait_ready(page)
    page.get_by_role("tab", name="Train").click()
    form = page.locator("[data-testid=stForm]").filter(has=page.get_by_role("button", name="Start training"))
    form.get_by_role("textbox", name="Run name").fill("browser-run")
    form.get_by_role("spinbutton", name="Steps").fill("3")
    form.get_by_role("spinbutton", name="Batch size").fill("4")
    form.get_by_role("textbox", name="Base model").fill(str(server["model"]))
    form.get_by_role("textbox", name="Evaluate at the end on").fill("mlqa-r:test")
    form.get_by_role("spinbutton", name="Question sample (0 = all)").fill("8")
    form.get_by_role("button", name="Start training").click()
    page.get_by_text("Started job").wait_for(timeout=30_000)
    assert page.get_by_text("train part of mlqa-r").count() >= 1  # auto: the article-disjoint part
    store = RunStore(server["runs"])
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and not (store.exists("browser-run") and store.get("browser-run").datasets()):
        time.sleep(1)
    run = store.get("browser-run")
    assert run.datasets() == ["mlqa-r-test-q8-s0"], server["log"].read_text()[-2000:]
    page.get_by_text(re.compile(r"browser-run .*— done")).wait_for(timeout=60_000)
    screenshot(page, "jobs-train-done")

    page.goto(f"{server['url']}/compare")
    wait_ready(page)
    mono = run.summary("mlqa-r-test-q8-s0")["macro"]["mono"]["map"]
    table = page.inner_text("[data-testid=stDataFrame] table")
    assert "browser-run" in table and f"{mono:.3f} [" in table
    screenshot(page, "compare-trained-run")
