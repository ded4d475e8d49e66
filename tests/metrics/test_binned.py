"""Binned residual tables against hand-computed statistics."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from zphot.metrics import (
    binned_residuals,
    equal_count_edges,
    full_range_residuals,
    max_abs_binned_mean,
    residual_curves,
    residual_trend,
)

# Bin [0, 0.5): dz = 1, 2, 3 -> mean 2, std(ddof=1) 1, sem 1/sqrt(3), median 2.
# Bin [0.5, 1.0]: dz = 10, 20 -> mean 15, std(ddof=1) sqrt(50), sem sqrt(50)/sqrt(2) = 5.
# x = 1.5 lies outside the edges and is dropped.
X = np.array([0.1, 0.2, 0.3, 0.6, 0.7, 1.5])
DZ = np.array([1.0, 2.0, 3.0, 10.0, 20.0, 99.0])
EDGES = np.array([0.0, 0.5, 1.0])


def test_binned_residuals_hand_values():
    t = binned_residuals(X, DZ, EDGES)
    assert list(t.columns) == ["lo", "hi", "centre", "count", "mean", "sem", "median"]
    np.testing.assert_allclose(t["lo"], [0.0, 0.5])
    np.testing.assert_allclose(t["hi"], [0.5, 1.0])
    np.testing.assert_allclose(t["centre"], [0.25, 0.75])
    assert t["count"].tolist() == [3, 2]
    np.testing.assert_allclose(t["mean"], [2.0, 15.0])
    np.testing.assert_allclose(t["sem"], [1 / math.sqrt(3), 5.0])
    np.testing.assert_allclose(t["median"], [2.0, 15.0])


def test_sparse_bins_are_masked_but_counted():
    t = binned_residuals(X, DZ, EDGES, min_count=3)
    assert t["count"].tolist() == [3, 2]
    assert t.loc[0, "mean"] == pytest.approx(2.0)
    assert t.loc[1, ["mean", "sem", "median"]].isna().all()


def test_single_and_empty_bins():
    t = binned_residuals([0.1, 2.5], [0.3, -0.2], [0.0, 1.0, 2.0, 3.0])
    assert t["count"].tolist() == [1, 0, 1]
    assert t.loc[0, "mean"] == pytest.approx(0.3)
    assert math.isnan(t.loc[0, "sem"])  # no spread from a single object
    assert t.loc[1, ["mean", "sem", "median"]].isna().all()


def test_right_edge_is_in_last_bin():
    t = binned_residuals([1.0], [0.5], [0.0, 0.5, 1.0])
    assert t["count"].tolist() == [0, 1]


def test_residual_curves_bin_by_each_variable():
    # dz = (0.2 - 0)/1, (0.7 - 0)/1, (0.6 - 1)/2 = 0.2, 0.7, -0.2
    z_spec = np.array([0.0, 0.0, 1.0])
    z_phot = np.array([0.2, 0.7, 0.6])
    curves = residual_curves(z_phot, z_spec, EDGES)
    assert set(curves) == {"z_spec", "z_phot"}
    # by z_spec: {0.2, 0.7} | {-0.2};  by z_phot: {0.2} | {0.7, -0.2}
    np.testing.assert_allclose(curves["z_spec"]["mean"], [0.45, -0.2])
    np.testing.assert_allclose(curves["z_phot"]["mean"], [0.2, 0.25])


def test_max_abs_binned_mean():
    t = pd.DataFrame({"count": [300, 100, 250], "mean": [0.01, -0.5, -0.02]})
    assert max_abs_binned_mean(t) == pytest.approx(0.02)  # the -0.5 bin is too sparse
    assert max_abs_binned_mean(t, min_count=50) == pytest.approx(0.5)
    assert math.isnan(max_abs_binned_mean(t, min_count=1000))


def test_errors():
    with pytest.raises(ValueError, match="length mismatch"):
        binned_residuals([0.1, 0.2], [0.1], EDGES)
    with pytest.raises(ValueError, match="empty"):
        binned_residuals([], [], EDGES)
    with pytest.raises(ValueError, match="increasing"):
        binned_residuals(X, DZ, [0.0, 1.0, 0.5])
    with pytest.raises(ValueError, match="length mismatch"):
        residual_curves([0.1, 0.2], [0.1], EDGES)


def test_equal_count_edges_cover_everything_in_equal_shares():
    x = np.arange(100.0)
    edges = equal_count_edges(x, 4)
    # Quantiles 0, .25, .5, .75, 1 of 0..99 (linear): 0, 24.75, 49.5, 74.25, 99.
    np.testing.assert_allclose(edges, [0.0, 24.75, 49.5, 74.25, 99.0])
    counts = binned_residuals(x, np.zeros(100), edges)["count"].tolist()
    assert counts == [25, 25, 25, 25]  # every value lands in a bin, the maximum included
    # Ties collapse repeated quantiles into fewer bins rather than empty ones.
    assert equal_count_edges([1.0] * 10 + [2.0] * 10, 4).tolist() == [1.0, 1.5, 2.0]
    with pytest.raises(ValueError, match="same"):
        equal_count_edges([3.0, 3.0, 3.0])


def test_residual_trend_recovers_a_known_line():
    x = np.linspace(0.0, 1.0, 11)
    slope, intercept = residual_trend(x, 0.01 - 0.03 * x)
    assert slope == pytest.approx(-0.03) and intercept == pytest.approx(0.01)


def test_full_range_residuals_find_the_edge_bin_a_window_would_hide():
    """An estimator exact everywhere except the lowest 5% of z_spec, where it reads 0.02(1+z)
    high: 20 equal-count bins isolate those galaxies in the first bin."""
    z_spec = np.linspace(0.0, 0.4, 2000)
    z_phot = z_spec.copy()
    low = np.arange(2000) < 100  # the first equal-count bin of z_spec exactly
    z_phot[low] += 0.02 * (1 + z_spec[low])
    got = full_range_residuals(z_phot, z_spec, n_bins=20)
    assert got["max_dz_zspec"] == pytest.approx(0.02)
    assert got["max_dz_zspec_lo"] == 0.0
    assert got["max_dz_zspec_hi"] == pytest.approx(z_spec[100], abs=1e-3)
    assert got["max_dz_zspec_sem"] == pytest.approx(0.0, abs=1e-12)  # every dz in it is 0.02
    assert got["slope_zspec"] < 0  # high at the low end: a falling residual curve
    perfect = full_range_residuals(z_spec, z_spec)
    assert perfect["max_dz_zspec"] == 0.0 and perfect["max_dz_zphot"] == 0.0


def test_full_range_residuals_of_a_constant_estimate_are_nan_not_an_error():
    got = full_range_residuals(np.full(10, 0.3), np.linspace(0.1, 0.5, 10))
    assert np.isnan(got["max_dz_zphot"]) and np.isnan(got["slope_zphot"])
    assert np.isfinite(got["max_dz_zspec"])
