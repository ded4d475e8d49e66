"""Point-estimate metrics: how far single redshift guesses land from the spectroscopic truth.

Residuals are scaled by ``1 + z_spec`` because photometric errors grow with redshift; the scaled
``dz`` is the quantity survey requirements (bias, scatter, outliers) are stated in.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import median_abs_deviation

__all__ = [
    "NMAD_SCALE",
    "dz",
    "mse",
    "r2",
    "bias",
    "sigma_nmad",
    "outlier_fraction",
    "outlier_key",
    "point_metrics",
]

#: Makes the median absolute deviation of a Gaussian equal its standard deviation.
NMAD_SCALE = 1.4826


def _as_matched_1d(**arrays: ArrayLike) -> list[NDArray[np.float64]]:
    """Convert named inputs to float 1-D arrays of one common, non-zero length.

    Metrics pair objects one to one, so broadcasting mismatched inputs would silently give
    meaningless numbers; the names make the error say which argument is wrong.
    """
    out = [np.asarray(a, dtype=float) for a in arrays.values()]
    for name, a in zip(arrays, out, strict=True):
        if a.ndim != 1:
            raise ValueError(f"{name} must be 1-D, got shape {a.shape}")
    lengths = {name: a.size for name, a in zip(arrays, out, strict=True)}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"length mismatch: {lengths}")
    if out[0].size == 0:
        raise ValueError(f"empty input: {', '.join(arrays)} have no elements")
    return out


def dz(z_phot: ArrayLike, z_spec: ArrayLike) -> NDArray[np.float64]:
    """Scaled residuals ``(z_phot - z_spec) / (1 + z_spec)``.

    Parameters
    ----------
    z_phot, z_spec : array_like, shape (n,)
        Photometric estimates and spectroscopic truths of the same objects.

    Returns
    -------
    ndarray, shape (n,)
        Residuals in units of ``1 + z``, the scale on which photo-z errors are roughly constant.
    """
    zp, zs = _as_matched_1d(z_phot=z_phot, z_spec=z_spec)
    return (zp - zs) / (1.0 + zs)


def mse(z_phot: ArrayLike, z_spec: ArrayLike) -> float:
    """Mean squared error on ``z`` itself (not ``dz``), the loss regressors are trained on."""
    zp, zs = _as_matched_1d(z_phot=z_phot, z_spec=z_spec)
    return float(np.mean((zp - zs) ** 2))


def r2(z_phot: ArrayLike, z_spec: ArrayLike) -> float:
    """Coefficient of determination ``1 - SS_res / SS_tot`` (as ``sklearn.metrics.r2_score``).

    Says how much of the redshift spread an estimator explains: 1 is perfect, 0 is no better than
    predicting the mean redshift. NaN when ``z_spec`` is constant, where the ratio is undefined.
    """
    zp, zs = _as_matched_1d(z_phot=z_phot, z_spec=z_spec)
    ss_tot = float(np.sum((zs - zs.mean()) ** 2))
    if ss_tot == 0.0:
        return float("nan")
    return 1.0 - float(np.sum((zs - zp) ** 2)) / ss_tot


def bias(z_phot: ArrayLike, z_spec: ArrayLike) -> float:
    """Median of ``dz``: a systematic offset that catastrophic outliers cannot drag around."""
    return float(np.median(dz(z_phot, z_spec)))


def sigma_nmad(z_phot: ArrayLike, z_spec: ArrayLike) -> float:
    """Normalised median absolute deviation of ``dz``, ``1.4826 * median(|dz - median(dz)|)``.

    A scatter estimate that equals the standard deviation for Gaussian residuals but ignores
    outliers, so it measures the core of the error distribution.
    """
    return NMAD_SCALE * float(median_abs_deviation(dz(z_phot, z_spec)))


def outlier_fraction(z_phot: ArrayLike, z_spec: ArrayLike, threshold: float = 0.15) -> float:
    """Fraction of objects with ``|dz| > threshold``: the failures scatter statistics hide."""
    return float(np.mean(np.abs(dz(z_phot, z_spec)) > threshold))


def outlier_key(threshold: float) -> str:
    """Dictionary key for an outlier threshold, e.g. ``0.05 -> 'outlier_005'``.

    Keeps the key free of dots so it can be a column name in tables and report files.
    """
    return "outlier_" + f"{threshold:.2f}".replace("0.", "0").replace(".", "")


def point_metrics(
    z_phot: ArrayLike, z_spec: ArrayLike, outlier_threshold: float = 0.05
) -> dict[str, float]:
    """All point metrics at once, for tables that compare estimators.

    Parameters
    ----------
    z_phot, z_spec : array_like, shape (n,)
        Photometric estimates and spectroscopic truths of the same objects.
    outlier_threshold : float
        An extra ``|dz|`` outlier cut besides the conventional 0.15.

    Returns
    -------
    dict
        ``n``, ``mse``, ``r2``, ``bias``, ``sigma_nmad``, ``outlier_015``,
        ``outlier_key(outlier_threshold)``, ``mean_dz`` and ``std_dz`` (population std, ddof=0).
    """
    zp, zs = _as_matched_1d(z_phot=z_phot, z_spec=z_spec)
    d = dz(zp, zs)
    return {
        "n": int(zp.size),
        "mse": mse(zp, zs),
        "r2": r2(zp, zs),
        "bias": bias(zp, zs),
        "sigma_nmad": sigma_nmad(zp, zs),
        outlier_key(0.15): outlier_fraction(zp, zs, 0.15),
        outlier_key(outlier_threshold): outlier_fraction(zp, zs, outlier_threshold),
        "mean_dz": float(np.mean(d)),
        "std_dz": float(np.std(d)),
    }
