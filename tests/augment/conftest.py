"""Augmentation fixtures: the hand-written mock set on disk (LAReQA layout) and a tiny model over its words."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from hybrid_core.data.mock import ARTICLES, QUESTIONS, _squad
from tests.tiny_model import save_tiny_st


def mock_words() -> list[str]:
    texts = [s for lang in ARTICLES for _, pars in ARTICLES[lang] for p in pars for s in p]
    texts += [q for *_, by_lang in QUESTIONS for q, _ in by_lang.values()]
    return sorted({w for t in texts for w in re.findall(r"\w+", t.lower())})


@pytest.fixture(scope="session")
def mock_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("mockset") / "mock"
    folder.mkdir()
    for lang in ARTICLES:
        (folder / f"{lang}.json").write_text(json.dumps(_squad(lang), ensure_ascii=False), encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def mock_model(tmp_path_factory) -> Path:
    return save_tiny_st(tmp_path_factory.mktemp("st") / "tiny", mock_words(), max_seq_length=64)
