"""What every estimator returns: a redshift grid and per-object probabilities on it.

Names load on first use (:mod:`zphot._lazy`).
"""

from .._lazy import attach

__all__, __getattr__, __dir__ = attach(
    __name__, {".batch": ["POINT_KINDS", "PDFBatch"], ".grid": ["RedshiftGrid"]}
)
