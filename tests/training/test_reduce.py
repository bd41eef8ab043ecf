"""Low-resource simulation: one language's training pairs cut to a fraction (seeded, exact counts, other languages
untouched), restored by translate-train (the parallel oracle), validated, recorded in run.json."""

from __future__ import annotations

import dataclasses
import math

import pytest

from hybrid_core.errors import DataError
from hybrid_core.runs import RunStore
from hybrid_core.training.config import TrainConfigError, config_diff, validate_config
from hybrid_core.training.pairs import build_pairs, reduce_pairs, translate_train_pairs
from hybrid_core.training.trainer import TrainConfig, train
from hybrid_core.translate import translator_from_option

from .test_train import cfg  # noqa: F401  (the shared tiny training config)


def _involves(df, lang):
    return (df["query_language"] == lang) | (df["passage_language"] == lang)


@pytest.mark.parametrize("fraction", [0.1, 0.25, 1.0])
def test_reduce_keeps_exact_share_of_questions_and_leaves_others(synthetic_ds, fraction) -> None:
    full = build_pairs(synthetic_ds)
    df = full.pairs
    n_de = df.loc[_involves(df, "de"), "question_id"].nunique()
    reduced, cut = reduce_pairs(full, ["de"], fraction, seed=0)
    r = reduced.pairs
    kept_q = set(r.loc[_involves(r, "de"), "question_id"])
    assert len(kept_q) == max(1, math.floor(fraction * n_de + 0.5))
    # kept questions keep every de pair; the others lose every de pair; nothing else changes
    assert len(r) + len(cut) == len(df)
    want = df[~_involves(df, "de") | df["question_id"].isin(kept_q)]
    assert r[["query_id", "passage_id"]].values.tolist() == want[["query_id", "passage_id"]].values.tolist()
    assert _involves(cut, "de").all() and not cut["question_id"].isin(kept_q).any()
    others = df[~_involves(df, "de")]
    assert len(r[~_involves(r, "de")]) == len(others)
    assert reduced.fingerprint() != full.fingerprint() or fraction == 1.0


def test_reduce_is_seeded(synthetic_ds) -> None:
    full = build_pairs(synthetic_ds)
    a = reduce_pairs(full, ["de"], 0.2, seed=0)[0].pairs
    b = reduce_pairs(full, ["de"], 0.2, seed=0)[0].pairs
    c = reduce_pairs(full, ["de"], 0.2, seed=1)[0].pairs
    assert a.equals(b) and not a.equals(c)
    assert a.loc[_involves(a, "de"), "question_id"].nunique() == c.loc[_involves(c, "de"), "question_id"].nunique()
    with pytest.raises(DataError, match="reduce_languages names 'xx'"):
        reduce_pairs(full, ["xx"], 0.2)


def test_translate_train_with_parallel_oracle_restores_queries_not_passages(synthetic_ds) -> None:
    full = build_pairs(synthetic_ds)
    reduced, cut = reduce_pairs(full, ["de"], 0.1, seed=0)
    oracle = translator_from_option("parallel", synthetic_ds)
    assert "oracle" in oracle.label
    restored, n = translate_train_pairs(reduced, cut, full.pairs, oracle, "en", ["de"])
    back = cut[(cut["query_language"] == "de") & (cut["passage_language"] != "de")]
    has_en = set(full.pairs.loc[full.pairs["query_language"] == "en", "question_id"])
    back = back[back["question_id"].isin(has_en)]
    assert n == len(back) > 0 and len(restored) == len(reduced) + n
    new = restored.pairs[restored.pairs["query_id"].str.startswith("tt:de:")]
    # the oracle's translation of the en question is the set's own de question
    for _, row in new.iterrows():
        de_text = full.pairs[(full.pairs["question_id"] == row["question_id"]) & (full.pairs["query_language"] == "de")]
        assert row["query_text"] == de_text["query_text"].iloc[0]
    assert not (new["passage_language"] == "de").any()


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"reduce_languages": ()}, "reduce_languages must be a non-empty list"),
        ({"reduce_languages": ("de",), "reduce_fraction": 0.0}, r"reduce_fraction must be in \(0, 1\]"),
        ({"reduce_languages": ("de",), "reduce_fraction": 1.5}, r"reduce_fraction must be in \(0, 1\]"),
        ({"reduce_languages": ("de",), "reduce_seed": -1}, "reduce_seed must be >= 0"),
        ({"translate_train": "parallel"}, "translate_train restores the pairs cut by reduce_languages"),
        ({"reduce_languages": ("de",), "translate_train": "google"}, "translate_train must be 'parallel'"),
        ({"reduce_languages": ("en",), "translate_train": "parallel"}, "translate_source 'en' is itself"),
    ],
)
def test_bad_reduce_options(changes, match) -> None:
    with pytest.raises(TrainConfigError, match=match):
        validate_config(TrainConfig(**changes))


def test_old_runs_without_the_new_options_are_unchanged() -> None:
    old = {k: v for k, v in TrainConfig().to_dict().items() if not k.startswith(("reduce_", "translate_"))}
    assert config_diff(old, TrainConfig().to_dict()) == {}
    assert config_diff(old, TrainConfig(reduce_languages=("de",)).to_dict()) == {"reduce_languages": (None, ["de"])}


def test_training_uses_the_reduced_pairs_and_records_them(cfg, tmp_path, synthetic_ds) -> None:  # noqa: F811
    c = dataclasses.replace(cfg, steps=2, reduce_languages=("de",), reduce_fraction=0.2, translate_train="parallel")
    run = train(c, "reduced", runs_dir=tmp_path / "runs", progress=False, log=lambda *a: None)
    full = build_pairs(synthetic_ds)
    reduced, cut = reduce_pairs(full, ["de"], 0.2, seed=0)
    restored, n = translate_train_pairs(
        reduced, cut, full.pairs, translator_from_option("parallel", synthetic_ds), "en", ["de"]
    )
    info = RunStore(tmp_path / "runs").get("reduced").info
    assert info["train_pairs"] == len(restored) and info["reduction"]["cut_pairs"] == len(cut)
    assert info["reduction"]["restored_pairs"] == n and "oracle" in info["reduction"]["translator"]
    assert info["config"]["reduce_languages"] == ["de"] and run.info["status"] == "done"
