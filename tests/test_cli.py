"""The CLI: --help explains each command; bad input is one line on stderr, exit 2, nothing written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hybrid_core.cli import build_parser, main

REPO = Path(__file__).resolve().parents[1]


def test_help_lists_commands(capsys):
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for cmd in ("setup", "download", "evaluate", "export"):
        assert cmd in out


def _run_cli(*args, env_extra=None, tmp_path=None):
    import os

    env = {**os.environ, **(env_extra or {})}
    return subprocess.run(
        [sys.executable, "-m", "hybrid_core", *args], capture_output=True, text=True, cwd=REPO, env=env, timeout=300
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["evaluate", "--data", "no-such-set"], "no-such-set"),
        (["evaluate", "--data", "xquad-r", "--languages", "xx"], "xx"),
        (["export", "--run", "../x", "--format", "csv"], "invalid run name"),
        (["export", "--run", "missing-run", "--format", "csv"], "no run named 'missing-run'"),
        (["evaluate", "--data", "xquad-r", "--precision", "int8", "--processes", "2"], "--processes > 1 needs"),
    ],
)
def test_bad_input_is_one_line_exit_2(args, message, tmp_path):
    result = _run_cli(*args, env_extra={"HYBRID_IR_RUNS": str(tmp_path / "runs")})
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert message in result.stderr
    assert result.stderr.strip().startswith("error:")
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_malformed_dataset_file_names_the_file(tmp_path):
    folder = tmp_path / "myset"
    folder.mkdir()
    (folder / "en.json").write_text("{ not json", encoding="utf-8")
    result = _run_cli("evaluate", "--data", str(folder), env_extra={"HYBRID_IR_RUNS": str(tmp_path / "runs")})
    assert result.returncode == 2
    assert "en.json" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_main_returns_2_on_user_error(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("HYBRID_IR_RUNS", str(tmp_path))
    assert main(["export", "--run", "nope", "--format", "csv"]) == 2
    assert "no run named" in capsys.readouterr().err
