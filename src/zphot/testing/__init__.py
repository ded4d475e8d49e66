"""Public testing helpers: synthetic catalogs with a known answer, the estimator contract suite."""

from .synthetic import SYNTHETIC_SLOPES, synthetic_catalog

__all__ = ["SYNTHETIC_SLOPES", "synthetic_catalog"]
