"""Bilingual dictionaries a study induces from its own training questions, for code-switching and back-translation.

An arm's ``augment`` may name ``@induced`` instead of MUSE files (``"codeswitch=0.3@induced"``,
``"backtranslate=en@induced"``). The study's ``[dictionaries]`` table says how they are made::

    [dictionaries]
    languages = ["ar", "de", "en", "es", "hi", "vi", "zh"]   # every X gets X->pivot and pivot->X
    pivot = "en"
    max_pairs = 500        # seeded sample of parallel question pairs aligned per language pair
    min_count = 2          # keep a word pair aligned at least this often
    method = "itermax"     # SimAlign matching (hybrid_core.augment.align)
    seed = 0

They are induced once with the study's base model from the parallel questions of its training data
(the training part only when ``train_split = "train"``: no evaluation question is used) into
``<cache>/dictionaries/<key>/<src>-<tgt>.txt``, ``key`` a hash of everything above plus the base
model and training data, so every study and arm with the same settings shares them. Each file is
written atomically and kept, so a killed induction resumes; ``dictionaries.json`` records the
provenance. Before training, ``@induced`` becomes the list of those files (run.json shows them).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from hybrid_core import paths
from hybrid_core.io_utils import read_json, write_json

KEYS = {"languages", "pivot", "max_pairs", "min_count", "method", "seed"}
DEFAULTS: dict[str, Any] = {"pivot": "en", "max_pairs": 500, "min_count": 2, "method": "itermax", "seed": 0}
TOKEN = "@induced"
INFO = "dictionaries.json"


def check(raw: Any, where: str, fail) -> dict | None:
    """Validate a ``[dictionaries]`` table (None when absent); ``fail(key, message)`` raises."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        fail(where, "must be a table")
    unknown = sorted(set(raw) - KEYS)
    if unknown:
        fail(f"{where}.{unknown[0]}", f"unknown key (known: {', '.join(sorted(KEYS))})")
    out = {**DEFAULTS, **raw}
    langs = out.get("languages")
    if not isinstance(langs, list) or len(langs) < 2 or not all(isinstance(x, str) and x for x in langs):
        fail(f"{where}.languages", f"must list at least two language codes (the pivot among them), got {langs!r}")
    if out["pivot"] not in langs:
        fail(f"{where}.pivot", f"{out['pivot']!r} is not in languages {langs}")
    for k in ("max_pairs", "min_count"):
        if not isinstance(out[k], int) or isinstance(out[k], bool) or out[k] < 1:
            fail(f"{where}.{k}", f"must be a positive integer, got {out[k]!r}")
    if not isinstance(out["seed"], int) or isinstance(out["seed"], bool) or out["seed"] < 0:
        fail(f"{where}.seed", f"must be an integer >= 0, got {out['seed']!r}")
    from hybrid_core.augment.align import METHODS

    if out["method"] not in METHODS:
        fail(f"{where}.method", f"must be one of {', '.join(METHODS)}, got {out['method']!r}")
    return out


def pairs_of(settings: dict) -> list[tuple[str, str]]:
    """``X -> pivot`` and ``pivot -> X`` for every other listed language."""
    p = settings["pivot"]
    return [pair for x in settings["languages"] if x != p for pair in ((x, p), (p, x))]


def folder(settings: dict, base_model: str | None, train: dict) -> Path:
    """``<cache>/dictionaries/<key>``: the key hashes the settings, the base model and the training data."""
    from hybrid_core.models.loading import DEFAULT_MODEL

    ident = {
        **settings,
        "model": base_model or DEFAULT_MODEL,
        "train_data": train.get("train_data", "mlqa-r"),
        "train_split": train.get("train_split", "all"),
        "split_test_fraction": train.get("split_test_fraction", 0.2),
        "split_seed": train.get("split_seed", 0),
    }
    key = hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:12]
    return paths.cache_dir() / "dictionaries" / key


def files(settings: dict, base_model: str | None, train: dict) -> list[Path]:
    out = folder(settings, base_model, train)
    return [out / f"{a}-{b}.txt" for a, b in pairs_of(settings)]


def resolve(augment: str, settings: dict | None, base_model: str | None, train: dict) -> str:
    """``augment`` with each ``@induced`` replaced by ``@<file>+<file>...`` (the pairs it needs)."""
    if TOKEN not in augment:
        return augment
    listed = "+".join(str(f) for f in files(settings, base_model, train))
    return augment.replace(TOKEN, "@" + listed)


def missing(settings: dict | None, base_model: str | None, train: dict) -> list[tuple[str, str]]:
    if settings is None:
        return []
    return [p for p, f in zip(pairs_of(settings), files(settings, base_model, train), strict=True) if not f.is_file()]


def induce(settings: dict, base_model: str | None, train: dict, *, data_dir=None, log=print) -> Path:
    """Induce every missing dictionary of ``settings`` (resumable: finished files are kept); returns the folder."""
    from hybrid_core.augment.align import induce_dictionary
    from hybrid_core.augment.codeswitch import write_muse
    from hybrid_core.data.specs import load_data_spec
    from hybrid_core.errors import DataError
    from hybrid_core.models.loading import load_model

    out = folder(settings, base_model, train)
    todo = missing(settings, base_model, train)
    if not todo:
        return out
    spec = train.get("train_data", "mlqa-r") + (":train" if train.get("train_split", "all") == "train" else "")
    ds = load_data_spec(
        spec,
        data_dir=data_dir,
        test_fraction=train.get("split_test_fraction", 0.2),
        split_seed=train.get("split_seed", 0),
        languages=list(settings["languages"]),
    )
    model = load_model(base_model)
    out.mkdir(parents=True, exist_ok=True)
    info = read_json(out / INFO) if (out / INFO).is_file() else {"settings": settings, "data": spec, "files": {}}
    for src, tgt in todo:
        log(
            f"inducing the {src}->{tgt} dictionary from {ds.name} ({settings['method']}, {settings['max_pairs']} pairs)"
        )
        d, _ = induce_dictionary(
            model,
            ds,
            src,
            tgt,
            method=settings["method"],
            min_count=settings["min_count"],
            max_pairs=settings["max_pairs"],
            seed=settings["seed"],
        )
        if not d.entries:
            raise DataError(
                f"the induced {src}->{tgt} dictionary is empty ({d.source}); lower min_count or raise max_pairs "
                "in [dictionaries]"
            )
        write_muse(d, out / f"{src}-{tgt}.txt")
        info["files"][f"{src}-{tgt}.txt"] = {"entries": len(d), "words": len(d.entries), "source": d.source}
        write_json(out / INFO, info)
    return out
