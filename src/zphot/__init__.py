"""zphot: photometric redshifts from catalogs and galaxy images, with bias correction.

Examples
--------
>>> import zphot
>>> "knn" in zphot.list_estimators()
True
"""

from importlib.metadata import PackageNotFoundError, version

from .catalog import Catalog, Survey, load_survey, read_catalog
from .estimators import get_estimator, list_estimators, load
from .pdf import PDFBatch, RedshiftGrid

try:
    __version__ = version("zphot")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = [
    "Catalog",
    "PDFBatch",
    "RedshiftGrid",
    "Survey",
    "__version__",
    "get_estimator",
    "list_estimators",
    "load",
    "load_survey",
    "read_catalog",
]
