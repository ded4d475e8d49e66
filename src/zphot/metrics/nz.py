"""Redshift distribution n(z) comparisons: does the ensemble of estimates look like the truth?

Point metrics can look excellent while an estimator collapses many objects onto a few preferred
redshifts (mode collapse) or shrinks them toward the mean; these metrics compare distributions and
so catch both.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import ks_2samp, wasserstein_distance

from zphot.metrics.binned import _check_edges
from zphot.metrics.point import _as_matched_1d
from zphot.metrics.point import sigma_nmad as _sigma_nmad

__all__ = ["nz_wasserstein", "nz_ks", "nz_fidelity", "nz_histograms"]


def nz_wasserstein(z_phot: ArrayLike, z_spec: ArrayLike) -> float:
    """Wasserstein-1 distance between the ``z_phot`` and ``z_spec`` samples.

    In redshift units: how far, on average, probability must move to turn one n(z) into the other.
    """
    zp, zs = _as_matched_1d(z_phot=z_phot, z_spec=z_spec)
    return float(wasserstein_distance(zp, zs))


def nz_ks(z_phot: ArrayLike, z_spec: ArrayLike) -> float:
    """Two-sample Kolmogorov-Smirnov statistic: the largest gap between the two empirical CDFs."""
    zp, zs = _as_matched_1d(z_phot=z_phot, z_spec=z_spec)
    return float(ks_2samp(zp, zs).statistic)


def nz_fidelity(
    z_phot: ArrayLike,
    z_spec: ArrayLike,
    sigma_nmad: float | None = None,
    bin_width: float = 0.01,
    seed: int = 0,
) -> float:
    """Total-variation distance between n(z_phot) and a no-collapse reference n(z).

    Even a perfect estimator with honest scatter smears n(z_spec), so comparing with n(z_spec)
    directly would penalise scatter twice. The reference is therefore
    ``z_spec + (1 + z_spec) * N(0, sigma_nmad)``: what the estimator's own core scatter alone
    would produce. What remains measures spikes (mode collapse) and shrinkage toward the mean.

    Parameters
    ----------
    z_phot, z_spec : array_like, shape (n,)
        Photometric estimates and spectroscopic truths of the same objects.
    sigma_nmad : float, optional
        Scatter of the reference; defaults to ``sigma_nmad(z_phot, z_spec)``.
    bin_width : float
        Histogram bin width in redshift. The sampling-noise floor of the distance grows like
        ``sqrt(number of occupied bins / n)``, so small samples need wider bins.
    seed : int
        Seed of ``numpy.random.default_rng`` for the reference draw, for reproducible scores.

    Returns
    -------
    float
        ``0.5 * sum |p - q|`` over common bins spanning both samples, in [0, 1]; 0 is identical.
    """
    zp, zs = _as_matched_1d(z_phot=z_phot, z_spec=z_spec)
    if bin_width <= 0:
        raise ValueError(f"bin_width must be positive, got {bin_width}")
    sigma = _sigma_nmad(zp, zs) if sigma_nmad is None else float(sigma_nmad)
    if not sigma >= 0:
        raise ValueError(f"sigma_nmad must be non-negative, got {sigma}")
    reference = zs + (1.0 + zs) * np.random.default_rng(seed).normal(0.0, sigma, zs.size)
    lo = min(zp.min(), reference.min())
    hi = max(zp.max(), reference.max())
    edges = lo + bin_width * np.arange(max(int(np.ceil((hi - lo) / bin_width)), 1) + 1)
    edges[-1] = max(edges[-1], hi)  # rounding must not drop the largest value
    p = np.histogram(zp, edges)[0] / zp.size
    q = np.histogram(reference, edges)[0] / reference.size
    return 0.5 * float(np.abs(p - q).sum())


def nz_histograms(
    z_phot: ArrayLike, z_spec: ArrayLike, edges: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Normalised n(z) densities of both samples on shared ``edges``, for plotting.

    Returns
    -------
    n_phot, n_spec : ndarray, shape (B,)
        Densities that integrate to 1 over ``edges`` (objects outside the edges are ignored).
    """
    zp, zs = _as_matched_1d(z_phot=z_phot, z_spec=z_spec)
    e = _check_edges(edges)
    n_phot = np.histogram(zp, e, density=True)[0]
    n_spec = np.histogram(zs, e, density=True)[0]
    return n_phot, n_spec
