"""Domain-adaptive pretraining (DAPT): masked-LM continued pretraining of the encoder on unlabeled text.

As in Gururangan et al. (2020, "Don't Stop Pretraining: Adapt Language Models to Domains and Tasks",
ACL, https://arxiv.org/abs/2004.10964): before task training, continue the masked-LM objective
(Devlin et al. 2019: 15% of tokens selected; of those 80% ``[MASK]``, 10% random, 10% kept, via
transformers' ``DataCollatorForLanguageModeling``) on text of the target domain. Then hybrid training
starts from the result (``train --model <out>/model``).

Text: the candidate passages of a data spec (LAReQA sentences joined back into their paragraphs;
BEIR documents as they are), or a UTF-8 text file with one passage per line. Target-set text is
unlabeled but it *is* the evaluation domain: ``dapt.json`` (in the output folder and in its model
folder) records ``dapt_source``, and :func:`dapt_info` reads it back so tables can say so.

The sentence-transformers model's encoder (BERT or XLM-R family) gets a masked-LM head
(``AutoModelForMaskedLM``); checkpoints carry no head, so a fresh one is initialised (its decoder is
tied to the word embeddings, as in pretraining). After training the encoder weights go back into the
sentence-transformers model, which is saved with the base model's pooling, normalisation and prompts.

Output folder: ``dapt.json`` (config, source, status), ``checkpoints/step-N/`` (MLM weights as
safetensors, optimizer as safetensors + JSON: no pickle) and ``model/`` (the final model). Batches
and masks are drawn from generators seeded by (seed, step), so a resumed run equals an uninterrupted one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from hybrid_core.errors import HybridIRError
from hybrid_core.io_utils import read_json, write_json

INFO_FILE = "dapt.json"


class DaptError(HybridIRError):
    """A DAPT option, text file or output folder that cannot be used."""


@dataclass(frozen=True)
class DaptConfig:
    """What determines a DAPT run."""

    model: str | None = None  # base sentence-transformers model (None = multilingual-e5-small)
    data: str | None = None  # data spec whose candidate passages are the text (e.g. "mlqa-r:test")
    text_file: str | None = None  # or a UTF-8 file, one passage per line
    languages: tuple[str, ...] | None = None  # keep only these languages' passages (data specs only)
    steps: int = 200
    batch_size: int = 16
    lr: float = 5e-5
    weight_decay: float = 0.01
    warmup_steps: int = 20
    mlm_probability: float = 0.15
    max_seq_length: int = 128
    seed: int = 0
    checkpoint_every: int = 50  # 0 = only the final model
    keep_checkpoints: int = 1

    def to_dict(self) -> dict[str, Any]:
        return json.loads(json.dumps(asdict(self)))


def validate(cfg: DaptConfig) -> DaptConfig:
    if (cfg.data is None) == (cfg.text_file is None):
        raise DaptError("dapt needs exactly one text source: a data spec (--data) or a text file (--text-file)")
    checks = [
        (isinstance(cfg.steps, int) and cfg.steps >= 1, f"steps must be a positive integer, got {cfg.steps!r}"),
        (isinstance(cfg.batch_size, int) and cfg.batch_size >= 1, f"batch_size must be >= 1, got {cfg.batch_size!r}"),
        (cfg.lr > 0, f"lr must be positive, got {cfg.lr}"),
        (0 < cfg.mlm_probability < 1, f"mlm_probability must be in (0, 1), got {cfg.mlm_probability}"),
        (8 <= cfg.max_seq_length <= 8192, f"max_seq_length must be in [8, 8192], got {cfg.max_seq_length}"),
        (cfg.warmup_steps >= 0 and cfg.checkpoint_every >= 0, "warmup_steps and checkpoint_every must be >= 0"),
        (cfg.keep_checkpoints >= 1, f"keep_checkpoints must be >= 1, got {cfg.keep_checkpoints}"),
    ]
    for ok, msg in checks:
        if not ok:
            raise DaptError(msg)
    if cfg.languages is not None and cfg.text_file is not None:
        raise DaptError("languages selects passages of a data spec; a text file is used whole")
    if cfg.languages is not None:
        cfg = dataclasses.replace(cfg, languages=tuple(cfg.languages))
    return cfg


def read_text_file(path: str | Path) -> list[str]:
    """Non-empty lines of a UTF-8 file; an empty or non-UTF-8 file is an error naming it."""
    path = Path(path)
    if not path.is_file():
        raise DaptError(f"{path}: text file not found")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DaptError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); convert it to UTF-8") from None
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        raise DaptError(f"{path}: text file is empty (one passage per line expected)")
    return lines


def passages(cfg: DaptConfig, data_dir: str | None = None) -> tuple[list[str], str]:
    """The texts and the ``dapt_source`` label (``target-set:<spec>[<langs>]`` or ``file:<name>:sha256:<12 hex>``)."""
    if cfg.text_file is not None:
        lines = read_text_file(cfg.text_file)
        digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()[:12]
        return lines, f"file:{Path(cfg.text_file).name}:sha256:{digest}"
    from hybrid_core.data.specs import load_data_spec

    ds = load_data_spec(cfg.data, data_dir=data_dir, languages=list(cfg.languages) if cfg.languages else None)
    corpus = ds.corpus.sort_values(["paragraph", "id"], kind="stable")
    paras = corpus.groupby("paragraph", sort=True)["text"].agg(" ".join)
    langs = f"[{','.join(cfg.languages)}]" if cfg.languages else ""
    return [t for t in paras.tolist() if t.strip()], f"target-set:{cfg.data}{langs}"


def dapt_info(model_folder: str | Path) -> dict | None:
    """The ``dapt.json`` of a model folder made by :func:`run_dapt` (None for any other model)."""
    f = Path(model_folder) / INFO_FILE
    return read_json(f) if f.is_file() else None


def _lr(step: int, cfg: DaptConfig) -> float:
    warmup = min(cfg.warmup_steps, cfg.steps)
    if step < warmup:
        return cfg.lr * (step + 1) / warmup
    return cfg.lr * max(0.0, (cfg.steps - step) / max(1, cfg.steps - warmup))


def _mlm_model(st_model):
    """An ``AutoModelForMaskedLM`` holding the sentence-transformers encoder's weights and a fresh head."""
    from transformers import AutoModelForMaskedLM

    encoder = st_model[0].auto_model
    if not hasattr(encoder.config, "vocab_size") or getattr(encoder.config, "is_encoder_decoder", False):
        raise DaptError(f"dapt supports BERT / XLM-R-family encoders, not {encoder.config.model_type!r}")
    try:
        mlm = AutoModelForMaskedLM.from_config(encoder.config)
    except ValueError as exc:
        raise DaptError(f"no masked-LM head for model type {encoder.config.model_type!r}: {exc}") from None
    missing, _unexpected = mlm.base_model.load_state_dict(encoder.state_dict(), strict=False)
    missing = [k for k in missing if "position_ids" not in k]
    if missing:
        raise DaptError(f"the encoder's weights do not fit its masked-LM model: missing {missing[:3]}")
    mlm.tie_weights()
    return mlm


def _latest(out: Path) -> tuple[int, Path] | None:
    found = [
        (int(p.name[5:]), p)
        for p in (out / "checkpoints").glob("step-*")
        if p.name[5:].isdigit() and (p / "state.json").is_file()
    ]
    return max(found) if found else None


def run_dapt(cfg: DaptConfig, out: str | Path, *, resume: bool = False, data_dir: str | None = None, log=print) -> Path:
    """Run (or resume) DAPT into ``out``; returns the final sentence-transformers folder ``out/model``."""
    import numpy as np
    import torch
    from transformers import DataCollatorForLanguageModeling

    from hybrid_core.models.loading import DEFAULT_MODEL, load_model
    from hybrid_core.training.checkpoints import load_optimizer

    cfg = validate(cfg)
    out = Path(out)
    texts, source = passages(cfg, data_dir)  # a bad source fails here, before anything is written
    info_path = out / INFO_FILE
    if info_path.is_file():
        old = read_json(info_path)
        if not resume:
            raise DaptError(f"{out}: a DAPT run is already there; pass --resume to continue it, or pick another --out")
        if old.get("config") != cfg.to_dict():
            changed = sorted(k for k in cfg.to_dict() if old.get("config", {}).get(k) != cfg.to_dict()[k])
            raise DaptError(f"{out}: cannot resume with a changed config (changed: {', '.join(changed)})")
    elif out.exists() and any(out.iterdir()):
        raise DaptError(f"{out}: folder exists and is not a DAPT run; pick another --out")
    ckpt = _latest(out) if resume else None

    st = load_model(cfg.model, device="cpu")
    tok = st[0].tokenizer
    if tok.mask_token is None:
        raise DaptError(f"{cfg.model or DEFAULT_MODEL}: its tokenizer has no mask token; masked-LM needs one")
    torch.manual_seed(cfg.seed)  # the fresh head's initialisation
    mlm = _mlm_model(st)
    if ckpt:
        from safetensors.torch import load_file

        mlm.load_state_dict(load_file(str(ckpt[1] / "model.safetensors")), strict=False)
        mlm.tie_weights()
    enc = tok(texts, truncation=True, max_length=cfg.max_seq_length, return_special_tokens_mask=True)
    features = [{k: enc[k][i] for k in enc} for i in range(len(texts))]
    collator = DataCollatorForLanguageModeling(tok, mlm=True, mlm_probability=cfg.mlm_probability)
    decay = [p for n, p in mlm.named_parameters() if not any(s in n for s in ("bias", "LayerNorm", "layer_norm"))]
    no_decay = [p for n, p in mlm.named_parameters() if any(s in n for s in ("bias", "LayerNorm", "layer_norm"))]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr
    )
    if ckpt:
        load_optimizer(opt, ckpt[1])
    start = ckpt[0] if ckpt else 0
    base = str(cfg.model or DEFAULT_MODEL)
    info = {"config": cfg.to_dict(), "base_model": base, "dapt_source": source, "passages": len(texts)}
    write_json(info_path, {**info, "status": "training", "steps": start})
    log(f"dapt: {len(texts)} passages ({source}), {cfg.steps} steps of {cfg.batch_size}, from {base}")
    if resume and ckpt:
        log(f"dapt: resuming at step {start}")
    log_path = out / "dapt_log.jsonl"
    kept = log_path.read_text(encoding="utf-8").splitlines()[:start] if log_path.is_file() else []
    log_path.write_text("".join(line + "\n" for line in kept), encoding="utf-8")  # drop steps after the checkpoint
    log_file = log_path.open("a", encoding="utf-8")
    mlm.train()
    t_start = time.perf_counter()
    for step in range(start, cfg.steps):
        rng = np.random.default_rng([cfg.seed, step])
        idx = rng.choice(len(features), size=min(cfg.batch_size, len(features)), replace=len(features) < cfg.batch_size)
        torch.manual_seed(cfg.seed * 1_000_003 + step)  # masks and dropout: a function of (seed, step)
        batch = collator([dict(features[i]) for i in idx])
        for g in opt.param_groups:
            g["lr"] = _lr(step, cfg)
        loss = mlm(**batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(mlm.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        rec = {"step": step + 1, "loss": round(float(loss.detach()), 6), "lr": _lr(step, cfg)}
        log_file.write(json.dumps(rec) + "\n")
        log_file.flush()
        if cfg.checkpoint_every and (step + 1) % cfg.checkpoint_every == 0 and step + 1 < cfg.steps:
            _checkpoint(out, step + 1, mlm, opt, cfg)
            write_json(info_path, {**info, "status": "training", "steps": step + 1})
    log_file.close()
    # the encoder's weights back into the sentence-transformers model (pooler and prompts untouched)
    st[0].auto_model.load_state_dict(mlm.base_model.state_dict(), strict=False)
    tmp, target = out / ".model.tmp", out / "model"
    shutil.rmtree(tmp, ignore_errors=True)
    st.save(str(tmp), create_model_card=False)
    done = {**info, "status": "done", "steps": cfg.steps, "seconds": round(time.perf_counter() - t_start, 1)}
    write_json(tmp / INFO_FILE, done)
    if target.exists():
        shutil.rmtree(target)
    os.replace(tmp, target)
    write_json(info_path, done)
    log(f"dapt: done, model in {target}")
    return target


def _checkpoint(out: Path, step: int, mlm, opt, cfg: DaptConfig) -> None:
    from safetensors.torch import save_file

    from hybrid_core.training.checkpoints import save_optimizer

    final = out / "checkpoints" / f"step-{step}"
    tmp = out / "checkpoints" / f".step-{step}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    state = {k: v.detach().cpu().contiguous() for k, v in mlm.state_dict().items()}
    seen: set[int] = set()
    unique = {}
    for k, v in state.items():  # tied tensors (decoder = word embeddings) stored once
        if v.data_ptr() in seen:
            continue
        seen.add(v.data_ptr())
        unique[k] = v
    save_file(unique, str(tmp / "model.safetensors"))
    save_optimizer(opt, tmp)
    write_json(tmp / "state.json", {"step": step})
    os.replace(tmp, final)
    olds = sorted((int(p.name[5:]), p) for p in (out / "checkpoints").glob("step-*") if p.name[5:].isdigit())
    for _, p in olds[: -cfg.keep_checkpoints]:
        shutil.rmtree(p, ignore_errors=True)
