"""Shared fixtures: a toy parallel data set with random embeddings, isolated cache and run dirs."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hybrid_core.data.dataset import RetrievalDataset

SHARED_DATA = Path(os.environ.get("HYBRID_IR_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path_factory, monkeypatch):
    """Every test writes runs and embeddings into its own folders, never into the repo's cache/."""
    monkeypatch.setenv("HYBRID_IR_RUNS", str(tmp_path_factory.mktemp("runs")))
    monkeypatch.setenv("HYBRID_IR_EMBEDDINGS", str(tmp_path_factory.mktemp("embeddings")))
    if "HYBRID_IR_DATA" not in os.environ:
        monkeypatch.setenv("HYBRID_IR_DATA", str(SHARED_DATA))


def make_toy(n_questions: int = 40, n_sentences: int = 60, langs=("en", "de", "fr"), seed: int = 0, dim: int = 8):
    """A parallel toy set (fr lacks every 7th question, like MLQA-R's partial coverage) + random embeddings."""
    rng = np.random.default_rng(seed)
    corpus = [
        {
            "id": f"{lang}:{s}",
            "text": f"{lang} s{s}",
            "language": lang,
            "paragraph": f"{lang}:p{s // 4}",
            "article": f"a{s // 20}",
        }
        for lang in langs
        for s in range(n_sentences)
    ]
    queries, qrels = [], {}
    for lang in langs:
        for q in range(n_questions):
            if lang == "fr" and q % 7 == 0:
                continue
            qid = f"{lang}:q{q}"
            queries.append(
                {"id": qid, "text": f"{lang} q{q}", "language": lang, "question_id": f"q{q}", "article": f"a{q // 13}"}
            )
            qrels[qid] = {f"{m}:{q}": 1 for m in langs if not (m == "fr" and q % 7 == 0)}
    ds = RetrievalDataset("toy", pd.DataFrame(queries), pd.DataFrame(corpus), qrels, parallel=True)
    q_emb = rng.normal(size=(len(queries), dim)).astype(np.float32)
    c_emb = rng.normal(size=(len(corpus), dim)).astype(np.float32)
    return ds, q_emb, c_emb


@pytest.fixture
def toy():
    return make_toy()
