"""Bilingual dictionaries induced from parallel questions with the encoder's own contextual embeddings.

Word alignment as in SimAlign (Jalili Sabet et al. 2020, "SimAlign: High Quality Word Alignments
Without Parallel Training Data Using Static and Contextualized Embeddings", Findings of EMNLP,
https://arxiv.org/abs/2004.08728): embed both sentences with a multilingual encoder, take the cosine
similarity of every source/target word pair, and keep

- ``argmax``: mutual best matches (row-wise and column-wise argmax agree);
- ``itermax``: argmax, then further argmax rounds over the words still unaligned on at least one
  side, with similarities of words aligned on one side scaled by ``alpha`` (SimAlign: 0.9, 2 rounds).

Word vectors are the mean of their subword vectors at hidden layer ``layer`` (SimAlign aligns
subwords and maps them to words; averaging first is a simplification). The default layer is two
thirds up the stack (8 of 12), where SimAlign found mBERT alignments best. Pairs counted over many
translated questions (same ``question_id`` in two languages) become a dictionary: a translation
is kept when seen at least ``min_count`` times; identical strings (names, numbers) are dropped as
they change nothing when code-switched.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import numpy as np
import pandas as pd

from hybrid_core.augment import AugmentError
from hybrid_core.augment.codeswitch import BilingualDictionary
from hybrid_core.data.dataset import RetrievalDataset

METHODS = ("argmax", "itermax")
_TOKEN = re.compile(r"\w+|[^\w\s]")


def words_of(text: str) -> list[str]:
    """Words and single punctuation marks: ``"Who's there?"`` -> ``["Who", "'", "s", "there", "?"]``."""
    return _TOKEN.findall(text)


def argmax_alignment(sim: np.ndarray) -> np.ndarray:
    """Boolean (m, n) matrix of mutual best matches.

    >>> argmax_alignment(np.array([[0.9, 0.1], [0.8, 0.2]])).astype(int).tolist()
    [[1, 0], [0, 0]]
    """
    m, n = sim.shape
    fwd = np.zeros((m, n), dtype=bool)
    fwd[np.arange(m), sim.argmax(axis=1)] = True
    bwd = np.zeros((m, n), dtype=bool)
    bwd[sim.argmax(axis=0), np.arange(n)] = True
    return fwd & bwd


def itermax_alignment(sim: np.ndarray, max_rounds: int = 2, alpha: float = 0.9) -> np.ndarray:
    """SimAlign's itermax: argmax, then rounds over words unaligned on at least one side.

    >>> itermax_alignment(np.array([[0.9, 0.1], [0.8, 0.2]])).astype(int).tolist()
    [[1, 0], [1, 0]]
    """
    aligned = argmax_alignment(sim)
    for _ in range(max_rounds - 1):
        row_done = aligned.any(axis=1)
        col_done = aligned.any(axis=0)
        if row_done.all() and col_done.all():
            break
        free_row, free_col = ~row_done[:, None], ~col_done[None, :]
        # pairs with both words already aligned are excluded; one side aligned: similarity scaled by alpha
        weight = np.where(free_row & free_col, 1.0, alpha) * (free_row | free_col)
        new = argmax_alignment(sim * weight) & (free_row | free_col) & (weight > 0)
        if not (new & ~aligned).any():
            break
        aligned |= new
    return aligned


def _word_vectors(model, texts: list[list[str]], layer: int, batch_size: int = 32) -> list[np.ndarray]:
    """Per text, a (words, dim) array: mean subword vector of each word at hidden layer ``layer``."""
    import torch

    module = model[0]
    tok, net = module.tokenizer, module.auto_model
    out: list[np.ndarray] = []
    net.eval()
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            chunk = texts[start : start + batch_size]
            enc = tok(
                chunk, is_split_into_words=True, padding=True, truncation=True, max_length=256, return_tensors="pt"
            )
            word_ids = [enc.word_ids(i) for i in range(len(chunk))]
            inputs = {k: v.to(net.device) for k, v in enc.items()}
            hidden = net(**inputs, output_hidden_states=True).hidden_states[layer].float().cpu().numpy()
            for i, words in enumerate(chunk):
                vecs = np.zeros((len(words), hidden.shape[-1]), dtype=np.float64)
                counts = np.zeros(len(words))
                for pos, w in enumerate(word_ids[i]):
                    if w is not None:
                        vecs[w] += hidden[i, pos]
                        counts[w] += 1
                ok = counts > 0
                vecs[ok] /= counts[ok, None]
                norms = np.linalg.norm(vecs, axis=1, keepdims=True)
                out.append(np.divide(vecs, norms, out=np.zeros_like(vecs), where=norms > 0))
    return out


def default_layer(model) -> int:
    """Two thirds up the encoder stack (8 of 12 layers), as SimAlign's best mBERT layer."""
    n = model[0].auto_model.config.num_hidden_layers
    return max(1, round(n * 2 / 3))


def align_pairs(
    model, pairs: Sequence[tuple[str, str]], method: str = "itermax", layer: int | None = None
) -> list[list[tuple[str, str]]]:
    """Word alignments of each (source text, target text) pair as lists of (source word, target word)."""
    if method not in METHODS:
        raise AugmentError(f"unknown alignment method {method!r}; use one of {', '.join(METHODS)}")
    layer = default_layer(model) if layer is None else layer
    src_words = [words_of(s) for s, _ in pairs]
    tgt_words = [words_of(t) for _, t in pairs]
    keep = [i for i in range(len(pairs)) if src_words[i] and tgt_words[i]]
    src_vecs = _word_vectors(model, [src_words[i] for i in keep], layer)
    tgt_vecs = _word_vectors(model, [tgt_words[i] for i in keep], layer)
    align = argmax_alignment if method == "argmax" else itermax_alignment
    out: list[list[tuple[str, str]]] = [[] for _ in pairs]
    for k, i in enumerate(keep):
        sim = src_vecs[k] @ tgt_vecs[k].T
        a = align(sim)
        out[i] = [(src_words[i][r], tgt_words[i][c]) for r, c in zip(*np.nonzero(a), strict=True)]
    return out


def parallel_questions(dataset: RetrievalDataset, src: str, tgt: str, max_pairs: int | None = None, seed: int = 0):
    """(question id, source text, target text) of questions present in both languages, seeded sample."""
    if not dataset.parallel:
        raise AugmentError(f"{dataset.name}: not a parallel set (no question ids shared across languages)")
    q = dataset.queries
    for lang in (src, tgt):
        if lang not in set(q["language"]):
            raise AugmentError(f"{dataset.name}: no queries in {lang!r}; languages: {dataset.query_languages}")
    a = q[q["language"] == src].set_index("question_id")["text"]
    b = q[q["language"] == tgt].set_index("question_id")["text"]
    both = sorted(set(a.index) & set(b.index))
    if max_pairs is not None and max_pairs < len(both):
        rng = np.random.default_rng(seed)
        both = sorted(rng.choice(both, size=max_pairs, replace=False).tolist())
    return [(qid, a[qid], b[qid]) for qid in both]


def _is_word(w: str) -> bool:
    return any(c.isalpha() for c in w)


def induce_dictionary(
    model,
    dataset: RetrievalDataset,
    src: str,
    tgt: str,
    *,
    method: str = "itermax",
    layer: int | None = None,
    min_count: int = 2,
    max_pairs: int | None = None,
    seed: int = 0,
) -> tuple[BilingualDictionary, pd.DataFrame]:
    """A ``src -> tgt`` dictionary from aligned parallel questions, and its counts table.

    The table has one row per kept (``src``, ``tgt``) word pair with ``count`` (aligned occurrences)
    and ``src_count`` (occurrences of the source word in the aligned questions), sorted by count.
    """
    if min_count < 1:
        raise AugmentError(f"min_count must be >= 1, got {min_count}")
    triples = parallel_questions(dataset, src, tgt, max_pairs, seed)
    aligned = align_pairs(model, [(s, t) for _, s, t in triples], method=method, layer=layer)
    counts: Counter[tuple[str, str]] = Counter()
    src_counts: Counter[str] = Counter()
    for (_, s, _), links in zip(triples, aligned, strict=True):
        src_counts.update(w.lower() for w in words_of(s))
        pairs = ((a.lower(), b.lower()) for a, b in links if _is_word(a) and _is_word(b))
        counts.update((a, b) for a, b in pairs if a != b)
    rows = [(a, b, c, src_counts[a]) for (a, b), c in counts.items() if c >= min_count]
    table = pd.DataFrame(rows, columns=["src", "tgt", "count", "src_count"])
    table = table.sort_values(["count", "src", "tgt"], ascending=[False, True, True], ignore_index=True)
    entries: dict[str, list[str]] = {}
    for a, b in zip(table["src"], table["tgt"], strict=True):
        entries.setdefault(a, []).append(b)
    source = f"induced from {len(triples)} {dataset.name} question pairs ({method}, min_count={min_count})"
    return BilingualDictionary(src, tgt, entries, source=source), table
