"""A run store with clean and noisy results, made through the real evaluation path (tiny models, tiny data).

``tiny-0`` / ``tiny-1``: evaluation runs of two tiny models on the clean set and on typo levels 0.2 and 0.5;
``aug-none`` / ``aug-typos`` / ``aug-typos-s1``: training-style runs that differ only in their ``augment``
option (``aug-typos-s1`` is a second seed of ``aug-typos``), evaluated the same way. Noisy sets come from
:func:`hybrid_core.augment.perturb.perturb_queries` and are scored by
:func:`hybrid_core.evaluation.run_eval.evaluate_run`, as ``evaluate --noise`` does.
"""

from __future__ import annotations

from pathlib import Path

from hybrid_core.augment.perturb import perturb_queries, save_query_texts
from hybrid_core.data.dataset import RetrievalDataset
from hybrid_core.runs import RunStore
from tests.dashboard.tiny_runs import build_tiny_model, dataset_texts

NOISE = ("typos:0.2", "typos:0.5")


def evaluate_with_noise(run, ds: RetrievalDataset, noise=NOISE, seed: int = 0) -> None:
    from hybrid_core.evaluation.run_eval import evaluate_run

    noisy = [perturb_queries(ds, spec, seed) for spec in noise]
    evaluate_run(run, [ds, *noisy], log=lambda *a, **k: None)
    for n in noisy:
        save_query_texts(run.result_dir(n.name), ds, n)


def make_noisy_runs(runs_dir: Path, models_dir: Path, ds: RetrievalDataset, noise=NOISE) -> dict[str, list[str]]:
    store = RunStore(runs_dir)
    texts = dataset_texts(ds)
    out: dict[str, list[str]] = {"eval": [], "augment": []}
    for i in range(2):
        path = build_tiny_model(models_dir / f"tiny-{i}", texts, seed=i)
        run = store.create(f"tiny-{i}", kind="evaluate", model=str(path), overwrite=True)
        evaluate_with_noise(run, ds, noise)
        out["eval"].append(run.name)
    for j, (name, augment, seed) in enumerate(
        (("aug-none", None, 0), ("aug-typos", "noise=typos:0.1", 0), ("aug-typos-s1", "noise=typos:0.1", 1))
    ):
        path = build_tiny_model(models_dir / f"aug-{j}", texts, seed=200 + j)
        config = {
            "train_data": ds.name,
            "sampler": "hybrid",
            "alpha": 0.5,
            "steps": 0,
            "seed": seed,
            "base_model": "tiny",
            "augment": augment,
            "augment_prob": 0.5,
        }
        run = store.create(name, kind="train", model=str(path), config=config, overwrite=True)
        evaluate_with_noise(run, ds, noise)
        out["augment"].append(name)
    return out
