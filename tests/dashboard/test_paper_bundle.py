"""Paper bundle: main table in the paper's layout (bold best, Holm-corrected marks), numbers, README, button."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pandas as pd
import pytest

from hybrid_core.analysis import paper_bundle
from hybrid_core.analysis.compare import CompareReport
from hybrid_core.runs import RunStore
from tests.dashboard.helpers import app, no_exceptions, summary
from tests.latex_check import PDFLATEX, assert_compiles


def _report() -> CompareReport:
    vals = {  # run: (mono map, cross map, multi map, RD) and raw p-values against "a"
        "a": ((0.5, 0.3, 0.2, 100.0), (np.nan,) * 4),
        "b": ((0.6, 0.35, 0.25, 80.0), (0.001, 0.02, 0.04, 0.5)),
        "c": ((0.4, 0.2, 0.1, 120.0), (0.01, 0.03, 0.2, 0.004)),
    }
    rows = []
    for run, (v, p) in vals.items():
        for (kind, metric, _), value, pv, base in zip(paper_bundle.MAIN_COLUMNS, v, p, vals["a"][0], strict=True):
            rows.append(
                dict(
                    run=run,
                    kind=kind,
                    metric=metric,
                    value=value,
                    ci_low=value - 0.01,
                    ci_high=value + 0.01,
                    p_value=pv,
                    delta=np.nan if run == "a" else value - base,
                )
            )
    return CompareReport(pd.DataFrame(rows), "a", "toy")


def test_main_table_bold_best_and_holm_marks_by_hand() -> None:
    main = paper_bundle.main_table(_report(), n_perm=2000)
    # Holm over the 8 tests: sorted p .001 .004 .01 .02 .03 .04 .2 .5 -> .008 .028 .06 .1 .12 .12 .4 .5
    assert main.p_holm.loc["b", "mono mAP"] == pytest.approx(0.008)
    assert main.p_holm.loc["c", "RD"] == pytest.approx(0.028)
    assert main.p_holm.loc["c", "mono mAP"] == pytest.approx(0.06)
    assert main.p_holm.loc["b", "multi mAP"] == pytest.approx(0.12)
    assert main.display.loc["b", "mono mAP"] == "0.600▲"  # better, significant
    assert main.display.loc["c", "RD"] == "120.0▼"  # higher rank distance = worse
    assert main.display.loc["c", "mono mAP"] == "0.400"  # raw p .01 but not after Holm
    assert main.bold.loc["b"].all() and not main.bold.loc[["a", "c"]].to_numpy().any()  # RD: lowest is best
    assert "Holm correction over the 8 comparisons" in main.footnote and "sign-flip" in main.footnote


def test_bundle_files_numbers_and_readme(dash, tmp_path) -> None:
    names = ["tiny-0", "tiny-1", "sweep-a0.5"]
    fake_png = b"\x89PNG fake"
    data = paper_bundle.build_bundle(
        names,
        dash.ds.name,
        "tiny-0",
        RunStore(dash.runs),
        n_boot=200,
        n_perm=500,
        formats=("png", "svg"),
        render=lambda fig, fmt: fake_png if fmt == "png" else b"<svg/>",
    )
    zf = zipfile.ZipFile(io.BytesIO(data))
    files = set(zf.namelist())
    assert {"README.md", "table_main.tex", "table_main.csv", "table_main_ci.tex", "numbers.csv"} <= files
    for run in names:
        assert f"figures/pairs-map-{run}.png" in files and f"figures/pairs-map-{run}.svg" in files
    assert "figures/rank-distance.png" in files and "figures/rank-distance-distribution.svg" in files
    numbers = pd.read_csv(zf.open("numbers.csv"))
    for run in names:
        s = summary(dash, run)
        for kind in ("mono", "cross", "multi"):
            row = numbers[(numbers["run"] == run) & (numbers["kind"] == kind) & (numbers["metric"] == "map")]
            assert row["value"].item() == pytest.approx(s["macro"][kind]["map"], rel=1e-12)
    main = pd.read_csv(zf.open("table_main.csv"), index_col="run")
    assert main.loc["tiny-1", "RD"] == pytest.approx(summary(dash, "tiny-1")["bias"]["rank_distance"]["macro"])
    tex = zf.read("table_main.tex").decode()
    assert r"\toprule" in tex and r"\textbf{" in tex and "sweep-a0.5" in tex
    readme = zf.read("README.md").decode()
    assert "python -m hybrid_core train" in readme and "--sampler hybrid" in readme and "--alpha 0.5" in readme
    assert "python -m hybrid_core evaluate --model" in readme and "numbers.csv" in readme
    if PDFLATEX:
        assert_compiles(zf.read("tables_preview.tex").decode(), tmp_path)


def test_reproduce_command_for_a_sample() -> None:
    info = {"name": "base", "kind": "evaluate", "model": "intfloat/multilingual-e5-small"}
    cmd = paper_bundle.reproduce_command(info, "xquad-r-q60-s0")
    assert (
        cmd == "python -m hybrid_core evaluate --model intfloat/multilingual-e5-small --run base --data xquad-r "
        "--max-questions 60 --seed 0"
    )


def test_compare_page_has_the_bundle_button(dash) -> None:
    at = app("compare", compare_runs=["tiny-0", "tiny-1"], compare_nboot=200)
    no_exceptions(at)
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Paper bundle (.zip)" in labels
