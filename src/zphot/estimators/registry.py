"""Estimator names -> classes; an estimator is usable (and contract-tested) once registered."""

from __future__ import annotations

import inspect
from importlib import import_module
from typing import Any

from ..exceptions import ParameterError

__all__ = ["get_estimator", "list_estimators", "estimator_class", "estimator_summary"]

# name -> (module, class); modules are imported on demand so `import zphot` stays fast and torch
# is only loaded when a network is used.
_REGISTRY: dict[str, tuple[str, str]] = {
    "template": ("zphot.estimators.template", "TemplateFitEstimator"),
    "knn": ("zphot.estimators.knn", "KNNEstimator"),
    "lgbm": ("zphot.estimators.lgbm", "LightGBMEstimator"),
    "mlp": ("zphot.estimators.mlp", "MLPEstimator"),
    "cnn1d": ("zphot.estimators.cnn1d", "CNN1DEstimator"),
    "gat": ("zphot.estimators.gat", "GATEstimator"),
    "image-cnn": ("zphot.images.estimator", "ImageCNNEstimator"),
    "debiased": ("zphot.debias.estimator", "DebiasedEstimator"),
}
# Not catalog-only estimators: image-cnn needs stamps, debiased wraps a network. They load and
# are contract-tested like the others, but `--models all` on a catalog leaves them out.
_SPECIAL = {"image-cnn", "debiased"}


def list_estimators(include_special: bool = False) -> list[str]:
    """Registered estimator names whose module can be imported here.

    By default only the catalog estimators (what ``zphot compare --models all`` runs);
    ``include_special`` adds the image CNN and the bias-corrected wrapper.
    """
    out = []
    for name, (mod, _) in _REGISTRY.items():
        if name in _SPECIAL and not include_special:
            continue
        try:
            import_module(mod)
        except ImportError:
            continue
        out.append(name)
    return out


def estimator_class(name: str) -> type:
    if name not in _REGISTRY:
        raise ParameterError(f"unknown model '{name}' (known: {', '.join(_REGISTRY)})")
    mod, cls = _REGISTRY[name]
    return getattr(import_module(mod), cls)


def estimator_summary(name: str) -> str:
    """The first paragraph of the estimator's docstring as one line (what ``zphot models`` shows).

    Summaries wrap over several source lines; taking the first line alone cut them mid-sentence.
    """
    doc = inspect.getdoc(estimator_class(name)) or ""
    return " ".join(doc.split("\n\n", 1)[0].split())


def get_estimator(name: str, **params: Any):  # noqa: ANN201 - returns a PhotoZEstimator
    """A new, unfitted estimator by registry name, e.g. ``get_estimator("knn", k=20)``."""
    cls = estimator_class(name)
    valid = cls().get_params()
    unknown = set(params) - set(valid)
    if unknown:
        raise ParameterError(
            f"{name}: unknown parameter(s) {sorted(unknown)} (valid: {', '.join(sorted(valid))})"
        )
    return cls(**params)
