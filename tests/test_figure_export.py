"""Figure export through Kaleido + Debian Chromium, and table text (CSV / LaTeX)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import pytest

from hybrid_core.analysis import figure_export
from hybrid_core.errors import HybridIRError


@pytest.mark.skipif(figure_export.chromium_path() is None, reason="Chromium not installed")
def test_png_and_svg(tmp_path) -> None:
    fig = go.Figure(go.Bar(x=["mono", "cross"], y=[0.8, 0.7]))
    png = figure_export.figure_bytes(fig, "png", width=400, height=300, scale=1)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 1000
    svg = figure_export.figure_bytes(fig, "svg", width=400, height=300)
    assert svg.lstrip().startswith(b"<svg") and b"mono" in svg
    out = figure_export.write_figure(fig, tmp_path / "f.svg", width=400, height=300)
    assert out.read_bytes().lstrip().startswith(b"<svg")
    with pytest.raises(HybridIRError, match="unknown figure format"):
        figure_export.figure_bytes(fig, "gif")


def test_table_text() -> None:
    t = pd.DataFrame({"map": [0.81234, None]}, index=pd.Index(["a", "b"], name="run"))
    assert figure_export.table_text(t, "csv").splitlines() == ["run,map", "a,0.81234", "b,"]
    tex = figure_export.table_text(t, "tex", caption="Runs")
    assert "0.812" in tex and "--" in tex and "\\caption{Runs}" in tex
    flat = figure_export.table_text(pd.DataFrame({"x": [1]}), "csv")
    assert flat.splitlines() == ["x", "1"]
    with pytest.raises(HybridIRError):
        figure_export.table_text(t, "xlsx")


def test_render_figures_names_every_format_and_zip_bytes_round_trip() -> None:
    import io
    import zipfile

    from hybrid_core.io_utils import zip_bytes

    figs = {"a": go.Figure(), "b": go.Figure()}
    files = figure_export.render_figures(figs, ("png", "svg"), lambda fig, fmt: fmt.encode())
    assert files == {"figures/a.png": b"png", "figures/a.svg": b"svg", "figures/b.png": b"png", "figures/b.svg": b"svg"}

    def no_browser(fig, fmt):
        raise HybridIRError("figure export needs Chromium")

    with pytest.raises(HybridIRError, match="needs Chromium"):
        figure_export.render_figures(figs, ("png",), no_browser)
    zf = zipfile.ZipFile(io.BytesIO(zip_bytes({"z.txt": "text", "a/b.bin": b"\x00\x01"})))
    assert zf.namelist() == ["a/b.bin", "z.txt"] and zf.read("z.txt") == b"text" and zf.read("a/b.bin") == b"\x00\x01"
