"""A study's paper bundle: every file of the folder, figures rendered at print size or, without Chromium, as JSON."""

from __future__ import annotations

import io
import zipfile

import plotly.graph_objects as go
import pytest

from hybrid_core.analysis import figure_export
from hybrid_core.errors import HybridIRError
from hybrid_core.io_utils import write_json
from hybrid_core.studies.bundle import PRINT_WIDTH, paper_bundle


@pytest.fixture
def folder(tmp_path):
    f = tmp_path / "study"
    (f / "tables").mkdir(parents=True)
    (f / "figures").mkdir()
    (f / "results.csv").write_text("dataset,value\nset,0.5\n")
    (f / "report.md").write_text("# report\n")
    (f / "tables" / "set--all.md").write_text("| a |\n")
    write_json(f / "plan.json", {"study": "s", "size": "quick", "spec": {"name": "s"}, "datasets": []})
    (f / "figures" / "curve.json").write_text(go.Figure(layout={"height": 300}).to_json())
    return f


def _names(data: bytes) -> list[str]:
    return zipfile.ZipFile(io.BytesIO(data)).namelist()


def test_bundle_renders_every_figure_at_print_size(folder, monkeypatch) -> None:
    drawn = []

    def fake(fig, fmt, width, height, scale):
        drawn.append((fmt, width, height, scale))
        return fmt.encode()

    monkeypatch.setattr(figure_export, "figure_bytes", fake)
    names = _names(paper_bundle(folder))
    assert names == [
        "README.md",
        "figures/curve.pdf",
        "figures/curve.png",
        "figures/curve.svg",
        "plan.json",
        "report.md",
        "results.csv",
        "tables/set--all.md",
    ]
    assert drawn == [(fmt, PRINT_WIDTH, 300, 2) for fmt in ("png", "svg", "pdf")]


def test_bundle_without_chromium_keeps_the_plotly_json(folder, monkeypatch) -> None:
    def no_browser(*args, **kwargs):
        raise HybridIRError("figure export needs Chromium")

    monkeypatch.setattr(figure_export, "figure_bytes", no_browser)
    data = paper_bundle(folder)
    assert "figures/curve.json" in _names(data) and not any(n.endswith(".png") for n in _names(data))
    assert "no Chromium was available" in zipfile.ZipFile(io.BytesIO(data)).read("README.md").decode()
    assert _names(paper_bundle(folder, render=False)) == _names(data)
