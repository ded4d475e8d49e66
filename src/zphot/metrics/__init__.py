"""Scores for photometric redshifts, computed from plain arrays so any estimator can be compared.

Point estimates (:mod:`~zphot.metrics.point`), redshift-binned residuals
(:mod:`~zphot.metrics.binned`), n(z) fidelity (:mod:`~zphot.metrics.nz`) and gridded PDFs
(:mod:`~zphot.metrics.pdf`).
"""

from __future__ import annotations

from zphot.metrics.binned import (
    FULL_RANGE_BINS,
    binned_residuals,
    equal_count_edges,
    full_range_residuals,
    max_abs_binned_mean,
    residual_curves,
    residual_trend,
)
from zphot.metrics.nz import nz_fidelity, nz_histograms, nz_ks, nz_wasserstein
from zphot.metrics.pdf import crps, hdi_coverage, pdf_metrics, pit, pit_cvm, pit_ks
from zphot.metrics.point import (
    NMAD_SCALE,
    bias,
    dz,
    mse,
    outlier_fraction,
    outlier_key,
    point_metrics,
    r2,
    sigma_nmad,
)

__all__ = [
    "FULL_RANGE_BINS",
    "NMAD_SCALE",
    "bias",
    "binned_residuals",
    "crps",
    "dz",
    "equal_count_edges",
    "full_range_residuals",
    "hdi_coverage",
    "max_abs_binned_mean",
    "mse",
    "nz_fidelity",
    "nz_histograms",
    "nz_ks",
    "nz_wasserstein",
    "outlier_fraction",
    "outlier_key",
    "pdf_metrics",
    "pit",
    "pit_cvm",
    "pit_ks",
    "point_metrics",
    "r2",
    "residual_curves",
    "residual_trend",
    "sigma_nmad",
]
