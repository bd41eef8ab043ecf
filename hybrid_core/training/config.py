"""Training configuration: the options (one frozen dataclass, a comment per default), their checks, the schedule.

``TrainConfig`` is everything that determines what a run learns; :func:`validate_config` checks it
(including that evaluation data does not leak into training), :func:`config_diff` says what changed
when a run is resumed, and :func:`lr_at` is the learning-rate schedule as a pure function of the step.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from hybrid_core.data.specs import parse_data_spec
from hybrid_core.errors import HybridIRError


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
    exclude_languages: tuple[str, ...] | None = None  # held-out languages: no pair has them on either side
    augment: str | None = None  # training-query augmentation, e.g. "noise=typos:0.1" (hybrid_core.augment.training)
    augment_prob: float = 0.5  # share of training queries augmented when `augment` is set
    reduce_languages: tuple[str, ...] | None = None  # low-resource simulation: cut these languages' training pairs
    reduce_fraction: float = 0.1  # share of their questions kept (seeded by reduce_seed; other languages untouched)
    reduce_seed: int = 0  # seed of that cut (shared by every arm and seed of a study: one cut, many models)
    translate_train: str | None = None  # restore cut queries by translation: "parallel" (ORACLE) or "dictionary@f+g"
    translate_source: str = "en"  # the language translate-train translates from

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        """From JSON (a preset or run.json's config); unknown keys are an error, ``base_model`` is ignored."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known - {"base_model"})
        if unknown:
            raise TrainConfigError(f"unknown training option(s) {unknown}; known: {', '.join(sorted(known))}")
        d = {k: v for k, v in d.items() if k in known}
        for key in ("train_languages", "exclude_languages", "reduce_languages"):
            if d.get(key) is not None:
                d[key] = tuple(d[key])
        return cls(**d)

    def pair_languages(self, available: list[str]) -> list[str] | tuple[str, ...] | None:
        """The languages training pairs may use: ``train_languages`` (None = all) minus ``exclude_languages``."""
        if not self.exclude_languages:
            return self.train_languages
        return [x for x in (self.train_languages or available) if x not in self.exclude_languages]

    def to_dict(self) -> dict[str, Any]:
        return json.loads(json.dumps(asdict(self)))


#: Options that change what is logged or kept, not what is learnt: they may differ when a run is resumed,
#: and they never define an ablation setting (:data:`hybrid_core.analysis.ablations.IGNORED_KEYS`).
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
    if cfg.eval_data:
        leak = leak_message(cfg.train_data, cfg.train_split, cfg.eval_data)
        need(leak is None, leak or "")
    need(
        cfg.reduce_languages is None
        or (len(cfg.reduce_languages) > 0 and all(isinstance(x, str) and x for x in cfg.reduce_languages)),
        f"reduce_languages must be a non-empty list of language codes or None, got {cfg.reduce_languages!r}",
    )
    need(
        not isinstance(cfg.reduce_fraction, bool)
        and isinstance(cfg.reduce_fraction, int | float)
        and 0 < cfg.reduce_fraction <= 1,
        f"reduce_fraction must be in (0, 1], got {cfg.reduce_fraction!r}",
    )
    need(
        isinstance(cfg.reduce_seed, int) and cfg.reduce_seed >= 0, f"reduce_seed must be >= 0, got {cfg.reduce_seed!r}"
    )
    if cfg.translate_train is not None:
        need(
            cfg.translate_train == "parallel" or cfg.translate_train.startswith("dictionary@"),
            f"translate_train must be 'parallel' (oracle) or 'dictionary@<src>-<tgt>.txt[+...]', got "
            f"{cfg.translate_train!r}",
        )
        need(cfg.reduce_languages is not None, "translate_train restores the pairs cut by reduce_languages: set it")
        need(
            cfg.translate_source not in (cfg.reduce_languages or ()),
            f"translate_source {cfg.translate_source!r} is itself in reduce_languages",
        )
    return dataclasses.replace(cfg, sampler=sampler, alpha=float(cfg.alpha))


def _set_key(source: str) -> str:
    """A data set name or path, normalised so that two spellings of one set compare equal."""
    from hybrid_core.data import KNOWN_SETS

    if source.lower() in KNOWN_SETS:
        return source.lower()
    return str(Path(source).expanduser().resolve())


def leak_message(train_data: str, train_split: str, eval_data: str) -> str | None:
    """Why training on ``train_data`` (``train_split``) and evaluating on ``eval_data`` leaks, or None.

    ``<set>:test`` is the held-out articles of ``<set>``; training on all of ``<set>`` puts those
    test questions in the training batches.
    """
    spec = parse_data_spec(eval_data)
    if spec.part == "test" and train_split == "all" and _set_key(spec.source) == _set_key(train_data):
        return (
            f"evaluating on {eval_data!r} after training on all of {train_data!r} leaks its test questions into "
            f"training; train on the article-disjoint part (train_split='train', --split train) or evaluate on "
            "another set"
        )
    return None


def default_train_split(eval_data: str | None) -> str:
    """``train`` (article-disjoint) whenever the evaluation names a test part, else ``all``."""
    return "train" if eval_data and parse_data_spec(eval_data).part == "test" else "all"


def config_diff(old: dict, new: dict) -> dict[str, tuple[Any, Any]]:
    """``{key: (old, new)}`` for the options that differ, ignoring RESUME_SAFE_KEYS and ``base_model``.

    An option missing from ``old`` (a run made before the option existed) counts as its default."""
    old, new = json.loads(json.dumps(old)), json.loads(json.dumps(new))
    defaults = json.loads(json.dumps(asdict(TrainConfig())))
    old = {**{k: v for k, v in defaults.items() if k not in old and k in new}, **old}
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
