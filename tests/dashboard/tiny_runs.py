"""Run folders made by the real core code with tiny random models, for dashboard, browser and benchmark use.

A tiny model is a 2-layer, hidden-32 BERT with a WordLevel tokenizer over the data's own words, mean
pooling, normalisation and E5-style prompts, saved as a sentence-transformers folder. Different seeds
give different (near-random, but same-language-favouring: shared words) retrievers, so comparisons,
heatmaps and bias views have real numbers to show. Runs are produced by
:func:`hybrid_core.evaluation.run_eval.evaluate_model_as_run` / :func:`~hybrid_core.evaluation.run_eval.evaluate_run`;
"sweep" runs carry a training-style config (sampler, alpha, seed) around a tiny model so the
ablation grouping has something to find.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from hybrid_core.data.dataset import RetrievalDataset
from hybrid_core.runs import RunStore
from tests.tiny_model import save_tiny_st

_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)


def _words(texts: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for t in texts:
        for w in _TOKEN.findall(t.lower()):
            seen.setdefault(w, None)
    return list(seen)


def build_tiny_model(folder: Path, texts: list[str], seed: int = 0) -> Path:
    """Save a tiny sentence-transformers model whose vocabulary covers ``texts``; returns its folder."""
    return save_tiny_st(folder / "st", _words(texts), seed=seed)


def dataset_texts(ds: RetrievalDataset) -> list[str]:
    return [*ds.queries["text"], *ds.corpus["text"]]


def make_runs(
    runs_dir: Path,
    models_dir: Path,
    ds: RetrievalDataset,
    n_eval: int = 2,
    sweep_alphas: tuple[float, ...] = (0.0, 0.5, 1.0),
    corrupt: bool = True,
) -> dict[str, list[str]]:
    """Evaluate tiny models into ``runs_dir``: ``tiny-<i>`` evaluate runs, ``sweep-a<α>`` runs, one broken run.

    Returns ``{"eval": [...], "sweep": [...], "broken": [...]}``.
    """
    from hybrid_core.evaluation.run_eval import evaluate_model_as_run, evaluate_run

    store = RunStore(runs_dir)
    texts = dataset_texts(ds)
    quiet = {"log": lambda *a, **k: None}
    out: dict[str, list[str]] = {"eval": [], "sweep": [], "broken": []}
    for i in range(n_eval):
        path = build_tiny_model(models_dir / f"tiny-{i}", texts, seed=i)
        run, _ = evaluate_model_as_run(str(path), [ds], run_name=f"tiny-{i}", store=store, **quiet)
        out["eval"].append(run.name)
    for j, alpha in enumerate(sweep_alphas):
        path = build_tiny_model(models_dir / f"sweep-{j}", texts, seed=100 + j)
        sampler = {0.0: "x-y", 1.0: "x-x-mono"}.get(alpha, "hybrid")
        config = {
            "train_data": ds.name,
            "sampler": sampler,
            "alpha": alpha if sampler == "hybrid" else 0.0,
            "steps": 0,
            "batch_size": 16,
            "seed": 0,
            "base_model": "tiny",
        }
        name = f"sweep-a{alpha:g}"
        run = store.create(name, kind="train", model=str(path), config=config, overwrite=True)
        evaluate_run(run, [ds], **quiet)
        out["sweep"].append(name)
    if corrupt:
        bad = runs_dir / "broken-run"
        bad.mkdir(parents=True, exist_ok=True)
        (bad / "run.json").write_text('{"schema_version": 1, "name": "broken-run", ', encoding="utf-8")
        out["broken"].append(bad.name)
    return out


def write_json_lines(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def demo_dataset(n_questions: int = 30, seed: int = 0) -> RetrievalDataset:
    """A seeded slice of XQuAD-R (all 11 languages) when the data is on disk, else the built-in tiny set."""
    from hybrid_core.errors import DataError

    try:
        from hybrid_core.data import load_dataset

        full = load_dataset("xquad-r")
    except DataError:
        from hybrid_core.data.mock import tiny_parallel_dataset

        return tiny_parallel_dataset()
    return full.subset(max_questions=n_questions, seed=seed, name=f"xquad-r-q{n_questions}")


def make_slice_runs(runs_dir: Path, source_runs: Path, models_dir: Path, ds: RetrievalDataset) -> dict[str, str]:
    """A store where runs come from different slices of one set: ``{run: data set}``.

    ``tiny-0`` (copied, full set), ``slice-a`` (tiny-1's model on ``<set>-q4-s0``), ``slice-b`` (on ``<set>-q3-s1``),
    the situation of a base run on the full set next to quick runs on seeded samples.
    """
    import shutil

    from hybrid_core.data.specs import sample_name
    from hybrid_core.evaluation.run_eval import evaluate_model_as_run

    shutil.copytree(source_runs / "tiny-0", runs_dir / "tiny-0", dirs_exist_ok=True)
    store = RunStore(runs_dir)
    out = {"tiny-0": ds.name}
    for run, (n, seed) in (("slice-a", (4, 0)), ("slice-b", (3, 1))):
        name = sample_name(ds.name, n, seed)
        part = ds.subset(max_questions=n, seed=seed, name=name)
        evaluate_model_as_run(str(models_dir / "tiny-1" / "st"), [part], run_name=run, store=store, log=lambda *a: None)
        out[run] = name
    return out
