"""User-facing errors: one exception type whose message is shown as-is, without a traceback."""

from __future__ import annotations


class HybridIRError(Exception):
    """Bad input or a failed precondition, with a message meant for the user.

    The CLI prints ``error: <message>`` and exits with status 2; the dashboard shows the message in
    an error card. Messages name the file (or run, or option) and say what is wrong with it.
    """


class DataError(HybridIRError):
    """A data file or folder that is missing, malformed, empty or inconsistent."""


class ModelError(HybridIRError):
    """A model that cannot be found, converted or loaded."""


class RunError(HybridIRError):
    """A run folder that is missing, corrupt, or would be overwritten."""
