"""Public testing helpers: synthetic catalogs with a known answer, the estimator contract suite."""

from .contract import check_estimator
from .synthetic import SYNTHETIC_SLOPES, synthetic_catalog

__all__ = ["SYNTHETIC_SLOPES", "check_estimator", "synthetic_catalog"]
