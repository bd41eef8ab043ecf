"""Noisy evaluation: a data set whose queries are perturbed, candidates and judgements untouched."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from hybrid_core.augment.noise import apply_noise, noise_label, parse_noise_spec
from hybrid_core.data.dataset import RetrievalDataset
from hybrid_core.io_utils import atomic_path

#: File beside a result's summary.json holding the query texts that were scored.
QUERIES_FILE = "queries.parquet"


def noisy_name(name: str, spec: str, seed: int) -> str:
    """``noisy_name("xquad-r", "typos:0.1", 0)`` -> ``"xquad-r-noise-typos0.1-seed0"``."""
    return f"{name}-noise-{noise_label(spec)}-seed{seed}"


def perturb_queries(dataset: RetrievalDataset, spec: str, seed: int = 0) -> RetrievalDataset:
    """A copy of ``dataset`` with every query text perturbed by the noise ``spec``, named so.

    The query ids, languages and question ids stay, so results pair with the clean run's per query.
    Noise depends on (text, seed, kind) only: the same query is perturbed the same way in any slice.
    """
    items = parse_noise_spec(spec)
    queries = dataset.queries.copy()
    queries["text"] = [apply_noise(t, items, seed) for t in queries["text"]]
    return RetrievalDataset(
        name=noisy_name(dataset.name, spec, seed),
        queries=queries,
        corpus=dataset.corpus,
        qrels=dataset.qrels,
        parallel=dataset.parallel,
    )


def query_texts_table(clean: RetrievalDataset, noisy: RetrievalDataset) -> pd.DataFrame:
    """One row per query: ``query_id``, ``language``, ``clean_text``, ``text`` (what was scored), ``changed``."""
    table = pd.DataFrame(
        {
            "query_id": noisy.queries["id"].to_numpy(),
            "language": noisy.queries["language"].to_numpy(),
            "clean_text": clean.queries.set_index("id").loc[noisy.queries["id"], "text"].to_numpy(),
            "text": noisy.queries["text"].to_numpy(),
        }
    )
    table["changed"] = table["clean_text"] != table["text"]
    return table


def save_run_query_texts(run, pairs, overwrite: bool = True) -> list[Path]:
    """:func:`save_query_texts` into ``run``'s result folder of each ``(clean, noisy)`` pair it has a result for
    (``overwrite=False``: keep a file already there)."""
    out = []
    for clean, noisy in pairs:
        folder = run.result_dir(noisy.name)
        if (folder / "summary.json").is_file() and (overwrite or not (folder / QUERIES_FILE).is_file()):
            out.append(save_query_texts(folder, clean, noisy))
    return out


def save_query_texts(result_dir: Path, clean: RetrievalDataset, noisy: RetrievalDataset) -> Path:
    """Write :func:`query_texts_table` to ``<result_dir>/queries.parquet`` (atomically)."""
    target = Path(result_dir) / QUERIES_FILE
    with atomic_path(target) as tmp:
        query_texts_table(clean, noisy).to_parquet(tmp, index=False)
    return target
