"""Language slices of a study's tables: all, seen in training, never seen, low-resource, and per language.

A slice is a filter on per-query rows by the **query language** (``query_language`` of the per-query
results). For cross-lingual settings X->Y the query side X defines the slice (e.g. "unseen" holds
el->en as well as el->de, but not en->el); in the multilingual pool, a query language's queries search
every language's candidates. Since every setting has one query language, a slice is a subset of
settings, and the macro mean over a slice is the mean over its settings.

- seen: evaluation languages present in the training pairs (after ``train_languages`` /
  ``exclude_languages``);
- unseen: evaluation languages absent from the training pairs (training on MLQA-R and evaluating on
  XQuAD-R: el, ru, th, tr);
- low-resource: the listed languages, or by default the evaluation languages with the least CC-100
  pre-training data (:mod:`hybrid_core.studies.cc100`);
- ``lang:xx``: one language.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from hybrid_core.studies import cc100

SLICE_SIDE = "query language (for cross-lingual X->Y settings the query side X defines the slice)"
ORDER = ("all", "seen", "unseen", "low-resource")


def language_slices(
    eval_languages: Sequence[str],
    seen: Iterable[str],
    low_resource: Sequence[str] | None = None,
    low_resource_count: int = cc100.DEFAULT_LOW_RESOURCE_COUNT,
    per_language: bool = True,
) -> dict[str, list[str]]:
    """``{slice name: languages}`` for one evaluation set; empty groups are left out."""
    langs = sorted(eval_languages)
    seen_set = set(seen)
    low = (
        [x for x in low_resource if x in langs]
        if low_resource is not None
        else cc100.low_resource(langs, low_resource_count)
    )
    out = {
        "all": langs,
        "seen": [x for x in langs if x in seen_set],
        "unseen": [x for x in langs if x not in seen_set],
        "low-resource": sorted(low),
    }
    if per_language:
        out.update({f"lang:{x}": [x] for x in langs})
    return {k: v for k, v in out.items() if v}


def describe(name: str, languages: Sequence[str]) -> str:
    """One line for a table caption: which languages a slice holds and what defines it."""
    what = {
        "all": "all languages",
        "seen": "languages seen in training",
        "unseen": "languages never seen in training",
        "low-resource": f"low-resource languages ({cc100.CITATION})",
    }.get(name, f"language {name[5:]}" if name.startswith("lang:") else name)
    return f"{what}: {', '.join(languages)}; slices by {SLICE_SIDE}"
