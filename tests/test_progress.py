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
    assert parse_progress_line("[11/10] x") is None and parse_progress_line("3/10 [00:01<00:02]") is None


def test_mark_after_a_tqdm_bar_on_the_same_line(tmp_path) -> None:
    """In a job log the bar (stderr, no newline) and the progress print (stdout) share a line."""
    from hybrid_core import jobs

    bar = "t: 100%|██████████| 3/3 [02:34<00:00, 46.81s/step, loss=0.5283, mode=de]"
    log = tmp_path / "j" / "log.txt"
    log.parent.mkdir()
    log.write_text(f"$ cmd\n{bar}\r{bar}[3/4] t: step 3, loss 0.5283\nBatches:  27%|██▋ | 3/11\n")
    (tmp_path / "j" / "job.json").write_text('{"id": "j", "argv": ["x"], "pid": null}')
    assert jobs.parse_progress(jobs.tail("j", 40, tmp_path)) == 0.75


def test_within_maps_a_stage_onto_the_whole_job() -> None:
    from hybrid_core.progress import within

    seen: list[str] = []
    log = within(seen.append, 1, 4)  # the second of four stages
    log("[0/10] start")
    log("[5/10] half")
    log("no mark")
    assert seen == ["[250/1000] start", "[375/1000] half", "no mark"]
