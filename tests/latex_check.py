"""Compile LaTeX with Debian's pdflatex in tests (skipped with a reason when it is not installed)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

PDFLATEX = shutil.which("pdflatex")
NO_PDFLATEX = "pdflatex not installed (apt-get install texlive-latex-base texlive-latex-recommended; setup.sh as root)"


def assert_compiles(tex: str, folder: Path) -> Path:
    """Write ``tex`` to ``folder/doc.tex``, run pdflatex, fail with the log's tail on an error; returns the PDF."""
    (folder / "doc.tex").write_text(tex, encoding="utf-8")
    proc = subprocess.run(
        [PDFLATEX or "pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    return folder / "doc.pdf"
