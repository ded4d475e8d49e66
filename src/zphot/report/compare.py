"""Fit several estimators on one train/test split and score them side by side.

:func:`compare` fits each model (or takes one trained beforehand, :class:`Trained`, e.g. the
files of ``zphot debias``), scores it on the same test set (:mod:`~zphot.report.scoring`) and
returns a :class:`~zphot.report.results.Comparison`. It never prints: long loops report
through a ``progress`` callback. A model whose predictions carry a bulk estimate
(``z_phot_bulk``, Step 4 of the bias correction) gets a second row, ``NAME (bulk)``.

Each estimator is cloned before fitting, so the ones passed in stay unfitted. A model trained
beforehand was trained on its own data, which the report cannot check beyond warning when the
test set is exactly its training catalog. The test set is predicted once per model, and that
one prediction gives the metrics, the PIT values, the throughput and the predictions table, so
the numbers in a report always agree.
"""

from __future__ import annotations

import functools
import logging
import math
import time
from collections.abc import Callable, Mapping

import numpy as np
from sklearn.base import clone

from ..catalog.catalog import Catalog
from ..estimators.base import PhotoZEstimator, training_fingerprint
from ..exceptions import ParameterError
from ..metrics import full_range_residuals, max_abs_binned_mean
from .results import (
    _BINNED_KEYS,
    BIN_WIDTH,
    SUMMARY_MIN_COUNT,
    Comparison,
    ModelResult,
    Trained,
    _bin_edges,
)
from .scoring import _bulk_result, _changed_params, _score, loss_history

__all__ = ["Progress", "compare"]

log = logging.getLogger(__name__)

#: ``progress(description, steps_done, steps_total)``; two steps (fit, predict) per model to
#: train, one (predict) per model trained beforehand.
Progress = Callable[[str, int, int], None]


def compare(
    estimators: Mapping[str, PhotoZEstimator | Trained],
    train: Catalog | None,
    test: Catalog,
    *,
    validation: Catalog | None = None,
    progress: Progress | None = None,
    bin_width: float = BIN_WIDTH,
    min_bin_count: int = SUMMARY_MIN_COUNT,
) -> Comparison:
    """Fit each estimator on ``train`` and score it on ``test``, with identical data for all.

    Parameters
    ----------
    estimators : mapping of str to PhotoZEstimator or Trained
        Label -> unfitted estimator (cloned before fitting, so it stays unfitted) or fitted one
        wrapped in :class:`Trained` (only scored), in the order the report lists them.
    train : Catalog or None
        Catalog with redshifts to fit on; None when every model is :class:`Trained`.
    test : Catalog
        Catalog with redshifts every model is scored on, read with the same survey.
    validation : Catalog, optional
        Passed to every ``fit`` (early stopping of networks); never the test set (a leak).
    progress : callable, optional
        ``progress(description, steps_done, steps_total)`` before each step and at the end.
    bin_width : float
        Width in redshift of the bins of the binned residuals (:meth:`Comparison.binned`).
    min_bin_count : int
        Least test galaxies in a fixed-width bin counted in the ``max_dz_*_fixed`` columns.

    Returns
    -------
    Comparison

    Raises
    ------
    CatalogError
        A catalog has no (or missing) redshifts, or an estimator produced no finite estimate.
    ParameterError
        Invalid estimator parameters (raised by ``fit``), no ``train`` while a model needs
        fitting, or a ``bin_width`` that is not a positive width.
    NotFittedError
        A :class:`Trained` estimator is not fitted.

    Examples
    --------
    >>> from zphot.estimators import get_estimator
    >>> from zphot.testing import synthetic_catalog
    >>> train, test = synthetic_catalog(400, random_state=0), synthetic_catalog(100, random_state=1)
    >>> result = compare({"knn": get_estimator("knn", k=10)}, train, test)
    >>> table = result.table()
    >>> table.loc[0, "model"], bool(table.loc[0, "sigma_nmad"] < 0.05)
    ('knn', True)
    """
    z_test = test.require_z()
    _bin_edges(z_test, bin_width)  # a bad width fails before any training
    to_fit = [name for name, e in estimators.items() if not isinstance(e, Trained)]
    if to_fit:
        if train is None:
            raise ParameterError(f"no training catalog to fit {', '.join(to_fit)}")
        train.require_z()
    steps = _Steps(progress or (lambda *_: None), len(estimators) + len(to_fit))
    notes: list[str] = []
    results = _fit_and_score(estimators, train, test, z_test, validation, steps, notes)
    steps.done()
    fitted = train if to_fit and train is not None else None
    comparison = Comparison(
        results=results,
        train_source=fitted.source if fitted is not None else "",
        test_source=test.source,
        n_train=len(fitted) if fitted is not None else 0,
        n_test=len(test),
        survey=test.survey.name,
        bin_width=float(bin_width),
        min_bin_count=int(min_bin_count),
        notes=notes,
    )
    for r in results:
        _add_binned_summaries(comparison, r)
    return comparison


def _fit_and_score(
    estimators: Mapping[str, PhotoZEstimator | Trained],
    train: Catalog | None,
    test: Catalog,
    z_test: np.ndarray,
    validation: Catalog | None,
    steps: _Steps,
    notes: list[str],
) -> list[ModelResult]:
    """Each model's result rows in order: fitted on ``train`` (or checked, if trained
    beforehand, adding to ``notes``), then scored on ``test``."""
    results: list[ModelResult] = []
    # Hashing the test catalog once serves every model trained beforehand (a debias folder
    # brings four).
    test_fingerprint = functools.cache(functools.partial(training_fingerprint, test))
    for name, template in estimators.items():
        if isinstance(template, Trained):
            est, train_seconds = _check_trained(name, template, test_fingerprint, notes), math.nan
        else:
            assert train is not None
            steps(f"fitting {name}")
            est, train_seconds = _fit(template, train, validation)
        steps(f"predicting {name}")
        source = (template.source or "trained beforehand") if isinstance(template, Trained) else ""
        results.extend(_score_model(name, est, test, z_test, train_seconds, source))
    return results


class _Steps:
    """Counts the run's steps for the ``progress`` callback (fit and predict are one each)."""

    def __init__(self, progress: Progress, total: int) -> None:
        self.progress, self.total, self.done_so_far = progress, total, 0

    def __call__(self, description: str) -> None:
        self.progress(description, self.done_so_far, self.total)
        self.done_so_far += 1

    def done(self) -> None:
        self.progress("done", self.total, self.total)


def _check_trained(
    name: str, model: Trained, test_fingerprint: Callable[[], str], notes: list[str]
) -> PhotoZEstimator:
    """A model trained beforehand, checked fitted; a note when the test set is its training set
    (``test_fingerprint()`` gives the test catalog's fingerprint)."""
    est = model.estimator
    est._check_fitted()
    if getattr(est, "fingerprint_", None) == test_fingerprint():
        notes.append(f"{name} is tested on the very catalog it was trained on")
        log.warning("%s: %s", name, notes[-1])
    return est


def _fit(
    template: PhotoZEstimator, train: Catalog, validation: Catalog | None
) -> tuple[PhotoZEstimator, float]:
    """A fitted clone of ``template`` and the wall-clock seconds its fit took."""
    est = clone(template)
    log.debug("fitting %s on %d galaxies", type(est).__name__, len(train))
    t0 = time.perf_counter()
    est.fit(train, validation=validation)
    return est, time.perf_counter() - t0


def _score_model(
    name: str,
    est: PhotoZEstimator,
    test: Catalog,
    z_test: np.ndarray,
    train_seconds: float,
    source: str,
) -> list[ModelResult]:
    """The model's row, followed by its bulk row when it predicts ``z_phot_bulk``."""
    metrics, predictions, pit_values = _score(est, test, z_test, train_seconds)
    log.debug("%s: sigma_NMAD %.4f in %.1f s", name, metrics["sigma_nmad"], train_seconds)
    result = ModelResult(
        name=name,
        estimator=est,
        params=est.get_params(),
        changed=_changed_params(est),
        metrics=metrics,
        predictions=predictions,
        pit=pit_values,
        history=loss_history(est),
        source=source,
    )
    if "z_phot_bulk" in predictions.columns:
        return [result, _bulk_result(result, z_test)]
    return [result]


def _add_binned_summaries(comparison: Comparison, result: ModelResult) -> None:
    """The max |mean dz| columns: over the full range in equal-count bins, and over the
    comparison's fixed-width bins holding at least ``min_bin_count`` galaxies."""
    binned = comparison.binned(result)
    for key, by in _BINNED_KEYS.items():
        result.metrics[key] = max_abs_binned_mean(
            binned[binned["by"] == by], comparison.min_bin_count
        )
    result.metrics.update(full_range_residuals(result.z_phot, result.z_spec))
