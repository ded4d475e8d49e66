"""Gridded-PDF metrics: PIT, CRPS and HDI coverage against exact and Gaussian cases."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from zphot.metrics import crps, hdi_coverage, pdf_metrics, pit, pit_cvm, pit_ks

UNIT_EDGES = np.linspace(0.0, 1.0, 11)
UNIFORM = np.full(10, 0.1)


def gaussian_grid(mu, sigma, edges):
    cdf = norm.cdf((edges[None, :] - mu[:, None]) / sigma[:, None])
    probs = np.diff(cdf, axis=1)
    return probs / probs.sum(axis=1, keepdims=True)


@pytest.fixture(scope="module")
def gaussians():
    """5000 Gaussian PDFs with truths drawn from them, plus the same PDFs at half width.

    Returns (edges, z_spec, calibrated probs, overconfident probs, mu, sigma).
    """
    rng = np.random.default_rng(7)
    edges = np.linspace(-1.0, 3.2, 421)  # 0.01 bins, > 5 sigma around every mean
    mu = rng.uniform(0.2, 2.0, 5000)
    sigma = rng.uniform(0.08, 0.2, 5000)
    z_spec = rng.normal(mu, sigma)
    good, narrow = gaussian_grid(mu, sigma, edges), gaussian_grid(mu, sigma / 2, edges)
    return edges, z_spec, good, narrow, mu, sigma


def test_pit_of_uniform_is_z_spec():
    z = np.array([0.05, 0.5, 0.93, -1.0, 2.0])
    probs = np.tile(UNIFORM, (5, 1))
    np.testing.assert_allclose(pit(probs, UNIT_EDGES, z), [0.05, 0.5, 0.93, 0.0, 1.0])


def test_pit_interpolates_within_bin():
    # CDF at 1.5 = 0.25 + half of the second bin's 0.75
    assert pit([[0.25, 0.75]], [0.0, 1.0, 2.0], [1.5])[0] == pytest.approx(0.625)


def test_pit_ks_and_cvm_hand_values():
    # u = (0.25, 0.75): the ECDF misses the U(0, 1) CDF by 0.25 just before/after each value;
    # CvM = 1/(12 n) + sum(((2i - 1)/(2n) - u_i)^2) = 1/24 + 0, since u_i sit at (2i - 1)/4
    assert pit_ks([0.25, 0.75]) == pytest.approx(0.25)
    assert pit_cvm([0.25, 0.75]) == pytest.approx(1 / 24)


def test_pit_calibrated_vs_overconfident(gaussians):
    edges, z_spec, good, narrow, _, _ = gaussians
    u_good, u_narrow = pit(good, edges, z_spec), pit(narrow, edges, z_spec)
    assert pit_ks(u_good) < 0.03
    assert pit_ks(u_narrow) > 0.1
    assert pit_cvm(u_good) < 0.5  # the 99% point of the null distribution is about 0.74
    assert pit_cvm(u_narrow) > 10


def test_crps_uniform_exact():
    # integral_0^0.5 z^2 dz + integral_0.5^1 (1 - z)^2 dz = 1/24 + 1/24
    assert crps([[1.0]], [0.0, 1.0], [0.5])[0] == pytest.approx(1 / 12)
    assert crps([UNIFORM], UNIT_EDGES, [0.5])[0] == pytest.approx(1 / 12)
    # z_spec at 0: integral_0^1 (1 - z)^2 = 1/3; at -1 add 1 for the empty range [-1, 0]
    np.testing.assert_allclose(
        crps(np.tile(UNIFORM, (3, 1)), UNIT_EDGES, [0.0, -1.0, 2.0]), [1 / 3, 4 / 3, 4 / 3]
    )


def test_crps_delta_like_is_distance():
    edges = np.linspace(0.0, 3.0, 301)
    probs = np.zeros((1, 300))
    probs[0, 100] = 1.0  # all mass in [1.00, 1.01], centre 1.005
    d = 1.5 - 1.005
    value = crps(probs, edges, [1.5])[0]
    assert value == pytest.approx(d, abs=0.01)
    # exactly: (1.5 - 1.01) for F = 1 plus integral of (1 - F)^2 over the bin, 0.01 / 3
    assert value == pytest.approx(0.49 + 0.01 / 3)


def test_crps_matches_gaussian_closed_form(gaussians):
    edges, z_spec, good, _, mu, sigma = gaussians
    mu, sigma = mu[:50], sigma[:50]
    # Gneiting & Raftery (2007): CRPS of N(mu, sigma) at y, with w = (y - mu) / sigma
    w = (z_spec[:50] - mu) / sigma
    exact = sigma * (w * (2 * norm.cdf(w) - 1) + 2 * norm.pdf(w) - 1 / np.sqrt(np.pi))
    np.testing.assert_allclose(crps(good[:50], edges, z_spec[:50]), exact, rtol=2e-3)


def test_hdi_hand_case():
    # sorted 0.6, 0.3, 0.1 -> cumulative 0.6, 0.9, 1.0: 68% set is bins {1, 2}, 95% all three
    probs = np.tile([0.1, 0.6, 0.3], (3, 1))
    cov = hdi_coverage(probs, [0.0, 1.0, 2.0, 3.0], [0.5, 2.5, 5.0])
    assert cov == {0.68: pytest.approx(1 / 3), 0.95: pytest.approx(2 / 3)}  # 5.0 is off-grid


def test_hdi_calibrated_gaussians(gaussians):
    edges, z_spec, good, narrow, _, _ = gaussians
    cov = hdi_coverage(good, edges, z_spec)
    assert cov[0.68] == pytest.approx(0.68, abs=0.03)
    assert cov[0.95] == pytest.approx(0.95, abs=0.03)
    assert hdi_coverage(narrow, edges, z_spec)[0.68] < 0.5


def test_pdf_metrics(gaussians):
    edges, z_spec, good, _, _, _ = gaussians
    m = pdf_metrics(good, edges, z_spec)
    assert set(m) == {"pit_ks", "pit_cvm", "crps", "hdi68", "hdi95"}
    assert m["pit_ks"] == pytest.approx(pit_ks(pit(good, edges, z_spec)))
    assert m["crps"] == pytest.approx(crps(good, edges, z_spec).mean())
    assert m["hdi95"] == pytest.approx(hdi_coverage(good, edges, z_spec)[0.95])


def test_errors():
    probs = np.tile(UNIFORM, (2, 1))
    with pytest.raises(ValueError, match="length mismatch"):
        pit(probs, UNIT_EDGES, [0.5])
    with pytest.raises(ValueError, match="bins"):
        crps(probs, UNIT_EDGES[:-1], [0.5, 0.5])
    with pytest.raises(ValueError, match="sum to 1"):
        pit(probs * 2, UNIT_EDGES, [0.5, 0.5])
    with pytest.raises(ValueError, match="levels"):
        hdi_coverage(probs, UNIT_EDGES, [0.5, 0.5], levels=(1.5,))
    with pytest.raises(ValueError, match="empty"):
        pit_ks([])
