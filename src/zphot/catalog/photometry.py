"""Fluxes <-> AB magnitudes through astropy.units, and "not measured" as NaN.

This is the one place where fluxes are converted and sentinels are recognised: downstream code
sees float64 AB magnitudes with NaN for missing and never tests for 99.
"""

from __future__ import annotations

import numpy as np
from astropy import units as u
from numpy.typing import ArrayLike, NDArray

from ..exceptions import ParameterError

__all__ = ["flux_to_mag", "mag_to_flux", "flux_err_to_mag_err", "clean_magnitudes", "parse_unit"]

_LN10_25 = 2.5 / np.log(10.0)
_NANOMAGGY = u.def_unit("nanomaggy", 1e-9 * u.ABflux)  # SDSS: 1e-9 of the AB zero point
_ALIASES = {"nanomaggy": _NANOMAGGY, "nanomaggies": _NANOMAGGY, "nmgy": _NANOMAGGY}


def parse_unit(unit: str | u.UnitBase) -> u.UnitBase:
    """An astropy flux-density unit from its name (SDSS nanomaggies included)."""
    if isinstance(unit, u.UnitBase):
        return unit
    if unit.lower() in _ALIASES:
        return _ALIASES[unit.lower()]
    try:
        parsed = u.Unit(unit)
    except ValueError as exc:
        raise ParameterError(f"unknown flux unit '{unit}'") from exc
    if not parsed.is_equivalent(u.Jy):
        raise ParameterError(f"flux unit '{unit}' is not a flux density (need e.g. nJy)")
    return parsed


def flux_to_mag(flux: ArrayLike, unit: str | u.UnitBase = "nJy") -> NDArray[np.float64]:
    """AB magnitudes of fluxes; non-positive or non-finite fluxes (non-detections) give NaN."""
    f = np.asarray(flux, dtype=np.float64)
    good = np.isfinite(f) & (f > 0)
    out = np.full(f.shape, np.nan)
    out[good] = (f[good] * parse_unit(unit)).to_value(u.ABmag)
    return out


def mag_to_flux(mag: ArrayLike, unit: str | u.UnitBase = "nJy") -> NDArray[np.float64]:
    """Fluxes in ``unit`` of AB magnitudes (NaN stays NaN)."""
    m = np.asarray(mag, dtype=np.float64)
    return (m * u.ABmag).to_value(parse_unit(unit))


def flux_err_to_mag_err(flux: ArrayLike, flux_err: ArrayLike) -> NDArray[np.float64]:
    """First-order magnitude error 2.5/ln(10) * sigma_f / f; NaN where the flux is not positive."""
    f = np.asarray(flux, dtype=np.float64)
    e = np.asarray(flux_err, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = _LN10_25 * np.abs(e) / f
    out[~(np.isfinite(f) & (f > 0))] = np.nan
    return out


def clean_magnitudes(mag: ArrayLike, sentinels: tuple[float, ...] = (99.0, -99.0)) -> NDArray:
    """Magnitudes as float64 with NaN where not measured (NaN, inf, or a sentinel value)."""
    m = np.array(mag, dtype=np.float64)
    bad = ~np.isfinite(m)
    for s in sentinels:
        bad |= m == s
    m[bad] = np.nan
    return m
