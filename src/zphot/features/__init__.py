"""Catalog -> model inputs: features, scaling, coverage."""

from .coverage import CoverageModel
from .preprocess import INPUT_KINDS, SCALERS, Preprocessor, build_features

__all__ = ["INPUT_KINDS", "SCALERS", "CoverageModel", "Preprocessor", "build_features"]
