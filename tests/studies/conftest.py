"""Study fixtures: the synthetic parallel set and tiny model of the training tests, and a tiny study file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.training.conftest import synthetic_dir, tiny_model_dir  # noqa: F401  (fixtures)


def tiny_study_text(model: Path, data: Path, name: str = "tiny", extra_arms: str = "", steps: int = 6) -> str:
    """Two trained arms (X-Y and X-X-mono, fr held out) and their 50/50 weight merge, on the synthetic set."""
    return f'''
name = "{name}"
base_model = "{model}"
seeds = [0]
baseline = "x-y"

[train]
train_data = "{data}"
train_split = "train"
batch_size = 4
steps = {steps}
lr = 1e-3
warmup_steps = 1
checkpoint_every = 3
exclude_languages = ["fr"]

[eval]
data = ["{data}:test"]

[slices]
per_language = false

[[arm]]
name = "x-y"
sampler = "x-y"

[[arm]]
name = "x-x-mono"
sampler = "x-x-mono"
{extra_arms}
[[arm]]
name = "soup"
merge = ["x-y", "x-x-mono", 0.5]

[sizes.quick]
max_questions = 10
'''


@pytest.fixture
def tiny_study(tmp_path, tiny_model_dir, synthetic_dir) -> Path:  # noqa: F811
    path = tmp_path / "tiny.toml"
    path.write_text(tiny_study_text(tiny_model_dir, synthetic_dir), encoding="utf-8")
    return path
