"""``evaluate --runs``: existing runs with their own models; refused combinations and unknown runs."""

from __future__ import annotations

from hybrid_core.cli import main


def test_runs_option_errors(capsys) -> None:
    assert main(["evaluate", "--runs", "a", "--model", "m", "--data", "xquad-r"]) == 2
    assert "do not combine it with --model/--run" in capsys.readouterr().err
    assert main(["evaluate", "--runs", "nope", "--data", "xquad-r"]) == 2
    assert "no run named 'nope'" in capsys.readouterr().err
