"""Run a study: train, merge and evaluate every cell, skip what is on disk, resume what was interrupted.

Every step is restartable, so ``kill -9`` at any point and a rerun give the same result:

- training writes resumable checkpoints (``hybrid_core.training.trainer``); an unfinished run is
  continued with ``resume=True`` (from its newest checkpoint, or from step 0 with the same seed when it
  has none); a run folder left without ``run.json`` (killed while being created) is removed first;
- a merged model is written to a temporary folder and renamed into place; the run is marked done after;
- an evaluation writes its per-query file before the summary that marks it complete;
- the study folder's files are written atomically; ``status.json`` says planned / running / done.

Output: ``<studies>/<name>/<size>/`` with ``plan.json``, ``runs.json``, ``status.json``, ``results.csv``,
``report.md``, ``tables/`` (Markdown, CSV, LaTeX per data set x slice) and ``figures/`` (Plotly JSON;
PNG / SVG / PDF when exported from the dashboard or the paper bundle).
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from hybrid_core.analysis import stats
from hybrid_core.io_utils import atomic_path, read_json, write_json
from hybrid_core.models.precision import with_precision
from hybrid_core.runs import RunStore, now_iso
from hybrid_core.studies import slices as slicing
from hybrid_core.studies.plan import Plan, build_plan, eval_datasets, noisy_datasets, studies_dir
from hybrid_core.studies.spec import StudyError, StudySpec


def study_folder(spec: StudySpec, out_root=None) -> Path:
    """``<studies>/<name>/<size>/``; ``<size>-int8`` when the study encodes in int8 (the fp32 tables stay);
    ``<size>-seeds0-1`` when ``--seeds`` chose other seeds than the size's (:meth:`StudySpec.with_seeds`)."""
    return studies_dir(out_root) / spec.name / with_precision(spec.folder_name, spec.precision)


def _write_status(folder: Path, **fields) -> None:
    f = folder / "status.json"
    old = read_json(f) if f.is_file() else {}
    write_json(f, {**old, **fields, "updated": now_iso()})


def run_study(
    spec: StudySpec,
    *,
    runs_dir=None,
    data_dir=None,
    out_root=None,
    dry_run: bool = False,
    progress: bool = False,
    n_boot: int = stats.N_BOOT,
    n_perm: int = stats.N_PERM,
    log=print,
) -> tuple[Plan, Path]:
    """Plan (and unless ``dry_run``, do) the study; returns the plan and the study folder.

    Both write ``plan.json``, so a dry-run study is listed as *planned* with its estimate.
    """
    from hybrid_core.augment.perturb import save_run_query_texts
    from hybrid_core.evaluation.run_eval import evaluate_model_as_run, evaluate_run
    from hybrid_core.models.loading import DEFAULT_MODEL
    from hybrid_core.training.trainer import TrainConfigError, finished_run, train

    store = RunStore(runs_dir)
    clean = eval_datasets(spec, data_dir)
    noisy = noisy_datasets(spec, clean)
    datasets = [*clean, *(n for _, n in noisy)]  # every cell: the clean sets, then their noisy versions
    plan = build_plan(spec, runs_dir=runs_dir, data_dir=data_dir, datasets=clean, noisy=noisy, out_root=out_root)
    folder = study_folder(spec, out_root)
    log(plan.describe())
    folder.mkdir(parents=True, exist_ok=True)
    write_json(folder / "plan.json", {**plan.to_dict(), "spec": _spec_dict(spec), "estimate": plan.estimate_seconds()})
    if dry_run:  # the study is now listed as planned (no status.json yet)
        return plan, folder
    _write_status(folder, state="running", pid=os.getpid(), started=now_iso(), total=len(plan.cells), done=0)
    t_all = time.perf_counter()
    timings: dict[str, float] = {}
    try:
        if spec.dictionaries is not None:  # the @induced dictionaries, once (kept files are not redone)
            from hybrid_core.studies import dictionaries

            dictionaries.induce(spec.dictionaries, spec.base_model, spec.train, data_dir=data_dir, log=log)
        for i, cell in enumerate(plan.cells):
            _write_status(folder, current=cell.run, done=i)
            log(f"[{i + 1}/{len(plan.cells)}] {cell.run}")  # a job's progress bar reads this
            t0 = time.perf_counter()
            if cell.kind == "base":
                run, _ = evaluate_model_as_run(
                    spec.base_model or DEFAULT_MODEL,
                    datasets,
                    run_name=cell.run,
                    store=store,
                    precision=spec.precision,
                    progress=progress,
                    log=log,
                )
            elif cell.kind == "train":
                cfg = spec.train_config(spec.arm(cell.arm), cell.seed)
                try:
                    run = finished_run(store, cell.run, cfg, "rename the study or delete that run")
                except TrainConfigError as exc:
                    raise StudyError(f"study {spec.name!r}: {exc}") from None
                if run is not None:
                    log(f"{cell.run}: trained already, reusing it")
                else:
                    # a folder without run.json: killed while the folder was being created
                    if not store.exists(cell.run) and store.path(cell.run).exists():
                        shutil.rmtree(store.path(cell.run))
                    _dapt_stage(spec, spec.arm(cell.arm), data_dir, log)
                    run = train(
                        cfg,
                        cell.run,
                        resume=store.exists(cell.run),  # interrupted: continue from its newest checkpoint
                        data_dir=data_dir,
                        runs_dir=runs_dir,
                        progress=progress,
                        log=log,
                    )
                evaluate_run(run, datasets, progress=progress, log=log, precision=spec.precision)
            else:
                run = _merge(spec, cell, store, log)
                evaluate_run(run, datasets, progress=progress, log=log, precision=spec.precision)
            save_run_query_texts(run, noisy, overwrite=False)  # what each noisy evaluation scored
            timings[cell.run] = round(time.perf_counter() - t0, 1)
            _write_runs(folder, spec, plan, store, timings)
        _write_status(folder, state="analysing", done=len(plan.cells), current=None)
        analyse(spec, plan, folder, store=store, n_boot=n_boot, n_perm=n_perm, log=log)
        _write_status(folder, state="done", finished=now_iso(), wall_seconds=round(time.perf_counter() - t_all, 1))
    except BaseException as exc:
        _write_status(folder, state="failed", error=f"{type(exc).__name__}: {exc}")
        raise
    log(f"study {spec.name} ({spec.size}) done in {(time.perf_counter() - t_all) / 60:.1f} min -> {folder}")
    return plan, folder


def _dapt_stage(spec: StudySpec, arm, data_dir, log) -> None:
    """Run (or resume, or reuse) the masked-LM stage ``arm`` starts from, if it has one."""
    from hybrid_core.training.dapt import INFO_FILE, dapt_info, run_dapt

    cfg = spec.dapt_config(arm)
    if cfg is None:
        return
    folder = spec.dapt_folder(arm)
    info = dapt_info(folder / "model")
    if info and info.get("status") == "done":
        log(f"{arm.label}: DAPT stage {folder} on disk, reusing it")
        return
    log(f"{arm.label}: DAPT stage into {folder}")
    run_dapt(cfg, folder, resume=(folder / INFO_FILE).is_file(), data_dir=data_dir, log=log)


def _spec_dict(spec: StudySpec) -> dict:
    import dataclasses
    import json

    return json.loads(json.dumps(dataclasses.asdict(spec)))


def _merge(spec: StudySpec, cell, store: RunStore, log):
    from hybrid_core.models.loading import DEFAULT_MODEL
    from hybrid_core.training.merge import merge_models

    if store.exists(cell.run):
        run = store.get(cell.run)
        if run.info.get("status") == "done" and (run.path / "model").is_dir():
            log(f"{cell.run}: merged already, reusing it")
            return run
    sources = [store.get(s) for s in cell.sources]
    bases = {s.info.get("config", {}).get("base_model") for s in sources}
    if len(bases) != 1:
        raise StudyError(f"{cell.run}: cannot merge models of different base models {sorted(map(str, bases))}")
    for s in sources:
        if s.info.get("status") != "done":
            raise StudyError(f"{cell.run}: source run {s.name!r} has not finished training")
    run = store.create(
        cell.run,
        kind="merge",
        model=str((store.path(cell.run) / "model").resolve()),
        config={
            "merge": cell.sources,
            "lambda": cell.lam,
            "base_model": bases.pop() or DEFAULT_MODEL,
            "seed": cell.seed,
        },
        overwrite=True,
    )
    log(f"{cell.run}: merging {cell.sources[0]} and {cell.sources[1]} at lambda {cell.lam:g}")
    merge_models(sources[0].path / "model", sources[1].path / "model", cell.lam, run.path / "model")
    run.update_info(status="done", finished=now_iso())
    return run


def _write_runs(folder: Path, spec: StudySpec, plan: Plan, store: RunStore, timings: dict) -> None:
    rows = []
    for c in plan.cells:
        exists = store.exists(c.run)
        info = store.get(c.run).info if exists else {}
        rows.append(
            {
                "run": c.run,
                "kind": c.kind,
                "arm": c.arm,
                "seed": c.seed,
                "status": info.get("status", "done" if exists and c.kind == "base" else None),
                "datasets": store.get(c.run).datasets() if exists else [],
                "seconds_this_invocation": timings.get(c.run),
            }
        )
    write_json(folder / "runs.json", {"study": spec.name, "size": spec.size, "runs": rows})


def arms_of(plan: Plan) -> tuple[dict[str, list[str]], dict[str, dict]]:
    """``{arm: [runs]}`` in plan order and ``{arm: series / axis info}``."""
    arms: dict[str, list[str]] = {}
    info: dict[str, dict] = {}
    for c in plan.cells:
        arms.setdefault(c.arm, []).append(c.run)
        info[c.arm] = {"series": c.series, "axis": c.axis, "axis_name": c.axis_name}
    return arms, info


def slices_for(spec: StudySpec, plan: Plan) -> dict[str, dict[str, list[str]]]:
    return {
        d["name"]: slicing.language_slices(
            d["languages"], plan.seen_languages, spec.low_resource, spec.low_resource_count, spec.per_language
        )
        for d in plan.datasets
    }


def analyse(spec: StudySpec, plan: Plan, folder: Path, *, store: RunStore, n_boot: int, n_perm: int, log=print):
    """Statistics, tables and figures of a study whose runs are evaluated."""
    from hybrid_core.studies.figures import study_figures
    from hybrid_core.studies.tables import study_results, write_tables

    arms, info = arms_of(plan)
    t0 = time.perf_counter()
    slices = slices_for(spec, plan)
    options = {"store": store, "arm_info": info, "correction": spec.correction, "n_boot": n_boot, "n_perm": n_perm}
    tidy = study_results(arms, plan.datasets, slices, spec.baseline, **options)
    pd_plan = {**plan.to_dict()}
    write_tables(tidy, folder, pd_plan, spec.baseline, spec.correction, spec.reported)
    for stem, fig in study_figures(tidy).items():
        with atomic_path(folder / "figures" / f"{stem}.json") as tmp:
            tmp.write_text(fig.to_json(), encoding="utf-8")
    if plan.noisy:
        from hybrid_core.studies.robustness import robustness_results, write_robustness

        rob = robustness_results(arms, plan.datasets, plan.noisy, slices, spec.baseline, **options)
        _, report = write_robustness(rob, folder, pd_plan, spec.baseline, spec.correction)
        text = (folder / "report.md").read_text(encoding="utf-8")
        with atomic_path(folder / "report.md") as tmp:
            tmp.write_text(text + "\n# Robustness to query noise\n\n" + "\n".join(report) + "\n", encoding="utf-8")
    log(f"statistics, tables and figures in {time.perf_counter() - t0:.1f} s -> {folder}")
    return tidy
