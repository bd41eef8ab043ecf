"""The four batch samplers of hybrid batch training (arXiv 2408.10536), over training pairs.

A training pair (:mod:`hybrid_core.training.pairs`) is (question in language X, its answer sentence in
language Y) for a question id present in both X and Y. The samplers differ only in which pairs may share a batch:

- ``x-x``      every pair monolingual (X = Y), languages mixed within the batch;
- ``x-x-mono`` one language for the whole batch, drawn uniformly at random per batch;
- ``x-y``      query and passage languages differ (X != Y), language pairs mixed;
- ``hybrid``   an ``x-x-mono`` batch with probability ``alpha``, else an ``x-y`` batch.

Reproducibility and resuming: the batch *mode* (and the language of a mono batch) at step ``t`` is
a pure function of ``(seed, t)``, so every DDP rank draws the same mode at the same step without
communicating. Each pool of pairs (``x-x``, ``x-y``, one ``mono:<lang>`` per language) is a stream
of permutations seeded with ``(seed, pool, epoch)`` (like sentence-transformers' ``seed + epoch``);
its position is a few integers (:meth:`HybridBatchSampler.state_dict`), saved in each checkpoint.
Every rank builds the same *global* batch and keeps its own contiguous slice, so ranks see
disjoint pairs and together exactly the batch a single process would see.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from hybrid_core.errors import HybridIRError
from hybrid_core.training.pairs import PairSet, build_pairs

__all__ = ["HybridBatchSampler", "PairSet", "SamplerError", "SamplerName", "build_pairs", "parse_sampler"]


class SamplerName(StrEnum):
    """Batch sampler names, as accepted by the config and the CLI."""

    X_X = "x-x"
    X_X_MONO = "x-x-mono"
    X_Y = "x-y"
    HYBRID = "hybrid"


class SamplerError(HybridIRError):
    """A sampler that cannot be built from the given name, alpha, batch size or pairs."""


def parse_sampler(name: str | SamplerName) -> SamplerName:
    """``"hybrid"`` -> ``SamplerName.HYBRID``; a specific error for anything else."""
    try:
        return SamplerName(str(getattr(name, "value", name)).strip().lower())
    except ValueError:
        raise SamplerError(
            f"unknown sampler {name!r}; choose one of {', '.join(s.value for s in SamplerName)}"
        ) from None


def check_alpha(alpha: float) -> float:
    """``alpha`` is a probability: a specific error outside [0, 1] (or NaN)."""
    if not isinstance(alpha, int | float) or not 0.0 <= float(alpha) <= 1.0:
        raise SamplerError(f"alpha must be a probability in [0, 1], got {alpha!r}")
    return float(alpha)


#: hybrid(α) draws an X-X-mono batch with probability α, else X-Y: so X-Y is α = 0 and X-X-mono is α = 1.
EFFECTIVE_ALPHA = {"x-y": 0.0, "x-x-mono": 1.0}


def effective_alpha(sampler: str | None, alpha: float | None) -> float | None:
    """The α a sampler amounts to in the hybrid family (hybrid: its α; X-Y 0; X-X-mono 1; X-X or none: None).

    The one rule for showing α: Home, the ablation grouping and tables all use it, so the paper's three
    arms read as one α sweep everywhere.
    """
    if sampler == "hybrid":
        return None if alpha is None or (isinstance(alpha, float) and alpha != alpha) else float(alpha)
    return EFFECTIVE_ALPHA.get(sampler)


@dataclass(frozen=True)
class Batch:
    """One optimizer step's pairs. ``pairs``/``hard_negatives`` are this rank's share.

    ``mode`` is ``"x-x"``, ``"x-x-mono"`` or ``"x-y"``; ``language`` is set for ``x-x-mono``.
    ``global_pairs`` is the whole batch across ranks (for logging and checks).
    """

    step: int
    mode: str
    language: str | None
    pairs: np.ndarray
    hard_negatives: np.ndarray | None
    global_pairs: np.ndarray


class _Pool:
    """A stream over one pool of pair indices: seeded permutation per epoch, a cursor, deferrals."""

    def __init__(self, name: str, indices: np.ndarray, seed: int) -> None:
        self.name, self.indices, self.seed = name, indices, seed
        self.key = zlib.crc32(name.encode("utf-8"))
        self.epoch, self.cursor, self.deferred = 0, 0, []
        self._perm: np.ndarray | None = None

    @property
    def perm(self) -> np.ndarray:
        if self._perm is None:
            self._perm = np.random.default_rng([self.seed, self.key, self.epoch]).permutation(self.indices)
        return self._perm

    def next_epoch(self) -> None:
        self.epoch, self.cursor, self.deferred, self._perm = self.epoch + 1, 0, [], None

    def state(self) -> dict:
        return {"epoch": self.epoch, "cursor": self.cursor, "deferred": [int(i) for i in self.deferred]}

    def load(self, state: dict) -> None:
        self.epoch, self.cursor = int(state["epoch"]), int(state["cursor"])
        self.deferred, self._perm = [int(i) for i in state["deferred"]], None


class HybridBatchSampler:
    """Batches of training pairs for the x-x, x-x-mono, x-y and hybrid(alpha) strategies.

    Source: Hybrid batch training, arXiv 2408.10536 (X-X, X-X-mono, X-Y and hybrid batches).

    Guarantees:
        - no batch holds two pairs of one question id (nor of two questions sharing an answer
          sentence text): a translation of the positive would otherwise be scored as a negative;
        - within a pool's epoch every pair is used at most once; a pair that would duplicate a
          question already in the batch is *deferred* to the next batch of that pool, not dropped;
        - what is dropped: at the end of a pool's epoch, the pairs left over (fewer than needed, or
          deferred) are discarded and a fresh seeded permutation starts, like ``drop_last``;
        - what repeats: every pool cycles through epochs, so a small pool (one language's mono
          pairs) repeats sooner than a large one; ``x-x-mono`` languages are drawn uniformly,
          not in proportion to their pair counts, so small languages are up-sampled;
        - hard negatives (optional): for each pair, one other sentence of the positive's paragraph
          (same language Y) that is relevant to no question in the global batch; when the
          paragraph has none, a random sentence of language Y with the same exclusion.

    Args:
        pairs: from :func:`build_pairs`.
        sampler: ``"x-x"``, ``"x-x-mono"``, ``"x-y"`` or ``"hybrid"``.
        batch_size: pairs per step across all ranks (the in-batch negatives when embeddings are
            gathered across ranks); must be divisible by ``world_size``.
        alpha: probability of an x-x-mono batch (``hybrid`` only).
        seed: seeds the modes, the permutations and the hard negatives.
        rank, world_size: this process's share of each batch (DDP).
        hard_negatives: also draw one hard negative per pair.

    Example:
        >>> sampler = HybridBatchSampler(build_pairs(ds), "hybrid", batch_size=16, alpha=0.5)  # doctest: +SKIP
        >>> batch = sampler.next_batch(); batch.mode, batch.language  # doctest: +SKIP
        ('x-x-mono', 'de')
    """

    def __init__(
        self,
        pairs: PairSet,
        sampler: str | SamplerName,
        batch_size: int,
        alpha: float = 0.5,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        hard_negatives: bool = False,
    ) -> None:
        self.name = parse_sampler(sampler)
        self.alpha = check_alpha(alpha)
        if not isinstance(batch_size, int) or batch_size < 2:
            raise SamplerError(f"batch_size must be an integer >= 2 (in-batch negatives), got {batch_size!r}")
        if world_size < 1 or not 0 <= rank < world_size:
            raise SamplerError(f"rank {rank} is not in [0, world_size={world_size})")
        if batch_size % world_size:
            raise SamplerError(f"batch_size {batch_size} is not divisible by the {world_size} processes")
        self.pairset, self.batch_size, self.seed = pairs, batch_size, int(seed)
        self.rank, self.world_size, self.hard_negatives = rank, world_size, hard_negatives
        self.step = 0
        df = pairs.pairs
        self._group = df["group"].to_numpy()
        self._paragraph = df["paragraph"].to_numpy()
        self._passage_language = df["passage_language"].to_numpy(dtype=object)
        mono = (df["query_language"] == df["passage_language"]).to_numpy()
        self.languages = sorted(set(df.loc[mono, "query_language"]))
        pools = {"x-x": np.flatnonzero(mono), "x-y": np.flatnonzero(~mono)}
        for lang in self.languages:
            pools[f"mono:{lang}"] = np.flatnonzero(mono & (df["query_language"] == lang).to_numpy())
        self._pools = {name: _Pool(name, idx, self.seed) for name, idx in pools.items()}
        self._check_pools()

    # --- validation -----------------------------------------------------------------------------
    def _needed_pools(self) -> list[str]:
        mono = [f"mono:{lang}" for lang in self.languages]
        return {
            SamplerName.X_X: ["x-x"],
            SamplerName.X_X_MONO: mono,
            SamplerName.X_Y: ["x-y"],
            SamplerName.HYBRID: (mono if self.alpha > 0 else []) + (["x-y"] if self.alpha < 1 else []),
        }[self.name]

    def _check_pools(self) -> None:
        needs_mono = self.name == SamplerName.X_X_MONO or (self.name == SamplerName.HYBRID and self.alpha > 0)
        all_langs = self.pairset.languages
        if needs_mono:
            no_mono = [lang for lang in all_langs if lang not in self.languages]
            if no_mono or not self.languages:
                raise SamplerError(
                    f"{self.pairset.name}: language(s) {no_mono or all_langs} have no monolingual pairs "
                    f"(question and answer both in that language), which {self.name.value} batches need"
                )
        for name in self._needed_pools():
            idx = self._pools[name].indices
            n_groups = len(np.unique(self._group[idx]))
            what = {"x-x": "monolingual pairs", "x-y": "cross-language pairs"}.get(
                name, f"monolingual {name[5:]} pairs"
            )
            if len(idx) == 0:
                raise SamplerError(f"{self.pairset.name}: no {what}, which the {self.name.value} sampler needs")
            if n_groups < self.batch_size:
                raise SamplerError(
                    f"{self.pairset.name}: only {n_groups} distinct question ids among the {what} (ids whose "
                    f"answers share a sentence count once), fewer than batch_size {self.batch_size}; a batch never "
                    "repeats a question, so lower the batch size or add training data"
                )

    # --- the stream ------------------------------------------------------------------------------
    def mode_at(self, step: int) -> tuple[str, str | None]:
        """The batch mode (and mono language) at ``step``: a pure function of ``(seed, step)``."""
        rng = np.random.default_rng([self.seed, int(step), 0x6D6F6465])  # "mode"
        u, k = rng.random(), int(rng.integers(max(1, len(self.languages))))
        if self.name == SamplerName.X_X:
            return "x-x", None
        if self.name == SamplerName.X_Y or (self.name == SamplerName.HYBRID and u >= self.alpha):
            return "x-y", None
        return "x-x-mono", self.languages[k]

    def _take(self, pool: _Pool, n: int) -> np.ndarray:
        """``n`` pairs of distinct groups from ``pool``, deferred pairs first, then the permutation."""
        out: list[int] = []
        used: set[int] = set()
        keep: list[int] = []
        for i in pool.deferred:
            if len(out) < n and self._group[i] not in used:
                out.append(i)
                used.add(self._group[i])
            else:
                keep.append(i)
        pool.deferred = keep
        epochs = 0
        while len(out) < n:
            if pool.cursor >= len(pool.perm):
                pool.next_epoch()
                epochs += 1
                if epochs > 2:  # unreachable after _check_pools; guards against an endless loop
                    raise SamplerError(f"pool {pool.name} cannot fill a batch of {n} distinct questions")
            i = int(pool.perm[pool.cursor])
            pool.cursor += 1
            if self._group[i] in used:
                pool.deferred.append(i)
            else:
                out.append(i)
                used.add(self._group[i])
        return np.asarray(out, dtype=np.int64)

    def _hard_negatives(self, step: int, batch: np.ndarray) -> np.ndarray:
        """One corpus row per pair: same paragraph and language, relevant to no question in the batch."""
        ps = self.pairset
        banned = frozenset().union(*(ps.group_text_ids[g] for g in self._group[batch]))
        rng = np.random.default_rng([self.seed, int(step), 0x68617264])  # "hard"
        out = np.empty(len(batch), dtype=np.int64)
        for j, i in enumerate(batch):
            members = ps.paragraph_members[self._paragraph[i]]
            ok = members[[ps.corpus_text_id[m] not in banned for m in members]]
            if len(ok) == 0:  # one-sentence paragraph: any other sentence of language Y
                ok = np.flatnonzero(ps.corpus_language == self._passage_language[i])
                ok = ok[[ps.corpus_text_id[m] not in banned for m in ok]]
            out[j] = ok[rng.integers(len(ok))] if len(ok) else ps.paragraph_members[self._paragraph[i]][0]
        return out

    def next_batch(self) -> Batch:
        """The next batch (this rank's share), advancing the stream by one step."""
        step = self.step
        mode, language = self.mode_at(step)
        pool = self._pools["x-x" if mode == "x-x" else "x-y" if mode == "x-y" else f"mono:{language}"]
        batch = self._take(pool, self.batch_size)
        negatives = self._hard_negatives(step, batch) if self.hard_negatives else None
        self.step += 1
        per_rank = self.batch_size // self.world_size
        local = slice(self.rank * per_rank, (self.rank + 1) * per_rank)
        return Batch(
            step=step,
            mode=mode,
            language=language,
            pairs=batch[local],
            hard_negatives=None if negatives is None else negatives[local],
            global_pairs=batch,
        )

    def __iter__(self) -> Iterator[Batch]:
        while True:
            yield self.next_batch()

    # --- resuming ------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """JSON-able position of the stream: step, each pool's epoch/cursor/deferrals, and identity."""
        return {
            "step": self.step,
            "sampler": self.name.value,
            "alpha": self.alpha,
            "seed": self.seed,
            "batch_size": self.batch_size,
            "pairs_fingerprint": self.pairset.fingerprint(),
            "pools": {name: pool.state() for name, pool in self._pools.items()},
        }

    def load_state_dict(self, state: dict) -> None:
        """Continue exactly where :meth:`state_dict` left off; refuses another sampler or other pairs."""
        mine = self.state_dict()
        keys = ("sampler", "alpha", "seed", "batch_size", "pairs_fingerprint")
        changed = [k for k in keys if state.get(k) != mine[k]]
        if changed or set(state.get("pools", {})) != set(self._pools):
            raise SamplerError(
                f"saved sampler state does not match this sampler (differs in: {', '.join(changed) or 'pools'}); "
                "the training data or sampler settings changed since the checkpoint"
            )
        self.step = int(state["step"])
        for name, pool_state in state["pools"].items():
            self._pools[name].load(pool_state)
