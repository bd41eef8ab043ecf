"""2-D projections of question / candidate embeddings: PCA (default), UMAP or t-SNE, cached on disk.

The sample is drawn by *question*: a seeded set of question ids, every language version of each, and
(optionally) each one's relevant candidates, so translations can be linked in the plot and two runs
can be shown on exactly the same points. The sample is capped (``max_points``) because t-SNE and UMAP
are super-linear and a browser scatter of 10k+ points is unreadable. Projections are cached under
``<cache>/projections/<key>.npy``, the key hashing the embeddings, the method and its parameters.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

from hybrid_core import paths
from hybrid_core.data.dataset import RetrievalDataset
from hybrid_core.errors import HybridIRError
from hybrid_core.io_utils import atomic_path

METHODS = ("pca", "umap", "tsne")
WHAT = ("questions", "candidates", "both")
MAX_POINTS = 1500  # default cap: t-SNE on 1.5k points takes ~10 s on 2 cores


def projections_dir() -> Path:
    return paths.cache_dir() / "projections"


def sample_points(
    dataset: RetrievalDataset,
    what: str = "questions",
    max_points: int = MAX_POINTS,
    languages: list[str] | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """Rows to embed: id, text, language, type (question / candidate), question_id; at most ``max_points``."""
    if what not in WHAT:
        raise HybridIRError(f"unknown selection {what!r}; choose one of {list(WHAT)}")
    if max_points < 2:
        raise HybridIRError("max_points must be at least 2")
    queries = dataset.queries
    if languages:
        unknown = sorted(set(languages) - set(dataset.languages))
        if unknown:
            raise HybridIRError(f"{dataset.name}: no language(s) {unknown}; available: {dataset.languages}")
        queries = queries[queries["language"].isin(languages)]
    if queries.empty:
        raise HybridIRError(f"{dataset.name}: no queries in the chosen languages")
    per_question = queries.groupby("question_id").size()
    mean_size = float(per_question.mean()) * (2 if what == "both" else 1)
    n_questions = max(1, min(len(per_question), int(max_points // max(mean_size, 1))))
    rng = np.random.default_rng(seed)
    chosen = set(rng.choice(np.array(sorted(per_question.index), dtype=object), size=n_questions, replace=False))
    qs = queries[queries["question_id"].isin(chosen)]
    parts = []
    if what in ("questions", "both"):
        parts.append(qs[["id", "text", "language", "question_id"]].assign(type="question"))
    if what in ("candidates", "both"):
        owner: dict[str, str] = {}
        for qid, qid_group in zip(qs["id"], qs["question_id"], strict=True):
            for doc in dataset.qrels.get(qid, {}):
                owner.setdefault(doc, qid_group)
        cands = dataset.corpus[dataset.corpus["id"].isin(owner)]
        if languages:
            cands = cands[cands["language"].isin(languages)]
        parts.append(cands[["id", "text", "language"]].assign(question_id=cands["id"].map(owner), type="candidate"))
    points = pd.concat(parts, ignore_index=True)
    return points.head(max_points).reset_index(drop=True)


def embed_points(model, points: pd.DataFrame, model_fingerprint: str | None) -> np.ndarray:
    """Embeddings of the sampled rows with the model's query / passage prompts, through the embedding cache."""
    from hybrid_core.models.encode import encode
    from hybrid_core.models.loading import passage_prompt, query_prompt

    dim_of = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    out = np.zeros((len(points), dim_of()), dtype=np.float32)
    for typ, prompt in (("question", query_prompt(model)), ("candidate", passage_prompt(model))):
        mask = (points["type"] == typ).to_numpy()
        if mask.any():
            out[mask] = encode(model, points.loc[mask, "text"].tolist(), prompt, model_fingerprint=model_fingerprint)
    return out


def _key(embeddings: np.ndarray, method: str, seed: int) -> str:
    h = hashlib.sha256(np.ascontiguousarray(embeddings, dtype=np.float32).tobytes())
    h.update(f"{method}|{seed}|v1".encode())
    return h.hexdigest()[:32]


def project(embeddings: np.ndarray, method: str = "pca", seed: int = 0, cache: bool = True) -> np.ndarray:
    """(n, 2) coordinates; cosine geometry (rows are L2-normalised first). Cached by content + method + seed."""
    if method not in METHODS:
        raise HybridIRError(f"unknown projection {method!r}; choose one of {list(METHODS)}")
    x = np.asarray(embeddings, dtype=np.float32)
    if x.ndim != 2 or len(x) < 3:
        raise HybridIRError("a projection needs at least 3 points")
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    target = projections_dir() / f"{_key(x, method, seed)}.npy"
    if cache and target.is_file():
        try:
            coords = np.load(target, allow_pickle=False)
            if coords.shape == (len(x), 2):
                return coords
        except (OSError, ValueError):
            pass  # damaged cache file: recompute and overwrite
    coords = _compute(x, method, seed).astype(np.float32)
    if cache:
        with atomic_path(target) as tmp, open(tmp, "wb") as fh:
            np.save(fh, coords, allow_pickle=False)
    return coords


def _compute(x: np.ndarray, method: str, seed: int) -> np.ndarray:
    if method == "pca":
        from sklearn.decomposition import PCA

        return PCA(n_components=2, random_state=seed).fit_transform(x)
    if method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = float(min(30, max(2, (len(x) - 1) // 3)))
        return TSNE(
            n_components=2, perplexity=perplexity, init="pca", random_state=seed, metric="cosine"
        ).fit_transform(x)
    import umap  # slow import (numba): only when asked for

    n_neighbors = int(min(15, max(2, len(x) - 1)))
    return umap.UMAP(
        n_components=2, n_neighbors=n_neighbors, min_dist=0.1, metric="cosine", random_state=seed, n_jobs=1
    ).fit_transform(x)


def projection_frame(
    model,
    model_fingerprint: str | None,
    points: pd.DataFrame,
    method: str = "pca",
    seed: int = 0,
) -> pd.DataFrame:
    """``points`` plus x, y: embed (cached) then project (cached)."""
    coords = project(embed_points(model, points, model_fingerprint), method, seed)
    return points.assign(x=coords[:, 0], y=coords[:, 1])


def translation_distance(embeddings: np.ndarray, points: pd.DataFrame) -> float:
    """Mean pairwise cosine distance between the translations of a question, in the full embedding space.

    Averaged over questions with at least two language versions among ``points`` (type ``question``);
    0 means translations coincide. Unlike a distance in a 2-D projection, it does not change with the
    projection method or the sample's other points. NaN when no question has two versions.
    """
    mask = (points["type"] == "question").to_numpy()
    x = np.asarray(embeddings, dtype=np.float64)[mask]
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    groups = pd.Series(np.arange(len(x))).groupby(points.loc[mask, "question_id"].to_numpy()).apply(list)
    per_question = []
    for rows in groups:
        if len(rows) < 2:
            continue
        v = x[rows]
        sim = v @ v.T
        iu = np.triu_indices(len(rows), k=1)
        per_question.append(float((1 - sim[iu]).mean()))
    return float(np.mean(per_question)) if per_question else float("nan")


def projection_view(
    model, model_fingerprint: str | None, points: pd.DataFrame, method: str = "pca", seed: int = 0
) -> tuple[pd.DataFrame, float]:
    """``points`` with x, y (as :func:`projection_frame`) and the full-space :func:`translation_distance`."""
    emb = embed_points(model, points, model_fingerprint)
    coords = project(emb, method, seed)
    return points.assign(x=coords[:, 0], y=coords[:, 1]), translation_distance(emb, points)


def translation_spread(frame: pd.DataFrame) -> float:
    """Mean distance of a question's translations to their centroid, relative to the overall spread.

    0 means every translation lands on the same point (language-agnostic); about 1 means translations
    are as far apart as random points. A one-number reading aid under the plot.
    """
    q = frame[frame["type"] == "question"]
    if q.empty or q["question_id"].nunique() == len(q):
        return float("nan")
    xy = q[["x", "y"]].to_numpy(dtype=float)
    centroid = q.groupby("question_id")[["x", "y"]].transform("mean").to_numpy(dtype=float)
    within = np.linalg.norm(xy - centroid, axis=1).mean()
    overall = np.linalg.norm(xy - xy.mean(axis=0), axis=1).mean()
    return float(within / overall) if overall > 0 else float("nan")
