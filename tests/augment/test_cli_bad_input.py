"""Bad input through the CLI: one ``error:`` line naming the file or key, exit 2, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from hybrid_core.cli import main
from tests.tiny_model import save_tiny_st
from tests.translate.conftest import save_tiny_marian


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    """The translation cache (``<cache>/translations.sqlite``) goes to a temporary folder, not the repo's."""
    monkeypatch.setenv("HYBRID_IR_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bad")
    (root / "en-de.txt").write_text("river\tFluss\nsea\tMeer\tMer\n", encoding="utf-8")
    (root / "good").mkdir()
    (root / "good" / "en-de.txt").write_text("river\tFluss\n", encoding="utf-8")
    return {
        "three_columns": root / "en-de.txt",
        "good_dict": root / "good" / "en-de.txt",
        "encoder": save_tiny_st(root / "encoder", ["a", "b"]),
        "marian": save_tiny_marian(root / "opus-mt-en-de"),
    }


def _one_error_line(capsys, *needles: str) -> str:
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err  # nothing loaded
    for n in needles:
        assert n in err, err
    return err


def test_dictionary_not_two_columns(files, tmp_path, capsys):
    out = tmp_path / "out.txt"
    argv = ["translate", "--backend", "dictionary", "--dictionary", str(files["three_columns"])]
    assert main([*argv, "--src", "en", "--tgt", "de", "--text", "the river", "--out", str(out)]) == 2
    _one_error_line(capsys, str(files["three_columns"]), "line 2", "two columns")
    assert not out.exists()
    runs = tmp_path / "runs"
    spec = f"codeswitch=0.3@{files['three_columns']}"
    assert main(["train", "--run", "x", "--runs-dir", str(runs), "--augment", spec, "--steps", "1"]) == 2
    _one_error_line(capsys, str(files["three_columns"]), "line 2")
    # nothing but the empty-of-data lock file of the refused run (runs.RunStore.exclusive)
    assert not runs.exists() or not [p for p in runs.iterdir() if p.name != ".locks"]


def test_mt_folder_not_seq2seq(files, tmp_path, capsys):
    out = tmp_path / "out.txt"
    argv = ["translate", "--model", str(files["encoder"]), "--src", "en", "--tgt", "de", "--text", "x"]
    assert main([*argv, "--out", str(out)]) == 2
    _one_error_line(capsys, str(files["encoder"]), "not a seq2seq")
    assert not out.exists()


def test_unknown_language_for_backend(files, tmp_path, capsys):
    out = tmp_path / "out.txt"
    argv = ["translate", "--model", str(files["marian"]), "--src", "en", "--tgt", "xx", "--text", "the river"]
    assert main([*argv, "--out", str(out)]) == 2
    _one_error_line(capsys, "en->xx", "pairs available: en->de", "backends: hf, parallel, dictionary")
    assert not out.exists()
    argv = ["translate", "--backend", "dictionary", "--dictionary", str(files["good_dict"]), "--src", "de"]
    assert main([*argv, "--tgt", "en", "--text", "Fluss", "--out", str(out)]) == 2
    _one_error_line(capsys, "de->en", "pairs available: en->de")
    assert not out.exists()


def test_translate_writes_lines(files, tmp_path, capsys):
    out = tmp_path / "out.txt"
    argv = ["translate", "--backend", "dictionary", "--dictionary", str(files["good_dict"]), "--src", "en"]
    assert main([*argv, "--tgt", "de", "--text", "the river", "a river .", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == "the Fluss\na Fluss .\n"
    assert main(["translate", "--model", str(files["marian"]), "--src", "en", "--tgt", "de", "--text", "river"]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) >= 1
    assert (tmp_path / "cache" / "translations.sqlite").is_file()
