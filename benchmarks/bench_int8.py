"""int8 encoding candidates against plain fp32 ``SentenceTransformer.encode``, same texts, same process.

Candidates (what a sentence-transformers user would reach for):
- ``onnx-fp32``: the backbone exported to ONNX, run by ONNX Runtime (the runtime alone, no quantisation);
- ``onnx-int8-s8``: ONNX Runtime dynamic quantisation, int8 weights per output channel (our int8 path);
- ``onnx-int8-u8``: the same with uint8 weights (what sentence-transformers' ``"avx2"`` config writes);
- ``torch-int8-tensor`` / ``torch-int8-channel``: ``torch.ao.quantization.quantize_dynamic`` of every Linear,
  one scale per tensor / per output channel;
- ``torch-int8-channel-keepffn``: per channel, the FFN output projections (the outlier-heavy layers) kept fp32.
sentence-transformers' own ``backend="onnx"`` / ``"openvino"`` need ``optimum`` / ``optimum-intel``, whose current
releases pin transformers < 5 (this project runs 5.23), so they are not installable here; the ONNX candidates
rebuild what ``export_dynamic_quantized_onnx_model`` does with ``torch.onnx.export`` + ONNX Runtime's quantiser.

Every round runs every candidate once on the same texts (interleaved, so machine load hits all alike); the
throughput is the best round; the ratio is against fp32 in the same process. Cosines are per text to fp32.

    .venv/bin/python benchmarks/bench_int8.py --n 600 --rounds 2
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from hybrid_core.data import load_dataset
from hybrid_core.models import precision as P
from hybrid_core.models.encode import set_threads
from hybrid_core.models.loading import load_model, resolve_model


def cpu_flags() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
        flags = next(line for line in text.splitlines() if line.startswith("flags")).split()
    except (OSError, StopIteration):
        return platform.processor()
    has = [f for f in ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8") if f in flags]
    return ", ".join(has) or "no AVX2"


def torch_int8(model, per_channel: bool, keep_ffn_out: bool = False):
    from torch.ao.quantization import default_dynamic_qconfig, per_channel_dynamic_qconfig, quantize_dynamic

    m = copy.deepcopy(model)
    qconfig = per_channel_dynamic_qconfig if per_channel else default_dynamic_qconfig
    spec = {
        name: qconfig
        for name, mod in m.named_modules()
        if isinstance(mod, torch.nn.Linear)
        and not (keep_ffn_out and name.endswith("output.dense") and "attention" not in name)
    }
    return quantize_dynamic(m, spec, dtype=torch.qint8)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=600, help="number of XQuAD-R passages")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--only", nargs="*", help="candidate names to run (default: all)")
    args = ap.parse_args()
    threads = set_threads()
    ds = load_dataset("xquad-r")
    texts = ["passage: " + t for t in ds.corpus["text"].sample(n=args.n, random_state=0)]
    ref = resolve_model(None)
    base = load_model(ref)
    tmp = Path(tempfile.mkdtemp(prefix="bench-int8-"))
    fp32_onnx = P.export_onnx(base, tmp / "fp32.onnx")
    candidates = {"fp32": base, "onnx-fp32": P.to_int8(load_model(ref), fp32_onnx)}
    onnx_variants = {  # name: quantize_onnx options; the last is the adopted default (hybrid_core.models.precision)
        "onnx-int8-s8": {"weight_type": "qint8", "reduce_range": False, "keep_ffn_output": False},
        "onnx-int8-u8": {"weight_type": "quint8", "reduce_range": False, "keep_ffn_output": False},
        "onnx-int8-s8-rr7": {"weight_type": "qint8", "reduce_range": True, "keep_ffn_output": False},
        "onnx-int8-s8-ffn2fp32": {"weight_type": "qint8", "reduce_range": False, "keep_ffn_output": True},
        "onnx-int8-s8-rr7-ffn2fp32": {"weight_type": "qint8", "reduce_range": True, "keep_ffn_output": True},
    }
    for name, opts in onnx_variants.items():
        q = tmp / f"{name}.onnx"
        P.quantize_onnx(fp32_onnx, q, per_channel=True, **opts)
        candidates[name] = P.to_int8(load_model(ref), q)
    candidates["torch-int8-tensor"] = torch_int8(base, per_channel=False)
    candidates["torch-int8-channel"] = torch_int8(base, per_channel=True)
    candidates["torch-int8-channel-keepffn"] = torch_int8(base, per_channel=True, keep_ffn_out=True)
    if args.only:
        candidates = {k: v for k, v in candidates.items() if k == "fp32" or k in args.only}
    for m in candidates.values():  # warm-up
        m.encode(texts[:32], batch_size=args.batch_size)

    times: dict[str, list[float]] = {k: [] for k in candidates}
    emb: dict[str, np.ndarray] = {}
    for _ in range(args.rounds):
        for name, m in candidates.items():
            t = time.perf_counter()
            emb[name] = m.encode(texts, batch_size=args.batch_size, normalize_embeddings=True, convert_to_numpy=True)
            times[name].append(time.perf_counter() - t)
    load = os.getloadavg()
    print(
        f"CPU: {platform.machine()} {os.cpu_count()} cores ({cpu_flags()}); torch threads {threads}; "
        f"ATEN_CPU_CAPABILITY={os.environ.get('ATEN_CPU_CAPABILITY', 'default')}; "
        f"load avg {load[0]:.1f} (shared machine)"
    )
    print(f"{len(texts)} XQuAD-R passages, batch {args.batch_size}, best of {args.rounds} interleaved rounds")
    print(f"{'candidate':28s} {'texts/s':>8s} {'vs fp32':>8s} {'min cos':>8s} {'mean cos':>9s}")
    base_rate = len(texts) / min(times["fp32"])
    for name in candidates:
        rate = len(texts) / min(times[name])
        cos = np.sum(emb[name] * emb["fp32"], axis=1)
        print(f"{name:28s} {rate:8.1f} {rate / base_rate:7.2f}x {cos.min():8.4f} {cos.mean():9.5f}")


if __name__ == "__main__":
    main()
