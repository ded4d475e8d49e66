"""Spectra, filter curves and synthetic photometry, for template fitting and mock catalogs.

- :mod:`~zphot.sed.templates`: :class:`SED` and the CWW/Kinney/BC03 templates desc-bpz installs;
- :mod:`~zphot.sed.filters`: :class:`Filter` curves from speclite, desc-bpz or a file;
- :mod:`~zphot.sed.synth`: AB fluxes/magnitudes of SEDs x filters x redshifts, with IGM.

Examples
--------
>>> from zphot.sed import load_templates, load_filter, synthetic_magnitudes
>>> mags = synthetic_magnitudes(load_templates(), [load_filter("sdss2010-g"),
...                             load_filter("sdss2010-r")], [0.1, 0.5])
>>> mags.shape  # (templates, redshifts, filters)
(8, 2, 2)
"""

from .filters import Filter, load_filter, survey_filters
from .synth import madau_transmission, synthetic_fluxes, synthetic_magnitudes
from .templates import DEFAULT_TEMPLATES, SED, load_sed, load_templates

__all__ = [
    "DEFAULT_TEMPLATES",
    "SED",
    "Filter",
    "load_filter",
    "load_sed",
    "load_templates",
    "madau_transmission",
    "survey_filters",
    "synthetic_fluxes",
    "synthetic_magnitudes",
]
