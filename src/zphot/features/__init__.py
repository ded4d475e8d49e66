"""Catalog -> model inputs: features, scaling, coverage.

Names load on first use (:mod:`zphot._lazy`), so ``features.cells`` loads without scikit-learn.
"""

from .._lazy import attach

__all__, __getattr__, __dir__ = attach(
    __name__,
    {
        ".coverage": ["CoverageModel"],
        ".preprocess": ["INPUT_KINDS", "SCALERS", "Preprocessor", "build_features"],
    },
)
