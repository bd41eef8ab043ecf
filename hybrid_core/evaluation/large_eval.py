"""Evaluate a model on a BEIR folder too large to hold in memory (a million passages) into a run folder.

The corpus is read twice, streamed line by line (:func:`hybrid_core.data.beir.iter_corpus`, the checks of the
in-memory reader): once to check it and find the rows of the judged passages (:func:`scan_beir`; nothing is
written before this pass succeeds), once to encode the shards still missing from the embedding store
(:func:`hybrid_core.evaluation.large.encode_corpus`; skipped when the store is complete). The store lives under
``<cache>/large/``, keyed by the model's fingerprint, the corpus file's sha256 and the precision, so a killed
run resumes at its first missing shard and another run of the same model reuses it.

``index="exact"`` (default) ranks every relevant passage in the whole pool by blocked counts
(:func:`hybrid_core.evaluation.large.pool_ranks`): the same pessimistic ranks, so the same numbers, as the
in-memory path (:func:`hybrid_core.evaluation.evaluate.score_all`), plus Recall@1000 and, when some query has
relevant passages in two or more languages, rank distance. ``ivf`` / ``hnsw`` search an approximate FAISS
index to depth ``k``: metrics whose cut-off is at most ``k`` (no pool-wide mAP, no rank distance), and with
``check_recall`` the share of the exact top 10 / 100 / k it returns. The result is stored by the one writer
(:func:`hybrid_core.evaluation.run_eval.save_result`) under the folder's name (``-int8`` / ``-ivf`` /
``-hnsw`` appended for non-default choices), so Compare reads it like any other.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from hybrid_core.errors import HybridIRError
from hybrid_core.evaluation.large import (
    LARGE_METRICS,
    SHARD_ROWS,
    ShardStore,
    build_index,
    encode_corpus,
    exact_search,
    index_search,
    metrics_of,
    pool_ranks,
    ranks_from_topk,
    recall_at,
)
from hybrid_core.evaluation.settings import MULTI, Setting
from hybrid_core.runs import Run, derive_name

INDEXES = ("exact", "ivf", "hnsw")


@dataclass
class LargeData:
    """A BEIR folder checked in one streamed pass: its judged queries and where their relevant passages are."""

    name: str
    corpus_path: Path
    files: dict[str, str]  # role -> sha256 of corpus.jsonl, queries.jsonl, qrels/<split>.tsv
    split: str
    language: str | None
    queries: list[tuple[str, str, str]]  # (id, text, language) of the queries with a positive judgement
    relevant: np.ndarray  # (Q, R) corpus row numbers, -1 = unused slot
    gains: np.ndarray  # (Q, R) relevance grades, 0 in unused slots
    relevant_language: np.ndarray  # (Q, R) language of each relevant passage ("" in unused slots)
    n_corpus: int
    corpus_languages: dict[str, int] = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        """The stored data key: the three files' content, the split and the language option."""
        import hashlib

        h = hashlib.sha256(repr((sorted(self.files.items()), self.split, self.language)).encode())
        return "beir-large:" + h.hexdigest()

    def summary(self) -> dict:
        """Counts as :meth:`hybrid_core.data.dataset.RetrievalDataset.summary` gives them."""
        per_language = Counter(lang for _, _, lang in self.queries)
        return {
            "name": self.name,
            "parallel": False,
            "languages": sorted(set(per_language) | set(self.corpus_languages)),
            "queries": len(self.queries),
            "questions": len(self.queries),
            "candidates": self.n_corpus,
            "queries_per_language": dict(sorted(per_language.items())),
            "candidates_per_language": dict(sorted(self.corpus_languages.items())),
        }


def scan_beir(folder: str | Path, split: str = "test", language: str | None = None, name: str | None = None):
    """Check a BEIR folder (the in-memory reader's checks) streaming its corpus; a :class:`LargeData`."""
    from hybrid_core.data.beir import beir_files, iter_corpus, judged_doc_ids, judgements, read_queries
    from hybrid_core.runs import file_sha256

    folder = Path(folder)
    corpus_path, queries_path, split_path = beir_files(folder, split, language)
    queries = read_queries(queries_path, language)
    wanted = judged_doc_ids(split_path)
    where: dict[str, tuple[int, str]] = {}
    languages: Counter[str] = Counter()
    n = 0
    for n, (did, _, lang) in enumerate(iter_corpus(corpus_path, language), 1):
        languages[lang] += 1
        if did in wanted:
            where[did] = (n - 1, lang)
    qrels = judgements(split_path, {q[0] for q in queries}, set(where))
    kept = [q for q in queries if q[0] in qrels]
    width = max(len(qrels[q[0]]) for q in kept)
    relevant = np.full((len(kept), width), -1, dtype=np.int64)
    gains = np.zeros((len(kept), width))
    rel_lang = np.full((len(kept), width), "", dtype=object)
    for i, (qid, _, _) in enumerate(kept):
        for j, (did, grade) in enumerate(qrels[qid].items()):
            relevant[i, j], rel_lang[i, j] = where[did]
            gains[i, j] = grade
    files = {"corpus": corpus_path, "queries": queries_path, "qrels": split_path}
    return LargeData(
        name=name or derive_name(folder.resolve().name),
        corpus_path=corpus_path,
        files={role: file_sha256(p) for role, p in files.items()},
        split=split,
        language=language,
        queries=kept,
        relevant=relevant,
        gains=gains,
        relevant_language=rel_lang,
        n_corpus=n,
        corpus_languages=dict(languages),
    )


def large_result_name(data: str, precision: str = "fp32", index: str = "exact") -> str:
    """``<data>`` for exact fp32, ``<data>-int8``, ``<data>-ivf``, ``<data>-int8-hnsw``: approximate results and
    other precisions never stand for exact fp32 ones."""
    from hybrid_core.evaluation.run_eval import result_name

    return result_name(data, precision) + ("" if index == "exact" else f"-{index}")


def corpus_store(model, fingerprint: str, data: LargeData, precision: str, shard_rows: int = SHARD_ROWS) -> ShardStore:
    """The embedding shards of ``data``'s corpus for this model and precision (created empty when new)."""
    from hybrid_core.models.loading import passage_prompt
    from hybrid_core.paths import cache_dir

    key = {
        "model_fingerprint": fingerprint,
        "corpus_sha256": data.files["corpus"],
        "precision": precision,
        "prompt": passage_prompt(model),
        "max_seq_length": model.max_seq_length,
    }
    folder = cache_dir() / "large" / f"{fingerprint[:16]}-{data.files['corpus'][:16]}-{precision}-r{shard_rows}"
    get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    return ShardStore.open(folder, dim=get_dim(), shard_rows=shard_rows, key=key)


def encode_store(model, store: ShardStore, data: LargeData, precision: str, log=print) -> int:
    """Encode the shards still missing (none when the store is complete); returns how many were encoded."""
    from hybrid_core.data.beir import iter_corpus
    from hybrid_core.models.encode import encode
    from hybrid_core.models.loading import passage_prompt

    total = math.ceil(data.n_corpus / store.shard_rows)
    done = len(store.shards())
    if done >= total:
        return 0
    prompt = passage_prompt(model)
    log(f"encoding {data.n_corpus} passages into {total} shards of {store.shard_rows} ({done} on disk): {store.folder}")

    def encode_texts(texts: list[str]) -> np.ndarray:
        return encode(model, texts, prompt, use_cache=False, precision=precision)

    def progress(shard: int, n: int) -> None:
        if shard >= done:
            log(f"  shard {shard + 1}/{total} written ({n} passages read)")

    encode_corpus(encode_texts, (text for _, text, _ in iter_corpus(data.corpus_path, data.language)), store, progress)
    return total - done


def _cutoff(metric: str) -> float:
    return float(metric.split("@", 1)[1]) if "@" in metric else math.inf


def score_large(
    q_emb: np.ndarray,
    store: ShardStore,
    data: LargeData,
    *,
    index: str = "exact",
    k: int = 1000,
    nlist: int | None = None,
    nprobe: int = 32,
    ef_search: int = 128,
    hnsw_m: int = 32,
    check_recall: bool = False,
) -> tuple[pd.DataFrame, dict]:
    """Per-query rows (the in-memory path's columns: one ``<language>->multi`` setting per query language) and
    what the index did (``{"kind", ..., "recall_vs_exact": {"@10": ...}}``)."""
    info: dict = {"kind": index}
    if index == "exact":
        rr = pool_ranks(q_emb, store, data.relevant, data.gains)
        langs = data.relevant_language
        with_bias = any(len(set(row[row != ""])) >= 2 for row in langs)
        values = metrics_of(rr, with_bias=with_bias)
        if with_bias:
            for lang in sorted(data.corpus_languages):
                best = np.where(langs == lang, rr.ranks, np.inf).min(axis=1)
                values[f"rank:{lang}"] = np.where(np.isinf(best), np.nan, best)
    elif index in ("ivf", "hnsw"):
        built = build_index(store, index, nlist=nlist, hnsw_m=hnsw_m)
        _, top = index_search(built, q_emb, k, nprobe=nprobe, ef_search=ef_search)
        values = metrics_of(ranks_from_topk(top, data.relevant, data.gains))
        values = {m: v for m, v in values.items() if m != "map" and _cutoff(m) <= k}  # mAP needs the whole pool
        info.update(k=k, **({"nlist": built.nlist, "nprobe": nprobe} if index == "ivf" else {"m": hnsw_m}))
        if index == "hnsw":
            info["ef_search"] = max(ef_search, k)
        if check_recall:
            _, exact = exact_search(q_emb, store, k)
            info["recall_vs_exact"] = {f"@{c}": recall_at(top, exact, c) for c in sorted({10, 100, k}) if c <= k}
    else:
        raise HybridIRError(f"unknown index {index!r}; use one of {list(INDEXES)}")
    q_lang = np.array([lang for _, _, lang in data.queries], dtype=object)
    q_id = np.array([qid for qid, _, _ in data.queries], dtype=object)
    n_relevant = (data.gains > 0).sum(axis=1)
    parts = []
    for lang in sorted(set(q_lang)):
        rows = np.flatnonzero(q_lang == lang)
        setting = Setting(lang, MULTI)
        part = {
            "setting": setting.name,
            "kind": setting.kind,
            "query_language": lang,
            "pool": MULTI,
            "query_id": q_id[rows],
            "question_id": q_id[rows],
            "n_relevant": n_relevant[rows],
            **{m: v[rows] for m, v in values.items()},
        }
        parts.append(pd.DataFrame(part))
    return pd.concat(parts, ignore_index=True), info


def evaluate_large(
    run: Run,
    data: LargeData,
    *,
    model=None,
    index: str = "exact",
    k: int = 1000,
    nlist: int | None = None,
    nprobe: int = 32,
    ef_search: int = 128,
    check_recall: bool = False,
    precision: str = "fp32",
    shard_rows: int = SHARD_ROWS,
    force: bool = False,
    log=print,
    kinds: tuple[str, ...] = ("multi",),
    progress: bool = False,
) -> dict:
    """Evaluate the run's model on ``data`` with bounded memory and store ``results/<name>/``; the summary.

    A result already on disk for the same data, precision and index options is reused (unless ``force``).
    """
    from hybrid_core.evaluation.evaluate import summarize
    from hybrid_core.evaluation.run_eval import at_precision, evaluating, load_run_model, precision_key, save_result
    from hybrid_core.models.encode import encode
    from hybrid_core.models.loading import model_fingerprint, query_prompt, resolve_model

    if index not in INDEXES:
        raise HybridIRError(f"unknown index {index!r}; use one of {list(INDEXES)}")
    if check_recall and index == "exact":
        raise HybridIRError("check_recall compares an approximate index with exact search; use index ivf or hnsw")
    if "multi" not in kinds:
        raise HybridIRError("a BEIR folder has only the multi setting (each query language against the whole corpus)")
    name = large_result_name(data.name, precision, index)
    options = "" if index == "exact" else f"+{index}:k{k}:nlist{nlist}:nprobe{nprobe}:ef{ef_search}:r{check_recall}"
    key = precision_key(data.fingerprint, precision) + options
    if not force and run.has_result(name, key, ("multi",)):
        log(f"{run.name}: results for {name} are on disk, not recomputed")
        return run.summary(name)
    info = run.info
    fingerprint = info.get("model_fingerprint") or model_fingerprint(resolve_model(info["model"]))
    with evaluating(run):
        if model is None:
            log(f"{run.name}: loading model {info['model']}")
            model, _ = load_run_model(run)
        model = at_precision(run, model, precision, fingerprint)
        t0 = time.perf_counter()
        store = corpus_store(model, fingerprint, data, precision, shard_rows)
        encoded = encode_store(model, store, data, precision, log)
        texts = [text for _, text, _ in data.queries]
        q_emb = encode(model, texts, query_prompt(model), model_fingerprint=fingerprint, precision=precision)
        t1 = time.perf_counter()
        log(f"{run.name}: scoring {len(texts)} queries against {data.n_corpus} passages ({index})")
        per_query, index_info = score_large(
            q_emb, store, data, index=index, k=k, nlist=nlist, nprobe=nprobe, ef_search=ef_search,
            check_recall=check_recall,
        )  # fmt: skip
        body = summarize(per_query, None, metrics=tuple(LARGE_METRICS))
        t2 = time.perf_counter()
        index_info.update(store=str(store.folder), shards=len(store.shards()), shards_encoded=encoded)
        return save_result(
            run,
            name,
            per_query,
            body,
            data_fingerprint=key,
            data=data.summary(),
            model_fingerprint=fingerprint,
            precision=precision,
            timings={"encode_seconds": t1 - t0, "score_seconds": t2 - t1},
            kinds=("multi",),
            index=index_info,
        )


def evaluate_large_run(run: Run, datasets: Sequence[LargeData], **kwargs) -> dict[str, dict]:
    """:func:`evaluate_large` on each data set (the ``evaluate`` of
    :func:`hybrid_core.evaluation.run_eval.evaluate_model_as_run`); ``{name: summary}``."""
    return {data.name: evaluate_large(run, data, **kwargs) for data in datasets}
