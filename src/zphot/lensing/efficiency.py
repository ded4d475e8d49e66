"""Lensing efficiency β = D_ls / D_s and Σcrit⁻¹ on a redshift grid, and their PDF averages.

Both are linear in β at a fixed lens redshift, so a galaxy's ⟨β⟩ and ⟨Σcrit⁻¹⟩ are one matrix
product of its per-bin probabilities with β evaluated once per lens on the grid's bin centres
(a bin's probability is placed at its centre, the convention of :class:`zphot.pdf.PDFBatch`).
β is 0 for sources at or in front of the lens. Distances come from astropy.cosmology, so any of
its cosmologies can be named; Planck18 is the default.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..exceptions import ParameterError

__all__ = [
    "SIGMA_CRIT_INV_UNIT",
    "get_cosmology",
    "beta",
    "sigma_crit_inv",
    "pdf_average",
    "effective_redshift",
]

#: Unit of every Σcrit⁻¹ zphot reports (as astropy writes it).
SIGMA_CRIT_INV_UNIT = "pc2 / solMass"


def get_cosmology(name: Any = "Planck18") -> Any:
    """An astropy cosmology: a name astropy ships (Planck18, WMAP9, ...) or an instance as is."""
    from astropy import cosmology

    if not isinstance(name, str):
        return name
    if name not in cosmology.available:
        raise ParameterError(
            f"unknown cosmology {name!r}: use one of {', '.join(cosmology.available)}"
        )
    return getattr(cosmology, name)


def beta(z_lens: float, z: NDArray[np.float64], cosmology: Any = "Planck18") -> NDArray:
    """β(z) = D_ls / D_s for every source redshift ``z`` (0 where z <= ``z_lens``).

    One vectorised astropy call per lens; evaluate it on the grid once, not per galaxy.
    """
    cosmo = get_cosmology(cosmology)
    z = np.asarray(z, dtype=np.float64)
    out = np.zeros(z.shape)
    behind = z > z_lens
    if behind.any():
        zb = z[behind]
        d_ls = _distance_between(cosmo, z_lens, zb)
        d_s = cosmo.angular_diameter_distance(zb)
        out[behind] = (d_ls / d_s).decompose().value
    return out


def _distance_between(cosmo: Any, z1: float, z2: NDArray[np.float64]) -> Any:
    """Angular-diameter distance from z1 to z2: astropy >= 8 takes two redshifts in
    ``angular_diameter_distance`` (``..._z1z2`` is deprecated there), older versions do not."""
    try:
        return cosmo.angular_diameter_distance(z1, z2)
    except TypeError:
        return cosmo.angular_diameter_distance_z1z2(z1, z2)


def sigma_crit_inv(z_lens: float, z: NDArray[np.float64], cosmology: Any = "Planck18") -> NDArray:
    """Σcrit⁻¹(z) = 4πG/c² · D_l · β(z), in :data:`SIGMA_CRIT_INV_UNIT` (0 in front of the lens)."""
    from astropy import constants, units

    cosmo = get_cosmology(cosmology)
    d_l = cosmo.angular_diameter_distance(z_lens)
    scale = (4 * np.pi * constants.G / constants.c**2 * d_l).to(units.Unit(SIGMA_CRIT_INV_UNIT))
    return scale.value * beta(z_lens, z, cosmo)


def pdf_average(probs: NDArray[np.float64], values: NDArray[np.float64]) -> NDArray[np.float64]:
    """Per row ``sum_b p_b · values_b``: the PDF average of a quantity tabulated on the grid.

    Rows are normalised first, so PDFs stored as float16 (whose sums drift from 1) average
    correctly; a row with no probability gives NaN.
    """
    probs = np.asarray(probs, dtype=np.float64)
    total = probs.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (probs @ np.asarray(values, dtype=np.float64)) / total


def effective_redshift(
    beta_mean: float, z_lens: float, cosmology: Any = "Planck18", z_max: float = 20.0
) -> float:
    """The source redshift whose β equals ``beta_mean`` (β grows with z_s behind the lens).

    NaN when ``beta_mean`` is not a finite value in (0, β(z_max)).
    """
    from scipy.optimize import brentq

    cosmo = get_cosmology(cosmology)
    top = float(beta(z_lens, np.array([z_max]), cosmo)[0])
    if not (np.isfinite(beta_mean) and 0.0 < beta_mean < top):
        return float("nan")

    def gap(z: float) -> float:
        return float(beta(z_lens, np.array([z]), cosmo)[0]) - beta_mean

    return float(brentq(gap, z_lens + 1e-9, z_max, xtol=1e-7))
