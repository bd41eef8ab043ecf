"""Query augmentation and perturbation: noise (typos, casing, diacritics, punctuation, segmentation),
code-switching through bilingual dictionaries, and dictionaries induced from parallel questions.

Everything here is a pure function of its inputs and a seed, so a perturbed query is the same in a
batch of one and a batch of thousands, and a training run that resumes sees the same augmentations.
"""

from __future__ import annotations

from hybrid_core.errors import HybridIRError


class AugmentError(HybridIRError):
    """A malformed noise or augmentation spec, or a malformed bilingual dictionary file."""
