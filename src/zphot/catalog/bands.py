"""Bands and surveys: which columns hold which band, as data.

A :class:`Survey` is an explicit value passed to readers and estimators; zphot keeps no global
default survey (RAIL's global catalog tag is the pattern avoided here).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..exceptions import ParameterError
from .observing import Observing

#: Plausible AB magnitudes of galaxies in any optical or infrared survey.
DEFAULT_MAG_RANGE = (5.0, 40.0)
#: The fraction of training rows with an implausible value above which ``train`` refuses.
DEFAULT_MAX_BAD_FRACTION = 0.001

__all__ = ["Band", "Survey"]


@dataclass(frozen=True)
class Band:
    """One photometric band and the columns that measure it.

    Parameters
    ----------
    name : str
        Band name used to match catalogs with models (``"r"``).
    mag, mag_err : str, optional
        AB magnitude column and its 1-sigma error column.
    flux, flux_err : str, optional
        Flux column (used when ``mag`` is not given) and its error, in ``flux_unit``.
    flux_unit : str
        Any astropy flux-density unit (``"nJy"``, ``"uJy"``, ``"nanomaggy"``...).
    filter : str, optional
        Filter curve for template fitting and simulation: a speclite name (``"sdss2010-r"``),
        ``"bpz:NAME"`` for a desc-bpz ``.res`` file, or a path to a two-column file.
    wavelength : float, optional
        Effective wavelength in Angstrom (graph network node feature, plots).
    """

    name: str
    mag: str | None = None
    mag_err: str | None = None
    flux: str | None = None
    flux_err: str | None = None
    flux_unit: str = "nJy"
    filter: str | None = None
    wavelength: float | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        """Every file column this band reads."""
        return tuple(c for c in (self.mag, self.mag_err, self.flux, self.flux_err) if c)


@dataclass(frozen=True)
class Survey:
    """A survey description: bands in wavelength order plus the roles of other columns.

    Parameters
    ----------
    name : str
        Label recorded in saved models and reports.
    bands : tuple of Band
        In increasing wavelength: colours are differences of adjacent bands, and imputation
        uses the neighbours on each side.
    id, redshift, size, ra, dec : str, optional
        Column names of those roles (``redshift`` is the spectroscopic/true redshift).
    sentinels : tuple of float
        Magnitude values that mean "not measured" (besides NaN, inf and flux <= 0).
    reference_band : str
        The band whose magnitude enters features next to colours (and defines the
        magnitude cells of the bias correction).
    mag_err_floor : float
        Minimum magnitude error, and the error used where a catalog gives none.
    mag_range : tuple of float
        Plausible magnitudes; values outside are treated as missing and counted
        (:mod:`zphot.catalog.validate`).
    max_bad_fraction : float
        Fraction of training rows with an implausible magnitude above which training refuses.
    observing : Observing, optional
        Depth, sky, PSF, pixel scale, error model and population (the TOML's ``[observing]``
        table): what ``zphot simulate`` needs; catalogs are read and fitted without it, and it
        is left out of ``==`` (surveys that map the same columns read a catalog alike, so a
        model saved without the table still accepts a catalog read with the preset).
    """

    name: str
    bands: tuple[Band, ...]
    id: str | None = None
    redshift: str | None = None
    size: str | None = None
    ra: str | None = None
    dec: str | None = None
    sentinels: tuple[float, ...] = (99.0, -99.0)
    reference_band: str = "r"
    mag_err_floor: float = 0.02
    mag_range: tuple[float, float] = DEFAULT_MAG_RANGE
    max_bad_fraction: float = DEFAULT_MAX_BAD_FRACTION
    observing: Observing | None = field(default=None, compare=False)
    extra: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def band_names(self) -> tuple[str, ...]:
        return tuple(b.name for b in self.bands)

    def band(self, name: str) -> Band:
        for b in self.bands:
            if b.name == name:
                return b
        raise KeyError(name)

    def require_observing(self) -> Observing:
        """The observing conditions, or the one-line error saying the survey needs them."""
        if self.observing is None:
            raise ParameterError(
                f"survey '{self.name}' has no [observing] table; simulating needs one "
                "(m5, sky, psf_fwhm per band and pixel_scale; see the README)"
            )
        return self.observing

    def to_dict(self) -> dict:
        """A JSON-ready description (stored in saved models and read back by :func:`from_dict`)."""
        return {
            "name": self.name,
            "bands": [{k: v for k, v in b.__dict__.items() if v is not None} for b in self.bands],
            "columns": {
                k: v
                for k in ("id", "redshift", "size", "ra", "dec")
                if (v := getattr(self, k)) is not None
            },
            "missing": {"sentinels": list(self.sentinels)},
            "reference_band": self.reference_band,
            "mag_err_floor": self.mag_err_floor,
            "validation": {
                "mag_range": list(self.mag_range),
                "max_bad_fraction": self.max_bad_fraction,
            },
        } | ({"observing": self.observing.to_dict()} if self.observing else {})
