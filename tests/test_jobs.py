"""Background jobs: start, progress from the log, exit codes, cancel, lost supervisors."""

from __future__ import annotations

import json
import sys
import time

import pytest

from hybrid_core import jobs
from hybrid_core.errors import HybridIRError


def _wait(job_id: str, root, timeout: float = 30.0) -> jobs.JobStatus:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        st = jobs.status(job_id, root)
        if st.finished:
            return st
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish")


def test_job_runs_logs_and_reports_progress(tmp_path) -> None:
    code = "import sys; print('loading'); print('Batches: 40%|####  | 4/10', flush=True); print('step 3/10 done')"
    job = jobs.start([sys.executable, "-c", code], label="demo", root=tmp_path)
    st = _wait(job, tmp_path)
    assert st.state == "done" and st.returncode == 0 and st.progress == 1.0 and st.label == "demo"
    lines = jobs.tail(job, 10, tmp_path)
    assert lines[0].startswith("$ ") and lines[-1] == "step 3/10 done" and st.last_line == "step 3/10 done"
    assert st.command.startswith("python -c")
    assert [j.id for j in jobs.list_jobs(tmp_path)] == [job]


def test_failed_job_keeps_exit_code(tmp_path) -> None:
    job = jobs.start([sys.executable, "-c", "import sys; print('error: boom'); sys.exit(2)"], root=tmp_path)
    st = _wait(job, tmp_path)
    assert (st.state, st.returncode, st.last_line) == ("failed", 2, "error: boom")


def test_cancel_stops_the_process_group(tmp_path) -> None:
    code = "import time\nfor i in range(1000):\n    print(f'{i}/1000', flush=True); time.sleep(0.05)"
    job = jobs.start([sys.executable, "-c", code], root=tmp_path)
    end = time.monotonic() + 20
    while jobs.status(job, tmp_path).progress is None and time.monotonic() < end:
        time.sleep(0.1)
    st = jobs.status(job, tmp_path)
    assert st.state == "running" and 0 <= st.progress < 1
    assert jobs.cancel(job, tmp_path)
    assert _wait(job, tmp_path).state == "cancelled"
    assert not jobs.cancel(job, tmp_path)
    n = len(jobs.tail(job, 2000, tmp_path))
    time.sleep(0.3)
    assert len(jobs.tail(job, 2000, tmp_path)) == n  # nothing writes any more


def test_parse_progress_patterns() -> None:
    assert jobs.parse_progress(["Batches:  50%|#####     | 5/10 [00:01<00:01]"]) == 0.5
    assert jobs.parse_progress(["step 25/100 loss 0.3"]) == 0.25
    assert jobs.parse_progress(["72% done"]) == 0.72
    assert jobs.parse_progress(["lr 3e-05", "nothing here"]) is None
    assert jobs.parse_progress(["12/10 weird", "1/4"]) == 0.25


def test_lost_and_unknown_jobs(tmp_path) -> None:
    job = jobs.start([sys.executable, "-c", "pass"], root=tmp_path)
    _wait(job, tmp_path)
    pid = json.loads((tmp_path / job / "job.json").read_text())["pid"]
    deadline = time.monotonic() + 30
    while jobs._alive(pid) and time.monotonic() < deadline:  # rc is written just before the supervisor exits
        time.sleep(0.05)
    (tmp_path / job / "rc").unlink()
    assert jobs.status(job, tmp_path).state == "lost"
    with pytest.raises(HybridIRError, match="no job"):
        jobs.status("nope", tmp_path)
    with pytest.raises(HybridIRError):
        jobs.start([], root=tmp_path)


def test_cli_argument_builders_parse_with_the_real_cli() -> None:
    from hybrid_core.cli import build_parser

    parser = build_parser()
    ev = jobs.evaluate_args(None, ["xquad-r", "mlqa-r"], run="r1", max_questions=20, languages=["en", "de"])
    args = parser.parse_args(ev)
    assert args.command == "evaluate" and args.data == ["xquad-r", "mlqa-r"] and args.run == "r1"
    assert args.max_questions == 20 and args.languages == ["en", "de"] and args.model is None
    tr = jobs.train_args("t1", "hybrid", 0.25, 50, batch_size=16, data="mlqa-r", seed=None)
    args = parser.parse_args(tr)
    assert (args.run, args.sampler, args.alpha, args.steps) == ("t1", "hybrid", 0.25, 50)
    assert (args.batch_size, args.train_data) == (16, "mlqa-r")
    assert "--alpha" not in jobs.train_args("t2", "x-y")
    args = parser.parse_args(jobs.experiment_args("quick", "demo", 10))
    assert (args.preset, args.name, args.steps) == ("quick", "demo", 10)
    assert (args.eval_max_questions, args.precision) == (None, None)  # the preset decides
    args = parser.parse_args(jobs.experiment_args("quick", max_questions=0, precision="int8"))
    assert (args.eval_max_questions, args.precision, args.name) == (0, "int8", None)
    args = parser.parse_args(jobs.evaluate_args(None, ["xquad-r"], precision="int8"))
    assert args.precision == "int8"
    assert "--precision" not in jobs.evaluate_args(None, ["xquad-r"])  # fp32 is the CLI's default
    assert jobs.cli_argv("runs")[1:] == ["-m", "hybrid_core", "runs"]


def test_tail_shows_redrawn_progress_bars_as_one_line(tmp_path) -> None:
    code = (
        "import sys\nfor i in range(1, 4):\n    sys.stderr.write(f'\\rBatches: {i}/3')\n"
        "sys.stderr.write('\\n')\nprint('done')"
    )
    job = jobs.start([sys.executable, "-c", code], root=tmp_path)
    st = _wait(job, tmp_path)
    assert jobs.tail(job, 5, tmp_path)[1:] == ["Batches: 3/3", "done"]
    assert st.progress == 1.0
