"""Lima et al. (2008) weights recover a known target distribution; sample weights in fit."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from zphot.estimators.knn import KNNEstimator
from zphot.estimators.mlp import MLPEstimator
from zphot.estimators.nn.network import FAST_TRAINING
from zphot.estimators.nn.train import ClassificationLoss, WeightedLoss
from zphot.exceptions import ParameterError
from zphot.lensing.reweight import lima_weights, weighted_nz
from zphot.pdf.grid import RedshiftGrid
from zphot.testing import synthetic_catalog


def test_weights_recover_a_shifted_gaussian() -> None:
    rng = np.random.default_rng(0)
    train = rng.normal(0.0, 1.0, (6000, 2))
    # Target: N(0.5, 0.7²) in each coordinate, inside the training distribution's support.
    target = rng.normal(0.5, 0.7, (6000, 2))
    w = lima_weights(train, target, k=20)
    assert w.mean() == pytest.approx(1.0)
    mean = np.average(train, axis=0, weights=w)
    std = np.sqrt(np.average((train - mean) ** 2, axis=0, weights=w))
    np.testing.assert_allclose(mean, [0.5, 0.5], atol=0.05)
    np.testing.assert_allclose(std, [0.7, 0.7], atol=0.06)


def test_weighted_redshifts_recover_the_target_nz() -> None:
    rng = np.random.default_rng(1)
    # A colour x sets the redshift z = 1 + 0.3 x; the target's colours are redder.
    x_train, x_target = rng.normal(0, 1, 8000), rng.normal(0.6, 0.8, 8000)
    z_train, z_target = 1 + 0.3 * x_train, 1 + 0.3 * x_target
    grid = RedshiftGrid(0.0, 2.0, 20)
    w = lima_weights(x_train[:, None], x_target[:, None], k=20)
    nz, n_eff = weighted_nz(z_train, w, grid)
    truth = np.bincount(grid.bin_index(z_target), minlength=20) / len(z_target)
    plain = np.bincount(grid.bin_index(z_train), minlength=20) / len(z_train)
    # Total-variation distance to the target's n(z): small after weighting, large before.
    assert 0.5 * np.abs(nz - truth).sum() < 0.05
    assert 0.5 * np.abs(plain - truth).sum() > 0.2
    assert np.average(z_train, weights=w) == pytest.approx(z_target.mean(), abs=0.01)
    assert 1000 < n_eff < len(z_train)


def test_non_finite_training_rows_get_zero_weight() -> None:
    rng = np.random.default_rng(2)
    train = rng.normal(size=(200, 2))
    train[5, 1] = np.nan
    w = lima_weights(train, rng.normal(size=(300, 2)), k=5)
    assert w[5] == 0.0 and np.isfinite(w).all()


def test_weighted_loss_is_the_weighted_mean_of_row_losses() -> None:
    loss = ClassificationLoss(torch.linspace(0, 1, 11, dtype=torch.float64), 0.02)
    logits = torch.randn(3, 10, generator=torch.Generator().manual_seed(0))
    z = torch.tensor([0.1, 0.5, 0.9])
    rows = loss.rows(logits, z)
    weighted = WeightedLoss(loss)
    target = torch.column_stack([z, torch.tensor([1.0, 0.0, 3.0])])
    assert float(weighted(logits, target)) == pytest.approx(float((rows[0] + 3 * rows[2]) / 4))
    ones = torch.column_stack([z, torch.ones(3)])
    assert float(weighted(logits, ones)) == pytest.approx(float(loss(logits, z)))


def test_sample_weight_moves_a_network_toward_the_weighted_redshifts() -> None:
    cat = synthetic_catalog(600, random_state=0)
    z = cat.require_z()
    low = np.where(z < np.median(z), 1.0, 0.02)  # the high half nearly ignored
    params = FAST_TRAINING | {"hidden": (16,), "random_state": 0}
    plain = MLPEstimator(**params).fit(cat)
    tilted = MLPEstimator(**params).fit(cat, sample_weight=low)
    # The weighted fit sees mostly low redshifts, so its PDFs put more mass low.
    assert (
        tilted.predict_pdf(cat).point("mean").mean()
        < plain.predict_pdf(cat).point("mean").mean() - 0.02
    )


def test_estimators_without_weights_refuse_them() -> None:
    cat = synthetic_catalog(50, random_state=0)
    with pytest.raises(ParameterError, match="^KNNEstimator does not take sample weights"):
        KNNEstimator().fit(cat, sample_weight=np.ones(50))
    with pytest.raises(ParameterError, match="sample_weight needs 50 finite non-negative"):
        MLPEstimator(**FAST_TRAINING).fit(cat, sample_weight=np.ones(49))


def test_weighted_pit_recalibration_follows_the_weighted_group() -> None:
    from zphot.debias.calibrate import PITRecalibration

    rng = np.random.default_rng(4)
    # Group A's PDFs are too wide (PITs pile up at 0.5), group B's are calibrated (uniform).
    a = np.clip(rng.normal(0.5, 0.1, 4000), 0, 1)
    b = rng.uniform(0, 1, 4000)
    w = np.r_[np.ones(4000), np.full(4000, 1e-6)]
    weighted = PITRecalibration().fit(np.r_[a, b], sample_weight=w)
    alone = PITRecalibration().fit(a)
    np.testing.assert_allclose(weighted.knots_x_, alone.knots_x_, atol=0.01)
    equal = PITRecalibration().fit(np.r_[a, b], sample_weight=np.ones(8000))
    np.testing.assert_allclose(
        equal.knots_x_, PITRecalibration().fit(np.r_[a, b]).knots_x_, atol=0.01
    )
