"""Training fixtures: a synthetic parallel LAReQA folder and one tiny BERT sentence-transformers model.

The synthetic set is written in the LAReQA layout (``<lang>.json``, SQuAD with ``sentences`` and
``sentence_breaks``) and read back through the real loader, so pairs have the real id shapes.
Words are ``<lang><k>`` over a vocabulary of 97 ``k``s, so translations share structure and the
tiny model's WordLevel tokenizer knows every word.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hybrid_core.data.mock import paragraph_of
from tests.tiny_model import save_tiny_st

LANGS = ("de", "en", "es", "fr")
VOCAB_K = 97
REPO = Path(__file__).resolve().parents[2]


def write_synthetic_lareqa(
    folder: Path,
    n_articles: int = 6,
    paragraphs_per_article: int = 5,
    sentences: int = 4,
    questions_per_paragraph: int = 2,
    langs: tuple[str, ...] = LANGS,
) -> Path:
    """``n_articles * paragraphs_per_article * questions_per_paragraph`` questions (60 by default).

    Each question's answer is the first word of its own sentence; ``es`` lacks every fifth
    question (MLQA-R-like partial coverage).
    """
    folder.mkdir(parents=True, exist_ok=True)
    for lang in langs:
        data = []
        for a in range(n_articles):
            pars = []
            for pi in range(paragraphs_per_article):
                p = a * paragraphs_per_article + pi
                sents = [
                    " ".join(f"{lang}{(p * 13 + s * 5 + j * 3) % VOCAB_K}" for j in range(6)) for s in range(sentences)
                ]
                context, breaks = paragraph_of(sents)
                qas = []
                for qi in range(questions_per_paragraph):
                    qnum = p * questions_per_paragraph + qi
                    if lang == "es" and qnum % 5 == 0:
                        continue
                    words = sents[qi].split()
                    qas.append(
                        {
                            "id": f"q{qnum:03d}",
                            "question": " ".join([*words[1:4], f"{lang}q"]),
                            "answers": [{"text": words[0], "answer_start": breaks[qi][0]}],
                        }
                    )
                pars.append({"context": context, "sentences": sents, "sentence_breaks": breaks, "qas": qas})
            data.append({"title": f"Article {a}", "paragraphs": pars})
        (folder / f"{lang}.json").write_text(json.dumps({"version": "synthetic", "data": data}), encoding="utf-8")
    return folder


def build_tiny_model(folder: Path, langs: tuple[str, ...] = LANGS, dropout: float = 0.1) -> Path:
    """The shared tiny model (:mod:`tests.tiny_model`) over the synthetic vocabulary."""
    words = [f"{lang}{k}" for lang in langs for k in range(VOCAB_K)] + [f"{lang}q" for lang in langs]
    return save_tiny_st(folder / "st", words, dropout=dropout, max_seq_length=128)


@pytest.fixture(scope="session")
def synthetic_dir(tmp_path_factory) -> Path:
    return write_synthetic_lareqa(tmp_path_factory.mktemp("synthetic") / "synth")


@pytest.fixture(scope="session")
def synthetic_ds(synthetic_dir):
    from hybrid_core.data import load_lareqa

    return load_lareqa(synthetic_dir, name="synth")


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"))


def run_cli(args: list[str], env: dict | None = None, timeout: float = 300, **kw) -> subprocess.CompletedProcess:
    """``python -m hybrid_core <args>`` in a subprocess (1 thread, repo on PYTHONPATH)."""
    return subprocess.run(
        [sys.executable, "-m", "hybrid_core", *args],
        cwd=REPO,
        env=subprocess_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        **kw,
    )


def subprocess_env(extra: dict | None = None) -> dict:
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    env = {**os.environ, "PYTHONPATH": path, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    env.update(extra or {})
    return env
