"""Study files: parse and validate a TOML study before anything is trained.

A study names a base model, the shared training options, the evaluation sets, the arms (each a
sampler and options; a list value is a grid axis), the seeds, sizes that scale it to a machine, and
how its tables are sliced::

    name = "alpha-sweep"
    description = "Mono vs cross vs multi retrieval as the share of X-X-mono batches grows"
    base_model = "default"            # "default" (multilingual-e5-small) or a sentence-transformers name / folder
    seeds = [0, 1, 2]
    baseline = "hybrid-a0.5"          # every arm is compared with this one (paired tests over questions)
    correction = "holm"               # "holm" (family-wise) or "bh" (false discovery rate)
    share_runs = true                 # reuse finished runs of other studies trained with identical options

    [train]                           # any TrainConfig option, shared by every arm
    train_data = "mlqa-r"
    train_split = "train"
    steps = 400

    [eval]
    data = ["xquad-r", "mlqa-r:test"] # data specs (hybrid_core.data.specs)
    # max_questions = 200             # a seeded question sample; absent = the whole sets (the default)
    # precision = "int8"              # encode with the int8 export (faster; README: precision); default fp32

    [slices]
    low_resource = ["hi", "tr"]       # absent = the 3 eval languages with the least CC-100 data

    [[arm]]
    name = "hybrid"
    sampler = "hybrid"
    alpha = [0.0, 0.25, 0.5, 0.75, 1.0]   # a list is a grid axis: arms hybrid-a0, hybrid-a0.25, ...

    [[arm]]
    name = "x-y"
    sampler = "x-y"                   # alpha 0 in curves; `series` puts it on the hybrid arms' curve
    series = "hybrid"

    [[arm]]
    name = "soup"
    merge = ["hybrid-a0", "hybrid-a1", [0.0, 0.5, 1.0]]   # weight interpolation, lambda = share of the 2nd

    [sizes.quick]                     # overrides for `--size quick`: training options, seeds, eval sample
    steps = 30
    seeds = [0]
    max_questions = 40

Robustness and augmentation (see the README's studies section):

- ``[eval] noise = ["typos:0.1", ...]`` and ``noise_seed``: every cell is also evaluated on each set with its
  queries perturbed (:mod:`hybrid_core.studies.robustness` analyses it); sizes may override both;
- ``[dictionaries]`` (languages, pivot, max_pairs, min_count, method, seed): how the ``@induced`` dictionaries
  named in an ``augment`` / ``translate_train`` option are induced (:mod:`hybrid_core.studies.dictionaries`);
- an arm's ``dapt = {steps = 200, text = "target", ...}``: a masked-LM stage before training (cached,
  resumable; ``text``: "target" = the first evaluation set's passages, a data spec, or "file:<path>");
  ``sizes.<size>.dapt_steps`` overrides its steps;
- the training options ``reduce_languages`` / ``reduce_fraction`` / ``reduce_seed`` / ``translate_train`` work
  like any other (low-resource simulation, :func:`hybrid_core.training.pairs.reduce_pairs`).

Precedence of training options: ``[train]`` < ``[sizes.<size>]`` < the arm's own keys. Every unknown
key, wrong type or impossible value raises :class:`StudyError` naming the file and the key.
"""

from __future__ import annotations

import dataclasses
import itertools
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hybrid_core.errors import HybridIRError
from hybrid_core.runs import validate_name

PRESETS_DIR = Path(__file__).resolve().parent / "presets"
SIZES = ("quick", "medium", "full")
TOP_KEYS = {
    "name",
    "description",
    "base_model",
    "seeds",
    "baseline",
    "correction",
    "train",
    "eval",
    "slices",
    "arm",
    "sizes",
    "reported",
    "dictionaries",
    "share_runs",
}
EVAL_KEYS = {"data", "max_questions", "sample_seed", "noise", "noise_seed", "precision"}
SLICE_KEYS = {"low_resource", "low_resource_count", "per_language"}
ARM_KEYS = {"name", "merge", "dapt", "series"}
#: Keys of an arm's ``dapt = {...}`` table (a masked-LM stage before training; hybrid_core.training.dapt).
DAPT_KEYS = {
    "text",
    "languages",
    "steps",
    "batch_size",
    "lr",
    "warmup_steps",
    "mlm_probability",
    "max_seq_length",
    "seed",
    "checkpoint_every",
}
SIZE_EXTRA_KEYS = {
    "seeds",
    "max_questions",
    "sample_seed",
    "data",
    "noise",
    "noise_seed",
    "dapt_steps",
    "description",
    "precision",
}
#: Options whose value is itself a list: a grid over them is a list of lists.
LIST_OPTIONS = {"train_languages", "exclude_languages", "reduce_languages"}
#: Keys set by the study itself, not by the file's [train] / arm tables.
RESERVED_TRAIN_KEYS = {"seed", "model", "eval_data", "eval_max_questions", "eval_every"}


class StudyError(HybridIRError):
    """An invalid study file (unknown key, wrong type, impossible value)."""


def seeds_problem(seeds) -> str | None:
    """What is wrong with a list of training seeds (a file's ``seeds`` or ``--seeds``), or None."""
    if not isinstance(seeds, list) or not seeds or not all(type(s) is int and s >= 0 for s in seeds):
        return f"must be a non-empty list of integers >= 0, got {seeds!r}"
    if len(set(seeds)) != len(seeds):
        return f"repeats a seed: {seeds!r}"
    return None


def _train_fields() -> dict[str, dataclasses.Field]:
    from hybrid_core.training.trainer import TrainConfig

    return {f.name: f for f in dataclasses.fields(TrainConfig)}


@dataclass(frozen=True)
class Arm:
    """One expanded training condition (or a merge of two), before seeds."""

    label: str  # run-name part, e.g. "hybrid-a0.25"
    series: str  # curve name (the arm table's `series`, else its name): arms of one series share a curve
    options: dict[str, Any] = field(default_factory=dict)  # TrainConfig options of this arm
    merge: tuple[str, str, float] | None = None  # (arm a, arm b, lambda): (1 - lambda) a + lambda b
    axis: float | None = None  # the arm's x position in curves: effective alpha or lambda
    axis_name: str | None = None  # "alpha" or "lambda"
    name: str = ""  # the [[arm]] table's name (error messages name it)
    dapt: tuple[tuple[str, Any], ...] | None = None  # DaptConfig options of a masked-LM stage before training

    @property
    def is_merge(self) -> bool:
        return self.merge is not None


@dataclass(frozen=True)
class StudySpec:
    """A validated study at one size."""

    name: str
    path: str
    size: str
    description: str
    base_model: str | None
    seeds: tuple[int, ...]
    baseline: str
    correction: str
    train: dict[str, Any]  # shared TrainConfig options (size overrides applied)
    eval_data: tuple[str, ...]
    max_questions: int | None
    precision: str  # encoding precision of every evaluation ("fp32" or "int8": hybrid_core.models.precision)
    sample_seed: int
    arms: tuple[Arm, ...]
    low_resource: tuple[str, ...] | None
    low_resource_count: int
    per_language: bool
    reported: bool  # show the paper's published numbers beside the measured table
    share_runs: bool  # reuse a finished run of any study trained with identical options (trainer.trained_alike)
    sizes: tuple[str, ...]  # sizes the file defines
    noise: tuple[str, ...] = ()  # noise specs: every cell is also evaluated on queries perturbed so
    noise_seed: int = 0  # seed of the query noise
    dictionaries: dict | None = None  # [dictionaries]: how "@induced" dictionaries are made (studies.dictionaries)
    size_seeds: tuple[int, ...] | None = None  # the size's own seeds when ``with_seeds`` replaced them

    def with_seeds(self, seeds) -> StudySpec:
        """The study over other training ``seeds`` (the command line's ``--seeds``): same run names, so every finished
        run is reused; its tables go to their own folder (:attr:`folder_name`) and say which seeds they hold."""
        seeds = list(seeds)
        problem = seeds_problem(seeds)
        if problem:
            raise StudyError(f"{self.path}: --seeds {problem}")
        own = self.size_seeds or self.seeds
        if tuple(seeds) == own:
            return dataclasses.replace(self, seeds=own, size_seeds=None)
        return dataclasses.replace(self, seeds=tuple(seeds), size_seeds=own)

    @property
    def folder_name(self) -> str:
        """``<size>``, or ``<size>-seeds0-1`` when the seeds are not the size's own."""
        return self.size if self.size_seeds is None else f"{self.size}-seeds{'-'.join(map(str, self.seeds))}"

    def train_config(self, arm: Arm, seed: int):
        """The TrainConfig of ``arm`` at ``seed`` (not for merge arms)."""
        from hybrid_core.training.trainer import TrainConfig, validate_config

        opts = {**self.train, **arm.options, "seed": seed, "model": self.base_model}
        if arm.dapt is not None:
            opts["model"] = str(self.dapt_folder(arm) / "model")  # training starts from the DAPT model
        if self.dictionaries is not None:
            from hybrid_core.studies import dictionaries

            for k in ("augment", "translate_train"):
                if isinstance(opts.get(k), str):
                    opts[k] = dictionaries.resolve(opts[k], self.dictionaries, self.base_model, self.train)
        for k in LIST_OPTIONS:
            if opts.get(k) is not None:
                opts[k] = tuple(opts[k])
        return validate_config(TrainConfig.from_dict(opts))

    def dapt_config(self, arm: Arm):
        """The :class:`~hybrid_core.training.dapt.DaptConfig` of ``arm``'s masked-LM stage (None without one)."""
        if arm.dapt is None:
            return None
        from hybrid_core.training.dapt import DaptConfig, validate

        o = dict(arm.dapt)
        text = o.pop("text", "target")
        source = {"text_file": text[5:]} if text.startswith("file:") else {"data": self.dapt_data(text)}
        if o.get("languages") is not None:
            o["languages"] = tuple(o["languages"])
        return validate(DaptConfig(model=self.base_model, **source, **o))

    def dapt_data(self, text: str) -> str:
        """``"target"`` is the study's first evaluation set (its candidate passages, whole); else a data spec."""
        return self.eval_data[0] if text == "target" else text

    def dapt_folder(self, arm: Arm) -> Path:
        """``<cache>/dapt/<hash of the DAPT config>``: one stage shared by every arm, seed and study asking for it."""
        import hashlib
        import json

        from hybrid_core import paths

        cfg = self.dapt_config(arm).to_dict()
        key = hashlib.sha256(json.dumps(cfg, sort_keys=True).encode()).hexdigest()[:12]
        return paths.cache_dir() / "dapt" / key

    def run_name(self, arm: Arm, seed: int | None) -> str:
        return f"{self.name}-{self.size}-{arm.label}" + (f"-s{seed}" if seed is not None else "")

    @property
    def base_run(self) -> str:
        return f"{self.name}-{self.size}-base"

    def arm(self, label: str) -> Arm:
        for a in self.arms:
            if a.label == label:
                return a
        raise StudyError(f"study {self.name!r}: no arm {label!r}; arms: {[a.label for a in self.arms]}")


# --------------------------------------------------------------------------- reading


def resolve_study_path(name_or_path: str | Path) -> Path:
    """A shipped study by name (``alpha-sweep``) or a path to a ``.toml`` file."""
    path = Path(name_or_path)
    if path.suffix != ".toml" and not path.is_file():
        path = PRESETS_DIR / f"{name_or_path}.toml"
    if not path.is_file():
        shipped = ", ".join(shipped_studies())
        raise StudyError(f"no study file {str(name_or_path)!r}; shipped studies: {shipped}, or a path to a .toml file")
    return path


def shipped_studies() -> list[str]:
    """Names of the study files shipped in ``presets/`` (what ``study NAME`` accepts), sorted."""
    return sorted(p.stem for p in PRESETS_DIR.glob("*.toml"))


def load_study(name_or_path: str | Path, size: str | None = None) -> StudySpec:
    """Read and validate a study file at ``size`` (default: ``quick`` when defined, else no overrides)."""
    path = resolve_study_path(name_or_path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise StudyError(f"{path}: not valid TOML ({exc})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise StudyError(f"{path}: cannot read ({exc})") from None
    return parse_study(raw, str(path), size)


def parse_study(raw: dict, path: str = "<study>", size: str | None = None) -> StudySpec:
    """Validate a parsed study dict (see the module docstring); ``path`` names the file in errors."""

    def fail(key: str, msg: str) -> None:
        raise StudyError(f"{path}: {key}: {msg}")

    def check_keys(table: Any, known: set[str], where: str) -> dict:
        if not isinstance(table, dict):
            fail(where, f"must be a table, got {type(table).__name__}")
        unknown = sorted(set(table) - known)
        if unknown:
            fail(f"{where + '.' if where else ''}{unknown[0]}", f"unknown key (known: {', '.join(sorted(known))})")
        return table

    train_fields = _train_fields()
    train_keys = set(train_fields) - RESERVED_TRAIN_KEYS
    check_keys(raw, TOP_KEYS, "")
    name = raw.get("name", Path(path).stem)
    if not isinstance(name, str):
        fail("name", "must be a string")
    try:
        validate_name(name)
    except HybridIRError as exc:
        fail("name", str(exc))
    description = raw.get("description", "")
    if not isinstance(description, str):
        fail("description", "must be a string")
    base_model = raw.get("base_model", "default")
    if not isinstance(base_model, str) or not base_model:
        fail("base_model", "must be a non-empty string ('default' or a model name / folder)")

    sizes_raw = check_keys(raw.get("sizes", {}), set(SIZES), "sizes")
    for sname, table in sizes_raw.items():
        check_keys(table, train_keys | SIZE_EXTRA_KEYS, f"sizes.{sname}")
    if size is None:
        size = "quick" if "quick" in sizes_raw else "default"
    elif size not in sizes_raw:
        defined = ", ".join(sizes_raw) or "none"
        raise StudyError(f"{path}: sizes.{size}: this study defines no size {size!r} (defined: {defined})")
    over = dict(sizes_raw.get(size, {}))
    over.pop("description", None)
    dapt_steps = over.pop("dapt_steps", None)
    if dapt_steps is not None and (not isinstance(dapt_steps, int) or isinstance(dapt_steps, bool) or dapt_steps < 1):
        fail(f"sizes.{size}.dapt_steps", f"must be a positive integer, got {dapt_steps!r}")
    where_over = f"sizes.{size}"

    def source(key: str, default_where: str) -> str:
        return f"{where_over}.{key}" if key in over else default_where

    seeds_where = source("seeds", "seeds")
    seeds = over.pop("seeds", raw.get("seeds", [0]))
    problem = seeds_problem(seeds)
    if problem:
        fail(seeds_where, problem)

    ev = check_keys(raw.get("eval", {}), EVAL_KEYS, "eval")
    eval_where = {k: source(k, f"eval.{k}") for k in EVAL_KEYS}
    ev = {**ev, **{k: over.pop(k) for k in list(over) if k in EVAL_KEYS}}
    data = ev.get("data", ["xquad-r", "mlqa-r:test"])
    if isinstance(data, str):
        data = [data]
    if not isinstance(data, list) or not data or not all(isinstance(d, str) and d.strip() for d in data):
        fail(eval_where["data"], f"must be a non-empty list of data specs, got {data!r}")
    from hybrid_core.data.specs import parse_data_spec

    for d in data:
        parse_data_spec(d)
    max_q = ev.get("max_questions")
    if max_q == "all":
        max_q = None
    if max_q is not None and (not isinstance(max_q, int) or isinstance(max_q, bool) or max_q < 1):
        fail(eval_where["max_questions"], f'must be a positive integer or "all", got {max_q!r}')
    sample_seed = ev.get("sample_seed", 0)
    if not isinstance(sample_seed, int) or sample_seed < 0:
        fail(eval_where["sample_seed"], f"must be an integer >= 0, got {sample_seed!r}")
    from hybrid_core.models.precision import PRECISIONS

    precision = ev.get("precision", "fp32")
    if precision not in PRECISIONS:
        fail(eval_where["precision"], f"must be one of {', '.join(PRECISIONS)}, got {precision!r}")

    noise = _noise_specs(ev.get("noise", []), eval_where["noise"], fail)
    noise_seed = ev.get("noise_seed", 0)
    if not isinstance(noise_seed, int) or isinstance(noise_seed, bool) or noise_seed < 0:
        fail(eval_where["noise_seed"], f"must be an integer >= 0, got {noise_seed!r}")

    train = dict(check_keys(raw.get("train", {}), train_keys, "train"))
    train_where = {k: "train." + k for k in train}
    for k in list(over):
        train[k] = over.pop(k)
        train_where[k] = f"{where_over}.{k}"
    for k, v in train.items():
        check_option_type(k, v, train_where[k], fail)

    sl = check_keys(raw.get("slices", {}), SLICE_KEYS, "slices")
    low = sl.get("low_resource")
    if low is not None and (not isinstance(low, list) or not all(isinstance(x, str) and x for x in low)):
        fail("slices.low_resource", f"must be a list of language codes, got {low!r}")
    low_count = sl.get("low_resource_count", 3)
    if not isinstance(low_count, int) or low_count < 1:
        fail("slices.low_resource_count", f"must be a positive integer, got {low_count!r}")
    per_language = sl.get("per_language", True)
    if not isinstance(per_language, bool):
        fail("slices.per_language", "must be true or false")

    correction = raw.get("correction", "holm")
    if correction not in ("holm", "bh"):
        fail("correction", f'must be "holm" or "bh", got {correction!r}')
    reported = raw.get("reported", False)
    if not isinstance(reported, bool):
        fail("reported", "must be true or false")
    share_runs = raw.get("share_runs", True)
    if not isinstance(share_runs, bool):
        fail("share_runs", "must be true or false")

    arms_raw = raw.get("arm")
    if not isinstance(arms_raw, list) or not arms_raw:
        fail("arm", "a study needs at least one [[arm]] table")
    arms: list[Arm] = []
    for i, a in enumerate(arms_raw):
        where = f"arm[{i}]"
        arm_name = a.get("name") if isinstance(a, dict) else None
        if not isinstance(arm_name, str) or not arm_name:
            fail(f"{where}.name", "every arm needs a name (a string)")
        where = f"arm[{i}] ({arm_name})"
        check_keys(a, ARM_KEYS | train_keys, where)
        series = a.get("series", arm_name)
        if not isinstance(series, str) or not series:
            fail(f"{where}.series", f"must be a non-empty string (arms with one series share a curve), got {series!r}")
        dapt = _dapt_options(a.pop("dapt", None), f"{where}.dapt", dapt_steps, fail) if "dapt" in a else None
        if "merge" in a:
            if dapt is not None:
                fail(f"{where}.dapt", "a merge arm takes only name, series and merge = [arm_a, arm_b, lambda]")
            extra = sorted(set(a) - {"name", "merge", "series"})
            if extra:
                fail(f"{where}.{extra[0]}", "a merge arm takes only name, series and merge = [arm_a, arm_b, lambda]")
            arms.extend(_merge_arms(a["merge"], arm_name, where, fail, series))
        else:
            grid = _grid_arms({k: v for k, v in a.items() if k != "series"}, arm_name, where, fail, series)
            arms.extend(dataclasses.replace(x, dapt=dapt) for x in grid)
    labels = [x.label for x in arms]
    dup = sorted({x for x in labels if labels.count(x) > 1})
    if dup:
        fail("arm", f"two arms expand to the same name {dup[0]!r}; rename one")
    trained = {x.label for x in arms if not x.is_merge}
    for x in arms:
        if x.is_merge:
            for ref in x.merge[:2]:
                if ref not in trained:
                    fail(
                        f"arm ({x.name}).merge",
                        f"{ref!r} is not a trained arm of this study (trained arms: {', '.join(sorted(trained))})",
                    )
    baseline = raw.get("baseline", labels[0])
    if baseline not in labels:
        fail("baseline", f"{baseline!r} is not an arm of this study (arms: {', '.join(labels)})")

    from hybrid_core.studies import dictionaries

    dict_settings = dictionaries.check(raw.get("dictionaries"), "dictionaries", fail)
    for x in arms:
        for k in ("augment", "translate_train"):
            v = {**train, **x.options}.get(k)
            if isinstance(v, str) and dictionaries.TOKEN in v and dict_settings is None:
                where = f"arm ({x.series}).{k}" if k in x.options else train_where.get(k, k)
                fail(where, f"{v!r} names {dictionaries.TOKEN} dictionaries: add a [dictionaries] table saying how")
    spec = StudySpec(
        name=name,
        path=path,
        size=size,
        description=description,
        base_model=None if base_model == "default" else base_model,
        seeds=tuple(seeds),
        baseline=baseline,
        correction=correction,
        train=train,
        eval_data=tuple(data),
        max_questions=max_q,
        precision=precision,
        sample_seed=sample_seed,
        arms=tuple(arms),
        low_resource=tuple(low) if low is not None else None,
        low_resource_count=low_count,
        per_language=per_language,
        reported=reported,
        share_runs=share_runs,
        sizes=tuple(sizes_raw),
        noise=noise,
        noise_seed=noise_seed,
        dictionaries=dict_settings,
    )
    # every trained cell must be a valid TrainConfig; the first invalid option names its key
    from hybrid_core.training.dapt import DaptError
    from hybrid_core.training.samplers import SamplerError
    from hybrid_core.training.trainer import TrainConfigError

    for x in arms:
        try:
            cfg = spec.dapt_config(x)
        except DaptError as exc:
            fail(f"arm ({x.series}).dapt", str(exc))
        if cfg is not None and cfg.text_file is not None and not Path(cfg.text_file).is_file():
            fail(f"arm ({x.series}).dapt.text", f"{cfg.text_file}: text file not found")
        if cfg is not None and cfg.data is not None:
            parse_data_spec(cfg.data)
    for x in arms:
        if x.is_merge:
            continue
        try:
            spec.train_config(x, seeds[0])
        except (TrainConfigError, SamplerError, HybridIRError, TypeError, ValueError) as exc:
            import re

            found = {k: re.search(rf"\b{re.escape(k)}\b", str(exc)) for k in {**train, **x.options}}
            keys = sorted((k for k, m in found.items() if m), key=lambda k: found[k].start())
            key = f"arm ({x.name})"
            if keys:
                key = f"{key}.{keys[0]}" if keys[0] in x.options else train_where[keys[0]]
            fail(key, f"arm {x.label!r}: {exc}")
    from hybrid_core.augment import AugmentError
    from hybrid_core.augment.training import build_augmenter

    for x in arms:
        validate_name(spec.run_name(x, max(seeds)))
        aug = {**train, **x.options}.get("augment")
        if isinstance(aug, str) and aug:  # @induced dictionaries are made later: check the syntax only
            try:
                build_augmenter(aug, {**train, **x.options}.get("augment_prob", 0.5), 0, dictionaries.TOKEN not in aug)
            except AugmentError as exc:
                fail(f"arm ({x.series}).augment" if "augment" in x.options else train_where["augment"], str(exc))
    return spec


def _dapt_options(value: Any, where: str, size_steps: int | None, fail) -> tuple[tuple[str, Any], ...]:
    """An arm's ``dapt = {steps = 200, text = "target"}`` (``text``: "target", a data spec or "file:<path>")."""
    if not isinstance(value, dict):
        fail(where, 'must be a table such as { steps = 200, text = "target" }')
    unknown = sorted(set(value) - DAPT_KEYS)
    if unknown:
        fail(f"{where}.{unknown[0]}", f"unknown key (known: {', '.join(sorted(DAPT_KEYS))})")
    text = value.get("text", "target")
    if not isinstance(text, str) or not text.strip() or text == "file:":
        fail(f"{where}.text", f'must be "target", a data spec or "file:<path>", got {text!r}')
    for k in ("steps", "batch_size", "warmup_steps", "max_seq_length", "seed", "checkpoint_every"):
        v = value.get(k)
        if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 0):
            fail(f"{where}.{k}", f"must be an integer >= 0, got {v!r}")
    for k in ("lr", "mlm_probability"):
        v = value.get(k)
        if v is not None and (not isinstance(v, int | float) or isinstance(v, bool)):
            fail(f"{where}.{k}", f"must be a number, got {v!r}")
    langs = value.get("languages")
    if langs is not None and (not isinstance(langs, list) or not all(isinstance(x, str) and x for x in langs)):
        fail(f"{where}.languages", f"must be a list of language codes, got {langs!r}")
    out = {**value, "text": text}
    if size_steps is not None:
        out["steps"] = size_steps
    return tuple(sorted(out.items(), key=lambda kv: kv[0]))


def _noise_specs(value: Any, where: str, fail) -> tuple[str, ...]:
    """``[eval] noise``: a list of noise specs (``"typos:0.1"``, ``"casing:1,diacritics:1"``), each a distinct level."""
    from hybrid_core.augment import AugmentError
    from hybrid_core.augment.noise import noise_label, parse_noise_spec

    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        fail(where, f'must be a list of noise specs such as ["typos:0.05", "typos:0.1"], got {value!r}')
    labels = []
    for v in value:
        try:
            items = parse_noise_spec(v)
        except AugmentError as exc:
            fail(where, str(exc))
        if not items or all(rate == 0 for _, rate in items):
            fail(where, f"{v!r} perturbs nothing (the clean evaluation is always done)")
        labels.append(noise_label(v))
    dup = sorted({x for x in labels if labels.count(x) > 1})
    if dup:
        fail(where, f"names the same noise twice ({dup[0]})")
    return tuple(v.strip() for v in value)


def check_option_type(key: str, value: Any, where: str, fail) -> None:
    """The value of a TrainConfig option has the option's type (from its annotation); lists for list options."""
    f = _train_fields()[key]
    ann = str(f.type)
    if key in LIST_OPTIONS:
        ok = isinstance(value, list) and all(isinstance(x, str) and x for x in value)
        want = "a list of language codes"
    elif ann.startswith("bool"):
        ok, want = isinstance(value, bool), "true or false"
    elif ann.startswith("int"):
        ok, want = isinstance(value, int) and not isinstance(value, bool), "an integer"
    elif ann.startswith("float"):
        ok, want = isinstance(value, int | float) and not isinstance(value, bool), "a number"
    elif ann.startswith("str"):
        ok, want = isinstance(value, str), "a string"
    else:
        ok, want = True, ""
    if not ok:
        fail(where, f"must be {want}, got {value!r}")


def _fmt(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, list | tuple):
        return "+".join(map(str, v)) or "none"
    return str(v)


def _grid_arms(a: dict, arm_name: str, where: str, fail, series: str) -> list[Arm]:
    """Expand list-valued options (a list of lists for list options) into one arm per combination."""
    from hybrid_core.training.samplers import EFFECTIVE_ALPHA

    opts = {k: v for k, v in a.items() if k != "name"}
    axes = {}
    for k, v in opts.items():
        is_grid = isinstance(v, list) and (k not in LIST_OPTIONS or (v and all(isinstance(x, list) for x in v)))
        if is_grid:
            if not v:
                fail(f"{where}.{k}", "an empty list gives no arm")
            axes[k] = v
        for x in v if is_grid else [v]:
            check_option_type(k, x, f"{where}.{k}", fail)
    out = []
    for combo in itertools.product(*axes.values()) if axes else [()]:
        o = {**opts, **dict(zip(axes, combo, strict=True))}
        suffix = "-".join(("a" if k == "alpha" else k.replace("_", "-")) + _fmt(o[k]) for k in axes)
        label = f"{arm_name}-{suffix}" if suffix else arm_name
        sampler = o.get("sampler", "hybrid")
        alpha = o.get("alpha")
        eff = alpha if sampler == "hybrid" else EFFECTIVE_ALPHA.get(sampler)
        if isinstance(eff, bool) or (eff is not None and (not isinstance(eff, int | float) or not 0 <= eff <= 1)):
            fail(f"{where}.alpha", f"must be a probability in [0, 1], got {eff!r}")
        out.append(Arm(label, series, o, None, None if eff is None else float(eff), "alpha", arm_name))
    return out


def _merge_arms(value: Any, arm_name: str, where: str, fail, series: str) -> list[Arm]:
    if not isinstance(value, list) or len(value) != 3 or not all(isinstance(x, str) for x in value[:2]):
        fail(f"{where}.merge", f"must be [arm_a, arm_b, lambda or [lambdas]], got {value!r}")
    lams = value[2] if isinstance(value[2], list) else [value[2]]
    out = []
    for lam in lams:
        if isinstance(lam, bool) or not isinstance(lam, int | float) or not 0 <= lam <= 1:
            fail(f"{where}.merge", f"lambda must be a number in [0, 1], got {lam!r}")
        label = f"{arm_name}-l{_fmt(float(lam))}"
        out.append(Arm(label, series, {}, (value[0], value[1], float(lam)), float(lam), "lambda", arm_name))
    if value[0] == value[1]:
        fail(f"{where}.merge", f"merging {value[0]!r} with itself changes nothing")
    return out
