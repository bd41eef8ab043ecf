"""Embedding page: a projection per run of the same sampled points, cached; translations linked."""

from __future__ import annotations

from tests.dashboard.helpers import app, figures, no_exceptions


def test_projection_side_by_side_with_links(dash) -> None:
    at = app("embeddings", emb_dataset="tiny-parallel", emb_runs=["tiny-0", "tiny-1"])
    no_exceptions(at)
    left, right = figures(at)
    for fig in (left, right):
        lines = fig.data[0]
        assert lines.mode == "lines"  # translations joined to their centre: 18 questions -> 18 segments
        assert sum(v is None for v in lines.x) == 18
        points = [t for t in fig.data[1:]]
        assert sorted(t.name for t in points) == ["de", "en", "fr"]
        assert sum(len(t.x) for t in points) == 18
        assert "Où le Danube" in " ".join(str(c[1]) for t in points for c in t.customdata)
    assert "tiny-0" in left.layout.title.text and "tiny-1" in right.layout.title.text
    assert sum("Translation spread" in c.value for c in at.caption) == 2
    assert list((dash.cache / "projections").glob("*.npy"))  # cached on disk


def test_candidates_and_tsne(dash) -> None:
    at = app(
        "embeddings",
        emb_dataset="tiny-parallel",
        emb_runs=["tiny-0"],
        emb_what="both",
        emb_method="tsne",
        emb_link=False,
    )
    no_exceptions(at)
    (fig,) = figures(at)
    names = sorted(t.name for t in fig.data)
    assert names == [f"{lang} · {typ}" for lang in ("de", "en", "fr") for typ in ("candidates", "questions")]
    assert sum(len(t.x) for t in fig.data) == 18 + 18  # each question's answer sentence in each language
