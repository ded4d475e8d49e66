"""How a survey observes: per-band depth, sky brightness, PSF and pixel scale, as data.

The ``[observing]`` table of a survey TOML becomes an :class:`Observing` held by the
:class:`~zphot.catalog.bands.Survey`, so the mock catalog's errors, the rendered stamps' noise and
blur, the error model and the population all come from the one survey description. The numbers
of the presets (with their references) are in ``catalog/surveys/*.toml``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

from ..exceptions import ParameterError

__all__ = ["Observing", "observing_from_dict", "ERROR_MODELS", "POPULATIONS"]

#: Error models of the mock catalog: ``depth`` draws flux noise from the 5-sigma depths,
#: ``photerr-lsst`` is photerr's 10-year LSST model (Crenshaw et al. 2024; bands among ugrizy).
ERROR_MODELS = ("depth", "photerr-lsst")
#: Populations of :mod:`zphot.sim.population` (its ``SELECTIONS``): the SDSS main sample or the
#: deep i < 25.3 one.
POPULATIONS = ("sdss", "deep")
_Bad = Callable[[str], Exception]
_PER_BAND = ("m5", "sky", "psf_fwhm")
_SCALARS = {"pixel_scale": None, "moffat_beta": 3.5, "error_floor": 0.01}
_KEYS = (*_PER_BAND, *_SCALARS, "error_model", "population")


@dataclasses.dataclass(frozen=True)
class Observing:
    """Observing conditions of one survey, per band (band names in wavelength order).

    Parameters
    ----------
    name : str
    bands : tuple of str
    m5 : tuple of float, AB mag
        5-sigma point-source depth.
    sky : tuple of float, AB mag / arcsec^2
        Sky surface brightness.
    psf_fwhm : tuple of float, arcsec
        FWHM of the Moffat PSF.
    pixel_scale : float, arcsec / pixel
    moffat_beta : float
        Moffat index; 3.5 fits ground-based seeing profiles (Trujillo et al. 2001).
    error_floor : float, mag
        Calibration error added in quadrature to catalog magnitude errors.
    error_model : {"depth", "photerr-lsst"}
        How the mock catalog draws photometric errors (see :data:`ERROR_MODELS`).
    population : {"sdss", "deep"}
        Which simulated population the survey observes (see :data:`POPULATIONS`).
    """

    name: str
    bands: tuple[str, ...]
    m5: tuple[float, ...]
    sky: tuple[float, ...]
    psf_fwhm: tuple[float, ...]
    pixel_scale: float
    moffat_beta: float = 3.5
    error_floor: float = 0.01
    error_model: str = "depth"
    population: str = "deep"

    def band_index(self, band: str) -> int:
        if band not in self.bands:
            raise ParameterError(
                f"survey '{self.name}' has no band '{band}' (have {', '.join(self.bands)})"
            )
        return self.bands.index(band)

    def zero_point(self, band: str) -> float:
        """Magnitude of one count, chosen so that a point source at ``m5`` has S/N 5 against
        the sky in an optimally weighted PSF aperture (effective area 2.27 FWHM^2 for a
        Gaussian-like PSF): this ties the image noise to the published depth.

        With N_sky = 10^(-0.4 (mu - ZP)) pix^2 counts per pixel and the point source's
        F5 = 10^(-0.4 (m5 - ZP)) counts, S/N = F5 / sqrt(n_eff N_sky) = 5 gives
        ZP = 2.5 log10(25 n_eff pix^2) - mu + 2 m5, with n_eff in pixels.
        """
        i = self.band_index(band)
        n_eff = 2.266 * (self.psf_fwhm[i] / self.pixel_scale) ** 2
        return 2.5 * math.log10(25.0 * n_eff * self.pixel_scale**2) - self.sky[i] + 2 * self.m5[i]

    def sky_counts(self, band: str) -> float:
        """Sky counts per pixel (the Poisson background of the stamps)."""
        i = self.band_index(band)
        return 10 ** (-0.4 * (self.sky[i] - self.zero_point(band))) * self.pixel_scale**2

    def counts_per_nanomaggy(self, band: str) -> float:
        """Counts of a source of 1 nanomaggy (AB mag 22.5)."""
        return 10 ** (-0.4 * (22.5 - self.zero_point(band)))

    def to_dict(self) -> dict:
        """The ``[observing]`` table that :func:`observing_from_dict` reads back."""
        return {k: list(getattr(self, k)) if k in _PER_BAND else getattr(self, k) for k in _KEYS}


def _number(value: object, what: str, bad: _Bad) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise bad(f"[observing] '{what}' must be a number, got {value!r}")
    return float(value)


def _per_band(data: dict, key: str, bands: tuple[str, ...], bad: _Bad) -> tuple[float, ...]:
    values = data.get(key)
    if values is None:
        raise bad(f"[observing] needs '{key}' (one value per band: {', '.join(bands)})")
    if not isinstance(values, list) or len(values) != len(bands):
        count = len(values) if isinstance(values, list) else "not a list"
        raise bad(
            f"[observing] '{key}' needs one value per band ({len(bands)}: {', '.join(bands)}), "
            f"got {count}"
        )
    return tuple(_number(v, f"{key}[{i}]", bad) for i, v in enumerate(values))


def _choice(data: dict, key: str, allowed: tuple[str, ...], bad: _Bad) -> str:
    value = data.get(key, Observing.__dataclass_fields__[key].default)
    if value not in allowed:
        raise bad(f"[observing] '{key}' must be one of {', '.join(allowed)}, got {value!r}")
    return value


def observing_from_dict(data: object, name: str, bands: tuple[str, ...], bad: _Bad) -> Observing:
    """Validate an ``[observing]`` table for a survey with ``bands``; ``bad(msg)`` makes the
    one-line error (naming the file) that is raised."""
    if not isinstance(data, dict):
        raise bad("[observing] must be a table")
    unknown = sorted(set(data) - set(_KEYS))
    if unknown:
        raise bad(f"[observing]: unknown key '{unknown[0]}' (allowed: {', '.join(_KEYS)})")
    per_band = {k: _per_band(data, k, bands, bad) for k in _PER_BAND}
    scalars = {}
    for key, default in _SCALARS.items():
        if key not in data and default is None:
            raise bad(f"[observing] needs '{key}'")
        scalars[key] = _number(data.get(key, default), key, bad)
        if scalars[key] < 0 or (key != "error_floor" and scalars[key] == 0):
            raise bad(f"[observing] '{key}' must be {'>= 0' if key == 'error_floor' else '> 0'}")
    error_model = _choice(data, "error_model", ERROR_MODELS, bad)
    if error_model == "photerr-lsst" and not set(bands) <= set("ugrizy"):
        raise bad(f"[observing] error_model 'photerr-lsst' needs bands among ugrizy, got {bands}")
    population = _choice(data, "population", POPULATIONS, bad)
    return Observing(
        name, bands, **per_band, **scalars, error_model=error_model, population=population
    )
