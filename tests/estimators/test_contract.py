"""The estimator contract over every registered estimator: registering one is enough to test it.

Each (estimator, check) pair is one pytest case. The checks of one estimator share a lazily
fitted model, built with the class's ``tags["fast_params"]`` (see :mod:`zphot.testing.contract`).
"""

from __future__ import annotations

import inspect
import unittest
from typing import ClassVar

import numpy as np
import pytest

import zphot
from zphot.estimators.knn import KNNEstimator
from zphot.exceptions import ParameterError
from zphot.testing import check_estimator

# Built once at collection; nothing is fitted until a check needs it.
CHECKS = {
    name: dict(check_estimator(zphot.get_estimator(name)))
    for name in zphot.list_estimators(include_special=True)
}


@pytest.mark.parametrize(
    ("model", "check"), [(m, c) for m, checks in CHECKS.items() for c in checks]
)
def test_contract(model, check):
    CHECKS[model][check]()


def test_knn_and_lgbm_are_covered():
    assert {"knn", "lgbm"} <= set(CHECKS)
    names = set(CHECKS["knn"])
    assert len(names) >= 15
    assert names == set(CHECKS["lgbm"])


# --- the suite catches breaches ------------------------------------------------------------


def _run(est, name: str) -> None:
    dict(check_estimator(est))[name]()


class _ValidatesInInit(KNNEstimator):
    def __init__(self, **params) -> None:  # noqa: ANN003
        super().__init__(**params)
        self._validate_params()

    __init__.__signature__ = inspect.signature(KNNEstimator.__init__)


class _WorksInInit(KNNEstimator):
    def __init__(self, **params) -> None:  # noqa: ANN003
        super().__init__(**params)
        self.k_grid = sorted(self.k_grid)

    __init__.__signature__ = inspect.signature(KNNEstimator.__init__)


class _ChangesParamsInFit(KNNEstimator):
    def _fit(self, catalog, z, validation):  # noqa: ANN001, ANN202
        self.kernel_width = 2 * self.kernel_width
        super()._fit(catalog, z, validation)


class _BatchDependent(KNNEstimator):
    def _predict_probs(self, catalog):  # noqa: ANN001, ANN202
        probs = super()._predict_probs(catalog)
        return probs + probs.mean(axis=0)  # each row leaks the batch average


class _ByPosition(KNNEstimator):
    def _predict_probs(self, catalog):  # noqa: ANN001, ANN202
        # Uses the catalog's own band order instead of the trained band names.
        cat = catalog.with_magnitudes(catalog.mags)
        cat.survey = self.survey_
        return super()._predict_probs(cat)


class _Skips(KNNEstimator):
    tags: ClassVar[dict] = KNNEstimator.tags | {
        "skip_checks": {"check_recovers_synthetic_redshift": "not a regression method"}
    }


def test_suite_catches_validation_in_init():
    with pytest.raises(ParameterError):
        _run(_ValidatesInInit(), "check_invalid_params_fail_at_fit")


def test_suite_catches_work_in_init():
    with pytest.raises(AssertionError, match="does not store 'k_grid' verbatim"):
        _run(_WorksInInit(), "check_init_is_param_list")


def test_suite_catches_params_changed_by_fit():
    with pytest.raises(AssertionError, match="changed the estimator's parameters"):
        _run(_ChangesParamsInFit(), "check_fit_returns_self_without_side_effects")


def test_suite_catches_batch_dependence():
    with pytest.raises(AssertionError, match="subset rows differ"):
        _run(_BatchDependent(), "check_rows_independent")


def test_suite_catches_columns_by_position():
    with pytest.raises(AssertionError, match="another survey order"):
        _run(_ByPosition(), "check_columns_matched_by_name")


def test_skip_needs_a_reason():
    checks = dict(check_estimator(_Skips()))
    with pytest.raises(unittest.SkipTest, match="not a regression method"):
        checks["check_recovers_synthetic_redshift"]()

    class NoReason(KNNEstimator):
        tags: ClassVar[dict] = KNNEstimator.tags | {"skip_checks": {"check_pdf_valid": " "}}

    with pytest.raises(ParameterError, match="written reason"):
        dict(check_estimator(NoReason()))


def test_fast_params_are_applied_to_a_clone():
    est = KNNEstimator()
    checks = dict(check_estimator(est))
    assert est.get_params()["cv"] == 3  # the caller's estimator is untouched
    checks["check_fit_returns_self_without_side_effects"]()
    assert not hasattr(est, "grid_")
    assert np.isfinite(KNNEstimator.tags["synthetic_tolerance"])
