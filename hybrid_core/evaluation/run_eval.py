"""Verbs that tie the pieces together: evaluate a model into a run folder, skipping finished work."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from hybrid_core.data.dataset import RetrievalDataset
from hybrid_core.errors import HybridIRError, RunError
from hybrid_core.evaluation.evaluate import Evaluation, evaluate_model
from hybrid_core.evaluation.settings import KINDS
from hybrid_core.io_utils import write_json
from hybrid_core.models.precision import with_precision
from hybrid_core.progress import progress_line
from hybrid_core.runs import Run, RunStore, now_iso


def load_run_model(run: Run):
    """The run's model (``run.json``'s ``model``: a path, hub name or the default alias) and its fingerprint."""
    from hybrid_core.models.loading import load_model, model_fingerprint, resolve_model

    info = run.info
    if not info.get("model"):
        raise RunError(f"run {run.name!r} has no model yet (training not finished?)")
    ref = resolve_model(info["model"])
    return load_model(ref), info.get("model_fingerprint") or model_fingerprint(ref)


def evaluate_run(
    run: Run,
    datasets: Sequence[RetrievalDataset],
    *,
    model=None,
    kinds: tuple[str, ...] = KINDS,
    force: bool = False,
    progress: bool = False,
    stages: tuple[int, int] | None = None,
    log=print,
    precision: str = "fp32",
) -> dict[str, dict]:
    """THE evaluation path: score the run's model on each data set and store ``results/<data set>/``.

    Every road to a result ends here: the CLI's ``evaluate``, the trainer's final evaluation (with the
    model still in memory: ``model=``), ``experiment``, ``export``, and the dashboard's jobs. Results
    already on disk for the same data fingerprint are reused, not recomputed (unless ``force``). The
    model loads at most once, and only if something needs encoding. While it works the run's
    ``status`` is ``evaluating`` (a killed evaluation leaves it so: the dashboard shows it as
    interrupted); afterwards the previous status is back. Each data set logs a whole-job progress
    line ``[k/n]``; ``stages=(first, total)`` places them in a longer job (training: steps + sets).
    ``precision="int8"`` encodes with the int8 export (:mod:`hybrid_core.models.precision`, made once); the
    precision is in the summary and in the stored data key, and non-fp32 results are stored under their own name
    (:func:`result_name`: ``xquad-r-int8``), so fp32 and int8 results sit side by side and never stand for each
    other. Returns ``{dataset name: summary}``.
    """
    from hybrid_core.models.loading import model_fingerprint, resolve_model

    info = run.info
    fingerprint = info.get("model_fingerprint") or model_fingerprint(resolve_model(info["model"]))
    first, total = stages or (0, len(datasets))
    keys = [data_key(ds, precision) for ds in datasets]
    names = [result_name(ds.name, precision) for ds in datasets]
    todo = [force or not run.has_result(n, key, kinds) for n, key in zip(names, keys, strict=True)]
    out: dict[str, dict] = {}
    with evaluating(run, any(todo)):
        for i, ds in enumerate(datasets):
            if not todo[i]:
                log(
                    progress_line(
                        first + i + 1, total, f"{run.name}: results for {names[i]} are on disk, not recomputed"
                    )
                )
                out[ds.name] = run.summary(names[i])
                continue
            if model is None:
                log(f"{run.name}: loading model {info['model']}")
                model, _ = load_run_model(run)
            model = at_precision(run, model, precision, fingerprint)
            log(
                progress_line(
                    first + i,
                    total,
                    f"{run.name}: evaluating on {ds.name} ({len(ds.queries)} queries, {len(ds.corpus)} candidates)",
                )
            )
            out[ds.name] = _evaluate_one(run, model, ds, fingerprint, kinds, progress, precision)
            log(progress_line(first + i + 1, total, f"{run.name}: {ds.name} done"))
    return out


@contextmanager
def evaluating(run: Run, active: bool = True) -> Iterator[None]:
    """While the block runs the run's ``status`` is ``evaluating`` (a killed evaluation leaves it so: the
    dashboard shows it as interrupted); afterwards the previous status is back. ``active=False``: no change."""
    previous = run.info.get("status")
    if active:
        run.update_info(status="evaluating")
    try:
        yield
    finally:
        if active:
            _set_status(run, previous)


def at_precision(run: Run, model, precision: str, fingerprint: str):
    """The run's loaded model at ``precision`` (the int8 export is made once, :mod:`hybrid_core.models.precision`)."""
    from hybrid_core.models.loading import resolve_model
    from hybrid_core.models.precision import as_precision, model_precision

    if precision == model_precision(model):
        return model
    return as_precision(model, precision, resolve_model(run.info["model"]), fingerprint, run.path)


def evaluate_runs(
    runs: Sequence[Run], datasets: Sequence[RetrievalDataset], *, log=print, **kwargs
) -> dict[str, dict[str, dict]]:
    """:func:`evaluate_run` for several runs (each with its own model), one progress count over all of them."""
    total = len(runs) * len(datasets)
    return {
        run.name: evaluate_run(run, datasets, stages=(i * len(datasets), total), log=log, **kwargs)
        for i, run in enumerate(runs)
    }


def result_name(dataset: str, precision: str = "fp32") -> str:
    """Where a run's results on ``dataset`` at ``precision`` are stored: ``xquad-r`` (fp32), ``xquad-r-int8``."""
    return with_precision(dataset, precision)


def data_key(ds: RetrievalDataset, precision: str = "fp32") -> str:
    """The stored data key: the data's fingerprint, plus the precision when it is not fp32."""
    return precision_key(ds.fingerprint(), precision)


def precision_key(fingerprint: str, precision: str = "fp32") -> str:
    """A data fingerprint, plus the precision when it is not fp32 (fp32 keys stay as they always were)."""
    return fingerprint + ("" if precision == "fp32" else f"+{precision}")


def _evaluate_one(
    run: Run, model, ds: RetrievalDataset, fingerprint: str, kinds, progress: bool, precision: str = "fp32"
) -> dict:
    ev: Evaluation = evaluate_model(
        model, ds, fingerprint=fingerprint, kinds=kinds, progress=progress, precision=precision
    )
    return save_result(
        run,
        result_name(ds.name, precision),
        ev.per_query,
        ev.summary,
        data_fingerprint=data_key(ds, precision),
        data=ds.summary(),
        model_fingerprint=fingerprint,
        precision=precision,
        timings=ev.timings,
        kinds=kinds,
    )


def save_result(
    run: Run,
    name: str,
    per_query,
    body: dict,
    *,
    data_fingerprint: str,
    data: dict,
    model_fingerprint: str,
    precision: str,
    timings: dict,
    kinds,
    **extra,
) -> dict:
    """THE writer of results: ``results/<name>/summary.json`` (provenance + ``body``, the metric summary of
    :func:`hybrid_core.evaluation.evaluate.summarize`, + ``extra``) and ``per_query.parquet``, committed as one
    unit by the run store. Every evaluation path (in memory, :mod:`hybrid_core.evaluation.large_eval`) ends here."""
    summary = {
        "dataset": name,
        "data_fingerprint": data_fingerprint,
        "data": data,
        "model": run.info["model"],
        "model_fingerprint": model_fingerprint,
        "precision": precision,
        "evaluated": now_iso(),
        "timings": timings,
        "kinds": list(kinds),
        **body,
        **extra,
    }
    run.save_result(name, per_query, summary)
    return summary


def _set_status(run: Run, status: str | None) -> None:
    """Put ``status`` back into run.json (None: no status key, as evaluate runs had before)."""
    info = run.info
    if status is None:
        info.pop("status", None)
    else:
        info["status"] = status
    write_json(run.path / "run.json", info)


def evaluate_model_as_run(
    model_name_or_path: str | None,
    datasets: Sequence[RetrievalDataset],
    *,
    run_name: str | None = None,
    store: RunStore | None = None,
    evaluate=None,
    **kwargs,
) -> tuple[Run, dict[str, dict]]:
    """Create (or reuse) an ``evaluate`` run for a model and evaluate it on ``datasets`` (with ``evaluate``, default
    :func:`evaluate_run`; :func:`hybrid_core.evaluation.large_eval.evaluate_large_run` for corpora on disk)."""
    from hybrid_core.models.loading import DEFAULT_MODEL, model_fingerprint, resolve_model

    store = store or RunStore()
    model_name = model_name_or_path or DEFAULT_MODEL
    name = run_name or _default_run_name(model_name)
    created = not store.exists(name)
    if not created:
        run = store.get(name)
        if run.info.get("model") != model_name:
            raise RunError(
                f"run {name!r} exists for model {run.info.get('model')!r}, not {model_name!r}; pick another --run name"
            )
    else:
        fingerprint = model_fingerprint(resolve_model(model_name))  # checks the model before a run folder exists
        run = store.create(name, kind="evaluate", model=model_name, config={"kinds": list(kwargs.get("kinds", KINDS))})
        run.update_info(model_fingerprint=fingerprint)
    t0 = time.perf_counter()
    try:
        summaries = (evaluate or evaluate_run)(run, datasets, **kwargs)
    except BaseException:
        if created:
            store.discard_if_empty(run)  # a model that fails to load must not keep the name
        raise
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

    Tables come from the run's summaries, evaluated first through :func:`evaluate_run` where missing
    (results on disk are reused). TREC files need rankings, so they re-encode through the embedding
    cache with the run's model (a warm cache makes that a read).
    """
    from hybrid_core.evaluation.evaluate import embed_dataset
    from hybrid_core.evaluation.export import settings_table, summary_table, write_table, write_trec
    from hybrid_core.evaluation.settings import parse_setting, settings_for

    if fmt not in ("trec", "csv", "latex"):
        raise HybridIRError(f"unknown export format {fmt!r}; use trec, csv or latex")
    if depth is not None and (not isinstance(depth, int) or depth < 1):
        raise HybridIRError(f"depth must be a positive integer or None (full pool), got {depth!r}")
    run = RunStore(runs_dir).get(run_name)
    written: list[Path] = []
    if fmt != "trec":
        ext = ".csv" if fmt == "csv" else ".tex"
        summaries = evaluate_run(run, datasets, log=lambda *_: None)
        for ds in datasets:
            summary = summaries[ds.name]
            for label, table in (("summary", summary_table(summary)), ("settings", settings_table(summary))):
                path = out / f"{run.name}-{ds.name}-{label}{ext}"
                written.append(write_table(table, path, caption=f"{run.name} on {ds.name}"))
        return written
    chosen = {ds.name: settings_for(ds) if setting == "all" else [parse_setting(setting, ds)] for ds in datasets}
    model, fingerprint = load_run_model(run)
    for ds in datasets:
        q, c = embed_dataset(model, ds, fingerprint, progress=True)
        for s in chosen[ds.name]:
            written.extend(write_trec(ds, s, q, c, out / ds.name, depth=depth, tag=run.name))
    return written
