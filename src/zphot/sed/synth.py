"""Synthetic photometry: AB fluxes and magnitudes of SEDs through filters on a redshift grid.

For a spectrum f_lambda seen at redshift z through a photon-counting filter R, the AB flux in
maggies (units of the 3631 Jy AB zero point) is

    F = int f_lambda,obs(l) R(l) l dl / int f_AB,lambda(l) R(l) l dl,
    f_lambda,obs(l) = f_lambda(l / (1+z)) / (1+z) * T_IGM(l, z),   f_AB,lambda = 3631 Jy c / l^2,

with f_lambda read as erg s^-1 cm^-2 A^-1 and no distance dimming (template fitting fits the
amplitude; a mock sets it from a magnitude). T_IGM is the Madau (1995) mean attenuation by
intergalactic hydrogen (Lyman series and Lyman continuum), on by default; it matters only
where rest-frame wavelengths below 1216 A fall in a filter (z > ~2 for an LSST u band).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..exceptions import ParameterError
from .filters import Filter, trapezoid_weights
from .templates import SED

__all__ = ["madau_transmission", "synthetic_fluxes", "synthetic_magnitudes"]

_C_ANGSTROM = 2.99792458e18  # speed of light, Angstrom / s
_AB_FNU = 3631e-23  # AB zero point, erg s^-1 cm^-2 Hz^-1
_LYMAN_LINES = np.array([1216.0, 1026.0, 973.0, 950.0])  # Ly alpha..epsilon, Angstrom
_LYMAN_COEFF = np.array([3.6e-3, 1.7e-3, 1.2e-3, 9.3e-4])  # Madau 1995, Table 2
_LYMAN_LIMIT = 912.0
# Work arrays of (redshifts x wavelengths) are built this many elements at a time.
_BLOCK = 4_000_000


def madau_transmission(wavelength: ArrayLike, z: ArrayLike) -> NDArray[np.float64]:
    """Mean IGM transmission exp(-tau) of Madau (1995) at observed ``wavelength`` for sources
    at redshift ``z``.

    Parameters
    ----------
    wavelength : array_like, Angstrom
        Increasing observed-frame wavelengths, shape (n_wl,).
    z : array_like
        Source redshifts, shape (n_z,).

    Returns
    -------
    ndarray, shape (n_z, n_wl)

    Notes
    -----
    Lyman-series line blanketing (Ly alpha to epsilon) plus the photoelectric approximation of
    Madau (1995, eq. 16 footnote). That approximation turns over far below the Lyman limit,
    where it would let flux through again; the optical depth is therefore held at its maximum
    towards the blue (the same fix BPZ applies), which keeps T non-increasing bluewards.

    References
    ----------
    Madau, P. 1995, ApJ 441, 18.

    Examples
    --------
    >>> t = madau_transmission([1000.0, 3000.0, 4000.0], [2.0])[0]
    >>> bool(t[2] == 1.0 and t[0] < t[1] < 1.0)
    True
    """
    wl = np.asarray(wavelength, dtype=np.float64)[None, :]
    xe = 1.0 + np.atleast_1d(np.asarray(z, dtype=np.float64))[:, None]
    tau = np.zeros(np.broadcast_shapes(wl.shape, xe.shape))
    for line, coeff in zip(_LYMAN_LINES, _LYMAN_COEFF, strict=True):
        tau += np.where(wl < line * xe, coeff * (wl / line) ** 3.46, 0.0)
    xc = wl / _LYMAN_LIMIT
    with np.errstate(divide="ignore", invalid="ignore"):
        photo = (
            0.25 * xc**3 * (xe**0.46 - xc**0.46)
            + 9.4 * xc**1.5 * (xe**0.18 - xc**0.18)
            - 0.7 * xc**3 * (xc**-1.32 - xe**-1.32)
            - 0.023 * (xe**1.68 - xc**1.68)
        )
    tau += np.where((wl < _LYMAN_LIMIT * xe) & np.isfinite(photo), photo, 0.0)
    # Running maximum from the red end: no recovery of transmission bluewards.
    tau = np.maximum.accumulate(np.maximum(tau, 0.0)[:, ::-1], axis=1)[:, ::-1]
    return np.exp(-tau)


def _check_coverage(seds: Sequence[SED], filters: Sequence[Filter], z: NDArray) -> None:
    lo = min(f.wavelength[0] for f in filters) / (1 + z.max())
    hi = max(f.wavelength[-1] for f in filters) / (1 + z.min())
    for sed in seds:
        if sed.wavelength[0] > lo or sed.wavelength[-1] < hi:
            raise ParameterError(
                f"SED '{sed.name}' covers {sed.wavelength[0]:g}-{sed.wavelength[-1]:g} A but "
                f"these filters at z in [{z.min():g}, {z.max():g}] need rest-frame "
                f"{lo:.0f}-{hi:.0f} A; extend the SED or narrow the redshift range"
            )


def synthetic_fluxes(
    seds: SED | Sequence[SED],
    filters: Filter | Sequence[Filter],
    z: ArrayLike,
    *,
    igm: bool = True,
) -> NDArray[np.float64]:
    """AB fluxes (maggies) of each SED through each filter at each redshift.

    Parameters
    ----------
    seds : SED or sequence of SED
        Spectra in f_lambda (erg s^-1 cm^-2 A^-1 for absolute fluxes).
    filters : Filter or sequence of Filter
    z : array_like
        Redshifts (> -1); each SED is stretched by (1+z), see the module docstring.
    igm : bool
        Apply the Madau (1995) IGM attenuation (:func:`madau_transmission`).

    Returns
    -------
    ndarray, shape (n_sed, n_z, n_filter)
        Flux over the AB zero-point flux; ``-2.5 log10`` of it is the AB magnitude.

    Raises
    ------
    ParameterError
        A redshift is <= -1, or an SED does not cover the rest-frame wavelengths the filters
        need at these redshifts.

    Examples
    --------
    >>> from zphot.sed import load_filter
    >>> flat = SED("flat", [100.0, 30000.0], [1.0, 1.0])  # flat in f_lambda
    >>> f = synthetic_fluxes(flat, load_filter("sdss2010-r"), [0.0, 1.0])
    >>> f.shape, bool(np.isclose(f[0, 1, 0], f[0, 0, 0] / 2))
    ((1, 2, 1), True)
    """
    seds = (seds,) if isinstance(seds, SED) else tuple(seds)
    filters = (filters,) if isinstance(filters, Filter) else tuple(filters)
    z = np.atleast_1d(np.asarray(z, dtype=np.float64))
    if z.ndim != 1 or not np.isfinite(z).all() or np.any(z <= -1):
        raise ParameterError("synthetic_fluxes: redshifts must be a 1-D array of finite z > -1")
    out = np.zeros((len(seds), len(z), len(filters)))
    if len(z) == 0:
        return out
    _check_coverage(seds, filters, z)
    for k, filt in enumerate(filters):
        wl = filt.wavelength
        # Photon-counting weights R(l) l dl; the AB reference integral has f_lambda = C / l^2.
        q = trapezoid_weights(wl) * filt.response * wl
        norm = _AB_FNU * _C_ANGSTROM * (q @ wl**-2)
        step = max(1, _BLOCK // len(wl))
        for start in range(0, len(z), step):
            zb = z[start : start + step]
            rest = wl[None, :] / (1 + zb[:, None])
            atten = madau_transmission(wl, zb) if igm else 1.0
            for i, sed in enumerate(seds):
                obs = np.interp(rest, sed.wavelength, sed.flux) * atten
                # einsum rather than BLAS: a redshift's flux is then the same bits whatever
                # block holds it.
                out[i, start : start + step, k] = np.einsum("zl,l->z", obs, q) / (1 + zb) / norm
    return out


def synthetic_magnitudes(
    seds: SED | Sequence[SED],
    filters: Filter | Sequence[Filter],
    z: ArrayLike,
    *,
    igm: bool = True,
) -> NDArray[np.float64]:
    """AB magnitudes, ``-2.5 log10`` of :func:`synthetic_fluxes`; NaN where the flux is zero
    (zphot's "not measured").

    Examples
    --------
    >>> from zphot.sed import load_filter
    >>> # f_nu = 3631 Jy at all wavelengths is AB magnitude 0 in every band.
    >>> wl = np.geomspace(100.0, 30000.0, 2000)
    >>> ab0 = SED("AB0", wl, _AB_FNU * _C_ANGSTROM / wl**2)
    >>> m = synthetic_magnitudes(ab0, [load_filter("sdss2010-g")], 0.0)
    >>> bool(abs(m[0, 0, 0]) < 1e-4)
    True
    """
    f = synthetic_fluxes(seds, filters, z, igm=igm)
    with np.errstate(divide="ignore"):
        m = -2.5 * np.log10(f)
    m[~np.isfinite(m)] = np.nan
    return m
