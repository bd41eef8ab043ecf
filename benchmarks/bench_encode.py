"""Encoding throughput: ``hybrid_core.models.encode.encode`` against plain ``SentenceTransformer.encode``.

Same model, same texts (real XQuAD-R sentences, several languages), same prompt, same process; the
two alternate so machine noise hits both. Our path adds de-duplication and the cache lookup; with
the cache off it must not be slower than the plain call.

    .venv/bin/python benchmarks/bench_encode.py --n 400
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from hybrid_core.data import load_dataset
from hybrid_core.models.encode import encode, set_threads
from hybrid_core.models.loading import load_model, model_fingerprint, resolve_model


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=400, help="number of sentences")
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    set_threads()
    ds = load_dataset("xquad-r")
    texts = ds.corpus["text"].sample(n=args.n, random_state=0).tolist()
    ref = resolve_model(None)
    model = load_model(ref)
    prompt = "passage: "
    model.encode([prompt + t for t in texts[:32]], batch_size=32)  # warm-up

    plain_t, ours_t = [], []
    for _ in range(args.rounds):
        t = time.perf_counter()
        plain = model.encode([prompt + t for t in texts], batch_size=32, normalize_embeddings=True)
        plain_t.append(time.perf_counter() - t)
        t = time.perf_counter()
        ours = encode(model, texts, prompt, batch_size=32, use_cache=False)
        ours_t.append(time.perf_counter() - t)
    cos = float(np.min(np.sum(plain * ours, axis=1)))
    with tempfile.TemporaryDirectory() as tmp:
        encode(model, texts, prompt, model_fingerprint=model_fingerprint(ref), cache_root=Path(tmp))
        t = time.perf_counter()
        encode(model, texts, prompt, model_fingerprint=model_fingerprint(ref), cache_root=Path(tmp))
        cached = time.perf_counter() - t
    p, o = min(plain_t), min(ours_t)
    print(f"{len(texts)} texts, best of {args.rounds}; min cosine ours vs plain = {cos:.6f}")
    print(f"plain SentenceTransformer.encode  {p:7.2f} s  {len(texts) / p:6.1f} texts/s")
    print(f"hybrid_core.models.encode (no cache)     {o:7.2f} s  {len(texts) / o:6.1f} texts/s  -> {p / o:.2f}x plain")
    print(f"hybrid_core.models.encode (warm cache)   {cached:7.3f} s  -> {p / cached:.0f}x plain")


if __name__ == "__main__":
    main()
