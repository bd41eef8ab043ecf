"""The paper bundle from a real browser: click the Compare page's button, unpack the zip, check every file.

Runs are tiny random models evaluated by the real core on the built-in tiny parallel set; one extra run
is evaluated on a seeded 4-question sample, so the bundle compares across slices on shared questions.
Needs Debian's Chromium (the browser, and Kaleido for the figures); pdflatex when installed.
"""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from hybrid_core.analysis import figures
from hybrid_core.runs import RunStore
from tests.e2e.browser_utils import CHROMIUM, CHROMIUM_ARGS, free_port, screenshot, start_server, wait_ready
from tests.latex_check import PDFLATEX, assert_compiles

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def bundle_server(tmp_path_factory):
    if not Path(CHROMIUM).is_file():
        pytest.skip("Chromium not installed (apt-get install -y chromium)")
    from hybrid_core.data.mock import tiny_parallel_dataset
    from tests.dashboard.tiny_runs import make_runs, make_slice_runs

    root = tmp_path_factory.mktemp("bundle")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HYBRID_IR_CACHE", str(root / "cache"))
        ds = tiny_parallel_dataset()
        make_runs(root / "all", root / "models", ds, n_eval=2, sweep_alphas=(0.5,), corrupt=False)
        make_slice_runs(root / "runs", root / "all", root / "models", ds)
        port = free_port()
        proc = start_server(root / "runs", root / "cache", port, root / "server.log")
    yield {"url": f"http://127.0.0.1:{port}", "runs": root / "runs", "dataset": ds.name}
    proc.terminate()
    proc.wait(timeout=20)


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_paper_bundle_download(bundle_server, tmp_path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True).new_page()
        page.goto(f"{bundle_server['url']}/compare")
        wait_ready(page, timeout=180_000)
        assert page.locator("[data-testid=stException]").count() == 0
        assert "questions" in page.inner_text("[data-testid=stMain]")  # the shared-questions note
        screenshot(page, "bundle-compare")
        with page.expect_download(timeout=300_000) as dl:
            page.get_by_role("button", name="Paper bundle (.zip)").click()
        data = Path(dl.value.path()).read_bytes()
        browser.close()
    zf = zipfile.ZipFile(io.BytesIO(data))
    names = set(zf.namelist())
    assert "ERROR.txt" not in names, zf.read("ERROR.txt").decode() if "ERROR.txt" in names else ""
    runs = ["tiny-0", "slice-a", "slice-b"]
    for run in runs:
        for fmt in ("pdf", "svg", "png"):
            assert f"figures/pairs-map-{run}.{fmt}" in names
    # figures at print size: 700 px at scale 3
    width, height = _png_size(zf.read("figures/rank-distance.png"))
    assert width == figures.PRINT_WIDTH * figures.PRINT_SCALE and height > 600
    assert zf.read("figures/rank-distance.pdf")[:5] == b"%PDF-"
    assert zf.read("figures/pairs-map-tiny-0.svg").lstrip()[:4] in (b"<svg", b"<?xm")
    # numbers equal the run files: per-setting means over the shared queries, then over settings
    store = RunStore(bundle_server["runs"])
    frames = {
        r: store.get(r).per_query(d)
        for r, d in (
            ("tiny-0", "tiny-parallel"),
            ("slice-a", "tiny-parallel-q4-s0"),
            ("slice-b", "tiny-parallel-q3-s1"),
        )
    }
    keys = [set(zip(f["question_id"], f["query_language"], strict=True)) for f in frames.values()]
    shared = set.intersection(*keys)
    numbers = pd.read_csv(zf.open("numbers.csv"))
    for run, pq in frames.items():
        keep = pq[[k in shared for k in zip(pq["question_id"], pq["query_language"], strict=True)]]
        for kind in ("mono", "cross", "multi"):
            expected = keep[keep["kind"] == kind].groupby("setting")["map"].mean().mean()
            got = numbers[(numbers["run"] == run) & (numbers["kind"] == kind) & (numbers["metric"] == "map")]
            assert got["value"].item() == pytest.approx(expected, rel=1e-12)
    readme = zf.read("README.md").decode()
    assert "--max-questions 4 --seed 0" in readme and "questions they share" in zf.read("table_main.tex").decode()
    tex = zf.read("tables_preview.tex").decode()
    if PDFLATEX:
        assert_compiles(tex, tmp_path)
    else:  # strict escaping: no bare special character outside the LaTeX commands we write
        body = tex.split(r"\midrule")[1].split(r"\bottomrule")[0]
        assert "slice-a" in body and "_" not in body.replace(r"\_", "")
