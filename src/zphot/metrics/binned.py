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

__all__ = [
    "binned_residuals",
    "residual_curves",
    "max_abs_binned_mean",
    "equal_count_edges",
    "residual_trend",
    "full_range_residuals",
]

#: Equal-count bins the full-range diagnostics use by default (about 620 galaxies per bin on the
#: SDSS public test set, so each bin mean has a standard error near 0.001).
FULL_RANGE_BINS = 20


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


def equal_count_edges(x: ArrayLike, n_bins: int = FULL_RANGE_BINS) -> NDArray[np.float64]:
    """Edges of ``n_bins`` bins holding (nearly) equal numbers of the finite ``x``, from its
    minimum to its maximum, so no object falls outside and the range's ends get bins of their own.

    Tied values can make quantiles coincide; repeated edges are dropped, giving fewer bins.

    Examples
    --------
    >>> equal_count_edges([0.0, 1.0, 2.0, 3.0, 4.0], 2).tolist()
    [0.0, 2.0, 4.0]
    """
    if int(n_bins) < 1:
        raise ValueError(f"n_bins must be >= 1, got {n_bins}")
    xs = np.asarray(x, dtype=float)
    xs = xs[np.isfinite(xs)]
    if xs.size < 2:
        raise ValueError(f"need at least 2 finite values for equal-count bins, got {xs.size}")
    edges = np.unique(np.quantile(xs, np.linspace(0.0, 1.0, int(n_bins) + 1)))
    if edges.size < 2:
        raise ValueError("every value is the same: no bins can be formed")
    return edges


def residual_trend(x: ArrayLike, dz: ArrayLike) -> tuple[float, float]:
    """Slope and intercept of the least-squares line ``dz = a x + b``.

    The residual curve's tilt in one number: an estimator regressed toward the sample mean has a
    negative slope against ``z_spec``, whatever its mean bias.
    """
    xs, d = _as_matched_1d(x=x, dz=dz)
    slope, intercept = np.polyfit(xs, d, 1)
    return float(slope), float(intercept)


def full_range_residuals(
    z_phot: ArrayLike, z_spec: ArrayLike, n_bins: int = FULL_RANGE_BINS
) -> dict[str, float]:
    """Residual diagnostics over the whole redshift range, in equal-count bins.

    Fixed-width bins with a minimum count leave out the sparse ends of the range, where the
    boundary-induced residuals live; equal-count bins of ``z_spec`` (individual view) and of
    ``z_phot`` (bulk view) cover every object, each bin equally well measured.

    Returns
    -------
    dict
        For ``by`` in ``zspec`` and ``zphot``: ``max_dz_{by}`` (largest |mean dz| over the bins),
        ``max_dz_{by}_lo`` / ``_hi`` (that bin's edges), ``max_dz_{by}_sem`` (its standard error)
        and ``slope_{by}`` / ``intercept_{by}`` (:func:`residual_trend` of dz on that variable);
        NaN for a variable with a single value. Non-finite ``z_phot`` are left out.
    """
    zp, zs = _as_matched_1d(z_phot=z_phot, z_spec=z_spec)
    ok = np.isfinite(zp) & np.isfinite(zs)
    zp, zs = zp[ok], zs[ok]
    d = scaled_residuals(zp, zs)
    out: dict[str, float] = {}
    for by, x in (("zspec", zs), ("zphot", zp)):
        if np.unique(x).size < 2:  # one value: no bins and no trend to speak of
            keys = ("", "_lo", "_hi", "_sem")
            out |= {f"max_dz_{by}{k}": np.nan for k in keys}
            out |= {f"slope_{by}": np.nan, f"intercept_{by}": np.nan}
            continue
        table = binned_residuals(x, d, equal_count_edges(x, n_bins))
        worst = int(np.nanargmax(table["mean"].abs().to_numpy()))
        out[f"max_dz_{by}"] = float(abs(table["mean"].iloc[worst]))
        out[f"max_dz_{by}_lo"] = float(table["lo"].iloc[worst])
        out[f"max_dz_{by}_hi"] = float(table["hi"].iloc[worst])
        out[f"max_dz_{by}_sem"] = float(table["sem"].iloc[worst])
        out[f"slope_{by}"], out[f"intercept_{by}"] = residual_trend(x, d)
    return out
