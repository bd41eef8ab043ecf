"""Article-disjoint splits: disjoint articles and question ids, every language on both sides, seeded."""

from __future__ import annotations

import pytest

from hybrid_core.data import article_split, load_lareqa
from hybrid_core.data.mock import tiny_parallel_dataset
from hybrid_core.errors import DataError


@pytest.fixture(scope="module", params=["xquad-r", "mlqa-r"])
def dataset(request, data_root):
    return load_lareqa(data_root / request.param)


def test_split_is_disjoint_and_complete(dataset):
    train, test = article_split(dataset, test_fraction=0.5, seed=0)
    for frame in ("queries", "corpus"):
        a, b = getattr(train, frame), getattr(test, frame)
        assert not set(a["article"]) & set(b["article"])
        assert len(a) + len(b) == len(getattr(dataset, frame))
    assert not set(train.queries["question_id"]) & set(test.queries["question_id"])
    assert train.languages == test.languages == dataset.languages
    assert train.query_languages == test.query_languages == dataset.query_languages
    # relevant candidates share their question's article, so no judgement is lost
    for part in (train, test):
        assert all(part.qrels[q] == dataset.qrels[q] for q in part.queries["id"])
        assert set(part.qrels) == set(part.queries["id"])
    n_articles = dataset.corpus["article"].nunique()
    assert test.corpus["article"].nunique() == round(0.5 * n_articles)
    assert train.name == f"{dataset.name}-train" and test.name == f"{dataset.name}-test"


def test_split_is_seeded(dataset):
    a_train, a_test = article_split(dataset, seed=3)
    b_train, b_test = article_split(dataset, seed=3)
    assert a_train.fingerprint() == b_train.fingerprint() and a_test.fingerprint() == b_test.fingerprint()
    _, c_test = article_split(dataset, seed=4)
    assert set(c_test.queries["article"]) != set(a_test.queries["article"])


def test_fraction(dataset):
    _, test = article_split(dataset, test_fraction=0.2, seed=0)
    assert test.corpus["article"].nunique() == round(0.2 * dataset.corpus["article"].nunique())


def test_tiny_and_errors():
    tiny = tiny_parallel_dataset()
    train, test = article_split(tiny, seed=0)
    assert {train.queries["article"].iloc[0], test.queries["article"].iloc[0]} == {"Danube", "Marie Curie"}
    assert len(train.queries) == len(test.queries) == 9
    with pytest.raises(DataError, match="tiny-parallel: test_fraction"):
        article_split(tiny, test_fraction=1.0)
    one = tiny.subset(question_ids=["q1"])
    with pytest.raises(DataError, match="tiny-parallel: 1 article key"):
        article_split(one)
