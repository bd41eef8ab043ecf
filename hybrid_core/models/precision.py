"""Encoding precision: fp32 (the model as loaded) or int8 (ONNX Runtime dynamic quantisation).

int8 is what sentence-transformers' ``backend="onnx"`` + ``export_dynamic_quantized_onnx_model(model, "avx2")``
produces, built here without ``optimum`` (optimum 2.x pins transformers < 5, this project runs 5.23): the
model's Hugging Face backbone is exported with ``torch.onnx.export`` and its MatMul weights quantised with
``onnxruntime.quantization.quantize_dynamic`` (int8 weights in a 7-bit range, one scale per output channel,
the feed-forward output projections kept fp32; activations quantised per batch at run time; see Jacob et al.
2018, "Quantization and Training of Neural Networks for Efficient Integer-Arithmetic-Only Inference", arXiv
1712.05877). The quantised backbone replaces the torch
backbone inside the loaded :class:`SentenceTransformer`, so tokenisation, length sorting, pooling, prompts and
normalisation stay sentence-transformers' own. ``benchmarks/bench_int8.py`` compares this with torch's
dynamic quantisation (per tensor / per channel) on speed and cosine to fp32.

Exports are cached: for a trained run in ``<run>/model-int8/``, for any other model under
``<cache>/models/<name>-int8-<fingerprint>/``; the export carries the source model's fingerprint and is redone
when it changes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from hybrid_core.errors import ModelError
from hybrid_core.io_utils import atomic_path, read_json, write_json

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

PRECISIONS = ("fp32", "int8")
INT8_BACKEND = "onnxruntime-dynamic-int8-per-channel-rr7-ffn2fp32"  # goes into the embedding cache key
#: MatMul name parts of the feed-forward *output* projection (BERT / XLM-R / E5 / LaBSE, DistilBERT, MPNet-style
#: and GPT-style exports). Its input follows GELU: long-tailed activations that int8 clips worst, so it stays fp32.
FFN_OUTPUT_PATTERNS = ("/output/dense/", "/ffn/lin2/", "/mlp/fc2/", "/mlp/c_proj/")
ONNX_FILE = "model-int8.onnx"
MARKER = "int8.json"
OPSET = 17


def check_precision(precision: str) -> str:
    if precision not in PRECISIONS:
        raise ModelError(f"unknown precision {precision!r}; use one of {', '.join(PRECISIONS)}")
    return precision


def with_precision(name: str, precision: str) -> str:
    """``name`` tagged with a non-fp32 precision (``xquad-r`` -> ``xquad-r-int8``; fp32 leaves it as it is).

    The one naming rule for what is stored per precision: a run's results on a data set, a study's size folder
    and an experiment's folder, so fp32 and int8 outputs sit side by side and never stand for each other.
    """
    return name if precision == "fp32" else f"{name}-{precision}"


def backend_tag(precision: str) -> str:
    """What the embedding cache key records for a precision ("" for fp32, so fp32 keys stay as they were)."""
    return "" if check_precision(precision) == "fp32" else INT8_BACKEND


def _backbone(model: SentenceTransformer):
    first = model[0]
    backbone = getattr(first, "model", None) or getattr(first, "auto_model", None)
    if backbone is None:
        raise ModelError(f"int8 needs a Transformer first module; {type(first).__name__} has no Hugging Face model")
    return first, backbone


def _input_names(model: SentenceTransformer) -> list[str]:
    feats = model.tokenizer(["a b"], return_tensors="pt")
    return [k for k in ("input_ids", "attention_mask", "token_type_ids") if k in feats]


def export_onnx(model: SentenceTransformer, path: Path) -> Path:
    """The model's Hugging Face backbone as fp32 ONNX (inputs: token ids and mask; output: last hidden state)."""
    import torch

    _, backbone = _backbone(model)
    names = _input_names(model)
    feats = model.tokenizer(["hello world", "a longer second sentence here"], padding=True, return_tensors="pt")
    args = tuple(feats[n] for n in names)

    class _Wrap(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, *xs):
            return self.inner(**dict(zip(names, xs, strict=True)), return_dict=True)["last_hidden_state"]

    axes = {n: {0: "batch", 1: "seq"} for n in names} | {"last_hidden_state": {0: "batch", 1: "seq"}}
    was_training = backbone.training
    backbone.eval()
    try:
        with torch.no_grad():
            torch.onnx.export(
                _Wrap(backbone),
                args,
                str(path),
                input_names=names,
                output_names=["last_hidden_state"],
                dynamic_axes=axes,
                opset_version=OPSET,
                dynamo=False,
            )
    finally:
        backbone.train(was_training)
    return path


def ffn_output_matmuls(onnx_path: Path) -> list[str]:
    """Names of the feed-forward output MatMuls of an exported encoder (attention outputs excluded)."""
    import onnx

    graph = onnx.load(str(onnx_path), load_external_data=False).graph
    return [
        n.name
        for n in graph.node
        if n.op_type == "MatMul" and "attention" not in n.name and any(p in n.name for p in FFN_OUTPUT_PATTERNS)
    ]


def quantize_onnx(
    src: Path,
    dst: Path,
    *,
    per_channel: bool = True,
    weight_type: str = "qint8",
    reduce_range: bool = True,
    keep_ffn_output: bool = True,
) -> list[str]:
    """Dynamic int8 quantisation of the MatMul weights of an ONNX model (ONNX Runtime's quantiser); returns the
    MatMuls kept in fp32.

    Defaults measured on multilingual-e5-small (``benchmarks/bench_int8.py``; README, precision): 7-bit weights
    (``reduce_range``; without VNNI, AVX2's ``vpmaddubsw`` saturates on full-range u8 x s8 products) and the
    feed-forward output projections left in fp32 cut the embedding error (1 - cosine to fp32) about fourfold.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    wt = {"qint8": QuantType.QInt8, "quint8": QuantType.QUInt8}[weight_type]
    keep = ffn_output_matmuls(src) if keep_ffn_output else []
    quantize_dynamic(
        str(src),
        str(dst),
        per_channel=per_channel,
        reduce_range=reduce_range,
        weight_type=wt,
        op_types_to_quantize=["MatMul"],
        nodes_to_exclude=keep,
    )
    return keep


def int8_folder(model_ref: str, fingerprint: str, run_path: Path | None = None) -> Path:
    """Where the int8 export of a model lives: ``<run>/model-int8`` or ``<cache>/models/<name>-int8-<fp>``."""
    if run_path is not None:
        return Path(run_path) / "model-int8"
    from hybrid_core.paths import models_dir

    stem = Path(str(model_ref).rstrip("/")).name or "model"
    return models_dir() / f"{stem}-int8-{fingerprint[:12]}"


def ensure_int8(model: SentenceTransformer, fingerprint: str, folder: Path) -> Path:
    """Export + quantise once into ``folder`` (kept while the source fingerprint matches); returns the .onnx."""
    import tempfile

    target = folder / ONNX_FILE
    marker = read_json(folder / MARKER) if (folder / MARKER).is_file() else {}
    if target.is_file() and marker.get("model_fingerprint") == fingerprint and marker.get("backend") == INT8_BACKEND:
        return target
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        fp32 = export_onnx(model, Path(tmp) / "model-fp32.onnx")
        with atomic_path(target) as out:
            kept = quantize_onnx(fp32, Path(out))
    write_json(
        folder / MARKER,
        {"model_fingerprint": fingerprint, "backend": INT8_BACKEND, "opset": OPSET, "fp32_matmuls": len(kept)},
    )
    return target


class OrtBackbone:
    """Callable stand-in for a Hugging Face backbone: runs an ONNX Runtime session, returns ``last_hidden_state``."""

    def __init__(self, onnx_path: Path, config, threads: int | None = None) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or max(1, int(os.environ.get("HYBRID_IR_THREADS", 0)) or os.cpu_count())
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])
        self.names = [i.name for i in self.session.get_inputs()]
        self.config = config

    def __call__(self, input_ids=None, attention_mask=None, token_type_ids=None, **_: object) -> dict:
        import numpy as np
        import torch

        given = {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": token_type_ids}
        feeds = {}
        for n in self.names:
            x = given[n] if given[n] is not None else torch.zeros_like(input_ids)
            feeds[n] = x.cpu().numpy().astype(np.int64, copy=False)
        (hidden,) = self.session.run(["last_hidden_state"], feeds)
        return {"last_hidden_state": torch.from_numpy(hidden)}


def to_int8(model: SentenceTransformer, onnx_path: Path, threads: int | None = None) -> SentenceTransformer:
    """Swap the model's backbone for the int8 ONNX session (in place; returns the model)."""
    import torch

    first, backbone = _backbone(model)
    ort_backbone = OrtBackbone(onnx_path, backbone.config, threads)

    class _Module(torch.nn.Module):
        """Keeps sentence-transformers' forward plumbing (signature filtering, ``config``) working."""

        def __init__(self):
            super().__init__()
            self.config = backbone.config

        def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, **kwargs):
            return ort_backbone(input_ids, attention_mask, token_type_ids)

    attr = "model" if getattr(first, "model", None) is not None else "auto_model"
    setattr(first, attr, _Module())
    if hasattr(first, "model_forward_params"):
        first.model_forward_params = None
    model.hybrid_precision = "int8"
    return model


def _inside(path: str, folder: Path) -> bool:
    try:
        return Path(path).resolve().is_relative_to(Path(folder).resolve())
    except (OSError, ValueError):
        return False


def as_precision(
    model: SentenceTransformer, precision: str, model_ref: str, fingerprint: str, run_path: Path | None = None
) -> SentenceTransformer:
    """``model`` at ``precision``: itself, or an int8 copy (the caller's fp32 model is left untouched).

    The int8 export is made once and kept in ``<run_path>/model-int8`` when the model is that run's own
    (a trained run), else under ``<cache>/models``.
    """
    import copy

    own = model_precision(model)
    if check_precision(precision) == own:
        return model
    if precision == "fp32":
        raise ModelError("this model was converted to int8; load it again for fp32")
    folder = int8_folder(
        model_ref, fingerprint, run_path if run_path is not None and _inside(model_ref, run_path) else None
    )
    onnx_path = ensure_int8(model, fingerprint, folder)
    return to_int8(copy.deepcopy(model), onnx_path)


def load_int8(model_ref: str, fingerprint: str, run_path: Path | None = None) -> SentenceTransformer:
    """The model with its int8 backbone, exporting it first when needed."""
    from hybrid_core.models.loading import load_model

    return as_precision(load_model(model_ref), "int8", model_ref, fingerprint, run_path)


def model_precision(model) -> str:
    return getattr(model, "hybrid_precision", "fp32")
