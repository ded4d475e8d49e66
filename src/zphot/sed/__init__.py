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

from .._lazy import attach

__all__, __getattr__, __dir__ = attach(
    __name__,
    {
        ".filters": ["Filter", "load_filter", "survey_filters"],
        ".synth": ["madau_transmission", "synthetic_fluxes", "synthetic_magnitudes"],
        ".templates": ["DEFAULT_TEMPLATES", "SED", "load_sed", "load_templates"],
    },
)
