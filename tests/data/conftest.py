"""Fixtures for the data tests: where the real XQuAD-R / MLQA-R files are."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path("/work/shared/data")


@pytest.fixture(scope="session")
def data_root() -> Path:
    """A folder holding ``xquad-r/`` and ``mlqa-r/``: $HYBRID_IR_DATA if it has them, else the shared copy."""
    for root in (os.environ.get("HYBRID_IR_DATA"), SHARED_DATA):
        if root and (Path(root) / "xquad-r").is_dir() and (Path(root) / "mlqa-r").is_dir():
            return Path(root)
    pytest.skip("XQuAD-R / MLQA-R not available (set HYBRID_IR_DATA)")
