"""n(z) comparisons, including the mode-collapse fidelity score."""

from __future__ import annotations

import numpy as np
import pytest

from zphot.metrics import nz_fidelity, nz_histograms, nz_ks, nz_wasserstein


@pytest.fixture(scope="module")
def sample():
    rng = np.random.default_rng(42)
    z_spec = rng.uniform(0.1, 1.5, 20_000)
    z_phot = z_spec + (1 + z_spec) * rng.normal(0.0, 0.03, z_spec.size)
    return z_phot, z_spec


def test_wasserstein_of_a_shift_is_the_shift():
    assert nz_wasserstein([0.1, 1.1, 2.1], [0.0, 1.0, 2.0]) == pytest.approx(0.1)


def test_ks_hand_case():
    # ECDFs of {1,2,3,4} and {3,4,5,6} differ most on [2, 3): 0.5 vs 0
    assert nz_ks([1.0, 2.0, 3.0, 4.0], [3.0, 4.0, 5.0, 6.0]) == pytest.approx(0.5)
    assert nz_ks([0.3, 0.5], [0.5, 0.3]) == 0.0


def test_fidelity_zero_when_reference_equals_estimate():
    z = np.array([0.2, 0.4, 0.41, 1.3])
    assert nz_fidelity(z, z) == 0.0  # sigma_nmad of zero residuals is 0
    assert nz_fidelity(z, z, sigma_nmad=0.0, bin_width=0.1) == 0.0


def test_fidelity_small_without_collapse(sample):
    z_phot, z_spec = sample
    # Sampling noise alone gives roughly 0.4 * sqrt(2 * occupied bins / n): about 0.045 for
    # 0.01-wide bins over this range at n = 20k, so 0.02 bins leave room under 0.05.
    assert nz_fidelity(z_phot, z_spec, bin_width=0.02) < 0.05
    assert nz_fidelity(z_phot, z_spec) < 0.06


def test_fidelity_large_for_mode_collapse(sample):
    _, z_spec = sample
    modes = np.array([0.3, 0.8, 1.3])
    collapsed = modes[np.argmin(np.abs(z_spec[:, None] - modes), axis=1)]
    assert nz_fidelity(collapsed, z_spec) > 0.5


def test_fidelity_rises_with_shrinkage(sample):
    z_phot, z_spec = sample
    shrunk = z_spec.mean() + 0.5 * (z_spec - z_spec.mean())
    assert nz_fidelity(shrunk, z_spec) > 0.3 > nz_fidelity(z_phot, z_spec)


def test_fidelity_is_reproducible(sample):
    z_phot, z_spec = sample
    z_phot, z_spec = z_phot[:2000], z_spec[:2000]
    assert nz_fidelity(z_phot, z_spec, seed=3) == nz_fidelity(z_phot, z_spec, seed=3)


def test_fidelity_bad_parameters():
    with pytest.raises(ValueError, match="bin_width"):
        nz_fidelity([0.1, 0.2], [0.1, 0.2], bin_width=0.0)
    with pytest.raises(ValueError, match="sigma_nmad"):
        nz_fidelity([0.1, 0.2], [0.1, 0.2], sigma_nmad=-0.1)


def test_histograms_hand_case():
    # 3 of 4 z_phot in [0, 0.5): density 0.75 / 0.5 = 1.5; z_spec splits 2 / 2 -> 1, 1
    n_phot, n_spec = nz_histograms([0.1, 0.1, 0.1, 0.6], [0.1, 0.2, 0.6, 0.7], [0.0, 0.5, 1.0])
    np.testing.assert_allclose(n_phot, [1.5, 0.5])
    np.testing.assert_allclose(n_spec, [1.0, 1.0])


@pytest.mark.parametrize("func", [nz_wasserstein, nz_ks, nz_fidelity])
def test_mismatched_lengths_raise(func):
    with pytest.raises(ValueError, match="length mismatch"):
        func([0.1, 0.2], [0.1, 0.2, 0.3])


def test_empty_raises():
    with pytest.raises(ValueError, match="empty"):
        nz_ks([], [])
    with pytest.raises(ValueError, match="length mismatch"):
        nz_histograms([0.1], [0.1, 0.2], [0.0, 1.0])
