"""Background jobs: CLI commands run as detached subprocesses, with state in plain files.

Layout of ``<cache>/jobs/<id>/``::

    job.json     id, label, argv, created, pid (of the supervisor), cwd
    log.txt      the command's stdout and stderr
    rc           exit code, written by the supervisor when the command ends
    cancelled    present when a user cancelled the job

A small supervisor process (``python -m hybrid_core.jobs <job dir>``) starts the command in its own
process group, waits, and writes ``rc``; so status survives the dashboard restarting, and several
dashboard sessions (or a terminal) see the same jobs. Progress is read from the log: the last
whole-job ``[k/n]`` line it printed (:mod:`hybrid_core.progress`), else the last ``tqdm``-style
``n/total`` or ``NN%``. At most :func:`max_jobs` jobs run at once (the dashboard has no login: a cap
keeps a flood of clicks from starting a flood of processes); :func:`exposure_warning` says when the
dashboard is reachable from beyond this machine.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from hybrid_core import paths
from hybrid_core.errors import HybridIRError
from hybrid_core.io_utils import file_lock, kill_point, read_json, write_json
from hybrid_core.progress import parse_progress_line

#: One-click evaluations of the default model offered when the run store is empty.
EVALUATE_PRESETS: dict[str, dict] = {
    "quick": {
        "title": "Quick: 200 XQuAD-R questions × 11 languages (a few minutes)",
        "label": "evaluate default model (quick)",
        "args": ("evaluate", "--data", "xquad-r", "--max-questions", "200", "--seed", "0"),
    },
    "full": {
        "title": "Full: XQuAD-R + MLQA-R (about 20 minutes on 2 CPU cores)",
        "label": "evaluate default model (full)",
        "args": ("evaluate", "--data", "xquad-r", "mlqa-r"),
    },
}


def exposure_warning(address: str | None) -> str | None:
    """A warning when the dashboard listens beyond this machine (``server.address`` not loopback), else None.

    The dashboard has no login and can start training and evaluation processes, so anyone who can
    reach it can use this machine's CPU and disk. An empty address is Streamlit's default: every interface.
    """
    host = (address or "").strip().strip("[]")
    if host == "localhost":
        return None
    try:
        if host and ipaddress.ip_address(host).is_loopback:
            return None
    except ValueError:
        pass
    where = f"address {host!r}" if host else "every network interface (no server.address set)"
    return (
        f"This dashboard listens on {where}, not only on this machine. It has no login and can start processes: "
        "expose it only behind a reverse proxy with authentication (see README, Security and reliability)."
    )


_PROGRESS = re.compile(r"(\d+)%\|.*?(\d+)/(\d+)|(?<![\d.])(\d+)\s*/\s*(\d+)(?![\d.])|(\d{1,3})%")
_ACTIVE: dict[str, subprocess.Popen] = {}  # supervisors started by this process (reaped on status)
DEFAULT_MAX_JOBS = 2  # one per CPU core of the reference machine; $HYBRID_IR_MAX_JOBS overrides


def max_jobs() -> int:
    """How many jobs may run at once: ``$HYBRID_IR_MAX_JOBS`` (a positive integer) or 2."""
    raw = os.environ.get("HYBRID_IR_MAX_JOBS", "").strip()
    if not raw:
        return DEFAULT_MAX_JOBS
    if not raw.isdigit() or int(raw) < 1:
        raise HybridIRError(f"HYBRID_IR_MAX_JOBS must be a positive integer, got {raw!r}")
    return int(raw)


def jobs_dir(root: str | Path | None = None) -> Path:
    """Where job folders live (``<cache>/jobs`` unless given)."""
    return Path(root) if root else paths.cache_dir() / "jobs"


def cli_argv(*args: str) -> list[str]:
    """``python -m hybrid_core <args>`` with this interpreter."""
    return [sys.executable, "-m", "hybrid_core", *args]


def evaluate_args(
    model: str | None = None,
    data: list[str] | tuple[str, ...] = ("xquad-r",),
    run: str | None = None,
    max_questions: int | None = None,
    languages: list[str] | None = None,
    precision: str = "fp32",
) -> list[str]:
    """``evaluate`` arguments (model None = the default model)."""
    args = ["evaluate", "--data", *data]
    args += ["--model", model] if model else []
    args += ["--run", run] if run else []
    args += ["--max-questions", str(max_questions)] if max_questions else []
    args += ["--languages", *languages] if languages else []
    args += ["--precision", precision] if precision != "fp32" else []
    return args


def evaluate_runs_args(runs: list[str], data: list[str]) -> list[str]:
    """``evaluate --runs ...``: existing runs, each with its own model, on the given data specs or folders."""
    return ["evaluate", "--runs", *runs, "--data", *data]


def train_args(run: str, sampler: str = "hybrid", alpha: float = 0.5, steps: int = 100, **options) -> list[str]:
    """``train`` arguments; ``options`` map to flags (``batch_size=16`` -> ``--batch-size 16``; None skipped)."""
    args = ["train", "--run", run, "--sampler", sampler, "--steps", str(steps)]
    args += ["--alpha", str(alpha)] if sampler == "hybrid" else []
    for key, value in options.items():
        if value is None or value == "":
            continue
        args += [f"--{key.replace('_', '-')}", str(value)]
    return args


def train_job(
    run: str,
    *,
    sampler: str = "hybrid",
    alpha: float = 0.5,
    steps: int = 100,
    batch_size: int = 16,
    train_data: str = "mlqa-r",
    split: str = "auto",
    seed: int = 0,
    model: str | None = None,
    eval_data: str | None = None,
    eval_max_questions: int = 50,
) -> tuple[list[str], str]:
    """The ``train`` arguments and a label for a training job, checked by the core before anything starts.

    ``split="auto"`` trains on the article-disjoint train part whenever ``eval_data`` names a
    ``:test`` part; a leaking combination (all of a set + its ``:test`` part) raises TrainConfigError.
    ``eval_max_questions`` 0 evaluates the whole set.
    """
    from hybrid_core.cli.train_cmds import config_args
    from hybrid_core.training.trainer import TrainConfig, default_train_split, validate_config

    if not run:
        raise HybridIRError("give the run a name")
    split = default_train_split(eval_data) if split == "auto" else split
    cfg = TrainConfig(
        model=model,
        train_data=train_data,
        train_split=split,
        sampler=sampler,
        alpha=alpha,
        steps=steps,
        batch_size=batch_size,
        seed=seed,
        eval_data=eval_data,
        eval_max_questions=eval_max_questions,
    )
    validate_config(cfg)
    args = ["train", "--run", run, *config_args(cfg)]
    part = "train part" if split == "train" else "all"
    return args, f"train {run} ({sampler}{f' α={alpha:g}' if sampler == 'hybrid' else ''}, {part} of {train_data})"


def experiment_args(
    preset: str = "quick",
    name: str | None = None,
    steps: int | None = None,
    *,
    max_questions: int | None = None,
    precision: str = "fp32",
) -> list[str]:
    """``experiment`` arguments; ``max_questions`` 0 = whole sets, None = the preset's sample."""
    args = ["experiment", "--preset", preset]
    args += ["--name", name] if name else []
    args += ["--steps", str(steps)] if steps else []
    args += ["--eval-max-questions", str(max_questions)] if max_questions is not None else []
    args += ["--precision", precision] if precision != "fp32" else []
    return args


@dataclass(frozen=True)
class JobStatus:
    """A job as read from its folder."""

    id: str
    label: str
    argv: list[str]
    created: float
    state: str  # running | done | failed | cancelled | lost
    returncode: int | None
    progress: float | None
    last_line: str

    @property
    def finished(self) -> bool:
        return self.state != "running"

    @property
    def command(self) -> str:
        """The command line, with this interpreter shown as ``python``."""
        argv = ["python", *self.argv[1:]] if self.argv[:1] == [sys.executable] else self.argv
        return shlex.join(argv)


def start(argv: list[str], label: str = "", root: str | Path | None = None, env: dict | None = None) -> str:
    """Start ``argv`` in the background; returns the job id at once.

    Refused with a HybridIRError when :func:`max_jobs` jobs are already running (checked and started
    under a lock, so two sessions clicking at once cannot both take the last slot).
    """
    if not argv or not all(isinstance(a, str) for a in argv):
        raise HybridIRError("a job needs a command: a non-empty list of strings")
    with file_lock(jobs_dir(root) / ".start.lock"):
        active = running(root)
        if len(active) >= max_jobs():
            raise HybridIRError(
                f"{len(active)} jobs are running, the limit is {max_jobs()} ($HYBRID_IR_MAX_JOBS); wait for one "
                "to finish or cancel one on the Jobs page"
            )
        return _start(argv, label, root, env)


def _start(argv: list[str], label: str, root: str | Path | None, env: dict | None) -> str:
    job_id = time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:6]
    folder = jobs_dir(root) / job_id
    folder.mkdir(parents=True)
    # the command heads the log before anything can fail or be cancelled: the log always says what ran
    header = "$ " + shlex.join(argv).replace("\n", "\\n")
    (folder / "log.txt").write_text(header + "\n", encoding="utf-8")
    info = {
        "id": job_id,
        "label": label or " ".join(argv[-4:]),
        "argv": argv,
        "created": time.time(),
        "cwd": str(paths.REPO_ROOT),
        "pid": None,
    }
    write_json(folder / "job.json", info)
    proc = subprocess.Popen(
        [sys.executable, "-m", "hybrid_core.jobs", str(folder)],
        cwd=paths.REPO_ROOT,
        env={**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # own process group: cancel kills the command and its children
    )
    _ACTIVE[job_id] = proc
    write_json(folder / "job.json", {**info, "pid": proc.pid})
    return job_id


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (finished, not yet reaped) is not alive
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return True


def _read_info(folder: Path) -> dict:
    try:
        return read_json(folder / "job.json")
    except (OSError, ValueError) as exc:
        raise HybridIRError(f"job {folder.name!r}: job.json is unreadable ({exc})") from None


def status(job_id: str, root: str | Path | None = None) -> JobStatus:
    """Current state, progress (0-1 or None) and last log line of a job."""
    folder = jobs_dir(root) / job_id
    if not folder.is_dir():
        raise HybridIRError(f"no job {job_id!r} in {jobs_dir(root)}")
    info = _read_info(folder)
    if job_id in _ACTIVE and _ACTIVE[job_id].poll() is not None:
        _ACTIVE.pop(job_id)
    rc_file = folder / "rc"
    rc = int(rc_file.read_text().strip()) if rc_file.is_file() and rc_file.read_text().strip() else None
    if (folder / "cancelled").exists():
        state = "cancelled"
    elif rc is not None:
        state = "done" if rc == 0 else "failed"
    elif _alive(info.get("pid")):
        state = "running"
    else:
        state = "lost"  # the supervisor died without writing rc (machine restart, kill -9)
    lines = tail(job_id, 40, root)
    progress = 1.0 if state == "done" else parse_progress(lines)
    last = next((line for line in reversed(lines) if line.strip()), "")
    return JobStatus(
        job_id, info.get("label", ""), info.get("argv", []), info.get("created", 0.0), state, rc, progress, last
    )


def tail(job_id: str, n: int = 40, root: str | Path | None = None) -> list[str]:
    """Last ``n`` lines of the job's log as a terminal shows them: a progress bar redrawn with ``\\r`` is one line."""
    log = jobs_dir(root) / job_id / "log.txt"
    if not log.is_file():
        return []
    with open(log, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        fh.seek(max(0, size - 64_000))
        text = fh.read().decode("utf-8", errors="replace")
    lines = []
    for raw in text.split("\n"):
        shown = next((seg for seg in reversed(raw.split("\r")) if seg.strip()), "")
        if shown.strip():
            lines.append(shown.rstrip())
    return lines[-n:]


def parse_progress(lines: list[str]) -> float | None:
    """Fraction of the whole job done.

    The last whole-job line ``[k/n] ...`` (:mod:`hybrid_core.progress`: training steps, evaluation
    stages) wins; commands that print none fall back to the last ``n/total`` or ``NN%`` shown (a tqdm bar).
    """
    for line in reversed(lines):
        whole = parse_progress_line(line)
        if whole is not None:
            return whole
    for line in reversed(lines):
        for m in reversed(list(_PROGRESS.finditer(line))):
            if m.group(2):
                done, total = int(m.group(2)), int(m.group(3))
            elif m.group(4):
                done, total = int(m.group(4)), int(m.group(5))
            else:
                done, total = int(m.group(6)), 100
            if total > 0 and 0 <= done <= total:
                return done / total
    return None


def cancel(job_id: str, root: str | Path | None = None) -> bool:
    """Stop a running job (SIGTERM to its process group); True when it was running."""
    st = status(job_id, root)
    if st.finished:
        return False
    folder = jobs_dir(root) / job_id
    (folder / "cancelled").touch()
    pid = _read_info(folder).get("pid")
    try:
        os.killpg(pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError, TypeError):
        return False
    proc = _ACTIVE.pop(job_id, None)
    if proc is not None:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(pid, signal.SIGKILL)
    return True


def list_jobs(root: str | Path | None = None, limit: int = 50) -> list[JobStatus]:
    """Newest first; unreadable job folders are skipped."""
    folder = jobs_dir(root)
    if not folder.is_dir():
        return []
    out = []
    entries = (p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    for d in sorted(entries, key=lambda p: p.name, reverse=True)[:limit]:
        try:
            out.append(status(d.name, root))
        except (HybridIRError, ValueError):
            continue
    return out


def running(root: str | Path | None = None) -> list[JobStatus]:
    return [j for j in list_jobs(root) if j.state == "running"]


def _option(argv: list[str], *flags: str) -> list[str]:
    """The values after the first of ``flags`` in ``argv`` (up to the next ``--option``)."""
    for i, a in enumerate(argv):
        if a in flags:
            out = []
            for b in argv[i + 1 :]:
                if b.startswith("--"):
                    break
                out.append(b)
            return out
    return []


def job_runs(job: JobStatus) -> dict[str, str]:
    """``{run name: what the job does to it}`` (``training`` / ``evaluating``) from the job's command line.

    ``train --run R``; ``evaluate --run R`` (default ``eval-<model>``) or ``--runs A B``; ``experiment --name N``
    (runs ``N-base`` and ``N-<arm>``, named by the preset's arms). Other commands touch no run.
    """
    from hybrid_core.evaluation.run_eval import _default_run_name
    from hybrid_core.models.loading import DEFAULT_MODEL

    argv = job.argv
    try:
        cmd = argv[argv.index("hybrid_core") + 1]
    except (ValueError, IndexError):
        return {}
    if cmd == "train":
        return {r: "training" for r in _option(argv, "--run", "--name")[:1]}
    if cmd == "evaluate":
        runs = _option(argv, "--runs") or _option(argv, "--run")[:1]
        if not runs:
            runs = [_default_run_name((_option(argv, "--model") or [DEFAULT_MODEL])[0])]
        return dict.fromkeys(runs, "evaluating")
    if cmd == "experiment":
        from hybrid_core.experiment import experiment_config

        try:
            cfg = experiment_config(*(_option(argv, "--preset") or ["quick"])[:1], *_option(argv, "--name")[:1])
        except HybridIRError:
            return {}
        return {f"{cfg.name}-base": "evaluating", **{f"{cfg.name}-{a.label}": "training" for a in cfg.arms}}
    return {}


def live_runs(root: str | Path | None = None) -> dict[str, str]:
    """Runs a running job is working on: ``{run name: "training" | "evaluating"}``."""
    out: dict[str, str] = {}
    for job in running(root):
        out.update(job_runs(job))
    return out


def outcome(job: JobStatus, runs_dir: str | Path | None = None) -> str:
    """The job's state as a user should read it: a cancelled job whose runs all finished says so.

    A cancel that arrives after the command wrote complete results (a trained run with status ``done``
    and results, an evaluation with every result on disk) leaves those results in place and usable.
    """
    if job.state != "cancelled":
        return job.state
    from hybrid_core.runs import RunStore

    store = RunStore(runs_dir)
    touched = job_runs(job)
    complete = bool(touched)
    for name in touched:
        try:
            info = store.get(name).info
            results = store.get(name).datasets()
        except HybridIRError:
            return job.state
        complete &= bool(results) and info.get("status") in (None, "done")
    return "cancelled after finishing (results complete)" if complete else job.state


def _supervise(folder: Path) -> int:
    """Run the job's command, stream its output to log.txt, record the exit code."""
    info = json.loads((folder / "job.json").read_text(encoding="utf-8"))
    child: subprocess.Popen | None = None
    stop: list[int] = []

    def forward(signum, _frame):  # installed before the child exists: an early cancel is not lost
        stop.append(signum)
        if child is not None:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    with open(folder / "log.txt", "ab", buffering=0) as log:
        try:
            child = subprocess.Popen(
                info["argv"], cwd=info.get("cwd"), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        except OSError as exc:
            log.write(f"error: cannot start the command ({exc})\n".encode())
            rc = 127
        else:
            if stop:
                child.send_signal(stop[0])
            rc = child.wait()
    tmp = folder / ".rc.tmp"
    tmp.write_text(str(rc))
    kill_point("job:before-rc")
    os.replace(tmp, folder / "rc")
    return rc


if __name__ == "__main__":
    sys.exit(_supervise(Path(sys.argv[1])))
