"""Whole-job progress: ``[k/n]`` lines win over the current tqdm bar (issue 13 §4)."""

from __future__ import annotations

from hybrid_core.jobs import parse_progress
from hybrid_core.progress import parse_progress_line, progress_line


def test_whole_job_line_wins_over_a_later_tqdm_bar() -> None:
    lines = [progress_line(100, 101, "t: step 100, loss 0.1"), "t: evaluating", "Batches:  27%|██▋    | 3/11"]
    assert parse_progress(lines) == 100 / 101
    assert parse_progress(["Batches:  27%|██▋    | 3/11"]) == 3 / 11  # commands without whole-job lines


def test_progress_line_round_trip() -> None:
    assert progress_line(3, 10, "x") == "[3/10] x"
    assert parse_progress_line("[3/10] x") == 0.3
    assert parse_progress_line("[11/10] x") is None and parse_progress_line("step [3/10]") is None
