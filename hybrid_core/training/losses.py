"""InfoNCE with in-batch negatives (query -> passage), optional hard negatives, optional GradCache.

Built on sentence-transformers rather than by hand: its ``MultipleNegativesRankingLoss`` with
``scale = 1 / temperature`` *is* InfoNCE over cosine similarities (van den Oord et al. 2018,
arXiv 1807.03748), its ``CachedMultipleNegativesRankingLoss`` is the same loss with gradient caching
(GradCache, Gao et al. 2021, arXiv 2101.06983), and both gather embeddings across DDP ranks with
gradients. Nothing the paper's training needs is missing from them, so the only code written by
hand here is :func:`info_nce`, a ten-line reference of the maths that the tests compare them with.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from hybrid_core.errors import HybridIRError


def info_nce(queries: Tensor, positives: Tensor, temperature: float, negatives: Tensor | None = None) -> Tensor:
    """Mean InfoNCE loss of query i against every passage in the batch, positive i being the target.

    ``loss = -mean_i log( exp(s(q_i, p_i) / t) / sum_j exp(s(q_i, d_j) / t) )`` with ``s`` the cosine
    similarity and ``d`` all positives followed by all hard negatives (each a negative for every
    query). Source: van den Oord et al. 2018 (arXiv 1807.03748); in-batch negatives as in Henderson
    et al. 2017 (arXiv 1705.00652).

    Example (hand-checkable): orthogonal unit vectors, q_i = p_i, t = 1 -> each row's logits are
    (1, 0) so the loss is log(e + 1) - 1 = 0.3133.

        >>> q = torch.eye(2); round(info_nce(q, q, 1.0).item(), 4)
        0.3133
    """
    docs = positives if negatives is None else torch.cat([positives, negatives])
    logits = F.normalize(queries, dim=-1) @ F.normalize(docs, dim=-1).T / temperature
    return F.cross_entropy(logits, torch.arange(len(queries), device=queries.device))


def check_temperature(temperature: float) -> float:
    if not isinstance(temperature, int | float) or not 0 < float(temperature) <= 10:
        raise HybridIRError(f"temperature must be in (0, 10], got {temperature!r} (E5 uses 0.01-0.05)")
    return float(temperature)


def build_loss(
    model: nn.Module,
    temperature: float = 0.05,
    mini_batch_size: int | None = None,
    gather_across_devices: bool = False,
) -> nn.Module:
    """InfoNCE over in-batch (and hard) negatives for a sentence-transformers model.

    Args:
        model: the (possibly DDP-wrapped) SentenceTransformer; the loss calls it on feature dicts.
        temperature: ``t`` in :func:`info_nce`; sentence-transformers' ``scale`` is ``1 / t``.
        mini_batch_size: when set and smaller than the batch, use GradCache: embed in chunks of this
            many texts without a graph, back-propagate the loss to the embeddings, then replay each
            chunk with gradients. Same loss and gradients, memory of one chunk, ~20-40% slower.
        gather_across_devices: score every rank's queries against every rank's passages (DDP), so
            the in-batch negatives are the whole global batch.

    Inputs: ``loss([query_features, positive_features(, negative_features)], labels=None)``.

    Example:
        >>> loss = build_loss(model, temperature=0.05, mini_batch_size=8)  # doctest: +SKIP
        >>> loss([model.preprocess(["query: a"]), model.preprocess(["passage: a"])], None).backward()  # doctest: +SKIP
    """
    from sentence_transformers.sentence_transformer.losses import (
        CachedMultipleNegativesRankingLoss,
        MultipleNegativesRankingLoss,
    )

    scale = 1.0 / check_temperature(temperature)
    if mini_batch_size:
        if mini_batch_size < 1:
            raise HybridIRError(f"mini_batch_size must be >= 1, got {mini_batch_size}")
        return CachedMultipleNegativesRankingLoss(
            model, scale=scale, mini_batch_size=int(mini_batch_size), gather_across_devices=gather_across_devices
        )
    return MultipleNegativesRankingLoss(model, scale=scale, gather_across_devices=gather_across_devices)
