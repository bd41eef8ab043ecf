"""Checkpoints without pickles: the model (a sentence-transformers folder), AdamW state as safetensors + JSON,
per-rank RNG states, and the trainer state (step, sampler stream, config); written atomically.

Layout of ``checkpoints/step-<N>/``: a loadable sentence-transformers folder + ``optimizer.safetensors`` +
``optimizer.json`` + ``rng-rank<r>.safetensors`` + ``trainer_state.json``. A folder is renamed into
place only when complete, so the newest ``step-*`` with a ``trainer_state.json`` is always whole.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from hybrid_core.io_utils import read_json, write_json
from hybrid_core.runs import Run, now_iso
from hybrid_core.training.config import TrainConfig


def latest_checkpoint(run: Run) -> tuple[int, Path] | None:
    """The newest complete checkpoint (folders are renamed into place only when complete)."""
    found = [
        (int(p.name[5:]), p)
        for p in (run.path / "checkpoints").glob("step-*")
        if p.name[5:].isdigit() and (p / "trainer_state.json").is_file()
    ]
    return max(found) if found else None


def save_model(model, folder: Path, max_seq_length: int | None) -> None:
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


def restore_rng(folder: Path, rank: int, log) -> None:
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


def barrier() -> None:
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
    barrier()
    from safetensors.torch import save_file

    save_file(_rng_tensors(), str(tmp / f"rng-rank{rank}.safetensors"))
    barrier()
    if rank == 0:
        save_model(model, tmp, max_len)
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
    barrier()
    return final
