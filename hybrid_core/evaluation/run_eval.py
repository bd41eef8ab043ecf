"""Verbs that tie the pieces together: evaluate a model into a run folder, skipping finished work."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from hybrid_core.data.dataset import RetrievalDataset
from hybrid_core.errors import HybridIRError
from hybrid_core.evaluation.evaluate import Evaluation, evaluate_model
from hybrid_core.evaluation.settings import KINDS
from hybrid_core.runs import Run, RunStore, now_iso


def evaluate_run(
    run: Run,
    datasets: Sequence[RetrievalDataset],
    *,
    model=None,
    kinds: tuple[str, ...] = KINDS,
    force: bool = False,
    progress: bool = False,
    log=print,
    precision: str = "fp32",
) -> dict[str, dict]:
    """Evaluate the run's model on each data set and store the results in the run folder.

    Results already on disk for the same data fingerprint are reused, not recomputed (unless
    ``force``). The model (``run.json``'s ``model``: a path, hub name or the default alias) loads
    at most once, and only if something needs encoding. Returns ``{dataset name: summary}``.
    ``precision="int8"`` encodes with the int8 export (:mod:`hybrid_core.models.precision`, made once); the
    precision is in the summary and in the stored data key, so fp32 and int8 results never stand for each other.
    """
    from hybrid_core.models.loading import load_model, model_fingerprint, resolve_model
    from hybrid_core.models.precision import as_precision, model_precision

    info = run.info
    model_ref = resolve_model(info["model"])
    fingerprint = info.get("model_fingerprint") or model_fingerprint(model_ref)
    out: dict[str, dict] = {}
    for ds in datasets:
        fp = ds.fingerprint() + ("" if precision == "fp32" else f"+{precision}")
        if not force and run.has_result(ds.name, fp):
            log(f"{run.name}: results for {ds.name} are on disk, not recomputed")
            out[ds.name] = run.summary(ds.name)
            continue
        if model is None:
            log(f"{run.name}: loading model {info['model']}")
            model = load_model(model_ref)
        if precision != model_precision(model):
            model = as_precision(model, precision, model_ref, fingerprint, run.path)
        log(f"{run.name}: evaluating on {ds.name} ({len(ds.queries)} queries, {len(ds.corpus)} candidates)")
        ev: Evaluation = evaluate_model(
            model, ds, fingerprint=fingerprint, kinds=kinds, progress=progress, precision=precision
        )
        summary = {
            "dataset": ds.name,
            "data_fingerprint": fp,
            "data": ds.summary(),
            "model": info["model"],
            "model_fingerprint": fingerprint,
            "precision": precision,
            "evaluated": now_iso(),
            "timings": ev.timings,
            **ev.summary,
        }
        run.save_result(ds.name, ev.per_query, summary)
        out[ds.name] = summary
    return out


def evaluate_model_as_run(
    model_name_or_path: str | None,
    datasets: Sequence[RetrievalDataset],
    *,
    run_name: str | None = None,
    store: RunStore | None = None,
    **kwargs,
) -> tuple[Run, dict[str, dict]]:
    """Create (or reuse) an ``evaluate`` run for a model and evaluate it on ``datasets``."""
    from hybrid_core.models.loading import DEFAULT_MODEL, model_fingerprint, resolve_model

    store = store or RunStore()
    model_name = model_name_or_path or DEFAULT_MODEL
    name = run_name or _default_run_name(model_name)
    if store.exists(name):
        run = store.get(name)
        if run.info.get("model") != model_name:
            from hybrid_core.errors import RunError

            raise RunError(
                f"run {name!r} exists for model {run.info.get('model')!r}, not {model_name!r}; pick another --run name"
            )
    else:
        run = store.create(name, kind="evaluate", model=model_name, config={"kinds": list(kwargs.get("kinds", KINDS))})
        run.update_info(model_fingerprint=model_fingerprint(resolve_model(model_name)))
    t0 = time.perf_counter()
    summaries = evaluate_run(run, datasets, **kwargs)
    kwargs.get("log", print)(f"{run.name}: done in {time.perf_counter() - t0:.1f} s -> {run.path}")
    return run, summaries


def _default_run_name(model: str) -> str:
    import re

    stem = model.rstrip("/").split("/")[-1]
    return "eval-" + (re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-.") or "model")


def export_run(
    run_name: str,
    datasets: Sequence[RetrievalDataset],
    *,
    fmt: str = "trec",
    setting: str = "all",
    depth: int | None = 100,
    out: Path = Path("exports"),
    runs_dir: str | None = None,
) -> list[Path]:
    """Write a run's results: TREC run + qrels per setting (``fmt="trec"``), or summary tables (csv / latex).

    Tables come from the stored summaries; TREC files need rankings, so they re-encode through the
    embedding cache with the run's model (a warm cache makes that a read).
    """
    from hybrid_core.evaluation.evaluate import embed_dataset
    from hybrid_core.evaluation.export import settings_table, summary_table, write_table, write_trec
    from hybrid_core.evaluation.settings import parse_setting, settings_for
    from hybrid_core.models.loading import load_model, model_fingerprint, resolve_model

    if fmt not in ("trec", "csv", "latex"):
        raise HybridIRError(f"unknown export format {fmt!r}; use trec, csv or latex")
    if depth is not None and (not isinstance(depth, int) or depth < 1):
        raise HybridIRError(f"depth must be a positive integer or None (full pool), got {depth!r}")
    run = RunStore(runs_dir).get(run_name)
    written: list[Path] = []
    if fmt != "trec":
        ext = ".csv" if fmt == "csv" else ".tex"
        for ds in datasets:
            summary = run.summary(ds.name)
            for label, table in (("summary", summary_table(summary)), ("settings", settings_table(summary))):
                path = out / f"{run.name}-{ds.name}-{label}{ext}"
                written.append(write_table(table, path, caption=f"{run.name} on {ds.name}"))
        return written
    chosen = {ds.name: settings_for(ds) if setting == "all" else [parse_setting(setting, ds)] for ds in datasets}
    model_ref = resolve_model(run.info["model"])
    model = load_model(model_ref)
    for ds in datasets:
        q, c = embed_dataset(model, ds, model_fingerprint(model_ref), progress=True)
        for s in chosen[ds.name]:
            written.extend(write_trec(ds, s, q, c, out / ds.name, depth=depth, tag=run.name))
    return written
