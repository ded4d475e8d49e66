"""From a file to clean galaxies: bands and surveys, catalogs, imputation, cuts, matches, splits."""

from .bands import Band, Survey
from .catalog import Catalog
from .coerce import as_catalog, like_input, read_catalog
from .crossmatch import CrossmatchReport, crossmatch
from .cuts import drop_incomplete, magnitude_limits, redshift_range, select
from .impute import AdjacentColourImputer
from .photometry import clean_magnitudes, flux_err_to_mag_err, flux_to_mag, mag_to_flux
from .split import kfold_indices, split_indices, train_test
from .survey import list_presets, load_survey, survey_from_dict

__all__ = [
    "AdjacentColourImputer",
    "Band",
    "Catalog",
    "CrossmatchReport",
    "Survey",
    "as_catalog",
    "clean_magnitudes",
    "crossmatch",
    "drop_incomplete",
    "flux_err_to_mag_err",
    "flux_to_mag",
    "kfold_indices",
    "like_input",
    "list_presets",
    "load_survey",
    "mag_to_flux",
    "magnitude_limits",
    "read_catalog",
    "redshift_range",
    "select",
    "split_indices",
    "survey_from_dict",
    "train_test",
]
