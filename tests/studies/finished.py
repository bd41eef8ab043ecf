"""A finished tiny study on disk (for the dashboard tests): hybrid at alpha .25 / .75, X-Y, X-X-mono and a merge."""

from __future__ import annotations

from pathlib import Path

from tests.studies.conftest import tiny_study_text

EXTRA = """
[[arm]]
name = "hybrid"
sampler = "hybrid"
alpha = [0.25, 0.75]
"""


def make_finished_study(root: Path, model: Path, data: Path) -> Path:
    """Run the tiny study into ``root/studies`` (runs in ``root/runs``); returns the study folder."""
    from hybrid_core.studies.runner import run_study
    from hybrid_core.studies.spec import load_study

    path = root / "tiny.toml"
    path.write_text(tiny_study_text(model, data, extra_arms=EXTRA), encoding="utf-8")
    _, folder = run_study(
        load_study(path, "quick"),
        runs_dir=root / "runs",
        out_root=root / "studies",
        n_boot=100,
        n_perm=100,
        log=lambda *a, **k: None,
    )
    return folder
