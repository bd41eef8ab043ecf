"""The trainer: InfoNCE fine-tuning of a sentence-transformers encoder with hybrid batches, one loop.

Reads top to bottom like nanoGPT's ``train.py``: the config (:mod:`hybrid_core.training.config`) ->
set-up (data, sampler, model, optimizer, maybe a checkpoint: :mod:`hybrid_core.training.checkpoints`) ->
one loop -> the final model, evaluated through the one evaluation path
(:func:`hybrid_core.evaluation.run_eval.evaluate_run`) into ``results/<data>/`` when ``eval_data`` is set.
Method: hybrid batch training (arXiv 2408.10536): InfoNCE over in-batch negatives, AdamW, lr 3e-5,
weight decay 0.01, batches that are monolingual in one language (X-X-mono) with probability alpha
and cross-lingual (X-Y) otherwise.

Why a plain loop and not ``SentenceTransformerTrainer``: its model, preprocessing and losses are
reused here, but the HF ``Trainer`` around them does not fit three requirements.
(1) The batch *mode* must be identical on every rank at every step; accelerate shards a batch
sampler by giving rank r every W-th batch, so ranks would see different batches (and modes) at the
same step unless the sampler knew about that sharding. Here every rank builds the same global
batch and keeps its slice. (2) Checkpoints must hold no pickles: the HF Trainer writes
``training_args.bin``, ``rng_state.pth`` and ``optimizer.pt`` with ``torch.save`` of Python
objects; ours are safetensors plus JSON, loaded without unpickling anything. (3) Resuming must
check the run's config for changes and continue the very same sampler stream (the HF Trainer
skips batches by replaying its data loader). The loop is ~60 lines; the benchmark
(``benchmarks/bench_train.py``) measures its throughput against sentence-transformers' own.

Run folder (``hybrid_core.runs``): ``run.json`` (kind ``train``; ``model`` is the final model folder
so evaluation loads it; ``config`` is this TrainConfig plus ``base_model``), ``train_log.jsonl`` (one
line per step: loss, lr, mode, language, the batch's question ids), ``checkpoints/step-<N>/`` (a
loadable sentence-transformers folder + ``optimizer.safetensors`` + ``optimizer.json`` +
``rng-rank<r>.safetensors`` + ``trainer_state.json``), ``model/`` and ``results/<data>/`` (the final
evaluation). ``status`` in run.json is ``training``, ``evaluating`` then ``done``.

The environment variable ``HYBRID_IR_STEP_DELAY`` (seconds, default 0) sleeps after each step; it
exists only so tests can interrupt a tiny, fast training run at a known point.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

from hybrid_core.data.specs import load_data_spec
from hybrid_core.errors import RunError
from hybrid_core.io_utils import atomic_path, read_json
from hybrid_core.progress import progress_line
from hybrid_core.runs import Run, RunStore, now_iso, validate_name
from hybrid_core.training.checkpoints import (
    barrier,
    latest_checkpoint,
    load_optimizer,
    restore_rng,
    save_checkpoint,
    save_model,
)
from hybrid_core.training.config import (  # re-exported: the trainer's public names
    RESUME_SAFE_KEYS,
    TrainConfig,
    TrainConfigError,
    config_diff,
    default_train_split,
    leak_message,
    lr_at,
    validate_config,
)

__all__ = [
    "RESUME_SAFE_KEYS",
    "TrainConfig",
    "TrainConfigError",
    "config_diff",
    "default_train_split",
    "eval_sets",
    "finished_run",
    "latest_checkpoint",
    "leak_message",
    "lr_at",
    "read_log",
    "train",
    "validate_config",
]


# --------------------------------------------------------------------------- run folder helpers
def _check_run(
    store: RunStore, name: str, cfg: TrainConfig, resume: bool
) -> tuple[Run | None, tuple[int, Path] | None]:
    """Read-only checks before anything is written (every rank runs them, so all fail alike)."""
    validate_name(name)
    if not resume:
        if store.path(name).exists():
            raise RunError(f"run {name!r} already exists; pass --resume to continue it, or choose another name")
        return None, None
    if not store.exists(name):
        raise RunError(f"cannot resume {name!r}: no such run in {store.root}")
    run = store.get(name)
    info = run.info
    if info.get("kind") != "train":
        raise RunError(f"cannot resume {name!r}: it is a {info.get('kind')!r} run, not a training run")
    changed = config_diff(info.get("config", {}), cfg.to_dict())
    if changed:
        listing = "; ".join(f"{k}: {a!r} -> {b!r}" for k, a, b in ((k, *v) for k, v in changed.items()))
        raise TrainConfigError(
            f"cannot resume {name!r}: its config changed ({listing}); resume with the original options or start "
            "a new run"
        )
    if info.get("status") == "done" and (run.path / "model").is_dir():
        raise RunError(f"run {name!r} already finished training ({info.get('steps')} steps); nothing to resume")
    return run, latest_checkpoint(run)


def _truncate_log(path: Path, last_step: int) -> None:
    """Keep log lines of steps <= last_step (drops steps redone after a resume and a torn last line)."""
    if not path.is_file():
        return
    keep = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if rec.get("step", 0) <= last_step:
            keep.append(line)
    with atomic_path(path) as tmp:
        tmp.write_text("".join(k + "\n" for k in keep), encoding="utf-8")


def read_log(run: Run) -> list[dict]:
    """The training log as a list of records (torn lines skipped)."""
    f = run.path / "train_log.jsonl"
    out = []
    for line in f.read_text(encoding="utf-8").splitlines() if f.is_file() else []:
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


# --------------------------------------------------------------------------- the trainer
def _init_distributed():
    """(rank, world size, local rank, whether we started the process group) from torchrun's env."""
    import torch
    import torch.distributed as dist

    world = int(os.environ.get("WORLD_SIZE", "1"))
    started = False
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
        started = True
    rank = dist.get_rank() if dist.is_initialized() else 0
    return rank, world, int(os.environ.get("LOCAL_RANK", "0")), started


def _param_groups(model, cfg: TrainConfig) -> list[dict]:
    """Decay everything trainable except biases and LayerNorm weights (as the HF Trainer does)."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if p.requires_grad:
            (no_decay if name.endswith(".bias") or "LayerNorm" in name or "layer_norm" in name else decay).append(p)
    return [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def _freeze_unused(model, cfg: TrainConfig) -> int:
    """Freeze word embeddings (if asked) and the HF pooler (sentence-transformers never uses it).

    A parameter without a gradient would stall DDP (it waits for every trainable gradient).
    Returns the number of trainable parameters.
    """
    auto = getattr(model[0], "auto_model", None)
    if cfg.freeze_word_embeddings and auto is not None:
        auto.get_input_embeddings().weight.requires_grad_(False)
    for name, p in model.named_parameters():
        if ".pooler." in name:
            p.requires_grad_(False)
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def _gather_ints(values: list[int], world: int):
    """All ranks' equal-length int lists (rank order); a plain list when not distributed."""
    import torch
    import torch.distributed as dist

    t = torch.tensor(values, dtype=torch.long)
    if world == 1:
        return [values]
    out = [torch.zeros_like(t) for _ in range(world)]
    dist.all_gather(out, t)
    return [o.tolist() for o in out]


def finished_run(store: RunStore, name: str, cfg: TrainConfig, hint: str) -> Run | None:
    """The finished training run ``name`` when it was trained with ``cfg``; None when it is not finished.

    A finished run trained with other options is an error listing them, followed by ``hint`` (what to do).
    Studies and experiments call this to reuse their arms instead of training them again.
    """
    if not store.exists(name):
        return None
    run = store.get(name)
    if run.info.get("status") != "done" or not (run.path / "model").is_dir():
        return None
    changed = config_diff(run.info.get("config", {}), cfg.to_dict())
    if changed:
        listing = "; ".join(f"{k}: {a!r} -> {b!r}" for k, (a, b) in changed.items())
        raise TrainConfigError(f"run {name!r} was trained with other options ({listing}); {hint}")
    return run


def trained_alike(store: RunStore, cfg: TrainConfig) -> Run | None:
    """A finished run (any name) trained with exactly ``cfg``, the first by name; None when there is none.

    Studies share such runs instead of training an identical arm twice (``paper-table``'s arms are
    cells of ``alpha-sweep``). Options that only change logging or checkpointing do not count.
    """
    want = cfg.to_dict()
    for run in store.list():
        try:
            info = run.info
        except Exception:  # an unreadable run is nobody's twin
            continue
        if (
            info.get("status") == "done"
            and (run.path / "model").is_dir()
            and not config_diff(info.get("config", {}), want)
        ):
            return run
    return None


def reduce_and_restore(pairs, cfg: TrainConfig, dataset, log=print) -> dict:
    """``reduce_languages`` (cut to ``reduce_fraction`` of their questions) and ``translate_train`` (restore the cut
    queries by translation) applied to ``pairs``; returns ``{"pairs": PairSet, ...counts and translator label}``."""
    from hybrid_core.training.pairs import reduce_pairs, translate_train_pairs

    full = pairs.pairs
    reduced, cut = reduce_pairs(pairs, cfg.reduce_languages, cfg.reduce_fraction, cfg.reduce_seed)
    out = {"languages": list(cfg.reduce_languages), "fraction": cfg.reduce_fraction, "cut_pairs": len(cut)}
    if cfg.translate_train:
        from hybrid_core.translate import translator_from_option

        translator = translator_from_option(cfg.translate_train, dataset)
        reduced, restored = translate_train_pairs(
            reduced, cut, full, translator, cfg.translate_source, cfg.reduce_languages
        )
        out.update(restored_pairs=restored, translator=translator.label)
    log(
        f"reduced {', '.join(cfg.reduce_languages)} to {cfg.reduce_fraction:g} of their questions: {len(cut)} pairs "
        "cut" + (f", {out['restored_pairs']} restored by {out['translator']}" if cfg.translate_train else "")
    )
    return {"pairs": reduced, **out}


def train(
    config: TrainConfig,
    run_name: str,
    resume: bool = False,
    *,
    data_dir: str | None = None,
    runs_dir: str | None = None,
    device: str | None = None,
    progress: bool = True,
    log=print,
) -> Run:
    """Train ``config`` into run ``run_name`` (or continue it with ``resume=True``); returns the run.

    Under ``torchrun`` each process trains its slice of every global batch with DDP (gloo on CPU,
    NCCL on GPU); embeddings are gathered across ranks, so the loss equals single-process training
    on the global batch. Resuming continues from the newest checkpoint with the same sampler
    stream, optimizer state and RNG states; a changed config is refused, listing what changed.
    """
    import torch
    from tqdm.auto import tqdm

    from hybrid_core.augment.training import build_augmenter
    from hybrid_core.models.loading import DEFAULT_MODEL, load_model, passage_prompt, query_prompt
    from hybrid_core.training.losses import build_loss
    from hybrid_core.training.pairs import build_pairs
    from hybrid_core.training.samplers import HybridBatchSampler

    cfg = validate_config(config)
    augmenter = build_augmenter(cfg.augment, cfg.augment_prob, cfg.seed)  # bad spec: error before any write
    store = RunStore(runs_dir)
    rank, world, local_rank, started_pg = _init_distributed()
    log = log if rank == 0 else (lambda *a, **k: None)
    try:
        # ---- checks (read-only, every rank) then the run folder (rank 0)
        run, ckpt = _check_run(store, run_name, cfg, resume)
        dataset = load_data_spec(
            cfg.train_data + (":train" if cfg.train_split == "train" else ""),
            data_dir=data_dir,
            test_fraction=cfg.split_test_fraction,
            split_seed=cfg.split_seed,
        )
        pairs = build_pairs(dataset, languages=cfg.pair_languages(dataset.languages))
        reduction = reduce_and_restore(pairs, cfg, dataset, log) if cfg.reduce_languages else None
        if reduction:
            pairs = reduction.pop("pairs")
        evaluation = eval_sets(cfg, data_dir)  # a bad --eval-data fails here, before any step
        sampler = HybridBatchSampler(
            pairs,
            cfg.sampler,
            cfg.batch_size,
            alpha=cfg.alpha,
            seed=cfg.seed,
            rank=rank,
            world_size=world,
            hard_negatives=cfg.hard_negatives,
        )
        barrier()
        if run is None:
            if rank == 0:
                final_model = str((store.path(run_name) / "model").resolve())  # evaluation loads this
                created = store.create(
                    run_name,
                    kind="train",
                    model=final_model,
                    config={**cfg.to_dict(), "base_model": cfg.model or DEFAULT_MODEL},
                )
                created.update_info(
                    status="training", steps=0, train_pairs=len(pairs), train_data_fingerprint=dataset.fingerprint()
                )
                if reduction:
                    created.update_info(reduction=reduction)
            barrier()
            run = store.get(run_name)
        start = ckpt[0] if ckpt else 0
        log(
            f"{run.name}: {len(pairs)} pairs from {dataset.name}, sampler {cfg.sampler}"
            f"{f' alpha={cfg.alpha}' if cfg.sampler == 'hybrid' else ''}, {world} process(es)"
            + (f", resuming at step {start}" if resume else "")
        )

        # ---- model, optimizer, loss (on resume: weights, optimizer, sampler stream and RNG from the checkpoint)
        torch.manual_seed(cfg.seed + rank)
        if not torch.cuda.is_available():
            torch.set_num_threads(max(1, (os.cpu_count() or 1) // int(os.environ.get("LOCAL_WORLD_SIZE", world))))
        dev = device or (f"cuda:{local_rank}" if torch.cuda.is_available() else "cpu")
        model = load_model(str(ckpt[1]) if ckpt else cfg.model, device=dev)
        base_max_len = model.max_seq_length
        model.max_seq_length = cfg.max_seq_length
        n_trainable = _freeze_unused(model, cfg)
        # the fused kernel (CPU and CUDA), as the HF Trainer's default `adamw_torch_fused`: one pass per step
        fused = torch.device(dev).type in ("cpu", "cuda")
        opt = torch.optim.AdamW(_param_groups(model, cfg), lr=cfg.lr, fused=fused or None)
        trainable = [p for p in model.parameters() if p.requires_grad]
        if ckpt:
            load_optimizer(opt, ckpt[1])
            sampler.load_state_dict(read_json(ckpt[1] / "trainer_state.json")["sampler"])
            restore_rng(ckpt[1], rank, log)
        if rank == 0:
            _truncate_log(run.path / "train_log.jsonl", start)
        net = model
        if world > 1:
            from torch.nn.parallel import DistributedDataParallel

            net = DistributedDataParallel(model, device_ids=[local_rank] if dev.startswith("cuda") else None)
        per_rank = cfg.batch_size // world
        # GradCache only pays off when a column (queries, passages, negatives) is split into several chunks
        cached = cfg.mini_batch_size is not None and cfg.mini_batch_size < per_rank
        loss_fn = build_loss(
            net, cfg.temperature, cfg.mini_batch_size if cached else None, gather_across_devices=world > 1
        )
        qp, pp = query_prompt(model), passage_prompt(model)
        df = pairs.pairs
        q_text, p_text = df["query_text"].to_numpy(dtype=object), df["passage_text"].to_numpy(dtype=object)
        qids = df["question_id"].to_numpy(dtype=object)
        mode_code = {"x-x": 0, "x-x-mono": 1, "x-y": 2}
        langs = sampler.languages
        delay = float(os.environ.get("HYBRID_IR_STEP_DELAY", "0") or 0)
        log(
            f"{run.name}: {n_trainable / 1e6:.2f}M trainable parameters, batch {cfg.batch_size} "
            f"({per_rank} per process{f', GradCache chunks of {cfg.mini_batch_size}' if cached else ''}), "
            f"seq {cfg.max_seq_length}, device {dev}"
        )

        def features(texts: list[str]) -> dict:
            return {k: (v.to(dev) if torch.is_tensor(v) else v) for k, v in model.preprocess(texts).items()}

        # ---- the loop (progress lines count steps, then one unit per evaluation set)
        total_units = cfg.steps + len(evaluation)
        model.train()
        bar = tqdm(total=cfg.steps, initial=start, desc=run.name, disable=not progress or rank != 0, unit="step")
        log_file = (run.path / "train_log.jsonl").open("a", encoding="utf-8") if rank == 0 else None
        t_start = time.perf_counter()
        for step in range(start, cfg.steps):
            t0 = time.perf_counter()
            # the batch: every rank draws the same global batch (same mode) and keeps its own slice
            batch = sampler.next_batch()
            queries = q_text[batch.pairs]
            if augmenter is not None:  # a pure function of (seed, step, text): resume-safe
                queries = augmenter(queries, df["query_language"].to_numpy(dtype=object)[batch.pairs], step)
            cols = [features([qp + t for t in queries]), features([pp + t for t in p_text[batch.pairs]])]
            if batch.hard_negatives is not None:
                cols.append(features([pp + t for t in pairs.corpus_text[batch.hard_negatives]]))
            # the learning rate is a pure function of the step (no scheduler state to checkpoint)
            lr = lr_at(step, cfg)
            for g in opt.param_groups:
                g["lr"] = lr
            # forward + backward: InfoNCE over the global batch; DDP averages gradients across ranks
            loss = loss_fn(cols, None)
            loss.backward()
            grad_norm = torch.nn.utils.clip_grad_norm_(trainable, cfg.grad_clip)
            opt.step()
            opt.zero_grad(set_to_none=True)
            # log: mean loss over ranks; the modes and pairs every rank used, so tests can check them
            loss_value = loss.detach().float()
            if world > 1:
                torch.distributed.all_reduce(loss_value)
                loss_value /= world
            lang_index = langs.index(batch.language) if batch.language else -1
            mode_info = _gather_ints([mode_code[batch.mode], lang_index], world)
            rank_pairs = _gather_ints(batch.pairs.tolist(), world) if world > 1 else None
            if log_file is not None:
                rec = {
                    "step": step + 1,
                    "loss": round(float(loss_value), 6),
                    "lr": lr,
                    "grad_norm": round(float(grad_norm), 6),
                    "mode": batch.mode,
                    "language": batch.language,
                    "question_ids": qids[batch.global_pairs].tolist(),
                    "seconds": round(time.perf_counter() - t0, 4),
                    **(_rank_record(mode_info, rank_pairs, mode_code, langs, qids) if world > 1 else {}),
                }
                log_file.write(json.dumps(rec, ensure_ascii=False) + "\n")
                log_file.flush()
            bar.update(1)
            if (step + 1) % cfg.log_every == 0 or step + 1 == cfg.steps:
                bar.set_postfix(loss=f"{float(loss_value):.4f}", mode=batch.language or batch.mode, lr=f"{lr:.2e}")
                if rank == 0:
                    run.update_info(steps=step + 1)
                    log(
                        progress_line(
                            step + 1, total_units, f"{run.name}: step {step + 1}, loss {float(loss_value):.4f}"
                        )
                    )
            if cfg.checkpoint_every and (step + 1) % cfg.checkpoint_every == 0 and step + 1 < cfg.steps:
                save_checkpoint(run, step + 1, model, opt, sampler, cfg, base_max_len, rank, world)
            if evaluation and cfg.eval_every and (step + 1) % cfg.eval_every == 0 and step + 1 < cfg.steps:
                _evaluate_during(run, model, evaluation, step + 1, rank, base_max_len, log_file, log)
            if delay:
                time.sleep(delay)
        bar.close()

        # ---- the final model (rank 0), the per-rank weight checksums (DDP), the run's status
        sums = _gather_floats([float(p.detach().double().sum()) for p in model.parameters()], world)
        if rank == 0:
            target = run.path / "model"
            tmp = run.path / ".model.tmp"
            shutil.rmtree(tmp, ignore_errors=True)
            save_model(model, tmp, base_max_len)
            if target.exists():
                shutil.rmtree(target)
            os.replace(tmp, target)
            if world > 1:
                log_file.write(json.dumps({"step": cfg.steps, "event": "rank_weight_sums", "sums": sums}) + "\n")
        if evaluation:  # the final model, through the one evaluation path: results/<data>/ like any run
            _evaluate_final(run, model, evaluation, cfg, rank, base_max_len, log_file, log)
        if rank == 0:
            log_file.close()
            run.update_info(
                status="done",
                steps=cfg.steps,
                finished=now_iso(),
                train_seconds=round(time.perf_counter() - t_start, 1),
                world_size=world,
            )
            log(f"{run.name}: done, model in {run.path / 'model'}")
        barrier()
        return run
    finally:
        if started_pg:
            import torch.distributed as dist

            dist.destroy_process_group()


def _rank_record(mode_info, rank_pairs, mode_code: dict, langs: list, qids) -> dict:
    """Under DDP: the mode and language every rank drew at this step, and each rank's question ids."""
    codes = {v: k for k, v in mode_code.items()}
    return {
        "rank_modes": [[codes[m], langs[li] if li >= 0 else None] for m, li in mode_info],
        "rank_question_ids": [qids[p].tolist() for p in rank_pairs],
    }


def _gather_floats(values: list[float], world: int) -> list[list[float]]:
    import torch
    import torch.distributed as dist

    if world == 1:
        return [values]
    t = torch.tensor(values, dtype=torch.float64)
    out = [torch.zeros_like(t) for _ in range(world)]
    dist.all_gather(out, t)
    return [o.tolist() for o in out]


# The seed of the evaluation's question sample: the same questions for every run, whatever its training
# seed, so that runs compare question by question (as the experiment's ``eval_seed``).
EVAL_SAMPLE_SEED = 0


def eval_sets(cfg: TrainConfig, data_dir=None) -> list:
    """The data set ``eval_data`` names, cut to the seeded ``eval_max_questions`` sample (``<set>-q<n>-s0``).

    Loaded before training starts, so a bad spec fails before the first step.
    """
    if not cfg.eval_data:
        return []
    return [
        load_data_spec(
            cfg.eval_data,
            data_dir=data_dir,
            test_fraction=cfg.split_test_fraction,
            split_seed=cfg.split_seed,
            max_questions=cfg.eval_max_questions or None,
            sample_seed=EVAL_SAMPLE_SEED,
        )
    ]


class _EvalMode:
    """The model as it is saved (eval mode, the base model's max length) for the time of an evaluation."""

    def __init__(self, model, max_seq_length: int | None) -> None:
        self.model, self.max_len = model, max_seq_length

    def __enter__(self):
        self.train_len = self.model.max_seq_length
        self.model.max_seq_length = self.max_len
        self.model.eval()
        return self.model

    def __exit__(self, *exc) -> None:
        self.model.max_seq_length = self.train_len
        self.model.train()


def _eval_record(step: int, data: str, macro: dict) -> dict:
    """One ``train_log.jsonl`` line of the evaluation curve: mAP per kind and the rank distance."""
    return {
        "step": step,
        "event": "eval",
        "data": data,
        **{f"{k}_map": round(v["map"], 4) for k, v in macro.items()},
        "rank_distance": round(macro.get("multi", {}).get("rank_distance", float("nan")), 2),
    }


def _evaluate_during(run: Run, model, datasets: list, step: int, rank: int, max_len, log_file, log) -> None:
    """Rank 0 scores the current weights for the log's curve (the scorer of every evaluation; no cache, no files)."""
    if rank == 0:
        from hybrid_core.evaluation.evaluate import evaluate_model

        for ds in datasets:
            with _EvalMode(model, max_len):
                macro = evaluate_model(model, ds, fingerprint=None).summary["macro"]
            _log_eval(_eval_record(step, ds.name, macro), run, log_file, log)
    barrier()


def _evaluate_final(run: Run, model, datasets: list, cfg: TrainConfig, rank: int, max_len, log_file, log) -> None:
    """Rank 0 evaluates the final model (still in memory) through THE evaluation path into ``results/<data>/``."""
    if rank == 0:
        from hybrid_core.evaluation.run_eval import evaluate_run

        with _EvalMode(model, max_len):
            summaries = evaluate_run(
                run, datasets, model=model, force=True, stages=(cfg.steps, cfg.steps + len(datasets)), log=log
            )
        for name, summary in summaries.items():
            _log_eval(_eval_record(cfg.steps, name, summary["macro"]), run, log_file, log)
    barrier()


def _log_eval(rec: dict, run: Run, log_file, log) -> None:
    log_file.write(json.dumps(rec) + "\n")
    log_file.flush()
    log(
        f"{run.name} step {rec['step']} on {rec['data']}: "
        + ", ".join(f"{k} {v}" for k, v in rec.items() if k.endswith("map"))
    )
