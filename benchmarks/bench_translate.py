"""Translator plumbing throughput: the ``hf`` backend on a tiny random Marian model (not a quality figure).

Texts per second of ``HFTranslator.translate`` (batched, through the sqlite cache, cold then warm)
against a plain baseline in the same process: ``model.generate`` one batch at a time with the same
tokenizer and settings, no cache. A tiny model makes the overhead of our wrapper visible; a real
opus-mt model is dominated by generation.

    .venv/bin/python benchmarks/bench_translate.py --n 512 --batch-size 32
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hybrid_core.translate.cache import TranslationCache  # noqa: E402
from hybrid_core.translate.hf import HFTranslator  # noqa: E402
from tests.translate.conftest import WORDS, save_tiny_marian  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=512, help="distinct texts")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--max-new-tokens", type=int, default=16)
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    rng = random.Random(0)
    texts = [" ".join(rng.choice(WORDS[:10]) for _ in range(rng.randint(4, 12))) + f" {i}" for i in range(args.n)]
    with tempfile.TemporaryDirectory() as tmp:
        folder = save_tiny_marian(Path(tmp) / "opus-mt-en-de")
        t = HFTranslator(
            folder,
            batch_size=args.batch_size,
            max_new_tokens=args.max_new_tokens,
            cache=TranslationCache(Path(tmp) / "c"),
        )
        tok, model = t.tokenizer, t.model
        t0 = time.perf_counter()
        with torch.inference_mode():
            for i in range(0, len(texts), args.batch_size):
                enc = tok(texts[i : i + args.batch_size], return_tensors="pt", padding=True, truncation=True)
                enc.pop("token_type_ids", None)
                tok.batch_decode(model.generate(**enc, num_beams=1, max_new_tokens=args.max_new_tokens))
        base = time.perf_counter() - t0
        t0 = time.perf_counter()
        t.translate(texts, "en", "de")
        cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        t.translate(texts, "en", "de")
        warm = time.perf_counter() - t0
    n = len(texts)
    print(f"texts {n}, batch {args.batch_size}, max_new_tokens {args.max_new_tokens}, 1 thread")
    print(f"baseline generate : {n / base:8.1f} texts/s")
    print(f"hf backend, cold  : {n / cold:8.1f} texts/s  (x{base / cold:.2f} of baseline)")
    print(f"hf backend, warm  : {n / warm:8.1f} texts/s  (x{base / warm:.2f} of baseline; all from the cache)")


if __name__ == "__main__":
    main()
