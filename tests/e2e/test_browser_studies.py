"""The Ablations page's studies tab in headless Chromium over a finished tiny study: slices and the paper bundle."""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from tests.e2e.browser_utils import dashboard, screenshot, wait_ready
from tests.studies.finished import make_finished_study
from tests.training.conftest import synthetic_dir, tiny_model_dir  # noqa: F401  (fixtures)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory, tiny_model_dir, synthetic_dir):  # noqa: F811
    root = tmp_path_factory.mktemp("browser-studies")
    env = {"HYBRID_IR_EMBEDDINGS": str(root / "emb"), "HYBRID_IR_STUDIES": str(root / "studies")}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HYBRID_IR_EMBEDDINGS", env["HYBRID_IR_EMBEDDINGS"])
        folder = make_finished_study(root, tiny_model_dir, synthetic_dir)
    with dashboard(root / "runs", root / "cache", root / "server.log", env) as url:
        yield {"url": url, "folder": folder, "log": root / "server.log"}


def test_studies_tab_slices_and_paper_bundle(server, page) -> None:
    page.goto(f"{server['url']}/ablations")
    wait_ready(page)
    main = page.locator("[data-testid=stMain]")
    assert page.locator("[data-testid=stException]").count() == 0
    text = main.inner_text()
    assert "Traceback" not in text and "Minimum detectable effect" in text and "SAMPLED" in text
    assert page.locator("[data-testid=stPlotlyChart]").count() >= 1
    screenshot(page, "ablations-studies")

    # the slice selector: only the language never seen in training
    page.get_by_role("combobox", name="Languages").click()
    page.get_by_role("option", name="unseen (fr)").click()
    wait_ready(page)
    assert "languages never seen in training: fr" in main.inner_text()
    screenshot(page, "ablations-studies-unseen")

    with page.expect_download(timeout=240_000) as dl:
        page.get_by_role("button", name="Paper bundle (zip)").click()
    data = Path(dl.value.path()).read_bytes()
    z = zipfile.ZipFile(io.BytesIO(data))
    names = set(z.namelist())
    assert {"README.md", "report.md", "results.csv", "plan.json"} <= names
    assert "python -m hybrid_core study" in z.read("README.md").decode()
    tex = [n for n in names if n.endswith(".tex")]
    assert tex and all("\\toprule" in z.read(n).decode() for n in tex)
    for n in tex:  # underscores only escaped (pdflatex would fail on a bare one)
        body = z.read(n).decode().replace("\\_", "")
        assert "_" not in body.replace("$^{", "").replace("_{", ""), n
    pngs = sorted(n for n in names if n.endswith(".png"))
    assert pngs and {n[:-4] for n in pngs} == {n[:-4] for n in names if n.endswith(".pdf")}
    width, height = struct.unpack(">II", z.read(pngs[0])[16:24])
    assert width == 1800 and height >= 800  # 900 px print width at 2x
    assert z.read(pngs[0].replace(".png", ".pdf"))[:5] == b"%PDF-"
    bundled = pd.read_csv(io.BytesIO(z.read("results.csv")))
    on_disk = pd.read_csv(server["folder"] / "results.csv")
    pd.testing.assert_frame_equal(bundled, on_disk)
