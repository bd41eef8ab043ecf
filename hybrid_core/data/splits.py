"""Article-disjoint train/test splits, so no passage (in any language) is seen in training and testing.

Splitting by article rather than by question follows SQuAD, whose train/dev/test sets are
disjoint in Wikipedia articles (Rajpurkar et al. 2016, https://arxiv.org/abs/1606.05250, section
3): questions about one article share their candidate sentences and often their wording, so a
question-level split leaks. ``article`` keys are cross-language (see
``hybrid_core.data.lareqa``), so an article goes to one side in every language.
"""

from __future__ import annotations

import numpy as np

from hybrid_core.data.dataset import RetrievalDataset
from hybrid_core.errors import DataError


def _part(ds: RetrievalDataset, articles: set[str], name: str) -> RetrievalDataset:
    queries = ds.queries[ds.queries["article"].isin(articles)].reset_index(drop=True)
    corpus = ds.corpus[ds.corpus["article"].isin(articles)].reset_index(drop=True)
    keep = set(corpus["id"])
    qrels = {q: {d: g for d, g in ds.qrels.get(q, {}).items() if d in keep} for q in queries["id"]}
    qrels = {q: r for q, r in qrels.items() if r}
    queries = queries[queries["id"].isin(qrels)].reset_index(drop=True)
    return RetrievalDataset(name=name, queries=queries, corpus=corpus, qrels=qrels, parallel=ds.parallel)


def article_split(
    dataset: RetrievalDataset, test_fraction: float = 0.5, seed: int = 0
) -> tuple[RetrievalDataset, RetrievalDataset]:
    """``(train, test)``: a seeded ``test_fraction`` of the articles (rounded, at least one each side) is test.

    Articles come from queries and corpus alike, so candidates of articles without questions are
    split too. Deterministic for a given data set and seed. Raises DataError when the set has
    fewer than two articles or a question id spans both sides (inconsistent article keys).
    """
    if not 0 < test_fraction < 1:
        raise DataError(f"{dataset.name}: test_fraction must be between 0 and 1, not {test_fraction}")
    keys = set(dataset.queries["article"].astype(str)) | set(dataset.corpus["article"].astype(str))
    articles = sorted(k for k in keys if k)
    if len(articles) < 2:
        raise DataError(f"{dataset.name}: {len(articles)} article key(s); an article-disjoint split needs two or more")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(articles))
    n_test = min(max(round(test_fraction * len(articles)), 1), len(articles) - 1)
    test_articles = {articles[i] for i in order[:n_test]}
    train_articles = set(articles) - test_articles
    train = _part(dataset, train_articles, f"{dataset.name}-train")
    test = _part(dataset, test_articles, f"{dataset.name}-test")
    shared = set(train.queries["question_id"]) & set(test.queries["question_id"])
    if shared:
        raise DataError(
            f"{dataset.name}: question id {sorted(shared)[0]!r} has queries in different articles; article keys "
            "are inconsistent across languages"
        )
    return train, test
