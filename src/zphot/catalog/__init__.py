"""From a file to clean galaxies: bands and surveys, catalogs, imputation, cuts, matches, splits.

Names load on first use (:mod:`zphot._lazy`), so reading a survey TOML needs neither pandas
nor astropy. ``crossmatch`` is bound at once (its module imports astropy only when called): the
function shares its submodule's name, and an import of the submodule would otherwise leave the
module where the function should be.
"""

from .._lazy import attach
from .crossmatch import CrossmatchReport as CrossmatchReport
from .crossmatch import crossmatch as crossmatch

__all__, __getattr__, __dir__ = attach(
    __name__,
    {
        ".bands": ["Band", "Survey"],
        ".catalog": ["Catalog"],
        ".coerce": ["as_catalog", "like_input", "read_catalog"],
        ".crossmatch": ["CrossmatchReport", "crossmatch"],
        ".cuts": ["drop_incomplete", "magnitude_limits", "redshift_range", "select"],
        ".impute": ["AdjacentColourImputer"],
        ".photometry": ["clean_magnitudes", "flux_err_to_mag_err", "flux_to_mag", "mag_to_flux"],
        ".split": ["kfold_indices", "split_indices", "train_test"],
        ".survey": ["list_presets", "load_survey", "survey_from_dict"],
    },
)
