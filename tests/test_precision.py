"""int8 encoding (ONNX Runtime dynamic quantisation) on a tiny model: runs, stays close to fp32, keys apart."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hybrid_core.errors import ModelError
from hybrid_core.models.encode import cache_key, encode
from hybrid_core.models.loading import load_model, model_fingerprint
from hybrid_core.models.precision import as_precision, backend_tag, model_precision, with_precision
from tests.conftest import make_toy
from tests.tiny_model import HIDDEN, save_tiny_st

pytest.importorskip("onnxruntime")

WORDS = ["hello", "world", "hallo", "welt", "the", "dog", "der", "hund", "a", "b"]
TEXTS = ["hello world", "hallo welt", "the dog", "der hund", "a b hello", "world the dog a", "welt"]
LAYERS = 2  # tests.tiny_model builds 2 layers
QUANTISED_MATMULS = LAYERS * 6  # q, k, v, attention output, FFN in, FFN out per layer


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return save_tiny_st(tmp_path_factory.mktemp("st") / "tiny", WORDS, max_seq_length=32)


@pytest.fixture(autouse=True)
def _cache_dir(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("HYBRID_IR_CACHE", str(tmp_path_factory.mktemp("cache")))


def int8_bound() -> float:
    """Upper bound on |e_int8 - e_fp32| for unit embeddings: each quantised MatMul adds at most a relative error of
    half a step of its int8 weights (1/127 of the channel's largest weight) plus half a step of its uint8
    activations (1/255 of the batch range), relative to the largest magnitudes; the errors of successive
    MatMuls add (first order), so the bound is their sum; LayerNorm and the final normalisation do not grow it."""
    return QUANTISED_MATMULS * (0.5 / 127 + 0.5 / 255) * 2  # x2: the largest magnitudes exceed the typical ones


def test_int8_runs_and_stays_close_to_fp32(tiny):
    fp = model_fingerprint(str(tiny))
    fp32 = load_model(str(tiny), device="cpu")
    int8 = as_precision(fp32, "int8", str(tiny), fp)
    assert model_precision(int8) == "int8" and model_precision(fp32) == "fp32"  # the caller's model untouched
    a = fp32.encode(TEXTS, normalize_embeddings=True)
    b = int8.encode(TEXTS, normalize_embeddings=True)
    assert b.shape == (len(TEXTS), HIDDEN)
    np.testing.assert_allclose(np.linalg.norm(b, axis=1), 1.0, rtol=1e-5)
    dist = np.linalg.norm(a - b, axis=1)
    assert dist.max() <= int8_bound(), (dist.max(), int8_bound())
    assert not np.allclose(a, b, atol=1e-7)  # it really is another computation


def test_export_is_made_once_and_reused(tiny, tmp_path):
    fp = model_fingerprint(str(tiny))
    model = load_model(str(tiny), device="cpu")
    run = tmp_path / "run"
    trained = run / "model"
    import shutil

    shutil.copytree(tiny, trained)
    as_precision(model, "int8", str(trained), fp, run)
    onnx = run / "model-int8" / "model-int8.onnx"
    assert onnx.is_file()
    mtime = onnx.stat().st_mtime_ns
    as_precision(model, "int8", str(trained), fp, run)
    assert onnx.stat().st_mtime_ns == mtime  # cached in the run folder
    with pytest.raises(ModelError, match="unknown precision"):
        as_precision(model, "fp16", str(trained), fp, run)


def test_cache_key_differs_by_precision(tiny, tmp_path):
    assert cache_key("m", "query: ", 32) != cache_key("m", "query: ", 32, backend_tag("int8"))
    assert cache_key("m", "query: ", 32) == cache_key("m", "query: ", 32, backend_tag("fp32"))  # old fp32 keys hold
    fp = model_fingerprint(str(tiny))
    fp32 = load_model(str(tiny), device="cpu")
    int8 = as_precision(fp32, "int8", str(tiny), fp)
    a = encode(fp32, TEXTS, "query: ", model_fingerprint=fp, cache_root=tmp_path)
    b = encode(int8, TEXTS, "query: ", model_fingerprint=fp, cache_root=tmp_path, precision="int8")
    assert len(list(tmp_path.iterdir())) == 2  # two folders: fp32 never reads int8 rows
    np.testing.assert_array_equal(a, encode(fp32, TEXTS, "query: ", model_fingerprint=fp, cache_root=tmp_path))
    np.testing.assert_array_equal(b, encode(int8, TEXTS, "query: ", model_fingerprint=fp, cache_root=tmp_path))
    with pytest.raises(ModelError, match="int8"):
        encode(fp32, TEXTS, model_fingerprint=fp, cache_root=tmp_path, precision="int8")


def test_evaluate_run_keeps_precisions_apart(tiny):
    from hybrid_core.evaluation.run_eval import evaluate_model_as_run

    ds = make_toy(n_questions=4, n_sentences=6, langs=("en", "de"))[0]
    logs: list[str] = []
    run, s32 = evaluate_model_as_run(str(tiny), [ds], log=logs.append)
    assert s32["toy"]["precision"] == "fp32"
    _, s8 = evaluate_model_as_run(str(tiny), [ds], log=logs.append, precision="int8")
    assert s8["toy"]["precision"] == "int8"  # not the fp32 result read back from disk
    # stored side by side: the int8 result does not replace the fp32 one
    assert sorted(run.datasets()) == ["toy", "toy-int8"]
    assert run.summary("toy-int8")["data_fingerprint"].endswith("+int8")
    assert run.summary("toy")["precision"] == "fp32" and run.summary("toy") == s32["toy"]
    n_logs = len(logs)
    _, again = evaluate_model_as_run(str(tiny), [ds], log=logs.append, precision="int8")
    _, again32 = evaluate_model_as_run(str(tiny), [ds], log=logs.append)
    assert sum("on disk" in line for line in logs[n_logs:]) == 2  # neither is recomputed
    assert again["toy"]["precision"] == "int8" and again32["toy"] == s32["toy"]


def test_two_processes_equal_one(tiny):
    """sentence-transformers' multi-process pool (2 CPU workers) gives the in-process embeddings, to float32
    rounding: a different batch composition changes only the summation order of each dot product."""
    from hybrid_core.models.encode import set_processes

    model = load_model(str(tiny), device="cpu")
    texts = [f"{a} {b}" for a in WORDS for b in WORDS[:3]]
    one = encode(model, texts, "query: ", batch_size=4, use_cache=False)
    try:
        set_processes(2)
        two = encode(model, texts, "query: ", batch_size=4, use_cache=False)
    finally:
        set_processes(1)
    eps = np.finfo(np.float32).eps
    tol = LAYERS * 4 * HIDDEN * eps  # ~4*HIDDEN products per output per layer, each rounding by <= eps (relative)
    assert two.shape == one.shape
    np.testing.assert_allclose(two, one, rtol=0, atol=tol)


def test_with_precision_tags_only_non_fp32_names() -> None:
    from hybrid_core.evaluation.run_eval import result_name

    assert with_precision("xquad-r", "fp32") == "xquad-r"
    assert with_precision("xquad-r", "int8") == "xquad-r-int8"
    assert with_precision("mlqa-r-q100-s0", "int8") == "mlqa-r-q100-s0-int8"  # appended, never parsed
    assert result_name("xquad-r", "int8") == with_precision("xquad-r", "int8")  # the results' name is the rule
    assert result_name("xquad-r") == "xquad-r"
