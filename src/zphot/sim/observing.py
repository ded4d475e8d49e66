"""How each survey observes: per-band depth, sky brightness, PSF and pixel scale.

One value per band, from the survey papers, so the mock catalog's errors and the rendered
stamps' noise and blur come from the same numbers:

- SDSS (Stoughton et al. 2002; York et al. 2000): 95% point-source completeness
  u 22.0, g 22.2, r 22.2, i 21.3, z 20.5 (used as the 5-sigma depth), median seeing ~1.4"
  (r 1.3"), dark-sky brightness u 22.0, g 21.8, r 21.0, i 20.3, z 18.6 mag/arcsec^2, 0.396"
  pixels.
- LSST 10-year (Ivezic et al. 2019, Table 2): 5-sigma depths u 25.6, g 26.9, r 26.9,
  i 26.4, z 25.6, y 24.8; sky u 22.99, g 22.26, r 21.20, i 20.48, z 19.60, y 18.61; delivered
  seeing ~0.7" (u 0.92 ... y 0.76 at zenith scaled to airmass 1.2); 0.2" pixels.
- HSC-SSP Wide (Aihara et al. 2018): 5-sigma point-source depths g 26.5, r 26.1, i 25.9,
  z 25.1, y 24.4; seeing g 0.77, r 0.76, i 0.58, z 0.68, y 0.68"; 0.168" pixels; sky from the
  Mauna Kea dark sky (g 22.0, r 21.3, i 20.3, z 19.6, y 18.6).
"""

from __future__ import annotations

import dataclasses
import math

from ..exceptions import ParameterError

__all__ = ["Observing", "observing", "OBSERVING"]


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
    """

    name: str
    bands: tuple[str, ...]
    m5: tuple[float, ...]
    sky: tuple[float, ...]
    psf_fwhm: tuple[float, ...]
    pixel_scale: float
    moffat_beta: float = 3.5
    error_floor: float = 0.01

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


OBSERVING: dict[str, Observing] = {
    "sdss": Observing(
        name="sdss",
        bands=("u", "g", "r", "i", "z"),
        m5=(22.0, 22.2, 22.2, 21.3, 20.5),
        sky=(22.0, 21.8, 21.0, 20.3, 18.6),
        psf_fwhm=(1.5, 1.4, 1.3, 1.25, 1.25),
        pixel_scale=0.396,
        error_floor=0.02,
    ),
    "lsst": Observing(
        name="lsst",
        bands=("u", "g", "r", "i", "z", "y"),
        m5=(25.6, 26.9, 26.9, 26.4, 25.6, 24.8),
        sky=(22.99, 22.26, 21.20, 20.48, 19.60, 18.61),
        psf_fwhm=(0.92, 0.87, 0.83, 0.80, 0.78, 0.76),
        pixel_scale=0.2,
    ),
    "hsc": Observing(
        name="hsc",
        bands=("g", "r", "i", "z", "y"),
        m5=(26.5, 26.1, 25.9, 25.1, 24.4),
        sky=(22.0, 21.3, 20.3, 19.6, 18.6),
        psf_fwhm=(0.77, 0.76, 0.58, 0.68, 0.68),
        pixel_scale=0.168,
    ),
}


def observing(name: str) -> Observing:
    """The observing conditions of a survey preset (``sdss``, ``lsst`` or ``hsc``).

    Raises
    ------
    ParameterError
        No conditions are known for ``name``.
    """
    try:
        return OBSERVING[name]
    except KeyError:
        raise ParameterError(
            f"no observing conditions for survey '{name}' (have {', '.join(OBSERVING)})"
        ) from None
