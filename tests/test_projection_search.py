"""Projection sampling / caching and FAISS search, with a deterministic fake encoder."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hybrid_core.analysis import projection
from hybrid_core.data.mock import tiny_parallel_dataset
from hybrid_core.errors import HybridIRError
from hybrid_core.evaluation import search


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HYBRID_IR_CACHE", str(tmp_path / "cache"))


def test_sample_points_by_question() -> None:
    ds = tiny_parallel_dataset()
    pts = projection.sample_points(ds, "questions", max_points=9, seed=3)
    assert len(pts) == 9 and pts.groupby("question_id").size().eq(3).all()  # 3 questions x 3 languages
    both = projection.sample_points(ds, "both", max_points=100)
    assert (both["type"] == "candidate").sum() == 18 and (both["type"] == "question").sum() == 18
    de = projection.sample_points(ds, "candidates", languages=["de"])
    assert set(de["language"]) == {"de"} and set(de["type"]) == {"candidate"}
    with pytest.raises(HybridIRError, match="no language"):
        projection.sample_points(ds, languages=["xx"])
    with pytest.raises(HybridIRError):
        projection.sample_points(ds, "nothing")


def test_project_pca_cached_and_stable(tmp_path) -> None:
    x = np.random.default_rng(0).normal(size=(30, 8)).astype(np.float32)
    a = projection.project(x, "pca")
    files = list((tmp_path / "cache" / "projections").glob("*.npy"))
    assert a.shape == (30, 2) and len(files) == 1
    np.testing.assert_array_equal(projection.project(x, "pca"), a)
    np.save(files[0], np.zeros((3, 2)))  # a damaged cache entry is recomputed
    np.testing.assert_allclose(projection.project(x, "pca"), a, atol=1e-5)
    assert projection.project(x, "tsne").shape == (30, 2)
    with pytest.raises(HybridIRError):
        projection.project(x, "lda")
    with pytest.raises(HybridIRError):
        projection.project(x[:2])


def test_translation_spread() -> None:
    f = pd.DataFrame(
        {
            "x": [0.0, 0.0, 10.0, 10.0],
            "y": [0.0, 0.0, 0.0, 0.0],
            "type": ["question"] * 4,
            "question_id": ["a", "a", "b", "b"],
        }
    )
    assert projection.translation_spread(f) == 0.0
    f["question_id"] = ["a", "b", "a", "b"]
    assert projection.translation_spread(f) == pytest.approx(1.0)


def test_search_vector_order_and_language_filter() -> None:
    corpus = pd.DataFrame({"id": ["a", "b", "c"], "text": ["x", "y", "z"], "language": ["en", "de", "en"]})
    emb = np.eye(3, dtype=np.float32)
    ci = search.build_index(emb, corpus)
    hits = search.search_vector(ci, np.array([0.1, 0.9, 0.5]), k=2)
    assert list(hits["id"]) == ["b", "c"] and list(hits["rank"]) == [1, 2]
    en = search.search_vector(ci, np.array([0.1, 0.9, 0.5]), k=5, languages=["en"])
    assert list(en["id"]) == ["c", "a"]
    assert search.language_mix(en).to_dict() == {"en": 2}
    with pytest.raises(HybridIRError):
        search.build_index(emb[:2], corpus)
    with pytest.raises(HybridIRError, match="dimension"):
        search.search_vector(ci, np.ones(4))


@pytest.mark.slow
def test_umap_projection_cached() -> None:
    x = np.random.default_rng(0).normal(size=(60, 8)).astype(np.float32)
    coords = projection.project(x, "umap")  # first call JIT-compiles numba code (~15 s)
    assert coords.shape == (60, 2) and np.isfinite(coords).all()
    np.testing.assert_array_equal(projection.project(x, "umap"), coords)
