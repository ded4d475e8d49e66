"""One galaxy's multi-band stamp: bulge + disk, per-band Moffat PSF, sky + Poisson noise.

Each band draws the same two profiles (a de Vaucouleurs bulge, an exponential disk, sharing a
position angle) with that band's bulge and disk fluxes, so the colour gradient between the red
bulge and the bluer disk is in the pixels. The convolved profile is drawn with the pixel
response (``method="auto"``), the PSF is a Moffat of the survey's per-band FWHM, and noise is
Poisson on (sky + galaxy) counts, with the sky level and count scale tied to the survey's
depth (:class:`zphot.catalog.observing.Observing`); the sky is subtracted and pixels are returned
in nanomaggies.

Randomness comes only from the galaxy's own stream ``(run seed, "galaxy", row index)``, so a
stamp does not depend on which process drew it or in which order.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from .._rng import child_generator
from ..catalog.observing import Observing

__all__ = ["GalaxyParams", "galaxy_profile", "psf_profile", "render_galaxy"]

GalaxyParams = Mapping[str, float]

# Folding/accuracy settings: 5e-3 keeps the FFT small enough for ~10 ms per band while the
# flux error stays far below the noise (checked in tests/images).
_GSPARAMS = {"folding_threshold": 5e-3, "maxk_threshold": 2e-3, "maximum_fft_size": 4096}


def _galsim():  # noqa: ANN202 - galsim is optional
    try:
        import galsim
    except ModuleNotFoundError as exc:  # pragma: no cover - depends on the environment
        from ..exceptions import ParameterError

        raise ParameterError("rendering stamps needs GalSim: pip install 'zphot[images]'") from exc
    return galsim


def psf_profile(obs: Observing, band: str):  # noqa: ANN201
    """The Moffat PSF of ``band`` (FWHM in arcsec, index ``obs.moffat_beta``)."""
    galsim = _galsim()
    return galsim.Moffat(
        beta=obs.moffat_beta,
        fwhm=obs.psf_fwhm[obs.band_index(band)],
        gsparams=galsim.GSParams(**_GSPARAMS),
    )


def galaxy_profile(params: GalaxyParams, band: str):  # noqa: ANN201
    """Bulge + disk of one galaxy in ``band``; fluxes in nanomaggies, radii in arcsec."""
    galsim = _galsim()
    gsp = galsim.GSParams(**_GSPARAMS)
    beta = float(params["beta"]) * galsim.degrees
    parts = []
    f_b = float(params[f"flux_bulge_{band}"])
    f_d = float(params[f"flux_disk_{band}"])
    if f_b > 0:
        bulge = galsim.DeVaucouleurs(
            half_light_radius=float(params["r_bulge"]), flux=f_b, gsparams=gsp
        )
        parts.append(bulge.shear(q=float(params["q_bulge"]), beta=beta))
    if f_d > 0:
        disk = galsim.Exponential(half_light_radius=float(params["r_disk"]), flux=f_d, gsparams=gsp)
        parts.append(disk.shear(q=float(params["q_disk"]), beta=beta))
    if not parts:
        return galsim.Gaussian(sigma=0.1, flux=0.0, gsparams=gsp)
    return parts[0] if len(parts) == 1 else galsim.Add(parts)


def render_galaxy(
    params: GalaxyParams,
    obs: Observing,
    bands: tuple[str, ...],
    size: int,
    seed: int,
    index: int,
    *,
    noise: bool = True,
) -> NDArray[np.float32]:
    """Render one galaxy: a ``(len(bands), size, size)`` stamp in nanomaggies per pixel.

    Parameters
    ----------
    params : mapping
        ``r_bulge``, ``r_disk`` (half-light radii, arcsec), ``q_bulge``, ``q_disk``, ``beta``
        (degrees) and ``flux_bulge_<band>``, ``flux_disk_<band>`` (nanomaggies).
    obs : Observing
        PSF, pixel scale, sky and depth per band.
    bands : tuple of str
    size : int
        Stamp width in pixels.
    seed, index : int
        Run seed and the galaxy's row: its random stream is ``(seed, "galaxy", index)``, which
        draws the centring offset, then one noise seed per band.
    noise : bool
        ``False`` returns the noiseless rendering (same centring).

    Returns
    -------
    ndarray, float32
    """
    galsim = _galsim()
    rng = child_generator(seed, "galaxy", index)
    # Sub-pixel centring offset, as a real cutout has; same in all bands.
    offset = rng.uniform(-0.5, 0.5, size=2)
    noise_seeds = rng.integers(1, 2**31 - 1, size=len(bands))
    out = np.empty((len(bands), size, size), dtype=np.float32)
    for k, band in enumerate(bands):
        gal = galsim.Convolve(galaxy_profile(params, band), psf_profile(obs, band))
        image = galsim.ImageD(size, size, scale=obs.pixel_scale)
        gal.drawImage(image=image, offset=tuple(offset), method="auto")
        if noise:
            gain = obs.counts_per_nanomaggy(band)
            counts = image * gain
            counts.addNoise(
                galsim.PoissonNoise(
                    galsim.BaseDeviate(int(noise_seeds[k])), sky_level=obs.sky_counts(band)
                )
            )
            out[k] = counts.array / gain
        else:
            out[k] = image.array
    return out
