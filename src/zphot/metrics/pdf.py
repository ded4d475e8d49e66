"""Metrics for redshift PDFs given as probabilities per bin on a grid.

A PDF is ``probs[i]`` (shape ``(B,)``, summing to 1) over bins ``edges`` (shape ``(B + 1,)``),
constant density within each bin, so its CDF is piecewise linear between the edges. Calibration
(PIT, HDI coverage) and sharpness-plus-accuracy (CRPS) are judged separately because an estimator
can be sharp yet overconfident, or honest yet uselessly broad.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import cramervonmises, kstest

from zphot.metrics.binned import _check_edges
from zphot.metrics.point import _as_matched_1d

__all__ = ["pit", "pit_ks", "pit_cvm", "crps", "hdi_coverage", "pdf_metrics"]

#: Rows may miss summing to 1 by this much (float32 round-off in estimators' outputs).
_SUM_TOLERANCE = 1e-3


def _check_pdfs(
    probs: ArrayLike, edges: ArrayLike, z_spec: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Validate a PDF grid and its truths, so that shape mistakes fail loudly, not silently."""
    p = np.asarray(probs, dtype=float)
    e = _check_edges(edges)
    (z,) = _as_matched_1d(z_spec=z_spec)
    if p.ndim != 2:
        raise ValueError(f"probs must be 2-D (n, B), got shape {p.shape}")
    if p.shape[1] != e.size - 1:
        raise ValueError(f"probs has {p.shape[1]} bins but edges define {e.size - 1}")
    if p.shape[0] != z.size:
        raise ValueError(f"length mismatch: probs has {p.shape[0]} rows, z_spec {z.size}")
    if np.any(p < 0) or not np.allclose(p.sum(axis=1), 1.0, rtol=0.0, atol=_SUM_TOLERANCE):
        raise ValueError("each row of probs must be non-negative and sum to 1")
    return p, e, z


def _cdf_at_edges(p: NDArray[np.float64]) -> NDArray[np.float64]:
    """CDF values at every edge, shape ``(n, B + 1)``, starting from 0."""
    return np.concatenate([np.zeros((p.shape[0], 1)), np.cumsum(p, axis=1)], axis=1)


def pit(probs: ArrayLike, edges: ArrayLike, z_spec: ArrayLike) -> NDArray[np.float64]:
    """Probability integral transform: each PDF's CDF evaluated at its true redshift.

    For calibrated PDFs the values are uniform on [0, 1]; a U shape means overconfidence, a hump
    underconfidence, a slope bias.

    Parameters
    ----------
    probs : array_like, shape (n, B)
        Probability per bin; rows sum to 1.
    edges : array_like, shape (B + 1,)
        Strictly increasing bin edges shared by all PDFs.
    z_spec : array_like, shape (n,)
        True redshifts.

    Returns
    -------
    ndarray, shape (n,)
        CDF at ``z_spec``, linear within its bin; 0 below the first edge, 1 above the last.
    """
    p, e, z = _check_pdfs(probs, edges, z_spec)
    j = np.clip(np.searchsorted(e, z, side="right") - 1, 0, p.shape[1] - 1)
    frac = np.clip((z - e[j]) / (e[j + 1] - e[j]), 0.0, 1.0)
    rows = np.arange(p.shape[0])
    return _cdf_at_edges(p)[rows, j] + frac * p[rows, j]


def pit_ks(pit_values: ArrayLike) -> float:
    """Kolmogorov-Smirnov statistic of PIT values against U(0, 1): worst CDF miscalibration."""
    (u,) = _as_matched_1d(pit_values=pit_values)
    return float(kstest(u, "uniform").statistic)


def pit_cvm(pit_values: ArrayLike) -> float:
    """Cramér-von Mises statistic of PIT values against U(0, 1).

    Integrates the squared CDF gap over all quantiles, so it reacts to miscalibration spread over
    the whole range that the single largest gap (KS) can understate. Needs at least two values
    (scipy returns NaN otherwise).
    """
    (u,) = _as_matched_1d(pit_values=pit_values)
    return float(cramervonmises(u, "uniform").statistic)


def crps(probs: ArrayLike, edges: ArrayLike, z_spec: ArrayLike) -> NDArray[np.float64]:
    """Continuous ranked probability score of each PDF, exact for the piecewise-linear CDF.

    ``CRPS = integral (F(z) - H(z - z_spec))^2 dz`` rewards PDFs that are both sharp and centred
    on the truth, in redshift units (a delta at distance ``d`` scores ``d``).

    Each bin is split at ``z_spec`` (clipped into the bin); ``F - H`` is linear on both parts, and
    a linear function with end values ``a``, ``b`` over width ``w`` has squared integral
    ``w (a^2 + a b + b^2) / 3``. Where ``z_spec`` lies outside the grid, ``|F - H| = 1`` between it
    and the nearest edge.

    Parameters
    ----------
    probs : array_like, shape (n, B)
        Probability per bin; rows sum to 1.
    edges : array_like, shape (B + 1,)
        Strictly increasing bin edges shared by all PDFs.
    z_spec : array_like, shape (n,)
        True redshifts.

    Returns
    -------
    ndarray, shape (n,)
        CRPS per object.
    """
    p, e, z = _check_pdfs(probs, edges, z_spec)
    cdf = _cdf_at_edges(p)
    lo, hi = e[:-1], e[1:]
    split = np.clip(z[:, None], lo, hi)  # (n, B)
    f_split = cdf[:, :-1] + p * (split - lo) / (hi - lo)
    a, b = cdf[:, :-1], f_split  # below z_spec: H = 0
    below = (a * a + a * b + b * b) / 3.0 * (split - lo)
    a, b = 1.0 - f_split, 1.0 - cdf[:, 1:]  # above z_spec: H = 1
    above = (a * a + a * b + b * b) / 3.0 * (hi - split)
    outside = np.maximum(e[0] - z, 0.0) + np.maximum(z - e[-1], 0.0)
    return (below + above).sum(axis=1) + outside


def hdi_coverage(
    probs: ArrayLike,
    edges: ArrayLike,
    z_spec: ArrayLike,
    levels: Sequence[float] = (0.68, 0.95),
) -> dict[float, float]:
    """Fraction of true redshifts inside each PDF's highest-density set, per credibility level.

    Calibrated PDFs cover the truth at the nominal rate; lower coverage means overconfidence.
    Unlike PIT this also works for multi-modal PDFs, whose credible sets are not intervals.

    Parameters
    ----------
    probs : array_like, shape (n, B)
        Probability per bin; rows sum to 1.
    edges : array_like, shape (B + 1,)
        Strictly increasing bin edges shared by all PDFs.
    z_spec : array_like, shape (n,)
        True redshifts; those outside the grid count as not covered.
    levels : sequence of float
        Credibility levels in (0, 1].

    Returns
    -------
    dict
        ``{level: fraction}``. The set for a level is the smallest set of bins, taken by
        descending probability, whose total reaches the level; it is whole bins, so it can hold
        slightly more than the level.
    """
    p, e, z = _check_pdfs(probs, edges, z_spec)
    order = np.argsort(-p, axis=1, kind="stable")
    cumulative = np.cumsum(np.take_along_axis(p, order, axis=1), axis=1)
    j = np.searchsorted(e, z, side="right") - 1
    j[z == e[-1]] = p.shape[1] - 1  # the last bin includes its right edge
    inside = (j >= 0) & (j < p.shape[1])
    rank = np.argmax(order == j[:, None], axis=1)  # position of the true bin in the ordering
    coverage = {}
    for level in levels:
        if not 0.0 < level <= 1.0:
            raise ValueError(f"levels must lie in (0, 1], got {level}")
        # bins before the one where the running total first reaches the level, plus that bin
        n_bins = np.sum(cumulative < level, axis=1) + 1
        coverage[level] = float(np.mean(inside & (rank < n_bins)))
    return coverage


def pdf_metrics(probs: ArrayLike, edges: ArrayLike, z_spec: ArrayLike) -> dict[str, float]:
    """Calibration and accuracy summary of gridded PDFs, for tables that compare estimators.

    Returns
    -------
    dict
        ``pit_ks``, ``pit_cvm``, ``crps`` (mean over objects), ``hdi68`` and ``hdi95``
        (coverage fractions at 0.68 and 0.95).
    """
    u = pit(probs, edges, z_spec)
    coverage = hdi_coverage(probs, edges, z_spec, levels=(0.68, 0.95))
    return {
        "pit_ks": pit_ks(u),
        "pit_cvm": pit_cvm(u),
        "crps": float(np.mean(crps(probs, edges, z_spec))),
        "hdi68": coverage[0.68],
        "hdi95": coverage[0.95],
    }
