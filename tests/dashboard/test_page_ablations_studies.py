"""Ablations page, studies tab: list with status, curves per slice, tables with marks and MDE, exports, start."""

from __future__ import annotations

import pandas as pd
import pytest

from hybrid_core.studies.tables import read_results
from tests.dashboard.helpers import app, figures, no_exceptions
from tests.studies.finished import make_finished_study
from tests.training.conftest import synthetic_dir, tiny_model_dir  # noqa: F401  (fixtures)


@pytest.fixture(scope="module")
def study(tmp_path_factory, tiny_model_dir, synthetic_dir):  # noqa: F811
    root = tmp_path_factory.mktemp("study")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HYBRID_IR_EMBEDDINGS", str(root / "emb"))
        return make_finished_study(root, tiny_model_dir, synthetic_dir)


def frame(at, index_name: str | None = None, column: str | None = None):
    """The page's dataframe whose index is named ``index_name`` (or that has ``column``)."""
    for d in at.dataframe:
        v = d.value
        if (index_name and v.index.name == index_name) or (column and column in v.columns):
            return v
    raise AssertionError(f"no table with index {index_name!r} / column {column!r}")


@pytest.fixture(autouse=True)
def _studies_dir(study, monkeypatch):
    monkeypatch.setenv("HYBRID_IR_STUDIES", str(study.parents[1]))


def test_studies_list_curve_tables_and_exports(study) -> None:
    at = app("ablations")
    no_exceptions(at)
    listing = frame(at, column="study")
    assert listing[["study", "size", "state"]].values.tolist() == [["tiny", "quick", "done"]]
    assert listing["progress"].tolist() == [1.0]
    tidy = read_results(study)
    ds = tidy["dataset"].iloc[0]
    curve = figures(at)[0]
    lines = [t for t in curve.data if t.mode == "lines+markers"]
    assert [t.name for t in lines] == ["mono", "cross", "multi"]
    assert list(lines[0].x) == [0.25, 0.75]
    want = tidy[(tidy["slice"] == "all") & (tidy["arm"] == "hybrid-a0.75") & (tidy["kind"] == "mono")]
    assert lines[0].y[1] == pytest.approx(want[want["metric"] == "map"]["value"].iloc[0])
    values = frame(at, "arm")
    assert list(values.index) == ["base", "x-y", "x-x-mono", "hybrid-a0.25", "hybrid-a0.75", "soup-l0.5"]
    assert list(values.columns) == ["mono mAP", "cross mAP", "multi mAP", "RD"]
    deltas = frame(at, "arm vs baseline")
    assert "x-y" not in deltas.index and all("MDE" in c for c in deltas["multi mAP"])
    note = " ".join(c.value for c in at.caption)
    assert "Minimum detectable effect" in note and "SAMPLED" in note and "Holm (1979)" in note
    labels = [b.label for b in at.get("download_button")]
    assert labels[:6] == ["PNG", "SVG", "PDF", "CSV", "LaTeX", "PNG"]
    assert "Paper bundle (zip)" in labels
    assert ds in at.selectbox(key="studies_ds").options


def test_slice_selector_filters_languages(study) -> None:
    at = app("ablations", studies_slice="unseen")
    no_exceptions(at)
    options = at.selectbox(key="studies_slice").options
    assert options[:3] == ["all (de en es fr)", "seen (de en es)", "unseen (fr)"]
    assert options[3].startswith("low-resource (")
    assert "languages never seen in training: fr" in " ".join(c.value for c in at.caption)
    tidy = read_results(study)
    unseen = tidy[(tidy["slice"] == "unseen") & (tidy["arm"] == "base") & (tidy["kind"] == "multi")]
    cell = frame(at, "arm").loc["base", "multi mAP"]
    assert cell.startswith(f"{unseen[unseen['metric'] == 'map']['value'].iloc[0]:.3f} [")
    at = app("ablations", studies_metric="rank_distance")
    no_exceptions(at)
    assert "rank distance" in figures(at)[0].layout.yaxis.title.text


def test_start_study_as_job(monkeypatch) -> None:
    from hybrid_core import jobs

    started = []
    monkeypatch.setattr(jobs, "start", lambda argv, label="": started.append((argv, label)) or "job-1")
    at = app("ablations")
    at.selectbox(key="studies_new").set_value("merge")
    at.selectbox(key="studies_new_size").set_value("quick")
    at.button(key="studies_start").click().run()
    no_exceptions(at)
    assert started and started[0][0][-4:] == ["study", "merge", "--size", "quick"]
    assert "Started job job-1" in at.success[0].value


def test_configs_show_integers_as_integers(dash, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("HYBRID_IR_STUDIES", str(tmp_path / "none"))
    at = app("ablations")
    no_exceptions(at)
    configs = frame(at, column="batch_size")
    assert set(configs["batch_size"]) == {"16"} and set(configs["steps"]) == {"0"} and set(configs["seed"]) == {"0"}
    assert any("No study on disk yet" in i.value for i in at.info)


def test_study_with_noisy_evaluation_sets_shows_curves(study, tmp_path, monkeypatch) -> None:
    """A study whose results hold noisy evaluation sets (``<data>-noise-<spec>-seed<n>``) gets noise curves.

    Stand-in for a study evaluated with ``[eval] noise``: the finished study's rows, copied under two noisy
    data-set names with lowered values (the curves read only results.csv).
    """
    import shutil

    import numpy as np

    from hybrid_core.analysis.robustness import study_noise_table
    from hybrid_core.augment.perturb import noisy_name

    folder = tmp_path / "studies" / study.parent.name / study.name
    shutil.copytree(study, folder)
    tidy = read_results(folder)
    base = tidy["dataset"].iloc[0]
    clean = tidy[tidy["dataset"] == base]
    noisy = [
        clean.assign(dataset=noisy_name(base, spec, 0), value=clean["value"] - drop)
        for spec, drop in (("typos:0.1", 0.05), ("typos:0.2", 0.125))
    ]
    pd.concat([tidy, *noisy]).to_csv(folder / "results.csv", index=False)
    monkeypatch.setenv("HYBRID_IR_STUDIES", str(tmp_path / "studies"))
    at = app("ablations", studies_noise_kind="cross")
    no_exceptions(at)
    want = study_noise_table(read_results(folder), base, "all", "map")
    want = want[want["kind"] == "cross"]
    fig = next(f for f in figures(at) if "under typos noise" in (f.layout.title.text or ""))
    lines = {t.name: t for t in fig.data if t.mode == "lines+markers"}
    assert set(lines) == set(want["series"])
    for arm, rows in want.groupby("series"):
        np.testing.assert_array_equal(np.asarray(lines[arm].x, dtype=float), [0.0, 0.1, 0.2])
        np.testing.assert_allclose(np.asarray(lines[arm].y, dtype=float), rows.sort_values("level")["value"])
        np.testing.assert_allclose(rows.sort_values("level")["drop"], [0.0, -0.05, -0.125], atol=1e-12)
    shown = frame(at, column="drop")
    assert len(shown) == len(want)
