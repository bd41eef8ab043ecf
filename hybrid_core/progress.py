"""Whole-job progress lines: ``[k/n] what`` at the start of a log line.

Long commands (training, evaluation) print one such line per stage or logged step, so a reader of
their output (the dashboard's job list, :mod:`hybrid_core.jobs`) can show how far the whole job is,
not how far the current ``tqdm`` bar is. A plain base module: the trainer and the evaluation write
these lines, the job list reads them.
"""

from __future__ import annotations

import re

_MARK = re.compile(r"\[(\d+)/(\d+)\]\s")


def progress_line(done: int, total: int, text: str) -> str:
    """``"[3/10] text"``: ``done`` of ``total`` units of the whole job finished."""
    return f"[{done}/{total}] {text}"


def parse_progress_line(line: str) -> float | None:
    """The fraction a :func:`progress_line` says, or None for any other line.

    The mark may follow other text on the line: in a job's log, stdout and a tqdm bar on stderr share a
    line (the bar is redrawn with ``\\r`` and has no newline before the print). The last mark counts.
    """
    marks = list(_MARK.finditer(line))
    if not marks:
        return None
    m = marks[-1]
    done, total = int(m[1]), int(m[2])
    return done / total if total > 0 and 0 <= done <= total else None


def within(log, first: int, total: int, parts: int = 1000):
    """A log function for one stage of a longer job: its ``[k/n]`` marks become marks of the whole job.

    The stage is unit ``first`` (0-based) of ``total`` equal units; a mark ``[k/n]`` it prints becomes
    ``[m/parts]`` with ``m = parts * (first + k/n) / total``. Lines without a mark pass unchanged.
    """

    def out(message, *args, **kwargs):
        text = str(message)
        marks = list(_MARK.finditer(text))
        if marks:
            m = marks[-1]
            done, n = int(m[1]), int(m[2])
            if n > 0 and 0 <= done <= n:
                whole = round(parts * (first + done / n) / total)
                text = f"{text[: m.start()]}[{whole}/{parts}] {text[m.end() :]}"
        return log(text, *args, **kwargs)

    return out
