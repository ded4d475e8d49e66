"""Weak-lensing quantities from photo-z PDFs: β, Σcrit⁻¹, background selection, n(z), and the
calibration of a spec-z sample that is not representative of the sources (reweighting)."""

from .efficiency import (
    SIGMA_CRIT_INV_UNIT,
    beta,
    effective_redshift,
    get_cosmology,
    pdf_average,
    sigma_crit_inv,
)
from .predictions import galaxy_columns, pdf_columns, read_predictions
from .selection import (
    SelectionSummary,
    prob_above,
    select_background,
    stacked_nz,
    summarise_selection,
    truth_metrics,
)

__all__ = [
    "SIGMA_CRIT_INV_UNIT",
    "beta",
    "effective_redshift",
    "get_cosmology",
    "pdf_average",
    "sigma_crit_inv",
    "galaxy_columns",
    "pdf_columns",
    "read_predictions",
    "SelectionSummary",
    "prob_above",
    "select_background",
    "stacked_nz",
    "summarise_selection",
    "truth_metrics",
]
