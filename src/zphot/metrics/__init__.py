"""Scores for photometric redshifts, computed from plain arrays so any estimator can be compared.

Point estimates (:mod:`~zphot.metrics.point`), redshift-binned residuals
(:mod:`~zphot.metrics.binned`), n(z) fidelity (:mod:`~zphot.metrics.nz`) and gridded PDFs
(:mod:`~zphot.metrics.pdf`). Names load on first use (:mod:`zphot._lazy`): SciPy with them.
"""

from .._lazy import attach

__all__, __getattr__, __dir__ = attach(
    __name__,
    {
        ".binned": [
            "FULL_RANGE_BINS",
            "binned_residuals",
            "equal_count_edges",
            "full_range_residuals",
            "max_abs_binned_mean",
            "residual_curves",
            "residual_trend",
        ],
        ".nz": ["nz_fidelity", "nz_histograms", "nz_ks", "nz_wasserstein"],
        ".pdf": ["crps", "hdi_coverage", "pdf_metrics", "pit", "pit_cvm", "pit_ks"],
        ".point": [
            "NMAD_SCALE",
            "bias",
            "dz",
            "mse",
            "outlier_fraction",
            "outlier_key",
            "point_metrics",
            "r2",
            "sigma_nmad",
        ],
    },
)
