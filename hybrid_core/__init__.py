"""hybrid-ir core: data, models, encoding, evaluation, metrics, training and the run store.

Nouns are objects (``RetrievalDataset``, ``Run``, ``RunStore``), verbs are functions
(``load_dataset``, ``load_model``, ``evaluate_model``, ``evaluate_run``). Imports are lazy so that
``import hybrid_core`` stays cheap for the dashboard and the CLI's ``--help``.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "RetrievalDataset": "hybrid_core.data.dataset",
    "load_dataset": "hybrid_core.data",
    "load_model": "hybrid_core.models.loading",
    "evaluate_model": "hybrid_core.evaluation.evaluate",
    "evaluate_run": "hybrid_core.evaluation.run_eval",
    "evaluate_model_as_run": "hybrid_core.evaluation.run_eval",
    "METRICS": "hybrid_core.evaluation.metrics",
    "Run": "hybrid_core.runs",
    "RunStore": "hybrid_core.runs",
    "HybridIRError": "hybrid_core.errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'hybrid_core' has no attribute {name!r}")
