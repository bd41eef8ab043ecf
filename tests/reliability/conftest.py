"""Reliability fixtures: a small synthetic LAReQA folder, a tiny model, and a snapshot of every folder
a command may write to (so a test can assert that a rejected input wrote nothing anywhere)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.training.conftest import build_tiny_model, subprocess_env, write_synthetic_lareqa

__all__ = ["subprocess_env"]


@pytest.fixture(scope="session")
def small_lareqa(tmp_path_factory) -> Path:
    """2 languages x 12 questions: enough for mono, cross and multi settings, milliseconds to score."""
    return write_synthetic_lareqa(
        tmp_path_factory.mktemp("small") / "small", n_articles=2, paragraphs_per_article=3, langs=("de", "en")
    )


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny"), langs=("de", "en"))


def tree(*roots: Path) -> dict[str, tuple[int, int]]:
    """Every file and folder under ``roots``: path -> (size, mtime_ns); the "nothing written" check."""
    out = {}
    for root in roots:
        if not root.exists():
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            for n in dirnames + filenames:
                p = Path(dirpath) / n
                st = p.lstat()
                out[str(p)] = (st.st_size, st.st_mtime_ns)
    return out


@pytest.fixture
def write_dirs(tmp_path, monkeypatch) -> list[Path]:
    """Runs, embeddings, jobs and exports folders of this test (the CLI's cwd is the test folder)."""
    dirs = [Path(os.environ["HYBRID_IR_RUNS"]), Path(os.environ["HYBRID_IR_EMBEDDINGS"]), tmp_path / "work"]
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    return dirs


def pytest_collection_modifyitems(config, items):
    """``fuzz`` tests (the long fuzzing runs) only run when ``-m`` names them, e.g. ``-m fuzz``."""
    markexpr = config.getoption("markexpr") or ""
    if "fuzz" in markexpr and "not fuzz" not in markexpr:
        return
    skip = pytest.mark.skip(reason="long fuzzing run: select it with -m fuzz")
    for item in items:
        if item.get_closest_marker("fuzz"):
            item.add_marker(skip)
