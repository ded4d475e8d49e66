"""The bias-corrected estimator end to end on a small synthetic catalog (all four steps)."""

import numpy as np
import pytest

import zphot
from zphot.debias import DebiasedEstimator
from zphot.exceptions import ParameterError
from zphot.testing import synthetic_catalog


@pytest.fixture(scope="module")
def fitted():
    train = synthetic_catalog(900, random_state=0)
    est = DebiasedEstimator(
        base_params={"hidden": (32, 32), "max_epochs": 6, "batch_size": 64},
        head_epochs=4,
        n_folds=2,
        kept_fraction=0.5,
        calibration_bin=0.05,  # wide enough for 900 galaxies to fill the calibrations' bins
    )
    return est.fit(train), synthetic_catalog(200, random_state=1)


def test_every_step_saves_loads_and_predicts(fitted, tmp_path):
    est, test = fitted
    assert est.info_["subset_size"] <= est.info_["n_train"]
    assert len(est.info_["sigma1"]) == est.network_.cells_.n_heads
    for step in (1, 2, 3, 4):
        view = est.at_step(step)
        view.save(tmp_path / f"step{step}")
        back = zphot.load(tmp_path / f"step{step}")
        assert np.array_equal(back.predict(test), view.predict(test))
        assert np.array_equal(back.predict_pdf(test).probs, view.predict_pdf(test).probs)
        table = back.predict_table(test)
        assert ("z_phot_bulk" in table.columns) == (step == 4)
    # Step 3 extends the grid on both sides; Steps 1-2 keep the training grid.
    assert est.at_step(3).grid_.n_bins > est.at_step(2).grid_.n_bins


def test_step4_bulk_view_and_recalibrated_pdf(fitted):
    est, test = fitted
    raw = est.raw_pdf(test)
    assert not np.array_equal(raw.probs, est.predict_pdf(test).probs)  # PDF recalibrated
    mode = raw.point("mode")  # the PDF recalibration does not move points
    assert np.array_equal(est.predict_raw(test), mode)
    assert np.array_equal(est.at_step(3).predict(test), mode)
    # The individual view of the Step 4 model is Step 3's mode shifted by the z_spec calibration.
    assert np.abs(est.spec_calibration_.shift_).max() > 0
    assert np.array_equal(est.predict(test), est.spec_calibration_.apply(mode))
    assert not np.array_equal(est.predict(test), mode)
    # The bulk view corrects Step 3's mode, on which Step 4 was fitted.
    bulk = est.predict_bulk(test)
    cell = est.network_.magnitude_cell(test)
    expected = mode - est.calibration_.table_[cell, est.calibration_._bin(mode)]
    assert np.allclose(bulk, expected)


def test_without_individual_smoothing_the_individual_view_is_step3s_mode():
    train = synthetic_catalog(400, random_state=0)
    est = DebiasedEstimator(
        base_params={"hidden": (16,), "max_epochs": 3, "batch_size": 64},
        head_epochs=2,
        n_folds=2,
        balance="subset",
        individual_smoothing=None,
    ).fit(train)
    assert not hasattr(est, "spec_calibration_")
    assert est.info_["balance"] == "subset"
    assert np.array_equal(est.predict(train), est.predict_raw(train))


def test_at_step_and_base_are_validated(fitted):
    est, _ = fitted
    with pytest.raises(ParameterError, match="step must be"):
        est.at_step(5)
    with pytest.raises(ParameterError, match="'base' must name a network"):
        DebiasedEstimator(base="knn").fit(synthetic_catalog(100))


def test_base_factorised_defaults_apply_unless_base_params_set():
    """The gat's ``factorised_params`` tag (60 epochs) sets Step 1's network unless
    ``base_params`` says otherwise."""
    train = synthetic_catalog(150, random_state=2)
    fast = {"width": 4, "heads": 1, "hidden": (8,), "batch_size": 64, "patience": 1}
    tagged = DebiasedEstimator(base="gat", base_params=fast, steps=1).fit(train)
    assert tagged.network_.max_epochs == 60
    own = DebiasedEstimator(base="gat", base_params=fast | {"max_epochs": 2}, steps=1).fit(train)
    assert own.network_.max_epochs == 2
    assert len(own.network_.history_[0]["val_loss"]) <= 2


def _binned_squared_residual(z_photo, z_spec, bin_width: float, min_count: int = 30) -> float:
    """sum_b w_b (mean dz in z_spec bin b)^2: the data term SpecResidualCalibration minimises
    (bins of ``bin_width`` from the lowest z_spec, w_b the fraction of galaxies in bin b)."""
    b = np.floor((z_spec - z_spec.min()) / bin_width).astype(np.int64)
    count = np.bincount(b)
    mean = np.bincount(b, (z_photo - z_spec) / (1 + z_spec)) / np.maximum(count, 1)
    keep = count >= min_count
    return float(np.sum(count[keep] / len(z_spec) * mean[keep] ** 2))


def test_step4_calibrations_improve_on_what_they_correct(fitted):
    """Outcomes, not wiring: on held-out galaxies the recalibrated PDFs' PIT is flatter than the
    raw Step 3 PDFs'; on what it is fitted on (the out-of-fold Step 3 estimates of the training
    galaxies) the z_spec calibration lowers the z_spec-binned mean residual.

    The second check is not made on held-out galaxies: with the fixture's short training the
    full model and the fold models differ so much that whether the shift carried over
    depended on the seed (it failed for random_state 1 and 2 before any change)."""
    from zphot.metrics import pit
    from zphot.metrics.pdf import pit_ks

    est, _ = fitted
    test = synthetic_catalog(3000, random_state=5)
    z = test.require_z()
    raw, rec = est.raw_pdf(test), est.predict_pdf(test)
    ks_raw = pit_ks(pit(raw.probs, raw.grid.edges, z))
    ks_rec = pit_ks(pit(rec.probs, rec.grid.edges, z))
    assert ks_raw > 0.1  # miscalibrated enough for the check to mean something
    assert ks_rec < 0.5 * ks_raw
    # The fitted shift minimises this term plus a non-negative stretch penalty that is zero for
    # no shift, so the term can only fall (strictly, unless no shift was already optimal).
    z_train = synthetic_catalog(900, random_state=0).require_z()  # the fixture's training set
    oof = est.oof_z_phot_
    before = _binned_squared_residual(oof, z_train, est.calibration_bin)
    after = _binned_squared_residual(est.spec_calibration_.apply(oof), z_train, est.calibration_bin)
    assert before > 1e-5  # off enough for the check to mean something
    assert after < before
