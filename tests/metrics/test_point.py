"""Point metrics against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from zphot.metrics import (
    NMAD_SCALE,
    bias,
    dz,
    mse,
    outlier_fraction,
    outlier_key,
    point_metrics,
    r2,
    sigma_nmad,
)

# dz = (z_phot - z_spec) / (1 + z_spec):
#   (0.5 - 0.5) / 1.5 = 0;  (1.2 - 1.0) / 2.0 = 0.1;  (0.0 - 1.0) / 2.0 = -0.5
Z_PHOT = np.array([0.5, 1.2, 0.0])
Z_SPEC = np.array([0.5, 1.0, 1.0])


def test_dz_hand_example():
    np.testing.assert_allclose(dz(Z_PHOT, Z_SPEC), [0.0, 0.1, -0.5], atol=1e-15)


def test_mse_is_on_z_not_dz():
    # squared errors on z: 0, 0.04, 1.0 -> mean 1.04 / 3
    assert mse(Z_PHOT, Z_SPEC) == pytest.approx(1.04 / 3)


def test_r2_perfect_mean_and_hand_case():
    z_spec = np.array([0.0, 1.0, 2.0])
    assert r2(z_spec, z_spec) == 1.0
    assert r2(np.full(3, z_spec.mean()), z_spec) == pytest.approx(0.0)
    # SS_res = (2 - 1)^2 = 1, SS_tot = 1 + 0 + 1 = 2 -> 1 - 1/2
    assert r2([0.0, 1.0, 1.0], z_spec) == pytest.approx(0.5)


def test_r2_undefined_for_constant_truth():
    assert math.isnan(r2([0.9, 1.1], [1.0, 1.0]))


def test_bias_is_median_dz():
    # median of (0, 0.1, -0.5)
    assert bias(Z_PHOT, Z_SPEC) == pytest.approx(0.0)
    assert bias([0.1, 0.2, 0.9], [0.0, 0.0, 0.0]) == pytest.approx(0.2)


def test_sigma_nmad_known_array():
    # z_spec = 0 so dz = z_phot = (1, 2, 3, 4, 100): median 3, |dz - 3| = (2, 1, 0, 1, 97),
    # whose median is 1, so sigma_nmad = 1.4826 whatever the outlier at 100.
    assert sigma_nmad([1.0, 2.0, 3.0, 4.0, 100.0], np.zeros(5)) == pytest.approx(NMAD_SCALE)


def test_nmad_scale_is_the_gaussian_constant():
    # For a Gaussian, MAD = sigma * Phi^-1(0.75), so the scale is 1 / Phi^-1(0.75) = 1.482602...
    # (derived here from scipy, not read from the module under test).
    from scipy.stats import norm

    expected = 1.0 / norm.ppf(0.75)
    assert sigma_nmad([1.0, 2.0, 3.0, 4.0, 100.0], np.zeros(5)) == pytest.approx(expected, rel=1e-4)
    assert expected == pytest.approx(1.4826, abs=1e-4)


def test_sigma_nmad_matches_gaussian_std():
    rng = np.random.default_rng(0)
    z_spec = rng.uniform(0.1, 2.0, 20_000)
    z_phot = z_spec + (1 + z_spec) * rng.normal(0.0, 0.04, z_spec.size)
    assert sigma_nmad(z_phot, z_spec) == pytest.approx(0.04, rel=0.03)


def test_outlier_fraction_is_strict():
    # |dz| = 0.1, 0.16, 0.2, 0.15: only 0.16 and 0.2 exceed 0.15
    z_phot = [0.1, 0.16, -0.2, 0.15]
    assert outlier_fraction(z_phot, np.zeros(4)) == 0.5
    assert outlier_fraction(z_phot, np.zeros(4), threshold=0.05) == 1.0


def test_outlier_key():
    assert outlier_key(0.05) == "outlier_005"
    assert outlier_key(0.15) == "outlier_015"
    assert outlier_key(0.1) == "outlier_010"


def test_point_metrics_hand_example():
    m = point_metrics(Z_PHOT, Z_SPEC)
    assert set(m) == {
        "n", "mse", "r2", "bias", "sigma_nmad", "outlier_015", "outlier_005", "mean_dz", "std_dz",
    }  # fmt: skip
    assert m["n"] == 3
    assert m["mse"] == pytest.approx(1.04 / 3)
    # |dz| = 0, 0.1, 0.5: one above 0.15, two above 0.05
    assert m["outlier_015"] == pytest.approx(1 / 3)
    assert m["outlier_005"] == pytest.approx(2 / 3)
    assert m["mean_dz"] == pytest.approx(-0.4 / 3)
    assert m["std_dz"] == pytest.approx(np.std([0.0, 0.1, -0.5]))
    # |dz - 0| = 0, 0.1, 0.5 -> median 0.1
    assert m["sigma_nmad"] == pytest.approx(0.1 * NMAD_SCALE)


def test_point_metrics_custom_threshold_key():
    m = point_metrics(Z_PHOT, Z_SPEC, outlier_threshold=0.3)
    assert m["outlier_030"] == pytest.approx(1 / 3)


@pytest.mark.parametrize("func", [dz, mse, r2, bias, sigma_nmad, outlier_fraction, point_metrics])
def test_mismatched_lengths_raise(func):
    with pytest.raises(ValueError, match="length mismatch"):
        func([0.1, 0.2], [0.1, 0.2, 0.3])


def test_empty_and_non_1d_raise():
    with pytest.raises(ValueError, match="empty"):
        dz([], [])
    with pytest.raises(ValueError, match="1-D"):
        dz([[0.1, 0.2]], [[0.1, 0.2]])
