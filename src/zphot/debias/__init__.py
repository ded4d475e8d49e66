"""Lin et al. (2022) bias correction for any network estimator.

Names load on first use (:mod:`zphot._lazy`): the numerical pieces need no torch, and
``DebiasedEstimator`` loads torch only when it is first asked for.
"""

from .._lazy import attach

__all__, __getattr__, __dir__ = attach(
    __name__,
    {
        ".estimator": ["LABEL_VARIANTS", "DebiasedEstimator"],
        "..features.cells": ["MagnitudeCells"],
        ".balance": ["balance_weights", "balanced_subset", "threshold_for_fraction"],
        ".calibrate": ["PITRecalibration", "ResidualCalibration", "SpecResidualCalibration"],
        ".labels": [
            "fit_sigma1",
            "fit_sigma_from_histograms",
            "local_sigma2",
            "shifted_labels",
            "soft_labels",
        ],
    },
)
