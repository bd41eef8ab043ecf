"""Free-text search over a data set's candidate pool: FAISS ``IndexFlatIP`` over cached embeddings.

Embeddings are L2-normalised, so inner product is cosine similarity and exact search equals the
evaluation's scoring. Candidate embeddings come through :func:`hybrid_core.models.encode.encode`, so a corpus
a run was evaluated on is never re-encoded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from hybrid_core.data.dataset import RetrievalDataset
from hybrid_core.errors import HybridIRError

MAX_QUERY_CHARS = 2000


@dataclass
class CorpusIndex:
    """A FAISS index over a data set's candidates, with their table."""

    index: object  # faiss.IndexFlatIP
    corpus: pd.DataFrame
    dim: int


def build_index(embeddings: np.ndarray, corpus: pd.DataFrame) -> CorpusIndex:
    """Exact inner-product index over ``embeddings`` (rows aligned with ``corpus``)."""
    import faiss

    emb = np.ascontiguousarray(embeddings, dtype=np.float32)
    if len(emb) != len(corpus):
        raise HybridIRError(f"{len(emb)} embeddings for {len(corpus)} candidates")
    index = faiss.IndexFlatIP(emb.shape[1])
    index.add(emb)
    return CorpusIndex(index, corpus.reset_index(drop=True), emb.shape[1])


def corpus_index(model, dataset: RetrievalDataset, model_fingerprint: str | None) -> CorpusIndex:
    """Encode (cached) the data set's candidates with the passage prompt and index them."""
    from hybrid_core.models.encode import encode
    from hybrid_core.models.loading import passage_prompt

    emb = encode(model, dataset.corpus["text"].tolist(), passage_prompt(model), model_fingerprint=model_fingerprint)
    return build_index(emb, dataset.corpus)


def search_vector(
    ci: CorpusIndex, query_emb: np.ndarray, k: int = 10, languages: list[str] | None = None
) -> pd.DataFrame:
    """Top ``k`` candidates for one query embedding (optionally only some languages), best first."""
    q = np.ascontiguousarray(np.asarray(query_emb, dtype=np.float32).reshape(1, -1))
    if q.shape[1] != ci.dim:
        raise HybridIRError(f"query embedding has dimension {q.shape[1]}, the index {ci.dim}")
    n = len(ci.corpus)
    depth = n if languages else min(k, n)
    scores, idx = ci.index.search(q, depth)
    hits = ci.corpus.iloc[idx[0][idx[0] >= 0]].assign(score=scores[0][idx[0] >= 0])
    if languages:
        hits = hits[hits["language"].isin(languages)]
    hits = hits.head(k).reset_index(drop=True)
    hits.insert(0, "rank", np.arange(1, len(hits) + 1))
    return hits[["rank", "language", "score", "text", "id"]]


def search(model, ci: CorpusIndex, text: str, k: int = 10, languages: list[str] | None = None) -> pd.DataFrame:
    """Encode ``text`` with the model's query prompt and return the top ``k`` hits across languages."""
    from hybrid_core.models.encode import encode
    from hybrid_core.models.loading import query_prompt

    text = (text or "").strip()
    if not text:
        raise HybridIRError("type a query first")
    if len(text) > MAX_QUERY_CHARS:
        raise HybridIRError(f"the query is {len(text)} characters long; the limit is {MAX_QUERY_CHARS}")
    emb = encode(model, [text], query_prompt(model), use_cache=False)
    return search_vector(ci, emb[0], k, languages)


def language_mix(hits: pd.DataFrame) -> pd.Series:
    """How many of the hits are in each language (a quick bias read-out)."""
    return hits["language"].value_counts().sort_index()


def noisy_search(
    model, ci: CorpusIndex, text: str, noise: str, seed: int = 0, k: int = 10, languages: list[str] | None = None
) -> tuple[str, pd.DataFrame, pd.DataFrame]:
    """What a model retrieves for a query and for its perturbed form (:func:`hybrid_core.augment.noise.apply_noise`).

    Returns the noisy text, the clean hits and the noisy hits (as :func:`search`), the noisy hits with
    ``clean_rank``: the candidate's rank for the clean query (NaN when not among its top ``k``). A bad
    spec raises :class:`hybrid_core.augment.noise.NoiseSpecError` naming the bad item, before anything is encoded.
    """
    from hybrid_core.augment.noise import apply_noise, parse_noise_spec

    items = parse_noise_spec(noise)
    noisy_text = apply_noise((text or "").strip(), items, seed)
    if (text or "").strip() and not noisy_text.strip():
        raise HybridIRError(f"the noise {noise!r} left nothing of the query {text.strip()!r}")
    clean = search(model, ci, text, k, languages)
    noisy = search(model, ci, noisy_text, k, languages)
    ranks = noisy["id"].map(dict(zip(clean["id"], clean["rank"], strict=True))).astype(float)
    noisy.insert(1, "clean_rank", ranks)  # beside the rank: visible without scrolling past the candidate text
    return noisy_text, clean, noisy
