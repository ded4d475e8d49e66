"""zphot: photometric redshifts from catalogs and galaxy images, with bias correction.

Every public name is imported on first use, so ``import zphot`` (and ``zphot --help``) stays
fast; the first ``zphot.Catalog`` loads pandas and astropy, the first estimator scikit-learn.

Examples
--------
>>> import zphot
>>> "knn" in zphot.list_estimators()
True
"""

from ._lazy import attach

__all__, __getattr__, __dir__ = attach(
    __name__,
    {
        ".catalog": ["Catalog", "Survey", "load_survey", "read_catalog"],
        ".estimators": ["get_estimator", "list_estimators", "load"],
        ".pdf": ["PDFBatch", "RedshiftGrid"],
        "._version": ["__version__"],
    },
)
