"""The estimator contract suite, run for image-cnn on catalogs that point at stamps.

The registered suite (tests/estimators/test_contract.py) trains on synthetic_catalog, which
has no images, so image-cnn skips its fitting checks there with a written reason; here the very
same check functions run on a stamp catalog.
"""

from __future__ import annotations

import functools

import pytest

from zphot.images.estimator import ImageCNNEstimator
from zphot.testing import contract


class _ImageContext(contract._Context):
    def __init__(self, estimator, train, test) -> None:  # noqa: ANN001
        super().__init__(estimator, n_train=len(train))
        self.__dict__["train"] = train
        self.__dict__["test"] = test


@pytest.fixture(scope="module")
def ctx(blob_data):
    est = ImageCNNEstimator().set_params(**ImageCNNEstimator.tags["fast_params"])
    return _ImageContext(est, blob_data["train"], blob_data["test"])


@pytest.mark.parametrize("check", [c.__name__ for c in contract._CHECKS])
def test_image_contract(ctx, check):
    functools.partial(getattr(contract, check), ctx)()


def test_skips_on_synthetic_catalogs_have_reasons():
    checks = dict(contract.check_estimator(ImageCNNEstimator()))
    skipped = ImageCNNEstimator.tags["skip_checks"]
    assert set(skipped) < set(checks)
    assert "check_invalid_params_fail_at_fit" not in skipped
    assert "check_not_fitted_errors" not in skipped
