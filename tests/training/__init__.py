"""Tests of sampling, losses, the trainer, resuming, DDP and experiments (mirrors hybrid_core)."""
