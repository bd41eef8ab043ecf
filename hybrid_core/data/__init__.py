"""Data sets: one loader per on-disk format, all returning a :class:`RetrievalDataset`.

``load_dataset`` dispatches on a name or a path: ``xquad-r`` / ``mlqa-r`` (from the data
directory), a BEIR folder, a folder of ``<lang>.json`` (LAReQA layout), or one SQuAD-style
``<lang>.json``. ``KNOWN_SETS`` describes the named sets declaratively, in the spirit of MTEB's
task metadata (https://github.com/embeddings-benchmark/mteb).
"""

from __future__ import annotations

import os
from pathlib import Path

from hybrid_core import paths
from hybrid_core.data.beir import load_beir
from hybrid_core.data.dataset import RetrievalDataset
from hybrid_core.data.download import BASE_URL, SET_LANGUAGES, download_lareqa, verify_lareqa
from hybrid_core.data.lareqa import language_files, load_lareqa, load_squad
from hybrid_core.data.querysets import load_query_set
from hybrid_core.data.splits import article_split
from hybrid_core.errors import DataError

__all__ = [
    "KNOWN_SETS",
    "RetrievalDataset",
    "article_split",
    "download_lareqa",
    "load_beir",
    "load_dataset",
    "load_lareqa",
    "load_query_set",
    "load_squad",
    "verify_lareqa",
]

_LAREQA_BIB = """@article{roy2020lareqa,
  title={LAReQA: Language-agnostic answer retrieval from a multilingual pool},
  author={Roy, Uma and Constant, Noah and Al-Rfou, Rami and Barua, Aditya and Phillips, Aaron and Yang, Yinfei},
  journal={arXiv preprint arXiv:2004.05484},
  year={2020}
}"""

KNOWN_SETS: dict[str, dict] = {
    "xquad-r": {
        "title": "XQuAD-R",
        "description": "XQuAD (240 SQuAD v1.1 dev paragraphs from 48 articles, professionally translated) as "
        "sentence retrieval: 11-way parallel, each question has one answer sentence per language.",
        "languages": list(SET_LANGUAGES["xquad-r"]),
        "parallel": True,
        "questions": 1190,
        "queries": 13090,
        "candidates": 13014,
        "articles": 48,
        "license": "CC BY-SA 4.0",
        "upstream": "https://github.com/google-research-datasets/lareqa",
        "url": f"{BASE_URL}/xquad-r/{{lang}}.json",
        "reference": "https://arxiv.org/abs/2004.05484",
        "citation": _LAREQA_BIB
        + """
@inproceedings{artetxe2020cross,
  title={On the Cross-lingual Transferability of Monolingual Representations},
  author={Artetxe, Mikel and Ruder, Sebastian and Yogatama, Dani},
  booktitle={Proceedings of the 58th Annual Meeting of the Association for Computational Linguistics},
  year={2020}
}""",
    },
    "mlqa-r": {
        "title": "MLQA-R",
        "description": "MLQA dev as sentence retrieval: 7 languages, each question in 2-4 of them "
        "(one answer sentence per language it exists in); paragraphs are not translations of each other.",
        "languages": list(SET_LANGUAGES["mlqa-r"]),
        "parallel": True,
        "questions": 1148,
        "queries": 4199,
        "candidates": 20534,
        "articles": 520,
        "license": "CC BY-NC 4.0",
        "upstream": "https://github.com/google-research-datasets/lareqa",
        "url": f"{BASE_URL}/mlqa-r/{{lang}}.json",
        "reference": "https://arxiv.org/abs/2004.05484",
        "citation": _LAREQA_BIB
        + """
@inproceedings{lewis2020mlqa,
  title={MLQA: Evaluating Cross-lingual Extractive Question Answering},
  author={Lewis, Patrick and Oguz, Barlas and Rinott, Ruty and Riedel, Sebastian and Schwenk, Holger},
  booktitle={Proceedings of the 58th Annual Meeting of the Association for Computational Linguistics},
  year={2020}
}""",
    },
}


def _only(ds: RetrievalDataset, languages: list[str] | None, source: Path) -> RetrievalDataset:
    if languages is None:
        return ds
    unknown = sorted(set(languages) - set(ds.languages))
    if unknown or not languages:
        raise DataError(f"{source}: no data in language(s) {unknown}; available: {ds.languages}")
    return ds.subset(languages=list(languages))


def load_dataset(
    name_or_path: str | os.PathLike,
    data_dir: str | os.PathLike | None = None,
    languages: list[str] | None = None,
) -> RetrievalDataset:
    """Load a named set (``xquad-r``, ``mlqa-r``) or the data at a path, optionally only some languages.

    Paths: a folder with ``corpus.jsonl`` is BEIR (records without a language take the single
    requested language, if exactly one is given); a folder of ``<lang>.json`` is LAReQA; a ``.json``
    file is SQuAD-style, its language taken from its name (``de.json``).
    """
    key = str(name_or_path)
    if key.lower() in KNOWN_SETS:
        key = key.lower()
        folder = paths.data_dir(data_dir) / key
        if not folder.is_dir():
            raise DataError(
                f"{folder}: {KNOWN_SETS[key]['title']} not found; run `python -m hybrid_core download`, or set "
                f"HYBRID_IR_DATA / --data-dir to the folder that holds {key}/"
            )
        return load_lareqa(folder, languages, name=key)
    path = Path(key).expanduser()
    if not path.exists():
        raise DataError(f"{path}: no such file or folder, and not a known data set (known: {sorted(KNOWN_SETS)})")
    if path.is_dir():
        if (path / "upload.json").is_file():  # a dashboard upload saved for a background job
            from hybrid_core.data.uploads import load_saved_upload

            return _only(load_saved_upload(path), languages, path)
        if (path / "corpus.jsonl").is_file():
            default = languages[0] if languages and len(languages) == 1 else None
            return _only(load_beir(path, language=default), languages, path)
        if language_files(path):
            return load_lareqa(path, languages)
        raise DataError(f"{path}: neither a BEIR folder (corpus.jsonl) nor a folder of <lang>.json files")
    if path.suffix.lower() == ".json":
        return _only(load_squad(path), languages, path)
    raise DataError(
        f"{path}: unsupported input; expected a data set name, a BEIR folder, a folder of <lang>.json or a "
        "SQuAD-style .json (query sets in .csv/.jsonl need a corpus: see load_query_set)"
    )
