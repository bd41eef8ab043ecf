"""A study's plan: the runs to train or merge, the evaluations to do, what is on disk, and a wall-time estimate.

The estimate multiplies the remaining work by measured rates: seconds per training pair from the
``seconds`` of recent runs' ``train_log.jsonl`` lines, and encoded texts per second from the timings of
cold evaluations in their ``summary.json`` files. Without such runs it uses the defaults below,
measured on 2 idle cores (README: the quick experiment trained at ~1.2 s/step with batch 16 and
sequence length 64; a cold full XQuAD-R evaluation encoded 26,104 texts in 270 s, MLQA-R 24,733 in
309 s). A machine shared with other work is slower: the estimate says which rates it used.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path

from hybrid_core import paths
from hybrid_core.runs import RunStore
from hybrid_core.studies.spec import Arm, StudySpec

DEFAULT_SECONDS_PER_PAIR = 1.2 / 16  # training, 2 idle cores, seq 64, frozen word embeddings
# cold fp32 encoding with multilingual-e5-small on 2 idle cores: 47.2 texts/s (bench_int8, 600 XQuAD-R passages,
# AVX-512 VNNI EPYC) and 47.8 (AVX2-only machine); 85 was an early optimistic figure that underestimated evaluation
DEFAULT_TEXTS_PER_SECOND = 50.0
MERGE_SECONDS = 15.0  # read two models, interpolate, write one
LOAD_SECONDS = 10.0  # model load + data set-up per trained / evaluated run
# a masked-LM (DAPT) step of 8 passages with multilingual-e5-small: measured 72.3 s for 4 steps (`dapt --steps 4
# --batch-size 8 --max-seq-length 128`, 2 cores shared with a training job); the 250k-word output layer and the
# optimizer over all weights dominate, so the step costs about the same for short and long passages
DAPT_SECONDS_PER_STEP_OF_8 = 18.0


def studies_dir(explicit: str | Path | None = None) -> Path:
    """Where study folders live: ``$HYBRID_IR_STUDIES`` or ``<cache>/studies``."""
    import os

    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get("HYBRID_IR_STUDIES")
    return Path(env).expanduser() if env else paths.cache_dir() / "studies"


@dataclass
class Cell:
    """One run of the study: trained, merged, or the untrained base model evaluated."""

    run: str
    kind: str  # "train", "merge" or "base"
    arm: str  # arm label ("base" for the untrained model)
    series: str
    seed: int | None
    axis: float | None = None
    axis_name: str | None = None
    steps: int = 0
    batch_size: int = 0
    sources: list[str] = field(default_factory=list)  # merge: [run a, run b]
    lam: float | None = None
    shared: bool = False  # ``run`` was trained by another study with identical options (spec.share_runs)
    state: str = "todo"  # "done", "partial", "todo"
    done_steps: int = 0
    evals_done: list[str] = field(default_factory=list)


@dataclass
class Plan:
    """Everything a study will do, and what of it is already on disk."""

    study: str
    size: str
    spec_path: str
    cells: list[Cell]
    datasets: list[dict]  # name, spec, queries, questions, candidates, languages, sampled
    seen_languages: list[str]
    rates: dict
    mde: list[str] = field(default_factory=list)  # projected MDE lines (from a finished size of the study)
    noisy: list[dict] = field(default_factory=list)  # name, base, noise, family, level, seed, queries
    dictionaries: dict = field(default_factory=dict)  # folder, pairs to induce, texts to encode
    dapt: list[dict] = field(default_factory=list)  # DAPT stages: folder, steps, batch size, done steps, source
    seeds: list[int] = field(default_factory=list)  # the training seeds of this plan
    size_seeds: list[int] | None = None  # the size's own seeds when --seeds chose others

    @property
    def eval_names(self) -> list[str]:
        """Every evaluated set: the clean ones, then their noisy versions."""
        return [d["name"] for d in self.datasets] + [d["name"] for d in self.noisy]

    def to_dict(self) -> dict:
        return json.loads(json.dumps(asdict(self)))

    @property
    def evaluations(self) -> list[tuple[str, str, bool]]:
        """(run, data set, on disk) for every evaluation of the study."""
        return [(c.run, name, name in c.evals_done) for c in self.cells for name in self.eval_names]

    def estimate_seconds(self) -> dict[str, float]:
        """Remaining seconds by activity (training, merging, encoding) from the plan's rates."""
        train = sum(
            (c.steps - c.done_steps) * c.batch_size * self.rates["seconds_per_pair"] + LOAD_SECONDS
            for c in self.cells
            if c.kind == "train" and c.state != "done"
        )
        merge = sum(MERGE_SECONDS for c in self.cells if c.kind == "merge" and c.state != "done")
        clean = {d["name"] for d in self.datasets}
        texts = {d["name"]: d["queries"] + d["candidates"] for d in self.datasets}
        # a noisy evaluation encodes its perturbed queries; the candidates come from the embedding cache
        texts.update({d["name"]: d["queries"] for d in self.noisy})
        # a merge at lambda 0 or 1 is a copy of a trained model: its embeddings are in the cache already
        encode = sum(
            (0.0 if c.kind == "merge" and c.lam in (0.0, 1.0) else texts[d] / self.rates["texts_per_second"])
            + (LOAD_SECONDS if d in clean else 0.0)  # the model loads once per run for all its sets
            for c in self.cells
            for d in texts
            if d not in c.evals_done
        )
        dicts = self.dictionaries.get("texts", 0) / self.rates["texts_per_second"] + (
            LOAD_SECONDS if self.dictionaries.get("todo") else 0.0
        )
        dapt = sum(
            (d["steps"] - d["done_steps"]) * DAPT_SECONDS_PER_STEP_OF_8 * max(1.0, d["batch_size"] / 8) + LOAD_SECONDS
            for d in self.dapt
            if d["state"] != "done"
        )
        total = train + merge + encode + dicts + dapt
        out = {"train": train, "merge": merge, "evaluate": encode}
        if self.dictionaries:
            out["dictionaries"] = dicts
        if self.dapt:
            out["dapt"] = dapt
        return {**out, "total": total}

    def describe(self) -> str:
        """The dry run's text: runs, evaluations, what exists, and the estimate."""
        lines = [f"study {self.study} (size {self.size}) from {self.spec_path}"]
        lines.append("evaluation sets:")
        for d in self.datasets:
            how = f"seeded sample of {d['questions']} questions" if d["sampled"] else "whole set"
            how += f", encoded in {d['precision']}" if d.get("precision", "fp32") != "fp32" else ""
            lines.append(
                f"  {d['name']} ({d['spec']}): {how}, {d['queries']} queries, {d['candidates']} candidates, "
                f"languages {', '.join(d['languages'])}"
            )
        for d in self.noisy:
            lines.append(
                f"  {d['name']}: {d['base']} with queries perturbed by {d['noise']} (seed {d['seed']}; "
                f"{d['changed']} of {d['queries']} queries changed; candidates clean)"
            )
        lines.append(f"languages seen in training: {', '.join(self.seen_languages)}")
        if self.dictionaries:
            d = self.dictionaries
            lines.append(
                f"dictionaries (for @induced): {len(d['pairs'])} pairs in {d['folder']}, "
                + (
                    f"{len(d['todo'])} to induce ({', '.join(f'{a}->{b}' for a, b in d['todo'])})"
                    if d["todo"]
                    else "all on disk"
                )
            )
        for d in self.dapt:
            state = {"done": "on disk", "partial": f"resume at step {d['done_steps']}", "todo": "to do"}[d["state"]]
            lines.append(
                f"DAPT stage {d['folder']}: masked-LM {d['steps']} steps x batch {d['batch_size']} on {d['source']} "
                f"[{state}]"
            )
        lines.append(f"runs ({len(self.cells)}):")
        for c in self.cells:
            what = {
                "train": f"train {c.steps} steps x batch {c.batch_size}",
                "merge": f"merge {c.sources[0]} + {c.sources[1]} at lambda {c.lam:g}" if c.sources else "merge",
                "base": "evaluate the untrained model",
            }[c.kind]
            state = {"done": "on disk", "partial": f"resume at step {c.done_steps}", "todo": "to do"}[c.state]
            if c.shared:
                state += ", shared: identical options to this study's arm"
            if c.kind == "base":
                state = "-"
            evals = f"evals on disk: {', '.join(c.evals_done) or 'none'}"
            lines.append(f"  {c.run}: {what} [{state}; {evals}]")
        todo = [e for e in self.evaluations if not e[2]]
        lines.append(f"evaluations: {len(self.evaluations)} ({len(self.evaluations) - len(todo)} on disk)")
        if self.noisy:
            noisy = {d["name"] for d in self.noisy}
            n_noisy = [e for e in self.evaluations if e[1] in noisy]
            lines.append(
                f"  of which noisy: {len(n_noisy)} ({sum(e[2] for e in n_noisy)} on disk; each encodes its "
                "perturbed queries only, the candidates come from the embedding cache of the clean evaluation)"
            )
        est = self.estimate_seconds()
        lines.append(
            "estimated wall time: "
            + ", ".join(f"{k} {v / 60:.1f} min" for k, v in est.items())
            + f" (rates of this machine: {self.rates['seconds_per_pair'] * 16:.2f} s per step of 16 pairs, "
            f"{self.rates['texts_per_second']:.0f} texts/s encoding; {self.rates['source']})"
        )
        if self.mde:
            lines.append("minimum detectable effect, macro multi mAP (80% power, two-sided .05 / m):")
            lines += [f"  {line}" for line in self.mde]
        return "\n".join(lines)


def measured_rates(store: RunStore, max_runs: int = 20) -> dict:
    """Seconds per training pair and cold-encoding texts per second from runs on disk (defaults otherwise)."""
    per_pair: list[float] = []
    per_text: list[float] = []
    runs = sorted(store.list(), key=lambda r: r.mtime_key(), reverse=True)[:max_runs]
    for run in runs:
        log = run.path / "train_log.jsonl"
        try:
            batch = run.info.get("config", {}).get("batch_size")
        except Exception:  # an unreadable run tells us nothing
            continue
        if log.is_file() and batch:
            secs = []
            with log.open(encoding="utf-8") as fh:
                for i, line in enumerate(fh):
                    if i >= 400:
                        break
                    try:
                        s = json.loads(line).get("seconds")
                    except ValueError:
                        continue
                    if s:
                        secs.append(s)
            if len(secs) >= 5:
                per_pair.append(statistics.median(secs[2:]) / batch)  # the first steps warm up
        for ds in run.datasets():
            try:
                summ = run.summary(ds)
            except Exception:
                continue
            enc = (summ.get("timings") or {}).get("encode_seconds") or 0
            data = summ.get("data") or {}
            n = (data.get("queries") or 0) + (data.get("candidates") or 0)
            if enc > 20 and n:  # a cold evaluation, not a cache read
                per_text.append(n / enc)
    source = []
    source.append(f"training from {len(per_pair)} run log(s)" if per_pair else "training default")
    source.append(f"encoding from {len(per_text)} cold evaluation(s)" if per_text else "encoding default")
    return {
        "seconds_per_pair": statistics.median(per_pair) if per_pair else DEFAULT_SECONDS_PER_PAIR,
        "texts_per_second": statistics.median(per_text) if per_text else DEFAULT_TEXTS_PER_SECOND,
        "source": ", ".join(source),
    }


def eval_datasets(spec: StudySpec, data_dir=None) -> list:
    """The evaluation sets of the study at its size (whole sets unless the size samples)."""
    from hybrid_core.data.specs import load_data_spec

    split = {
        "test_fraction": spec.train.get("split_test_fraction", 0.2),
        "split_seed": spec.train.get("split_seed", 0),
    }
    return [
        load_data_spec(d, data_dir=data_dir, max_questions=spec.max_questions, sample_seed=spec.sample_seed, **split)
        for d in spec.eval_data
    ]


def noisy_datasets(spec: StudySpec, datasets: list) -> list[tuple]:
    """``(clean, noisy)`` pairs: each evaluation set with its queries perturbed by each ``[eval] noise`` spec."""
    from hybrid_core.augment.perturb import perturb_queries

    return [(ds, perturb_queries(ds, noise, spec.noise_seed)) for noise in spec.noise for ds in datasets]


def noisy_info(pairs: list[tuple]) -> list[dict]:
    """Plan entries of the noisy sets (what the analysis and the dry run need to know about them)."""
    from hybrid_core.analysis.robustness import parse_noisy_name

    out = []
    for clean, noisy in pairs:
        _, items, seed = parse_noisy_name(noisy.name)
        out.append(
            {
                "name": noisy.name,
                "base": clean.name,
                "noise": ",".join(f"{k}:{r:g}" for k, r in items),
                "family": "+".join(k for k, _ in items),
                "level": float(sum(r for _, r in items)),
                "seed": seed,
                "queries": len(noisy.queries),
                "changed": int((noisy.queries["text"].to_numpy() != clean.queries["text"].to_numpy()).sum()),
            }
        )
    return out


def seen_languages(spec: StudySpec, data_dir=None) -> list[str]:
    """Languages in the training pairs of every trained arm (train data, minus held-out languages)."""
    from hybrid_core.data.specs import load_data_spec

    cache: dict[tuple, list[str]] = {}
    seen: set[str] | None = None
    for arm in spec.arms:
        if arm.is_merge:
            continue
        cfg = spec.train_config(arm, spec.seeds[0])
        key = (cfg.train_data, cfg.train_split, cfg.split_test_fraction, cfg.split_seed)
        if key not in cache:
            ds = load_data_spec(
                cfg.train_data + (":train" if cfg.train_split == "train" else ""),
                data_dir=data_dir,
                test_fraction=cfg.split_test_fraction,
                split_seed=cfg.split_seed,
            )
            cache[key] = ds.languages
        langs = set(cfg.train_languages or cache[key]) - set(cfg.exclude_languages or ())
        if not langs:
            from hybrid_core.studies.spec import StudyError

            raise StudyError(f"{spec.path}: arm {arm.label!r} excludes every training language")
        seen = langs if seen is None else seen & langs
    return sorted(seen or ())


def _cell_state(store: RunStore, cell: Cell, dataset_fps: dict[str, str]) -> None:
    if not store.exists(cell.run):
        return
    run = store.get(cell.run)
    try:
        info = run.info
    except Exception:
        return
    cell.evals_done = [name for name, fp in dataset_fps.items() if run.has_result(name, fp)]
    if cell.kind == "base":
        cell.state = "done"
        return
    done = info.get("status") == "done" and (run.path / "model").is_dir()
    cell.done_steps = int(info.get("steps") or 0) if cell.kind == "train" else 0
    if cell.kind == "train" and not done:
        from hybrid_core.training.trainer import latest_checkpoint

        ckpt = latest_checkpoint(run)
        cell.done_steps = ckpt[0] if ckpt else 0
    cell.state = "done" if done else "partial"
    if not done:
        cell.evals_done = []  # results of an unfinished model are not the study's


def _share_identical_runs(spec: StudySpec, store: RunStore, cells: list[Cell]) -> None:
    """Point each train cell not yet started at a finished run trained with identical options, if one exists;
    merge cells follow their sources there."""
    from hybrid_core.training.trainer import trained_alike

    renamed: dict[str, str] = {}
    for c in cells:
        if c.kind == "train" and not store.exists(c.run):
            twin = trained_alike(store, spec.train_config(spec.arm(c.arm), c.seed))
            if twin is not None:
                renamed[c.run], c.run, c.shared = twin.name, twin.name, True
    for c in cells:
        if c.kind == "merge":
            c.sources = [renamed.get(s, s) for s in c.sources]


def build_plan(spec: StudySpec, *, runs_dir=None, data_dir=None, datasets=None, noisy=None, out_root=None) -> Plan:
    """The plan of ``spec`` against the run store (loads the evaluation sets: bad specs fail here).

    ``noisy``: the ``(clean, noisy)`` pairs of :func:`noisy_datasets` when the caller has them already."""
    from hybrid_core.evaluation.run_eval import data_key, result_name

    store = RunStore(runs_dir)
    datasets = datasets if datasets is not None else eval_datasets(spec, data_dir)
    noisy = noisy if noisy is not None else noisy_datasets(spec, datasets)
    fps = {
        result_name(ds.name, spec.precision): data_key(ds, spec.precision) for ds in [*datasets, *(n for _, n in noisy)]
    }
    cells = [Cell(spec.base_run, "base", "base", "base", None)]
    for seed in spec.seeds:
        for arm in spec.arms:
            cells.append(_cell(spec, arm, seed))
    if spec.share_runs:
        _share_identical_runs(spec, store, cells)
    for c in cells:
        _cell_state(store, c, fps)
    ds_info = [
        {
            "name": result_name(ds.name, spec.precision),
            "spec": spec_text,
            "precision": spec.precision,
            "queries": len(ds.queries),
            "questions": int(ds.queries["question_id"].nunique()),
            "candidates": len(ds.corpus),
            "languages": list(ds.languages),
            "sampled": spec.max_questions is not None,
            "sample_seed": spec.sample_seed if spec.max_questions is not None else None,
        }
        for ds, spec_text in zip(datasets, spec.eval_data, strict=True)
    ]
    plan = Plan(
        spec.name,
        spec.size,
        spec.path,
        cells,
        ds_info,
        seen_languages(spec, data_dir),
        measured_rates(store),
        noisy=noisy_info(noisy),
    )
    plan.dapt = dapt_stages(spec)
    plan.seeds = list(spec.seeds)
    plan.size_seeds = list(spec.size_seeds) if spec.size_seeds is not None else None
    if spec.dictionaries is not None:
        from hybrid_core.studies import dictionaries

        todo = dictionaries.missing(spec.dictionaries, spec.base_model, spec.train)
        plan.dictionaries = {
            "folder": str(dictionaries.folder(spec.dictionaries, spec.base_model, spec.train)),
            "pairs": [list(p) for p in dictionaries.pairs_of(spec.dictionaries)],
            "todo": [list(p) for p in todo],
            "texts": 2 * spec.dictionaries["max_pairs"] * len(todo),
        }
    plan.mde = projected_mde(spec, plan, out_root)
    return plan


def dapt_stages(spec: StudySpec) -> list[dict]:
    """The study's masked-LM stages (one per distinct DAPT config), their arms, source and what is on disk."""
    from hybrid_core.io_utils import read_json
    from hybrid_core.training.dapt import INFO_FILE

    stages: dict[str, dict] = {}
    for arm in spec.arms:
        cfg = spec.dapt_config(arm)
        if cfg is None:
            continue
        folder = spec.dapt_folder(arm)
        if str(folder) in stages:
            stages[str(folder)]["arms"].append(arm.label)
            continue
        info = read_json(folder / INFO_FILE) if (folder / INFO_FILE).is_file() else {}
        done = info.get("status") == "done" and (folder / "model").is_dir()
        stages[str(folder)] = {
            "folder": str(folder),
            "arms": [arm.label],
            "steps": cfg.steps,
            "batch_size": cfg.batch_size,
            "done_steps": int(info.get("steps") or 0),
            "state": "done" if done else ("partial" if info else "todo"),
            # what dapt.py records as dapt_source; "target-set" text is the evaluation domain (unlabeled)
            "source": f"file:{Path(cfg.text_file).name}"
            if cfg.text_file
            else f"target-set:{cfg.data}" + (f"[{','.join(cfg.languages)}]" if cfg.languages else ""),
        }
    return list(stages.values())


#: The MDE on macro multi mAP a study size aims for; the dry run says how many seeds reach it.
MDE_TARGET = 0.01


def projected_mde(spec: StudySpec, plan: Plan, out_root=None) -> list[str]:
    """The MDE on macro multi mAP this size should reach, projected from a finished size of the same study, with
    the family size of this plan: the question SE scales as ``sqrt(questions there / questions here)`` (a mean
    over independent questions) and, when the finished size had >= 2 seeds, its seed SE as ``sqrt(seeds there /
    seeds here)``; the two add in quadrature at the Welch-Satterthwaite degrees of freedom, as in the seed-aware
    test (:func:`~hybrid_core.analysis.stats.seed_aware_mde`), and the line adds how many seeds per arm reach
    :data:`MDE_TARGET`. From a one-seed size only the question part is known, and the line says so."""
    import math

    import pandas as pd

    from hybrid_core.analysis import stats

    tested = [a for a in spec.arms if a.label != spec.baseline]
    m = 4 * len(tested)
    for pilot in sorted(studies_dir(out_root).glob(f"{spec.name}/*/results.csv")):
        if pilot.parent.name == spec.size:
            continue
        try:
            res = pd.read_csv(pilot)
        except Exception:  # a damaged pilot is no evidence
            continue
        res = res[(res["slice"] == "all") & (res["kind"] == "multi") & (res["metric"] == "map") & res["se"].notna()]
        out = []
        for d in plan.datasets:
            r = res[res["dataset"].str.split("-q").str[0] == d["name"].split("-q")[0]]
            if r.empty or not m:
                continue
            se_q = r["se_questions"] if "se_questions" in r and r["se_questions"].notna().all() else r["se"]
            n_there, n_here = float(r["n_questions"].median()), d["questions"]
            se_q_here = float(se_q.median()) * math.sqrt(n_there / n_here)
            k_here = len(spec.seeds)
            where = f"projected from the {pilot.parent.name} size: question SE {float(se_q.median()):.4f} on "
            where += f"{int(n_there)} questions"
            if "se_seeds" in r and r["se_seeds"].notna().any():
                k_there = float(r["n_seeds"].median())
                seed_sd = float(r["se_seeds"].median()) * math.sqrt(k_there / 2)  # se_seeds^2 = 2 sd^2 / k
                where += f", seed SD {seed_sd:.4f} over {k_there:g} seeds"
                if k_here >= 2:
                    value = stats.seed_aware_mde(se_q_here, n_here, seed_sd, k_here, m=m)
                else:
                    value = stats.mde(se_q_here, m=m)
                    where += "; one seed here: the test leaves seed variance out"
                need = stats.seeds_for_mde(MDE_TARGET, se_q_here, n_here, seed_sd, m=m)
                needs = (
                    f"; MDE {MDE_TARGET} needs {need} seeds per arm"
                    if need
                    else f"; MDE {MDE_TARGET} is out of reach: the question SE alone gives "
                    f"{stats.mde(se_q_here, m=m):.4f}"
                )
            else:
                value = stats.mde(se_q_here, m=m)
                where += "; question variance only: seed-to-seed variance, not measured there, adds to it"
                needs = ""
            out.append(f"{d['name']}: {value:.4f} (m = {m} comparisons; {where}{needs})")
        if out:
            return out
    return [f"no finished size of {spec.name!r} to project from: run --size quick first (m = {m} comparisons)"]


def _cell(spec: StudySpec, arm: Arm, seed: int) -> Cell:
    run = spec.run_name(arm, seed)
    if arm.is_merge:
        a, b, lam = arm.merge
        return Cell(
            run,
            "merge",
            arm.label,
            arm.series,
            seed,
            arm.axis,
            arm.axis_name,
            sources=[spec.run_name(spec.arm(a), seed), spec.run_name(spec.arm(b), seed)],
            lam=lam,
        )
    cfg = spec.train_config(arm, seed)
    return Cell(run, "train", arm.label, arm.series, seed, arm.axis, arm.axis_name, cfg.steps, cfg.batch_size)
