"""Data specs: the one string syntax every command uses to name evaluation and training data.

A spec is a data set name or path, optionally followed by ``:train`` or ``:test`` for its
article-disjoint part (:func:`hybrid_core.data.article_split`)::

    xquad-r              the whole set
    mlqa-r:test          the held-out articles of MLQA-R (what training with train_split="train" never sees)
    /data/my-beir:train  a path works the same way

A seeded question sample of a set is named ``<name>-q<n>-s<seed>`` (:func:`sample_name`), so a
result folder says which slice it holds; :func:`parse_sample_name` reads it back.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from hybrid_core.data.dataset import RetrievalDataset
from hybrid_core.errors import DataError

PARTS = ("train", "test")
DEFAULT_TEST_FRACTION = 0.2  # share of articles held out by ":test" (and by training's train_split="train")
DEFAULT_SPLIT_SEED = 0
_SAMPLE = re.compile(r"^(?P<base>.+)-q(?P<n>\d+)-s(?P<seed>\d+)$")


@dataclass(frozen=True)
class DataSpec:
    """A parsed spec: the set (name or path) and which article-disjoint part, if any."""

    source: str
    part: str | None = None

    def __str__(self) -> str:
        return f"{self.source}:{self.part}" if self.part else self.source


def parse_data_spec(spec: str) -> DataSpec:
    """``"mlqa-r:test"`` -> ``DataSpec("mlqa-r", "test")``; a bare name or path has no part."""
    if not isinstance(spec, str) or not spec.strip():
        raise DataError(f"empty data spec {spec!r}; use a set name (xquad-r, mlqa-r), a path, or <set>:train|test")
    head, sep, tail = spec.rpartition(":")
    if sep and tail in PARTS and head:
        return DataSpec(head, tail)
    return DataSpec(spec)


def sample_name(name: str, max_questions: int, seed: int) -> str:
    """The name of a seeded ``max_questions`` sample of the set ``name``."""
    return f"{name}-q{max_questions}-s{seed}"


def parse_sample_name(name: str) -> tuple[str, int | None, int | None]:
    """``"xquad-r-q60-s0"`` -> ``("xquad-r", 60, 0)``; a full set -> ``(name, None, None)``."""
    m = _SAMPLE.match(name)
    return (m["base"], int(m["n"]), int(m["seed"])) if m else (name, None, None)


def load_data_spec(
    spec: str | DataSpec,
    *,
    data_dir: str | os.PathLike | None = None,
    languages: list[str] | tuple[str, ...] | None = None,
    test_fraction: float = DEFAULT_TEST_FRACTION,
    split_seed: int = DEFAULT_SPLIT_SEED,
    max_questions: int | None = None,
    sample_seed: int = 0,
) -> RetrievalDataset:
    """Load a spec: the set, its article-disjoint part, then (optionally) a seeded question sample.

    Parts split by article before languages are dropped, so ``mlqa-r:test`` holds the same articles
    whatever ``languages`` says. A part with a non-default split is named ``<set>-test-f<frac>-s<seed>``.
    """
    from hybrid_core.data import article_split, load_dataset

    parsed = spec if isinstance(spec, DataSpec) else parse_data_spec(spec)
    if max_questions is not None and (not isinstance(max_questions, int) or max_questions < 1):
        raise DataError(f"max_questions must be a positive integer, got {max_questions!r}")
    if not parsed.part:  # a BEIR folder without language fields takes a single requested language
        return _sampled(
            load_dataset(parsed.source, data_dir=data_dir, languages=list(languages) if languages else None),
            max_questions,
            sample_seed,
        )
    ds = load_dataset(parsed.source, data_dir=data_dir)
    train, test = article_split(ds, test_fraction, split_seed)
    ds = train if parsed.part == "train" else test
    if (test_fraction, split_seed) != (DEFAULT_TEST_FRACTION, DEFAULT_SPLIT_SEED):
        ds = ds.subset(name=f"{ds.name}-f{test_fraction:g}-s{split_seed}")
    if languages:
        unknown = sorted(set(languages) - set(ds.languages))
        if unknown:
            raise DataError(f"{parsed}: no data in language(s) {unknown}; available: {ds.languages}")
        ds = ds.subset(languages=list(languages))
    return _sampled(ds, max_questions, sample_seed)


def _sampled(ds: RetrievalDataset, max_questions: int | None, seed: int) -> RetrievalDataset:
    if max_questions is None:
        return ds
    return ds.subset(max_questions=max_questions, seed=seed, name=sample_name(ds.name, max_questions, seed))
