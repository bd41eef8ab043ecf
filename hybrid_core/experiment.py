"""The paper's comparison in one call: X-X-mono vs X-Y vs hybrid(alpha) from the same start.

Replicates the design of hybrid batch training (arXiv 2408.10536, Table 1): every arm fine-tunes
the same base model with the same seed, data and step budget and differs only in its batch
sampler; each arm and the untrained model are evaluated on the same sets, and one table reports
mono / cross / multi mAP (LAReQA) and rank distance (Huang et al. 2023, arXiv 2305.09025; lower
is less language bias). Offline, training is on an article-disjoint part of MLQA-R and
evaluation is zero-shot on XQuAD-R (el, ru, th, tr never seen in training) and on MLQA-R's
held-out articles. Presets are small JSON files in ``hybrid_core/presets/``.

Re-running an experiment reuses finished runs and results on disk and resumes unfinished ones.
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from hybrid_core import paths
from hybrid_core.data.specs import load_data_spec
from hybrid_core.errors import HybridIRError
from hybrid_core.evaluation.metrics import column_label
from hybrid_core.evaluation.settings import KINDS
from hybrid_core.io_utils import atomic_path, read_json, write_json
from hybrid_core.models.precision import PRECISIONS, with_precision
from hybrid_core.progress import within
from hybrid_core.runs import RunStore, now_iso, validate_name
from hybrid_core.training.trainer import (
    TrainConfig,
    TrainConfigError,
    finished_run,
    leak_message,
    train,
    validate_config,
)

PRESETS_DIR = Path(__file__).resolve().parent / "presets"


@dataclass(frozen=True)
class Arm:
    """One training condition: a label (run-name suffix) and its sampler."""

    label: str  # e.g. "hybrid-0.5"
    sampler: str  # "x-x", "x-x-mono", "x-y" or "hybrid"
    alpha: float = 0.5  # used by "hybrid" only


@dataclass(frozen=True)
class ExperimentConfig:
    """An experiment: shared training options, the arms, and the evaluation sets."""

    name: str = "quick"  # experiment folder and run-name prefix
    description: str = ""  # shown above the table
    train: TrainConfig = field(default_factory=TrainConfig)  # shared by every arm (same start, seed, steps)
    arms: tuple[Arm, ...] = (Arm("x-x-mono", "x-x-mono"), Arm("x-y", "x-y"), Arm("hybrid-0.5", "hybrid", 0.5))
    eval_data: tuple[str, ...] = ("xquad-r", "mlqa-r:test")  # "<set>" or "<set>:test" (held-out articles)
    eval_max_questions: int | None = 60  # seeded sample of question ids per set (None = whole sets)
    eval_seed: int = 0  # seed of that sample
    eval_precision: str = "fp32"  # "int8": every evaluation encodes with the int8 export (results kept apart)

    def arm_config(self, arm: Arm) -> TrainConfig:
        return dataclasses.replace(self.train, sampler=arm.sampler, alpha=arm.alpha if arm.sampler == "hybrid" else 0.0)


def with_overrides(
    cfg: ExperimentConfig,
    train_overrides: dict | None = None,
    eval_max_questions: int | None = None,
    precision: str | None = None,
) -> ExperimentConfig:
    """``cfg`` with command-line evaluation overrides (``eval_max_questions`` 0 = whole sets), its description
    extended by what changed: a preset's description speaks of the preset, and a table must not claim a sample
    it did not use. ``train_overrides`` (already applied by :func:`experiment_config`) are named too."""
    changed = [f"{k} {v}" for k, v in (train_overrides or {}).items()]
    if eval_max_questions is not None:
        cfg = dataclasses.replace(cfg, eval_max_questions=eval_max_questions or None)
        changed.append(f"a {eval_max_questions}-question sample" if eval_max_questions else "whole sets")
    if precision is not None:
        cfg = dataclasses.replace(cfg, eval_precision=precision)
        changed.append(f"{precision} encoding")
    if not changed:
        return cfg
    note = f"Changed on the command line: {', '.join(changed)} (the note below the table is authoritative)."
    return dataclasses.replace(cfg, description=f"{cfg.description} {note}".strip())


def load_preset(name_or_path: str) -> dict:
    """A preset by name (``quick``, ``paper``) or a path to a JSON file of the same shape."""
    path = Path(name_or_path)
    if not path.suffix:
        path = PRESETS_DIR / f"{name_or_path}.json"
    if not path.is_file():
        available = ", ".join(sorted(p.stem for p in PRESETS_DIR.glob("*.json")))
        raise HybridIRError(f"unknown preset {name_or_path!r}; available: {available}, or a path to a .json file")
    try:
        return read_json(path)
    except ValueError as exc:
        raise HybridIRError(f"preset {path} is not valid JSON ({exc})") from None


def experiment_config(preset: str = "quick", name: str | None = None, **train_overrides) -> ExperimentConfig:
    """Build an :class:`ExperimentConfig` from a preset, with training options overridden by keyword."""
    d = load_preset(preset)
    unknown = sorted(
        set(d) - {"description", "train", "arms", "eval_data", "eval_max_questions", "eval_seed", "eval_precision"}
    )
    if unknown:
        raise HybridIRError(f"preset {preset!r}: unknown key(s) {unknown}")
    train_cfg = validate_config(TrainConfig.from_dict({**d.get("train", {}), **train_overrides}))
    arms = tuple(Arm(**a) for a in d.get("arms", [])) or ExperimentConfig.arms
    cfg = ExperimentConfig(
        name=validate_name(name or Path(preset).stem),
        description=d.get("description", ""),
        train=train_cfg,
        arms=arms,
        eval_data=tuple(d.get("eval_data", ExperimentConfig.eval_data)),
        eval_max_questions=d.get("eval_max_questions", 60),
        eval_seed=int(d.get("eval_seed", 0)),
        eval_precision=d.get("eval_precision", "fp32"),
    )
    if cfg.eval_precision not in PRECISIONS:
        raise HybridIRError(
            f"preset {preset!r}: eval_precision {cfg.eval_precision!r} is not one of {', '.join(PRECISIONS)}"
        )
    for arm in cfg.arms:
        validate_name(f"{cfg.name}-{arm.label}")
        validate_config(cfg.arm_config(arm))
    for spec in cfg.eval_data:  # the same leak rule as a training run's own eval_data
        leak = leak_message(train_cfg.train_data, train_cfg.train_split, spec)
        if leak:
            raise HybridIRError(f"preset {preset!r}: {leak}")
    return cfg


def eval_sets(cfg: ExperimentConfig, data_dir=None) -> list:
    """The evaluation data sets, each cut to the seeded question sample (named like the CLI's samples)."""
    out = []
    for spec in cfg.eval_data:
        ds = load_data_spec(
            spec,
            data_dir=data_dir,
            test_fraction=cfg.train.split_test_fraction,
            split_seed=cfg.train.split_seed,
            max_questions=cfg.eval_max_questions or None,
            sample_seed=cfg.eval_seed,
        )
        out.append(ds)
    return out


def comparison_table(rows: list[dict], summaries: dict[str, dict[str, dict]]) -> pd.DataFrame:
    """One row per arm: mono / cross / multi mAP and rank distance per evaluation set."""
    records = []
    for row in rows:
        rec = dict(row)
        for ds_name, summary in summaries[row["run"]].items():
            macro = summary["macro"]
            for kind in KINDS:
                rec[column_label("map", kind, ds_name)] = macro.get(kind, {}).get("map")
            rec[column_label("rank_distance", "multi", ds_name)] = macro.get("multi", {}).get("rank_distance")
        records.append(rec)
    return pd.DataFrame(records)


def paper_checks(table: pd.DataFrame, hybrid: str, mono: str, xy: str) -> list[str]:
    """Where the paper found hybrid: >= X-X-mono on cross and multi, >= X-Y on mono, lower RD than X-X-mono."""
    by = table.set_index("arm")
    if not {hybrid, mono, xy} <= set(by.index):
        return []
    lines = []
    rd = column_label("rank_distance")
    for ds in sorted({c.removesuffix(f" {rd}") for c in table.columns if c.endswith(f" {rd}")}):
        h, m, x = by.loc[hybrid], by.loc[mono], by.loc[xy]

        def col(kind: str, ds: str = ds) -> str:
            return column_label("map", kind, ds)

        checks = {
            "cross >= X-X-mono": h[col("cross")] >= m[col("cross")],
            "multi >= X-X-mono": h[col("multi")] >= m[col("multi")],
            "mono >= X-Y": h[col("mono")] >= x[col("mono")],
            "RD < X-X-mono": h[column_label("rank_distance", "multi", ds)]
            < m[column_label("rank_distance", "multi", ds)],
        }
        lines.append(f"{ds}: " + ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in checks.items()))
    return lines


def to_markdown(table: pd.DataFrame) -> str:
    """A GitHub table (3 decimals for mAP, 1 for rank distance), no extra dependency."""

    def fmt(col: str, v) -> str:
        if v is None or (isinstance(v, float) and v != v):
            return "-"
        if isinstance(v, float) and col not in ("alpha", "steps"):
            return f"{v:.1f}" if col.endswith(" " + column_label("rank_distance")) else f"{v:.3f}"
        return f"{v:g}" if isinstance(v, float) else str(v)

    head = "| " + " | ".join(table.columns) + " |"
    numeric = [pd.api.types.is_numeric_dtype(table[c]) for c in table.columns]
    sep = "|" + "|".join("---:" if n else "---" for n in numeric) + "|"
    body = [
        "| " + " | ".join(fmt(c, v) for c, v in zip(table.columns, r, strict=True)) + " |"
        for r in table.itertuples(index=False)
    ]
    return "\n".join([head, sep, *body])


def run_experiment(
    cfg: ExperimentConfig,
    *,
    data_dir=None,
    runs_dir=None,
    out_dir=None,
    progress: bool = True,
    log=print,
) -> tuple[pd.DataFrame, Path]:
    """Train every arm, evaluate the arms and the untrained model, write ``table.csv`` / ``table.md``.

    Returns the table and the experiment folder (default ``<cache>/experiments/<name>``, or
    ``<name>-int8`` when ``cfg.eval_precision`` is int8: the trained runs are shared, their int8 results
    are stored beside the fp32 ones and the tables stay apart).
    """
    from hybrid_core.evaluation.run_eval import evaluate_model_as_run, evaluate_run
    from hybrid_core.models.loading import DEFAULT_MODEL

    store = RunStore(runs_dir)
    precision = cfg.eval_precision
    folder = Path(out_dir) if out_dir else paths.cache_dir() / "experiments" / with_precision(cfg.name, precision)
    timings: dict[str, float] = {}
    t_all = time.perf_counter()
    datasets = eval_sets(cfg, data_dir)
    base = cfg.train.model or DEFAULT_MODEL
    rows = [{"arm": "untrained", "run": f"{cfg.name}-base", "sampler": "-", "alpha": None, "steps": 0}]
    t0 = time.perf_counter()
    stages = 1 + 2 * len(cfg.arms)  # whole-job progress: the base evaluation, then training + evaluation per arm
    _, base_summaries = evaluate_model_as_run(
        base,
        datasets,
        run_name=f"{cfg.name}-base",
        store=store,
        progress=progress,
        log=within(log, 0, stages),
        precision=precision,
    )
    timings["evaluate untrained"] = time.perf_counter() - t0
    summaries = {rows[0]["run"]: base_summaries}
    for i, arm in enumerate(cfg.arms):
        run_name = f"{cfg.name}-{arm.label}"
        arm_cfg = cfg.arm_config(arm)
        t0 = time.perf_counter()
        try:
            run = finished_run(store, run_name, arm_cfg, "pass another --name to train a new set of runs")
        except TrainConfigError as exc:
            raise HybridIRError(f"experiment {cfg.name!r}: {exc}") from None
        if run is not None:
            log(f"{run_name}: trained already, reusing it")
        else:
            run = train(
                arm_cfg,
                run_name,
                resume=store.exists(run_name),
                data_dir=data_dir,
                runs_dir=runs_dir,
                progress=progress,
                log=within(log, 1 + 2 * i, stages),
            )
        timings[f"train {arm.label}"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        summaries[run_name] = evaluate_run(
            run, datasets, progress=progress, log=within(log, 2 + 2 * i, stages), precision=precision
        )
        timings[f"evaluate {arm.label}"] = time.perf_counter() - t0
        rows.append(
            {
                "arm": arm.label,
                "run": run_name,
                "sampler": arm.sampler,
                "alpha": arm.alpha if arm.sampler == "hybrid" else None,
                "steps": arm_cfg.steps,
            }
        )
    table = comparison_table(rows, summaries)
    timings["total"] = time.perf_counter() - t_all
    labels = {a.sampler: a.label for a in cfg.arms}
    checks = paper_checks(table, labels.get("hybrid", ""), labels.get("x-x-mono", ""), labels.get("x-y", ""))
    note = _note(cfg, datasets)
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_path(folder / "table.csv") as tmp:
        table.to_csv(tmp, index=False)
    md = "\n\n".join(
        [
            f"# Experiment {cfg.name}",
            cfg.description,
            to_markdown(table),
            note,
            "Where the paper found hybrid (arXiv 2408.10536):\n" + "\n".join(f"- {c}" for c in checks),
        ]
    )
    with atomic_path(folder / "table.md") as tmp:
        tmp.write_text(md + "\n", encoding="utf-8")
    # one entry per invocation: a re-run that reuses everything must not hide the first run's timings
    meta = folder / "experiment.json"
    previous = read_json(meta).get("invocations", []) if meta.is_file() else []
    invocation = {"finished": now_iso(), "timings_seconds": {k: round(v, 1) for k, v in timings.items()}}
    write_json(
        meta,
        {
            "name": cfg.name,
            "config": json.loads(json.dumps(dataclasses.asdict(cfg))),
            "runs": [r["run"] for r in rows],
            "datasets": [d.name for d in datasets],
            "checks": checks,
            "invocations": [*previous, invocation],
        },
    )
    log(md)
    log(f"\nwritten to {folder} ({timings['total'] / 60:.1f} min)")
    return table, folder


def _note(cfg: ExperimentConfig, datasets: list) -> str:
    sample = (
        f"a seeded sample of {cfg.eval_max_questions} question ids (seed {cfg.eval_seed}) per set, every "
        "language, candidates from the paragraphs of those questions"
        if cfg.eval_max_questions
        else "whole sets"
    )
    t = cfg.train
    return (
        f"Training: {t.train_data} ({'article-disjoint train split' if t.train_split == 'train' else 'all'}), "
        f"{t.steps} steps x batch {t.batch_size}, lr {t.lr}, wd {t.weight_decay}, temperature {t.temperature}, "
        f"seq {t.max_seq_length}, seed {t.seed}. Evaluation ({_precision_note(cfg.eval_precision)}) on {sample}: "
        + ", ".join(f"{d.name} ({len(d.queries)} queries, {len(d.corpus)} candidates)" for d in datasets)
        + ". mAP as in LAReQA; RD = rank distance (Huang et al. 2023), lower is less language bias."
    )


def _precision_note(precision: str) -> str:
    if precision == "fp32":
        return "fp32 encoding"
    return f"{precision} encoding: the ONNX Runtime dynamic int8 export of each model, see README 'Speed'"
