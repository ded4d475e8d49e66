"""What every estimator returns: a redshift grid and per-object probabilities on it."""

from .batch import POINT_KINDS, PDFBatch
from .grid import RedshiftGrid

__all__ = ["POINT_KINDS", "PDFBatch", "RedshiftGrid"]
