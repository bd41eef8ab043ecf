"""Which data sets are on disk, and loading one by the name a page shows (the built-in demo set included).

Cheap on purpose (file checks only, no torch): the dashboard's home page calls these on every visit.
"""

from __future__ import annotations

import pandas as pd

from hybrid_core import paths

BUILTIN_DEMO = "tiny-parallel"


def data_status(data_dir: str | None = None) -> pd.DataFrame:
    """One row per known data set: title, languages, whether its files are in the data folder, the folder."""
    from hybrid_core.data import KNOWN_SETS

    root = paths.data_dir(data_dir)
    rows = []
    for key, meta in KNOWN_SETS.items():
        folder = root / key
        found = sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []
        missing = sorted(set(meta["languages"]) - set(found))
        rows.append(
            {
                "data set": key,
                "languages": " ".join(meta["languages"]),
                "questions": meta["questions"],
                "candidates": meta["candidates"],
                "status": "ready" if not missing else ("missing" if not found else f"lacks {' '.join(missing)}"),
                "folder": str(folder),
                "available": not missing,
            }
        )
    return pd.DataFrame(rows)


def dataset_choices(data_dir: str | None = None) -> list[str]:
    """Data sets a page can load by name: the LAReQA sets found on disk, then the built-in demo set."""
    found = data_status(data_dir)
    return [*found.loc[found["available"], "data set"], BUILTIN_DEMO]


def load_named(name: str, data_dir: str | None = None):
    """A data set by name (``xquad-r``, ``mlqa-r``, ``tiny-parallel``) or path, through the data loaders."""
    if name == BUILTIN_DEMO:
        from hybrid_core.data.mock import tiny_parallel_dataset

        return tiny_parallel_dataset()
    from hybrid_core.data import load_dataset

    return load_dataset(name, data_dir=data_dir)
