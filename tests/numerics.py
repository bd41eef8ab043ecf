"""Float comparisons whose tolerance comes from the magnitudes involved, not from one CPU's rounding.

Summation order differs between CPUs (AVX2 vs AVX-512 kernels) and between code paths that compute
the same thing (GradCache chunks, DDP all-reduce), so two float paths never agree bit for bit. A
tolerance tuned on one machine (``rtol=1e-4, atol=1e-6``) fails on another wherever an element is a
sum of terms that cancel: its relative error is unbounded. Instead:

- gradients are compared in float64, elementwise against the tensor's own largest magnitude;
- trained weights are compared by how far apart they are relative to how far training moved them
  (Adam divides by the gradient's running RMS, so an element whose gradient is pure rounding noise
  may move differently; such elements carry a negligible share of the update's norm).
"""

from __future__ import annotations

import torch

#: float64 rounding is ~1e-16 relative; reductions over a few thousand terms in any order stay far below 1e-9,
#: while a wrong gradient (a missing term, a wrong scale) is off by O(1) relative to the tensor's magnitude.
FLOAT64_REL = 1e-9
#: float32 training paths (GradCache vs plain, 2 ranks vs 1): rounding noise moved weights by at most 1.2e-4 of the
#: update's norm here (AVX2, 4 steps); a real divergence (another batch, a missed gradient) moves them by O(1).
UPDATE_REL = 1e-2
#: Tensors whose true gradient is exactly zero: softmax is invariant to adding one constant to every key, so the
#: attention key bias only ever sees rounding noise, which Adam (dividing by its RMS) turns into lr-sized steps.
PURE_NOISE = ("attention.self.key.bias",)


def assert_close_to_scale(
    actual: torch.Tensor, expected: torch.Tensor, rel: float = FLOAT64_REL, scale: float = 0.0, msg: str = ""
) -> None:
    """Every element within ``rel`` x max(largest magnitude in ``expected``, ``scale``).

    Pass the largest magnitude over all of a model's gradients as ``scale``: a tensor whose true gradient is zero
    (see PURE_NOISE) holds only rounding noise, which must be small against the model's gradients, not its own.
    """
    scale = max(float(expected.abs().max()) if expected.numel() else 0.0, scale)
    diff = float((actual - expected).abs().max()) if expected.numel() else 0.0
    assert actual.shape == expected.shape, f"{msg}: shape {tuple(actual.shape)} != {tuple(expected.shape)}"
    assert diff <= rel * scale, f"{msg}: max |diff| {diff:.3e} > {rel:g} x max |expected| {scale:.3e}"


def grad_scale(grads: dict) -> float:
    """The largest gradient magnitude over all tensors."""
    return max(float(g.abs().max()) for g in grads.values())


def update_distance(a: dict, b: dict, start: dict) -> dict[str, float]:
    """Per tensor, ||a - b|| / ||a - start||: how far two trained weight sets are apart, relative to the update.

    Tensors that training did not move (frozen, or never reached by a gradient) get ``||a - b||`` itself.
    """
    out = {}
    for k, wa in a.items():
        wa, wb, w0 = wa.double(), b[k].double(), start[k].double()
        moved = float(torch.linalg.vector_norm(wa - w0))
        apart = float(torch.linalg.vector_norm(wa - wb))
        out[k] = apart / moved if moved > 0 else apart
    return out


def assert_same_training(a: dict, b: dict, start: dict, rel: float = UPDATE_REL) -> None:
    """Two weight sets trained from ``start`` by paths that must be equal up to rounding."""
    assert a.keys() == b.keys()
    kept = {k: v for k, v in a.items() if not k.endswith(PURE_NOISE)}
    assert len(kept) > len(a) // 2
    bad = {k: v for k, v in update_distance(kept, b, start).items() if v > rel}
    assert not bad, f"weights differ by more than {rel:g} of the update: {bad}"
