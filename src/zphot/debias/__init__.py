"""Lin et al. (2022) bias correction for any network estimator.

The numerical pieces import without torch; ``DebiasedEstimator`` loads torch on first use.
"""

from ..features.cells import MagnitudeCells
from .balance import balance_weights, balanced_subset, threshold_for_fraction
from .calibrate import PITRecalibration, ResidualCalibration, SpecResidualCalibration
from .labels import fit_sigma1, fit_sigma_from_histograms, local_sigma2, shifted_labels, soft_labels

__all__ = [
    "LABEL_VARIANTS",
    "DebiasedEstimator",
    "MagnitudeCells",
    "PITRecalibration",
    "ResidualCalibration",
    "SpecResidualCalibration",
    "balance_weights",
    "balanced_subset",
    "fit_sigma1",
    "fit_sigma_from_histograms",
    "local_sigma2",
    "shifted_labels",
    "soft_labels",
    "threshold_for_fraction",
]


def __getattr__(name: str):  # noqa: ANN202 - lazy import keeps torch out of the pieces
    if name in ("DebiasedEstimator", "LABEL_VARIANTS"):
        from . import estimator

        return getattr(estimator, name)
    raise AttributeError(name)
