"""Public testing helpers: synthetic catalogs with a known answer, the estimator contract suite.

Names load on first use (:mod:`zphot._lazy`).
"""

from .._lazy import attach

__all__, __getattr__, __dir__ = attach(
    __name__,
    {
        ".contract": ["check_estimator"],
        ".synthetic": ["SYNTHETIC_SLOPES", "synthetic_catalog", "synthetic_files"],
    },
)
