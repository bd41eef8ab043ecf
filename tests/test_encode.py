"""The embedding cache: second pass encodes nothing, keys separate prompts, shards are atomic."""

from __future__ import annotations

import numpy as np

from hybrid_core.models.encode import encode


class CountingModel:
    """Deterministic fake encoder that records what reached it."""

    max_seq_length = 32

    def __init__(self) -> None:
        self.seen: list[str] = []

    def get_sentence_embedding_dimension(self) -> int:
        return 4

    def encode(self, texts, **kwargs):
        self.seen.extend(texts)
        out = np.array([[len(t), sum(map(ord, t)) % 97, t.count("a"), 1.0] for t in texts], dtype=np.float32)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def test_cache_hits_skip_the_model(tmp_path):
    model = CountingModel()
    texts = ["alpha", "beta", "alpha", "gamma"]
    first = encode(model, texts, "query: ", model_fingerprint="m1", cache_root=tmp_path)
    assert sorted(model.seen) == ["query: alpha", "query: beta", "query: gamma"]  # duplicates encoded once
    np.testing.assert_array_equal(first[0], first[2])
    model.seen.clear()
    second = encode(CountingModel(), texts, "query: ", model_fingerprint="m1", cache_root=tmp_path)
    np.testing.assert_array_equal(first, second)
    extra = encode(model, ["beta", "delta"], "query: ", model_fingerprint="m1", cache_root=tmp_path)
    assert model.seen == ["query: delta"]  # only the new text
    np.testing.assert_array_equal(extra[0], first[1])


def test_prompt_and_model_are_part_of_the_key(tmp_path):
    model = CountingModel()
    encode(model, ["alpha"], "query: ", model_fingerprint="m1", cache_root=tmp_path)
    encode(model, ["alpha"], "passage: ", model_fingerprint="m1", cache_root=tmp_path)
    encode(model, ["alpha"], "query: ", model_fingerprint="m2", cache_root=tmp_path)
    assert model.seen == ["query: alpha", "passage: alpha", "query: alpha"]
    assert len(list(tmp_path.iterdir())) == 3
    assert not list(tmp_path.rglob("*.tmp"))


def test_no_fingerprint_means_no_cache(tmp_path):
    model = CountingModel()
    encode(model, ["x"], model_fingerprint=None, cache_root=tmp_path)
    encode(model, ["x"], model_fingerprint=None, cache_root=tmp_path)
    assert model.seen == ["x", "x"]
    assert not any(tmp_path.iterdir())
