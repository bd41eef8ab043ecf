"""Tokenisation vs model threads on a few cores: which split encodes fastest with the default model?

One process, the same texts (real XQuAD-R questions and answer sentences, every language, with the E5
prompts), the configurations interleaved round by round (the order rotates each round) so machine noise
hits them all; best of ``--rounds`` per configuration, as a ratio to the baseline:

- ``baseline``: plain ``SentenceTransformer.encode(texts, batch_size=32)`` with torch's default intra-op
  threads (``torch.get_num_threads()`` at start) and ``TOKENIZERS_PARALLELISM`` unset (the Rust default:
  parallel);
- ``tN-tok-on/off``: the same call with ``torch.set_num_threads(N)`` and the Rust tokenizer's rayon pool
  on or off;
- ``pipe-tN``: tokenise batch i+1 in a background thread (the Rust tokenizer releases the GIL) while the
  model runs batch i, torch threads N = cores and cores - 1, tokenizer parallelism off.

sentence-transformers already sorts the texts by length (characters) before batching, so each batch pads
little; the pipelined variant uses the same order and batches, so all configurations see identical
tensors. Every configuration's embeddings are checked against the baseline's (max |diff| within
1e-5 * max |x|).

``TOKENIZERS_PARALLELISM`` is read by the Rust crate at every batch call (not only at start-up), so the
settings are switched inside the one process; the script checks this itself (CPU ticks of the non-main
threads while tokenising with the variable off must be 0, with it on > 0) and stops if it does not hold.

    HYBRID_IR_DATA=$PWD/data nice -n 15 .venv/bin/python benchmarks/bench_threads.py --n 300 --rounds 3
"""

from __future__ import annotations

import argparse
import os
import resource
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from hybrid_core.data import load_dataset
from hybrid_core.models.loading import load_model, passage_prompt, query_prompt, resolve_model

BATCH = 32
TOK_ENV = "TOKENIZERS_PARALLELISM"


def _cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _other_thread_ticks() -> int:
    """CPU clock ticks used so far by every thread of this process except the calling one (Linux /proc)."""
    me, total = threading.get_native_id(), 0
    for tid in os.listdir("/proc/self/task"):
        if int(tid) == me:
            continue
        try:
            with open(f"/proc/self/task/{tid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except FileNotFoundError:  # thread ended meanwhile
            continue
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total


def _set_tok_parallelism(value: str | None) -> None:
    if value is None:
        os.environ.pop(TOK_ENV, None)
    else:
        os.environ[TOK_ENV] = value


def check_tok_toggle(model, texts: list[str]) -> tuple[int, int]:
    """Ticks of other threads while tokenising with parallelism off, then on (must be 0 and > 0)."""
    many = texts * max(1, 3000 // len(texts))  # enough work for the 10 ms tick granularity
    ticks = []
    for value in ("false", "true"):
        _set_tok_parallelism(value)
        before = _other_thread_ticks()
        model.preprocess(many)
        ticks.append(_other_thread_ticks() - before)
    return ticks[0], ticks[1]


def encode_plain(model, texts: list[str]) -> np.ndarray:
    return model.encode(texts, batch_size=BATCH, normalize_embeddings=True, convert_to_numpy=True)


def encode_pipelined(model, texts: list[str]) -> np.ndarray:
    """sentence-transformers' own loop (same length order and batches), tokenising one batch ahead in a thread."""
    import torch

    order = np.argsort([-len(t) for t in texts])  # what SentenceTransformer.encode does for strings
    batches = [[texts[i] for i in order[s : s + BATCH]] for s in range(0, len(texts), BATCH)]
    out = []
    with ThreadPoolExecutor(max_workers=1) as pool, torch.inference_mode():
        pending = pool.submit(model.preprocess, batches[0])
        for i in range(len(batches)):
            features = pending.result()
            if i + 1 < len(batches):
                pending = pool.submit(model.preprocess, batches[i + 1])
            emb = model(features)["sentence_embedding"]
            out.append(torch.nn.functional.normalize(emb, p=2, dim=1))
    result = np.empty((len(texts), out[0].shape[1]), dtype=np.float32)
    result[order] = torch.cat(out).numpy()
    return result


def cpu_split(model, texts: list[str]) -> tuple[float, float]:
    """Main-thread CPU seconds spent tokenising and in the model, one torch thread, tokenizer parallelism off.

    Thread CPU time is what the work costs, whatever share of the cores a loaded machine grants; the
    tokenising share bounds what overlapping or parallelising it can gain (Amdahl).
    """
    import torch

    torch.set_num_threads(1)
    _set_tok_parallelism("false")
    order = np.argsort([-len(t) for t in texts])
    tok = fwd = 0.0
    with torch.inference_mode():
        for s in range(0, len(texts), BATCH):
            t0 = time.thread_time()
            features = model.preprocess([texts[i] for i in order[s : s + BATCH]])
            t1 = time.thread_time()
            model(features)
            tok, fwd = tok + t1 - t0, fwd + time.thread_time() - t1
    return tok, fwd


def configs(default_threads: int, cores: int) -> dict[str, tuple[int, str | None, Callable]]:
    """name -> (torch threads, TOKENIZERS_PARALLELISM value or None = unset, encode function)."""
    out: dict[str, tuple[int, str | None, Callable]] = {"baseline": (default_threads, None, encode_plain)}
    for n in sorted({1, cores}):
        for tok in ("true", "false"):
            out[f"t{n}-tok-{'on' if tok == 'true' else 'off'}"] = (n, tok, encode_plain)
    for n in sorted({cores, max(1, cores - 1)}, reverse=True):
        out[f"pipe-t{n}"] = (n, "false", encode_pipelined)
    return out


def sample_texts(model, n: int, seed: int = 0) -> list[str]:
    """``n`` XQuAD-R texts, half questions, half answer-sentence candidates, every language, with prompts."""
    ds = load_dataset("xquad-r")
    q = ds.queries.sample(n=n // 2, random_state=seed)
    c = ds.corpus.sample(n=n - n // 2, random_state=seed)
    return [query_prompt(model) + t for t in q["text"]] + [passage_prompt(model) + t for t in c["text"]]


def main() -> None:
    import torch

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=300, help="texts: half questions, half candidate sentences")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    load_before = os.getloadavg()
    default_threads, cores = torch.get_num_threads(), os.cpu_count() or 1
    model = load_model(resolve_model(None))
    texts = sample_texts(model, args.n)
    off, on = check_tok_toggle(model, texts)
    if off != 0 or on == 0:
        raise SystemExit(f"{TOK_ENV} did not switch in-process (other-thread ticks off={off}, on={on})")
    table = configs(default_threads, cores)
    for n in sorted({c[0] for c in table.values()}):  # warm-up per thread count (oneDNN/MKL set-up)
        torch.set_num_threads(n)
        encode_plain(model, texts[:BATCH])

    tok_cpu, fwd_cpu = cpu_split(model, texts)
    names = list(table)
    wall: dict[str, list[float]] = {k: [] for k in names}
    cpu: dict[str, list[float]] = {k: [] for k in names}
    embs: dict[str, np.ndarray] = {}
    t_start = time.perf_counter()
    for r in range(args.rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            threads, tok, fn = table[name]
            torch.set_num_threads(threads)
            _set_tok_parallelism(tok)
            c0, t0 = _cpu_seconds(), time.perf_counter()
            emb = fn(model, texts)
            wall[name].append(time.perf_counter() - t0)
            cpu[name].append(_cpu_seconds() - c0)
            embs.setdefault(name, np.asarray(emb, dtype=np.float32))
        print(f"round {r + 1}/{args.rounds} done, {time.perf_counter() - t_start:.0f} s, load {os.getloadavg()[0]:.2f}")
    _set_tok_parallelism(None)
    torch.set_num_threads(default_threads)

    base = embs["baseline"]
    tol = 1e-5 * float(np.abs(base).max())
    n_q = args.n // 2
    print(
        f"\n{len(texts)} XQuAD-R texts ({n_q} questions, {len(texts) - n_q} candidate sentences, "
        f"{len({t.split(': ', 1)[0] for t in texts})} prompts), batch {BATCH}, {cores} cores, "
        f"torch default threads {default_threads}, best of {args.rounds} interleaved rounds"
    )
    print(f"{TOK_ENV} switched in-process: other-thread CPU ticks while tokenising off={off}, on={on}")
    share = tok_cpu / (tok_cpu + fwd_cpu)
    print(
        f"main-thread CPU, 1 torch thread, tokenizer serial: tokenising {tok_cpu:.2f} s, model {fwd_cpu:.2f} s "
        f"-> tokenising is {share:.1%}; hiding it entirely gains at most {1 / (1 - share):.3f}x"
    )
    print(f"load average (1 min) before {load_before[0]:.2f}, after {os.getloadavg()[0]:.2f}")
    print(f"{'config':<12} {'threads':>7} {'tok-par':>7} {'texts/s':>8} {'ratio':>6} {'CPU s/text':>10}  max|diff|")
    b = min(wall["baseline"])
    bad = []
    for name in names:
        threads, tok, _ = table[name]
        best = min(wall[name])
        per_text = min(cpu[name]) / len(texts)
        diff = float(np.abs(embs[name] - base).max())
        if diff > tol:
            bad.append(name)
        tok_s = {"true": "on", "false": "off", None: "unset"}[tok]
        print(
            f"{name:<12} {threads:>7} {tok_s:>7} {len(texts) / best:>8.2f} {b / best:>5.2f}x "
            f"{per_text * 1000:>8.1f}ms  {diff:.1e}"
        )
    print(f"embedding tolerance 1e-5 * max|x| = {tol:.1e}: " + (f"EXCEEDED by {bad}" if bad else "all within"))
    if bad:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
