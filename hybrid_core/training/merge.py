"""Weight-space interpolation of two fine-tuned models of the same base: ``(1 - lambda) * A + lambda * B``.

Averaging the weights of models fine-tuned from one pre-trained start often lands in the same loss
basin and combines their strengths at no extra training cost: Wortsman et al. 2022, "Model soups"
(ICML 2022, arXiv 2203.05482); Ilharco et al. 2023, "Editing models with task arithmetic" (ICLR 2023,
arXiv 2212.04089). Here it asks whether interpolating an X-X-mono and an X-Y model matches hybrid
batch training.

Both inputs are sentence-transformers folders; every ``*.safetensors`` file of A must exist in B with
the same tensor names, shapes and dtypes. The output is A's folder (configs, tokenizer, modules) with
interpolated weights, written to a temporary folder and renamed into place only when complete.
Weights are read and written with safetensors only (no pickle).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from hybrid_core.errors import ModelError


def interpolate(a: dict, b: dict, lam: float) -> dict:
    """``(1 - lam) * a + lam * b`` for floating tensors (computed in float64, stored in a's dtype).

    Integer / bool tensors (e.g. position ids) must be equal in both and are copied. ``lam = 0`` gives
    ``a`` and ``lam = 1`` gives ``b`` exactly.
    """
    import torch

    if not 0.0 <= lam <= 1.0:
        raise ModelError(f"merge lambda must be in [0, 1], got {lam}")
    if set(a) != set(b):
        only = sorted(set(a) ^ set(b))[:3]
        raise ModelError(f"cannot merge models with different tensors (e.g. {only}); were they trained from one base?")
    out = {}
    for k, ta in a.items():
        tb = b[k]
        if ta.shape != tb.shape or ta.dtype != tb.dtype:
            raise ModelError(
                f"cannot merge tensor {k!r}: shapes/dtypes {tuple(ta.shape)}/{ta.dtype} vs {tuple(tb.shape)}/{tb.dtype}"
            )
        if not ta.is_floating_point():
            if not torch.equal(ta, tb):
                raise ModelError(f"cannot merge non-float tensor {k!r}: it differs between the two models")
            out[k] = ta.clone()
        elif lam == 0.0:
            out[k] = ta.clone()
        elif lam == 1.0:
            out[k] = tb.clone()
        else:
            out[k] = ((1.0 - lam) * ta.double() + lam * tb.double()).to(ta.dtype).contiguous()
    return out


def merge_models(model_a: str | Path, model_b: str | Path, lam: float, out: str | Path) -> Path:
    """Write the interpolation of two sentence-transformers folders to ``out`` (atomic); returns ``out``."""
    from safetensors.torch import load_file, save_file

    a, b, out = Path(model_a), Path(model_b), Path(out)
    for p in (a, b):
        if not p.is_dir():
            raise ModelError(f"cannot merge: model folder {p} does not exist (train that run first)")
    files = sorted(p.relative_to(a) for p in a.rglob("*.safetensors"))
    if not files:
        raise ModelError(f"cannot merge: no .safetensors weights in {a}")
    if not 0.0 <= lam <= 1.0:
        raise ModelError(f"merge lambda must be in [0, 1], got {lam}")
    tmp = out.with_name(f".{out.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    # at an end point the result is that model: copied with its file times, so its embedding-cache key
    # (hybrid_core.models.loading.model_fingerprint) is the same and evaluating it re-encodes nothing
    shutil.copytree(b if lam == 1.0 else a, tmp)
    for rel in files if 0.0 < lam < 1.0 else []:
        if not (b / rel).is_file():
            shutil.rmtree(tmp, ignore_errors=True)
            raise ModelError(f"cannot merge: {b} has no {rel} (models of different architectures?)")
        merged = interpolate(load_file(a / rel), load_file(b / rel), lam)
        save_file(merged, tmp / rel, metadata={"format": "pt", "merged": f"(1-{lam})*{a} + {lam}*{b}"})
    if out.exists():
        shutil.rmtree(out)
    os.replace(tmp, out)
    return out
