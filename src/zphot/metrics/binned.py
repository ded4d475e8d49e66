"""Residuals binned in redshift: where along ``z`` an estimator is biased.

A global bias can be near zero while the estimator is pulled toward the sample mean (too high at
low ``z``, too low at high ``z``); binning by ``z_spec`` and by ``z_phot`` exposes that trend.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.stats import binned_statistic

from zphot.metrics.point import _as_matched_1d
from zphot.metrics.point import dz as scaled_residuals

__all__ = ["binned_residuals", "residual_curves", "max_abs_binned_mean"]


def _check_edges(edges: ArrayLike) -> NDArray[np.float64]:
    """Return ``edges`` as a float array, refusing grids that cannot define bins."""
    e = np.asarray(edges, dtype=float)
    if e.ndim != 1 or e.size < 2:
        raise ValueError(f"edges must be 1-D with at least 2 values, got shape {e.shape}")
    if not np.all(np.diff(e) > 0):
        raise ValueError("edges must be strictly increasing")
    return e


def binned_residuals(
    x: ArrayLike, dz: ArrayLike, edges: ArrayLike, min_count: int = 1
) -> pd.DataFrame:
    """Mean, standard error and median of ``dz`` in bins of ``x``.

    Parameters
    ----------
    x : array_like, shape (n,)
        The binning variable (``z_spec`` or ``z_phot``); values outside ``edges`` are dropped and
        the last bin includes its right edge.
    dz : array_like, shape (n,)
        Residuals of the same objects.
    edges : array_like, shape (B + 1,)
        Strictly increasing bin edges.
    min_count : int
        Bins with fewer objects get NaN statistics (their ``count`` is still reported), so that
        noisy sparse bins are not mistaken for trends.

    Returns
    -------
    pandas.DataFrame
        One row per bin with columns ``lo``, ``hi``, ``centre``, ``count``, ``mean``, ``sem``
        (``std(ddof=1) / sqrt(n)``, NaN for ``n < 2``) and ``median``.
    """
    xs, d = _as_matched_1d(x=x, dz=dz)
    e = _check_edges(edges)
    count = binned_statistic(xs, d, "count", bins=e).statistic.astype(int)
    mean = binned_statistic(xs, d, "mean", bins=e).statistic
    median = binned_statistic(xs, d, "median", bins=e).statistic
    std0 = binned_statistic(xs, d, "std", bins=e).statistic
    with np.errstate(divide="ignore", invalid="ignore"):
        # std(ddof=1) / sqrt(n) == std(ddof=0) / sqrt(n - 1)
        sem = np.where(count >= 2, std0 / np.sqrt(count - 1), np.nan)
    sparse = count < min_count
    return pd.DataFrame(
        {
            "lo": e[:-1],
            "hi": e[1:],
            "centre": 0.5 * (e[:-1] + e[1:]),
            "count": count,
            "mean": np.where(sparse, np.nan, mean),
            "sem": np.where(sparse, np.nan, sem),
            "median": np.where(sparse, np.nan, median),
        }
    )


def residual_curves(
    z_phot: ArrayLike, z_spec: ArrayLike, edges: ArrayLike, min_count: int = 1
) -> dict[str, pd.DataFrame]:
    """Binned ``dz`` both against ``z_spec`` and against ``z_phot``.

    Binning by truth shows the estimator's conditional bias; binning by estimate shows what a user
    selecting on ``z_phot`` actually gets. Both are needed to diagnose regression to the mean.

    Returns
    -------
    dict
        ``{'z_spec': table, 'z_phot': table}`` as from :func:`binned_residuals`.
    """
    zp, zs = _as_matched_1d(z_phot=z_phot, z_spec=z_spec)
    d = scaled_residuals(zp, zs)
    return {
        "z_spec": binned_residuals(zs, d, edges, min_count),
        "z_phot": binned_residuals(zp, d, edges, min_count),
    }


def max_abs_binned_mean(table: pd.DataFrame, min_count: int = 200) -> float:
    """Largest ``|mean|`` over bins with at least ``min_count`` objects; NaN if no bin qualifies.

    Summarises a residual curve in one number while ignoring bins too sparse to trust.
    """
    selected = table.loc[table["count"] >= min_count, "mean"]
    return float(selected.abs().max())
