"""Background probability, selection, truth metrics and the stacked n(z)."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.cosmology import Planck18
from scipy.stats import norm

from zphot.exceptions import ParameterError
from zphot.lensing import (
    prob_above,
    select_background,
    stacked_nz,
    summarise_selection,
    truth_metrics,
)
from zphot.pdf.grid import RedshiftGrid


def test_prob_above_of_a_gaussian_pdf_matches_the_analytic_tail() -> None:
    grid = RedshiftGrid(0.0, 3.0, 1500)
    mu, sigma = np.array([0.6, 0.9, 1.4]), np.array([0.05, 0.1, 0.2])
    # Bin probabilities of each Gaussian: differences of its CDF at the edges.
    cdf = norm.cdf(grid.edges[None, :], mu[:, None], sigma[:, None])
    probs = np.diff(cdf, axis=1)
    for cut in (0.4567, 0.8123, 1.5):
        got = prob_above(probs, grid, cut)
        # Inside a bin the PDF is taken as flat, so the error is at most the bin's curvature
        # term, far below 1e-4 for bins of 0.002.
        np.testing.assert_allclose(got, norm.sf(cut, mu, sigma), atol=1e-4)


def test_select_background_by_probability_or_point() -> None:
    p = np.array([0.95, 0.5, 0.91])
    z = np.array([0.2, 0.9, 0.6])
    assert select_background(p, z, 0.45, "probability", 0.9).tolist() == [True, False, True]
    assert select_background(p, z, 0.45, "point").tolist() == [False, True, True]
    with pytest.raises(ParameterError, match="selection method must be one of"):
        select_background(p, z, 0.45, "mode")


def test_truth_metrics_on_a_hand_made_selection() -> None:
    z_true = np.array([0.2, 0.36, 0.5, 1.0, np.nan])
    selected = np.array([True, True, True, False, True])
    m = truth_metrics(z_true, selected, z_lens=0.35, beta_mean=0.3, delta=0.02)
    # Background: z >= 0.37, i.e. 0.5 and 1.0. Selected with known z: 0.2, 0.36, 0.5.
    assert m["contamination"] == pytest.approx(2 / 3)
    assert m["completeness"] == pytest.approx(1 / 2)
    # β of the true redshifts (flat universe: 1 - D_C(z_l) / D_C(z_s)); 0.2 is in front: 0.
    b = 1 - (Planck18.comoving_distance(0.35) / Planck18.comoving_distance([0.36, 0.5])).value
    assert m["beta_true"] == pytest.approx(b.sum() / 3, rel=1e-6)
    assert m["beta_bias"] == pytest.approx(0.3 / (b.sum() / 3) - 1, rel=1e-6)


def test_summary_reduced_shear_ratio_and_truth() -> None:
    grid = RedshiftGrid(0.0, 2.0, 4)
    probs = np.array([[0, 1, 0, 0], [0, 0.5, 0, 0.5]], dtype=float)
    s = summarise_selection(probs, grid, np.array([True, True]), 0.35, z_true=np.array([0.8, 2]))
    assert s.beta2_ratio == pytest.approx(s.beta2_mean / s.beta_mean**2)
    assert s.beta2_ratio > 1  # the sources' β differ, so ⟨β²⟩ > ⟨β⟩²
    assert s.to_dict()["completeness"] == 1.0


def test_stacked_nz_is_the_mean_pdf_with_a_binomial_bootstrap_error() -> None:
    rng = np.random.default_rng(3)
    n = 2000
    bins = rng.integers(0, 4, n)
    probs = np.eye(4)[bins] * 2.5  # un-normalised on purpose
    stack, err = stacked_nz(probs, n_boot=400, random_state=1)
    frac = np.bincount(bins, minlength=4) / n
    np.testing.assert_allclose(stack, frac)
    # For one-hot PDFs each bin's stacked value is a binomial fraction: SE = sqrt(p(1-p)/n).
    np.testing.assert_allclose(err, np.sqrt(frac * (1 - frac) / n), rtol=0.15)
    again = stacked_nz(probs, n_boot=400, random_state=1)[1]
    np.testing.assert_array_equal(err, again)
