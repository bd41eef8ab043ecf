"""Training pairs and the four batch samplers of hybrid batch training (arXiv 2408.10536).

A training pair is (question in language X, its answer sentence in language Y) for a question id
present in both X and Y. The samplers differ only in which pairs may share a batch:

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

import hashlib
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import pandas as pd

from hybrid_core.data.dataset import RetrievalDataset
from hybrid_core.data.union_find import components
from hybrid_core.errors import DataError, HybridIRError


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
class PairSet:
    """All (question in X, answer sentence in Y) pairs of a data set, plus what hard negatives need.

    Attributes:
        pairs: one row per pair; columns ``question_id``, ``query_id``, ``query_language``,
            ``passage_language``, ``query_text``, ``passage_id``, ``passage_text``, ``paragraph``
            (index into ``paragraph_members``), ``group`` (questions sharing an answer text share a
            group; a batch never holds a group twice).
        corpus_text: every candidate's text; ``paragraph_members[k]`` are the candidate rows of
            paragraph ``k`` (one language), the natural hard negatives.
        corpus_text_id: candidate row -> id of its text (equal texts share an id).
        group_text_ids: group -> text ids relevant to any question of the group (never negatives).
        corpus_language: candidate row -> language, for hard-negative fallbacks.
    """

    name: str
    pairs: pd.DataFrame
    corpus_text: np.ndarray
    corpus_text_id: np.ndarray
    corpus_language: np.ndarray
    paragraph_members: list[np.ndarray]
    group_text_ids: list[frozenset[int]]
    _fingerprint: list = field(default_factory=list, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.pairs)

    @property
    def languages(self) -> list[str]:
        return sorted(set(self.pairs["query_language"]) | set(self.pairs["passage_language"]))

    def hard_negative_candidates(self, i: int) -> np.ndarray:
        """Corpus rows of pair ``i``'s hard negatives: the other sentences of its positive's paragraph
        (so in language Y) that hold no answer of the pair's question group. The sampler further drops
        sentences relevant to any other question in the batch."""
        row = self.pairs.iloc[i]
        members = self.paragraph_members[row["paragraph"]]
        banned = self.group_text_ids[row["group"]]
        return members[[self.corpus_text_id[m] not in banned for m in members]]

    def fingerprint(self) -> str:
        """sha256 of the pairs (ids, texts and order): a resumed run must see the very same pairs."""
        if not self._fingerprint:
            h = hashlib.sha256()
            for col in ("query_id", "query_text", "passage_id", "passage_text"):
                h.update("\x1f".join(self.pairs[col].tolist()).encode("utf-8"))
            self._fingerprint.append(h.hexdigest())
        return self._fingerprint[0]


def _groups(question_ids: Sequence[str], texts_of: dict[str, set[int]]) -> dict[str, int]:
    """Questions whose relevant sentences share a text end up in one group (numbered by smallest id)."""
    first_owner: dict[int, str] = {}
    links = [(q, first_owner.setdefault(t, q)) for q in question_ids for t in texts_of.get(q, ())]
    root = components(question_ids, links)
    index = {r: i for i, r in enumerate(sorted(set(root.values())))}
    return {q: index[root[q]] for q in question_ids}


def build_pairs(dataset: RetrievalDataset, languages: Sequence[str] | None = None) -> PairSet:
    """Every (question in X, answer sentence in Y) pair of ``dataset``.

    A question's relevant sentences are the union of the qrels of all its translations (queries
    sharing ``question_id``), so LAReQA-style qrels (all languages) and per-language qrels both
    work. With several relevant sentences in one language Y, the one with the smallest id is the
    positive (the others are never used as negatives). ``languages`` keeps pairs whose X and Y
    are both in it; a listed language without any pair is an error, not a silent no-op.

    Example (hand-checkable): 2 questions in en and de, each answered in both -> 2 x 2 x 2 = 8
    pairs: (en,en), (en,de), (de,en), (de,de) per question.
    """
    q = dataset.queries[["id", "text", "language", "question_id"]].astype({"question_id": str})
    corpus = dataset.corpus.reset_index(drop=True)
    row_of = pd.Series(np.arange(len(corpus)), index=corpus["id"].astype(str))
    text_ids, _ = pd.factorize(corpus["text"])
    qid_of = dict(zip(q["id"].astype(str), q["question_id"], strict=True))
    rel = [
        (qid_of[qi], row_of[c])
        for qi, cands in dataset.qrels.items()
        if qi in qid_of
        for c, grade in cands.items()
        if grade > 0 and c in row_of.index
    ]
    if not rel:
        raise DataError(f"{dataset.name}: no query has a relevant candidate in the corpus; nothing to train on")
    rel_df = pd.DataFrame(rel, columns=["question_id", "row"]).drop_duplicates()
    rel_df["passage_language"] = corpus["language"].to_numpy()[rel_df["row"].to_numpy()]
    rel_df["passage_id"] = corpus["id"].astype(str).to_numpy()[rel_df["row"].to_numpy()]
    texts_of: dict[str, set[int]] = {}
    for qid, row in zip(rel_df["question_id"], rel_df["row"], strict=True):
        texts_of.setdefault(qid, set()).add(int(text_ids[row]))
    positives = rel_df.sort_values(["question_id", "passage_language", "passage_id"]).drop_duplicates(
        ["question_id", "passage_language"]
    )
    pairs = q.rename(columns={"id": "query_id", "text": "query_text", "language": "query_language"}).merge(
        positives, on="question_id", how="inner"
    )
    if languages is not None:
        wanted = list(dict.fromkeys(languages))
        pairs = pairs[pairs["query_language"].isin(wanted) & pairs["passage_language"].isin(wanted)]
        present = set(pairs["query_language"]) | set(pairs["passage_language"])
        missing = [lang for lang in wanted if lang not in present]
        if missing:
            raise DataError(
                f"{dataset.name}: language(s) {missing} have no training pairs (no question with an answer "
                f"in that language); languages with pairs: {sorted(present) or 'none'}"
            )
    if pairs.empty:
        raise DataError(f"{dataset.name}: no training pairs")
    pairs = pairs.sort_values(["question_id", "query_language", "passage_language"], kind="stable")
    pairs = pairs.reset_index(drop=True)
    # Paragraph keys are per language: a hard negative must be in the passage's language.
    para_key = corpus["language"].astype(str) + "\x1f" + corpus["paragraph"].astype(str)
    para_codes, _ = pd.factorize(para_key)
    members = [np.flatnonzero(para_codes == k) for k in range(para_codes.max() + 1)]
    group_of = _groups(sorted(set(pairs["question_id"])), texts_of)
    n_groups = max(group_of.values()) + 1
    group_texts: list[set[int]] = [set() for _ in range(n_groups)]
    for qid, g in group_of.items():
        group_texts[g] |= texts_of.get(qid, set())
    pairs["paragraph"] = para_codes[pairs["row"].to_numpy()]
    pairs["group"] = pairs["question_id"].map(group_of).astype(np.int64)
    pairs["passage_text"] = corpus["text"].to_numpy()[pairs["row"].to_numpy()]
    pairs = pairs.drop(columns=["row"])
    return PairSet(
        name=dataset.name,
        pairs=pairs[
            [
                "question_id",
                "query_id",
                "query_language",
                "passage_language",
                "query_text",
                "passage_id",
                "passage_text",
                "paragraph",
                "group",
            ]
        ],
        corpus_text=corpus["text"].to_numpy(dtype=object),
        corpus_text_id=np.asarray(text_ids, dtype=np.int64),
        corpus_language=corpus["language"].astype(str).to_numpy(dtype=object),
        paragraph_members=members,
        group_text_ids=[frozenset(t) for t in group_texts],
    )


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
