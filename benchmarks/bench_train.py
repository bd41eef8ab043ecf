"""Training throughput of our trainer (hybrid sampler) against plain sentence-transformers, and peak memory.

Part 1, in one process, same model, batch size, sequence length and frozen word embeddings:
  - baseline: ``SentenceTransformerTrainer`` + ``MultipleNegativesRankingLoss`` (scale 1/0.05) over the
    same pairs (with prompts), NO_DUPLICATES batches, no saving or evaluation; a step is timed from
    one ``on_step_end`` to the next, so it includes fetching and tokenising the batch;
  - ours: ``hybrid_core.training.trainer.train`` with the hybrid(0.5) sampler, no checkpoints; a step's
    ``seconds`` in ``train_log.jsonl`` covers drawing, tokenising, forward, backward and AdamW.
  The two alternate for ``--rounds`` rounds (the machine is shared); the first step of every block is
  dropped as warm-up and the median step time per side is compared: ``ratio = ours / baseline`` in
  pairs/s (aim >= 0.95).
Part 2, one subprocess per setting (``ru_maxrss`` is a per-process high-water mark): peak RSS of our
trainer at batch 32 and at batch 100 with GradCache chunks of ``--mini-batch-size``.

    .venv/bin/python benchmarks/bench_train.py                 # default model, batch 16, seq 64
    .venv/bin/python benchmarks/bench_train.py --model PATH --batch-size 32 --steps 6
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _config(args, batch_size: int, mini_batch_size: int | None, steps: int):
    from hybrid_core.training.trainer import TrainConfig

    return TrainConfig(
        model=args.model,
        train_data=args.data,
        sampler="hybrid",
        alpha=0.5,
        steps=steps,
        batch_size=batch_size,
        mini_batch_size=mini_batch_size,
        warmup_steps=1,
        max_seq_length=args.seq,
        checkpoint_every=0,
        freeze_word_embeddings=True,
        log_every=1000,
    )


def ours(args, runs_dir: str, tag: str) -> list[float]:
    """Step seconds of our trainer (first step dropped)."""
    from hybrid_core.training.trainer import read_log, train

    run = train(
        _config(args, args.batch_size, None, args.steps + 1),
        f"bench-{tag}",
        runs_dir=runs_dir,
        data_dir=args.data_dir,
        progress=False,
        log=lambda *a: None,
    )
    return [r["seconds"] for r in read_log(run) if "seconds" in r][1:]


def baseline(args, out_dir: str) -> list[float]:
    """Step seconds of SentenceTransformerTrainer + MultipleNegativesRankingLoss (first step dropped)."""
    from datasets import Dataset
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.base.sampler import BatchSamplers
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
    from transformers import TrainerCallback

    from hybrid_core.data.specs import load_data_spec
    from hybrid_core.models.loading import load_model, passage_prompt, query_prompt
    from hybrid_core.training.samplers import build_pairs

    model = load_model(args.model)
    model.max_seq_length = args.seq
    model[0].auto_model.get_input_embeddings().weight.requires_grad_(False)
    for name, p in model.named_parameters():
        if ".pooler." in name:
            p.requires_grad_(False)
    pairs = build_pairs(load_data_spec(args.data, data_dir=args.data_dir)).pairs
    pairs = pairs.sample(n=min(len(pairs), 4 * args.batch_size * (args.steps + 1)), random_state=0)
    qp, pp = query_prompt(model), passage_prompt(model)
    data = Dataset.from_dict(
        {"anchor": [qp + t for t in pairs["query_text"]], "positive": [pp + t for t in pairs["passage_text"]]}
    )
    stamps: list[float] = []

    class Clock(TrainerCallback):
        def on_step_end(self, *a, **k):
            stamps.append(time.perf_counter())

    targs = SentenceTransformerTrainingArguments(
        output_dir=out_dir,
        max_steps=args.steps + 2,
        per_device_train_batch_size=args.batch_size,
        learning_rate=3e-5,
        weight_decay=0.01,
        warmup_steps=1,
        batch_sampler=BatchSamplers.NO_DUPLICATES,
        save_strategy="no",
        report_to="none",
        logging_steps=1000,
        use_cpu=True,
        dataloader_num_workers=0,
        disable_tqdm=True,
        seed=0,
    )
    trainer = SentenceTransformerTrainer(
        model=model,
        args=targs,
        train_dataset=data,
        loss=MultipleNegativesRankingLoss(model, scale=20.0),
        callbacks=[Clock()],
    )
    trainer.train()
    return [b - a for a, b in itertools.pairwise(stamps)][1:]


def peak_rss_child(args) -> None:
    """Subprocess body: a few steps of our trainer at one setting, then print peak RSS (MB) as JSON."""
    with tempfile.TemporaryDirectory() as runs:
        from hybrid_core.training.trainer import read_log, train

        cfg = _config(args, args.batch_size, args.mini_batch_size or None, args.steps)
        run = train(cfg, "rss", runs_dir=runs, data_dir=args.data_dir, progress=False, log=lambda *a: None)
        secs = [r["seconds"] for r in read_log(run) if "seconds" in r]
    print(
        json.dumps(
            {
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "step_seconds": statistics.median(secs[1:] or secs),
            }
        )
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=None, help="model (default: multilingual-e5-small)")
    p.add_argument("--data", default="mlqa-r")
    p.add_argument("--data-dir")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--seq", type=int, default=64)
    p.add_argument("--steps", type=int, default=5, help="timed steps per block (one more is run as warm-up)")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--mini-batch-size", type=int, default=16, help="GradCache chunk for the batch-100 memory run")
    p.add_argument("--skip-memory", action="store_true")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    import torch

    torch.set_num_threads(os.cpu_count() or 1)
    if args.child:
        peak_rss_child(args)
        return

    from hybrid_core.models.loading import DEFAULT_MODEL

    print(
        f"model {args.model or DEFAULT_MODEL}, data {args.data}, batch {args.batch_size}, seq {args.seq}, "
        f"{args.steps} timed steps x {args.rounds} rounds, {torch.get_num_threads()} threads"
    )
    ours_s, base_s = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            base_s += baseline(args, f"{tmp}/st-{r}")
            ours_s += ours(args, tmp, str(r))
            print(
                f"round {r + 1}: baseline {statistics.median(base_s):.2f} s/step, ours "
                f"{statistics.median(ours_s):.2f} s/step",
                flush=True,
            )
    b, o = statistics.median(base_s), statistics.median(ours_s)
    print(f"\nsentence-transformers trainer + MNRL: {args.batch_size / b:6.2f} pairs/s ({b:.2f} s/step)")
    print(f"hybrid-ir trainer, hybrid sampler:   {args.batch_size / o:6.2f} pairs/s ({o:.2f} s/step)")
    print(f"ratio ours / baseline: {b / o:.3f}x (aim >= 0.95)")
    if args.skip_memory:
        return
    print("\npeak RSS (one subprocess each, 2 steps):")
    for batch, mini in ((32, None), (100, args.mini_batch_size)):
        cmd = [
            sys.executable,
            __file__,
            "--child",
            "--data",
            args.data,
            "--batch-size",
            str(batch),
            "--seq",
            str(args.seq),
            "--steps",
            "2",
        ] + (["--model", args.model] if args.model else [])
        cmd += ["--mini-batch-size", str(mini)] if mini else ["--mini-batch-size", "0"]
        cmd += ["--data-dir", args.data_dir] if args.data_dir else []
        path = os.pathsep.join(x for x in (str(REPO), os.environ.get("PYTHONPATH", "")) if x)
        out = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": path})
        if out.returncode:
            print(out.stderr[-2000:])
            continue
        res = json.loads(out.stdout.strip().splitlines()[-1])
        label = f"batch {batch}" + (f" (GradCache, chunks of {mini})" if mini else "")
        print(f"  {label:34s} peak RSS {res['peak_rss_mb'] / 1024:5.2f} GB, {res['step_seconds']:.1f} s/step")


if __name__ == "__main__":
    main()
