"""The trainer: InfoNCE fine-tuning of a sentence-transformers encoder with hybrid batches, one loop.

Reads top to bottom like nanoGPT's ``train.py``: a frozen config with a comment per default ->
set-up (data, sampler, model, optimizer, maybe a checkpoint) -> one loop -> the final model.
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
``rng-rank<r>.safetensors`` + ``trainer_state.json``) and ``model/``.

The environment variable ``HYBRID_IR_STEP_DELAY`` (seconds, default 0) sleeps after each step; it
exists only so tests can interrupt a tiny, fast training run at a known point.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from hybrid_core.data.specs import load_data_spec
from hybrid_core.errors import HybridIRError, RunError
from hybrid_core.io_utils import atomic_path, read_json, write_json
from hybrid_core.runs import Run, RunStore, now_iso, validate_name


class TrainConfigError(HybridIRError):
    """A training option with an invalid value, or a resumed run whose config changed."""


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run (machine-specific things like the device are not here)."""

    model: str | None = None  # base encoder: sentence-transformers name or folder (None = multilingual-e5-small)
    train_data: str = "mlqa-r"  # "xquad-r", "mlqa-r" or a path to a parallel data set
    train_languages: tuple[str, ...] | None = None  # keep pairs whose query and passage languages are listed
    train_split: str = "all"  # "all", or "train": the article-disjoint train part (test part stays unseen)
    split_test_fraction: float = 0.2  # share of articles held out when train_split="train"
    split_seed: int = 0  # seed of the article split
    sampler: str = "hybrid"  # "x-x", "x-x-mono", "x-y" or "hybrid"
    alpha: float = 0.5  # hybrid: probability of an X-X-mono batch (else X-Y)
    steps: int = 1000  # optimizer steps
    batch_size: int = 32  # pairs per step over all processes = in-batch negatives (paper: 100)
    mini_batch_size: int | None = None  # GradCache chunk (texts per forward, per column); None = no caching
    lr: float = 3e-5  # peak learning rate (paper)
    weight_decay: float = 0.01  # AdamW decoupled weight decay (paper); not on biases and LayerNorm
    warmup_steps: int = 100  # linear warm-up to lr (capped at `steps`), then linear decay to 0 at `steps`
    grad_clip: float = 1.0  # max global gradient norm
    temperature: float = 0.05  # InfoNCE temperature (E5 uses 0.01-0.05); scale = 1 / temperature
    max_seq_length: int = 64  # tokens per text in training (the saved model keeps the base model's limit)
    hard_negatives: bool = False  # add one same-paragraph sentence per pair as an extra negative (1.5x cost)
    freeze_word_embeddings: bool = True  # 96M of e5-small's 118M parameters; ~1.5x faster steps on CPU
    seed: int = 0  # seeds batches, modes, hard negatives and dropout
    checkpoint_every: int = 100  # steps between checkpoints (0 = only the final model)
    keep_checkpoints: int = 2  # newest checkpoints kept on disk
    log_every: int = 10  # steps between progress prints (train_log.jsonl gets every step)
    eval_data: str | None = None  # optional data spec evaluated at the end (and every `eval_every` steps)
    eval_max_questions: int | None = 50  # seeded sample of question ids for that evaluation (None = all)
    eval_every: int = 0  # steps between evaluations (0 = only at the end)
    augment: str | None = None  # training-query augmentation, e.g. "noise=typos:0.1" (hybrid_core.augment.training)
    augment_prob: float = 0.5  # share of training queries augmented when `augment` is set

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        """From JSON (a preset or run.json's config); unknown keys are an error, ``base_model`` is ignored."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known - {"base_model"})
        if unknown:
            raise TrainConfigError(f"unknown training option(s) {unknown}; known: {', '.join(sorted(known))}")
        d = {k: v for k, v in d.items() if k in known}
        if d.get("train_languages") is not None:
            d["train_languages"] = tuple(d["train_languages"])
        return cls(**d)

    def to_dict(self) -> dict[str, Any]:
        return json.loads(json.dumps(asdict(self)))


# Options that may differ when a run is resumed: they change what is logged or kept, not what is learnt.
RESUME_SAFE_KEYS = frozenset({"log_every", "checkpoint_every", "keep_checkpoints", "eval_every"})


def validate_config(cfg: TrainConfig) -> TrainConfig:
    """Raise a specific error for the first invalid option; returns ``cfg`` normalised."""
    from hybrid_core.training.losses import check_temperature
    from hybrid_core.training.samplers import check_alpha, parse_sampler

    sampler = parse_sampler(cfg.sampler).value
    check_alpha(cfg.alpha)
    check_temperature(cfg.temperature)

    def need(ok: bool, msg: str) -> None:
        if not ok:
            raise TrainConfigError(msg)

    need(isinstance(cfg.steps, int) and cfg.steps >= 1, f"steps must be a positive integer, got {cfg.steps!r}")
    need(isinstance(cfg.batch_size, int) and cfg.batch_size >= 2, f"batch_size must be >= 2, got {cfg.batch_size!r}")
    need(
        cfg.mini_batch_size is None or (isinstance(cfg.mini_batch_size, int) and cfg.mini_batch_size >= 1),
        f"mini_batch_size must be a positive integer or None, got {cfg.mini_batch_size!r}",
    )
    need(cfg.lr > 0, f"lr must be positive, got {cfg.lr}")
    need(cfg.weight_decay >= 0, f"weight_decay must be >= 0, got {cfg.weight_decay}")
    need(isinstance(cfg.warmup_steps, int) and cfg.warmup_steps >= 0, f"warmup_steps must be >= 0: {cfg.warmup_steps}")
    need(cfg.grad_clip > 0, f"grad_clip must be positive, got {cfg.grad_clip}")
    need(8 <= cfg.max_seq_length <= 8192, f"max_seq_length must be in [8, 8192], got {cfg.max_seq_length}")
    need(cfg.train_split in ("all", "train"), f"train_split must be 'all' or 'train', got {cfg.train_split!r}")
    need(0 < cfg.split_test_fraction < 1, f"split_test_fraction must be in (0, 1), got {cfg.split_test_fraction}")
    need(cfg.checkpoint_every >= 0, f"checkpoint_every must be >= 0, got {cfg.checkpoint_every}")
    need(cfg.keep_checkpoints >= 1, f"keep_checkpoints must be >= 1, got {cfg.keep_checkpoints}")
    need(cfg.log_every >= 1, f"log_every must be >= 1, got {cfg.log_every}")
    need(cfg.eval_every >= 0, f"eval_every must be >= 0, got {cfg.eval_every}")
    return dataclasses.replace(cfg, sampler=sampler, alpha=float(cfg.alpha))


def config_diff(old: dict, new: dict) -> dict[str, tuple[Any, Any]]:
    """``{key: (old, new)}`` for the options that differ, ignoring RESUME_SAFE_KEYS and ``base_model``."""
    old, new = json.loads(json.dumps(old)), json.loads(json.dumps(new))
    keys = (set(old) | set(new)) - RESUME_SAFE_KEYS - {"base_model"}
    return {k: (old.get(k), new.get(k)) for k in sorted(keys) if old.get(k) != new.get(k)}


def lr_at(step: int, cfg: TrainConfig) -> float:
    """Linear warm-up to ``lr`` over ``warmup_steps``, then linear decay to 0 at ``steps``.

    Like transformers' ``get_linear_schedule_with_warmup``, except that step 0 already trains
    (lr/warmup instead of 0) and a warm-up longer than the run is capped at ``steps``. A pure
    function of the step, so resuming needs no scheduler state.
    """
    warmup = min(cfg.warmup_steps, cfg.steps)
    if step < warmup:
        return cfg.lr * (step + 1) / warmup
    return cfg.lr * max(0.0, (cfg.steps - step) / max(1, cfg.steps - warmup))


# --------------------------------------------------------------------------- run folder helpers
def latest_checkpoint(run: Run) -> tuple[int, Path] | None:
    """The newest complete checkpoint (folders are renamed into place only when complete)."""
    found = [
        (int(p.name[5:]), p)
        for p in (run.path / "checkpoints").glob("step-*")
        if p.name[5:].isdigit() and (p / "trainer_state.json").is_file()
    ]
    return max(found) if found else None


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


# --------------------------------------------------------------------------- checkpoints
def _save_model(model, folder: Path, max_seq_length: int | None) -> None:
    """A sentence-transformers folder with the base model's max length (training may truncate more)."""
    train_len = model.max_seq_length
    model.max_seq_length = max_seq_length
    try:
        model.save(str(folder), create_model_card=False)
    finally:
        model.max_seq_length = train_len


def save_optimizer(opt, folder: Path) -> None:
    """AdamW state as safetensors (tensors) + JSON (param groups): no pickle."""
    from safetensors.torch import save_file

    sd = opt.state_dict()
    tensors = {f"{i}.{k}": v.detach().cpu().contiguous() for i, s in sd["state"].items() for k, v in s.items()}
    save_file(tensors, str(folder / "optimizer.safetensors"))
    write_json(folder / "optimizer.json", {"param_groups": sd["param_groups"]})


def load_optimizer(opt, folder: Path) -> None:
    from safetensors.torch import load_file

    state: dict[int, dict] = {}
    for key, t in load_file(str(folder / "optimizer.safetensors")).items():
        i, k = key.split(".", 1)
        state.setdefault(int(i), {})[k] = t
    opt.load_state_dict({"state": state, "param_groups": read_json(folder / "optimizer.json")["param_groups"]})


def _rng_tensors() -> dict:
    import torch

    out = {"cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        out.update({f"cuda.{i}": s for i, s in enumerate(torch.cuda.get_rng_state_all())})
    return out


def _restore_rng(folder: Path, rank: int, log) -> None:
    import torch
    from safetensors.torch import load_file

    f = folder / f"rng-rank{rank}.safetensors"
    if not f.is_file():
        log(f"note: no RNG state for rank {rank} in {folder.name} (process count changed?); dropout masks differ")
        return
    states = load_file(str(f))
    torch.set_rng_state(states["cpu"])
    cuda = [states[k] for k in sorted(k for k in states if k.startswith("cuda."))]
    if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)


def _barrier() -> None:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()


def save_checkpoint(run: Run, step: int, model, opt, sampler, cfg: TrainConfig, max_len, rank: int, world: int) -> Path:
    """Write ``checkpoints/step-<step>/`` atomically (temp folder renamed), then prune old ones."""
    ckpts = run.path / "checkpoints"
    tmp, final = ckpts / f".step-{step}.tmp", ckpts / f"step-{step}"
    if rank == 0:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
    _barrier()
    from safetensors.torch import save_file

    save_file(_rng_tensors(), str(tmp / f"rng-rank{rank}.safetensors"))
    _barrier()
    if rank == 0:
        _save_model(model, tmp, max_len)
        save_optimizer(opt, tmp)
        write_json(
            tmp / "trainer_state.json",
            {
                "step": step,
                "sampler": sampler.state_dict(),
                "config": cfg.to_dict(),
                "world_size": world,
                "saved": now_iso(),
            },
        )
        if final.exists():  # only after a resume that redid this step: the same state, written again
            shutil.rmtree(final)
        os.replace(tmp, final)
        done = sorted(int(p.name[5:]) for p in ckpts.glob("step-*") if p.name[5:].isdigit())
        for old in done[: -cfg.keep_checkpoints]:
            shutil.rmtree(ckpts / f"step-{old}", ignore_errors=True)
        run.update_info(steps=step, last_checkpoint=final.name)
    _barrier()
    return final


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
    from hybrid_core.training.samplers import HybridBatchSampler, build_pairs

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
        pairs = build_pairs(dataset, languages=cfg.train_languages)
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
        _barrier()
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
            _barrier()
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
            _restore_rng(ckpt[1], rank, log)
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

        # ---- the loop
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
                }
                if world > 1:
                    codes = {v: k for k, v in mode_code.items()}
                    rec["rank_modes"] = [[codes[m], langs[li] if li >= 0 else None] for m, li in mode_info]
                    rec["rank_question_ids"] = [qids[p].tolist() for p in rank_pairs]
                log_file.write(json.dumps(rec, ensure_ascii=False) + "\n")
                log_file.flush()
            bar.update(1)
            if (step + 1) % cfg.log_every == 0:
                bar.set_postfix(loss=f"{float(loss_value):.4f}", mode=batch.language or batch.mode, lr=f"{lr:.2e}")
                if rank == 0:
                    run.update_info(steps=step + 1)
            if cfg.checkpoint_every and (step + 1) % cfg.checkpoint_every == 0 and step + 1 < cfg.steps:
                save_checkpoint(run, step + 1, model, opt, sampler, cfg, base_max_len, rank, world)
            if cfg.eval_data and cfg.eval_every and (step + 1) % cfg.eval_every == 0 and step + 1 < cfg.steps:
                _evaluate_during(run, model, cfg, step + 1, rank, data_dir, log_file, log)
            if delay:
                time.sleep(delay)
        bar.close()

        # ---- the final model (rank 0), the per-rank weight checksums (DDP), the run's status
        sums = _gather_floats([float(p.detach().double().sum()) for p in model.parameters()], world)
        if rank == 0:
            target = run.path / "model"
            tmp = run.path / ".model.tmp"
            shutil.rmtree(tmp, ignore_errors=True)
            _save_model(model, tmp, base_max_len)
            if target.exists():
                shutil.rmtree(target)
            os.replace(tmp, target)
            if world > 1:
                log_file.write(json.dumps({"step": cfg.steps, "event": "rank_weight_sums", "sums": sums}) + "\n")
        if cfg.eval_data:
            _evaluate_during(run, model, cfg, cfg.steps, rank, data_dir, log_file, log)
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
        _barrier()
        return run
    finally:
        if started_pg:
            import torch.distributed as dist

            dist.destroy_process_group()


def _gather_floats(values: list[float], world: int) -> list[list[float]]:
    import torch
    import torch.distributed as dist

    if world == 1:
        return [values]
    t = torch.tensor(values, dtype=torch.float64)
    out = [torch.zeros_like(t) for _ in range(world)]
    dist.all_gather(out, t)
    return [o.tolist() for o in out]


def _evaluate_during(run: Run, model, cfg: TrainConfig, step: int, rank: int, data_dir, log_file, log) -> None:
    """Rank 0 scores the current weights on a seeded question sample of ``eval_data`` (no embedding cache)."""
    if rank == 0:
        from hybrid_core.evaluation.evaluate import evaluate_model

        ds = load_data_spec(
            cfg.eval_data, data_dir=data_dir, test_fraction=cfg.split_test_fraction, split_seed=cfg.split_seed
        )
        if cfg.eval_max_questions:
            ds = ds.subset(max_questions=cfg.eval_max_questions, seed=cfg.seed)
        model.eval()
        macro = evaluate_model(model, ds, fingerprint=None).summary["macro"]
        model.train()
        rec = {
            "step": step,
            "event": "eval",
            "data": cfg.eval_data,
            **{f"{k}_map": round(v["map"], 4) for k, v in macro.items()},
            "rank_distance": round(macro.get("multi", {}).get("rank_distance", float("nan")), 2),
        }
        log_file.write(json.dumps(rec) + "\n")
        log_file.flush()
        log(f"{run.name} step {step}: " + ", ".join(f"{k} {v}" for k, v in rec.items() if k.endswith("map")))
    _barrier()
