"""Photo-z estimators behind one interface (fit, predict_pdf, predict, save / load).

Names load on first use (:mod:`zphot._lazy`): the registry alone needs no scikit-learn.
"""

from .._lazy import attach

__all__, __getattr__, __dir__ = attach(
    __name__,
    {
        ".base": ["PhotoZEstimator"],
        ".persist": ["load"],
        ".registry": ["estimator_class", "get_estimator", "list_estimators"],
    },
)
