"""Step 3's soft, shifted labels (Lin et al. 2022).

Near the edges of the redshift range and where training galaxies thin out, an estimator is
pulled toward the side where neighbours crowd in. Step 3 counters it by moving each label away
from that side by as much as the crowding would pull it, and softening it to the estimator's
own core dispersion sigma_1 so the PDF learns a realistic width.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.ndimage import gaussian_filter1d
from scipy.optimize import minimize_scalar
from scipy.special import ndtr

from ..pdf.grid import RedshiftGrid

__all__ = [
    "fit_sigma_from_histograms",
    "fit_sigma1",
    "local_sigma2",
    "shifted_labels",
    "soft_labels",
]


def _gauss_kernel(sigma_bins: float) -> NDArray[np.float64]:
    half = max(1, int(np.ceil(5 * sigma_bins)))
    x = np.arange(-half, half + 1)
    # Bin-integrated Gaussian, so a sigma below one bin still gives a proper kernel.
    k = ndtr((x + 0.5) / sigma_bins) - ndtr((x - 0.5) / sigma_bins)
    return k / k.sum()


def fit_sigma_from_histograms(
    p_photo: NDArray[np.float64], p_spec: NDArray[np.float64], bin_width: float
) -> float:
    """The sigma minimising -sum p_spec log(p_photo * N(0, sigma)) (cross-entropy).

    Both histograms are on the same bins and are normalised here.
    """
    p_photo = np.asarray(p_photo, dtype=np.float64) / np.sum(p_photo)
    p_spec = np.asarray(p_spec, dtype=np.float64) / np.sum(p_spec)
    eps = 1e-12

    def loss(log_sigma: float) -> float:
        k = _gauss_kernel(np.exp(log_sigma) / bin_width)
        half = len(k) // 2
        smooth = np.convolve(p_photo, k, mode="full")[half : half + len(p_photo)]
        # Renormalise: blurring moves mass beyond the range, and p_spec is normalised on it;
        # without this, wider kernels are penalised for the lost mass and sigma comes out low.
        smooth /= smooth.sum()
        return float(-(p_spec * np.log(smooth + eps)).sum())

    lo, hi = np.log(bin_width / 4), np.log(bin_width * len(p_photo) / 4)
    grid = np.linspace(lo, hi, 40)
    best = grid[int(np.argmin([loss(s) for s in grid]))]
    step = grid[1] - grid[0]
    res = minimize_scalar(loss, bounds=(best - step, best + step), method="bounded")
    return float(np.exp(res.x))


def fit_sigma1(z_photo: NDArray, z_spec: NDArray, grid: RedshiftGrid) -> float:
    """sigma_1 of Step 3: the blur that turns n(z_photo) into n(z_spec) on ``grid``."""
    edges = grid.edges
    p_photo = np.histogram(z_photo, edges)[0] + 1e-3
    p_spec = np.histogram(z_spec, edges)[0]
    return fit_sigma_from_histograms(p_photo, p_spec, grid.width)


def local_sigma2(
    z_photo: NDArray, z_spec: NDArray, grid: RedshiftGrid, sigma1: float, smooth_bins: float = 3.0
) -> NDArray[np.float64]:
    """sigma_2(z) on ``grid.centres``: sqrt(local residual variance + sigma_1^2).

    The local variance per z_spec bin is robust ((1.4826 MAD)^2 of z_photo - z_spec), since a
    few outliers would otherwise inflate it, then smoothed over neighbouring bins; empty bins
    take the value of the nearest populated ones.
    """
    z_photo, z_spec = np.asarray(z_photo), np.asarray(z_spec)
    idx = grid.bin_index(z_spec)
    resid = z_photo - z_spec
    var = np.full(grid.n_bins, np.nan)
    for b in np.unique(idx):
        r = resid[idx == b]
        if len(r) >= 3:
            var[b] = (1.4826 * np.median(np.abs(r - np.median(r)))) ** 2
    known = np.flatnonzero(np.isfinite(var))
    if len(known) == 0:
        var[:] = 0.0
    else:
        var = np.interp(np.arange(grid.n_bins), known, var[known])
        var = gaussian_filter1d(var, smooth_bins, mode="nearest")
    return np.sqrt(var + sigma1**2)


def shifted_labels(
    z_spec: NDArray[np.float64],
    density: NDArray[np.float64],
    sigma2: NDArray[np.float64],
    grid: RedshiftGrid,
    chunk: int = 4096,
) -> NDArray[np.float64]:
    """z_ad = 2 z_spec - z_cm, with z_cm the centre of mass of N(z_spec, sigma2) x density.

    Parameters
    ----------
    z_spec : (n,)
    density : (n, n_bins) or (n_bins,)
        The (balanced subset's) redshift density each galaxy sees on ``grid``, e.g. the one of
        its magnitude cell; it truncates the Gaussian at the range edges and where data thin.
    sigma2 : (n,)
        Each galaxy's sigma_2 at its z_spec.
    """
    z_spec = np.asarray(z_spec, dtype=np.float64)
    sigma2 = np.broadcast_to(np.asarray(sigma2, dtype=np.float64), z_spec.shape)
    density = np.asarray(density, dtype=np.float64)
    c = grid.centres
    out = np.empty_like(z_spec)
    for s in range(0, len(z_spec), chunk):
        zs, sg = z_spec[s : s + chunk, None], sigma2[s : s + chunk, None]
        d = density[s : s + chunk] if density.ndim == 2 else density[None, :]
        w = np.exp(-0.5 * ((c - zs) / sg) ** 2) * d
        tot = w.sum(axis=1)
        z_cm = np.where(tot > 0, (w @ c) / np.where(tot > 0, tot, 1.0), zs[:, 0])
        out[s : s + chunk] = 2 * zs[:, 0] - z_cm
    return out


def soft_labels(
    z_label: NDArray[np.float64], sigma: NDArray[np.float64] | float, grid: RedshiftGrid
) -> NDArray[np.float64]:
    """Gaussian N(z_label, sigma) integrated over each bin of ``grid``, rows normalised."""
    z = np.asarray(z_label, dtype=np.float64)[:, None]
    s = np.broadcast_to(np.asarray(sigma, dtype=np.float64), z[:, 0].shape)[:, None]
    cdf = ndtr((grid.edges[None, :] - z) / s)
    p = np.diff(cdf, axis=1)
    tot = p.sum(axis=1, keepdims=True)
    # A label beyond the grid gets all its mass in the nearest bin.
    far = tot[:, 0] < 1e-12
    p[far] = 0.0
    p[far, grid.bin_index(z[far, 0])] = 1.0
    return p / p.sum(axis=1, keepdims=True)
