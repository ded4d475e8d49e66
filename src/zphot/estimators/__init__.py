"""Photo-z estimators behind one interface (fit, predict_pdf, predict, save / load)."""

from .base import PhotoZEstimator
from .persist import load
from .registry import estimator_class, get_estimator, list_estimators

__all__ = ["PhotoZEstimator", "estimator_class", "get_estimator", "list_estimators", "load"]
