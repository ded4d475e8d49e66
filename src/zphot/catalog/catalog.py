"""The :class:`Catalog`: a table plus its survey description, with magnitudes made clean once.

pandas was chosen as the table type because every reader (pyarrow, astropy, h5py, numpy)
converts to it directly, users already know it, and pass-through columns (ids, classes) keep
their dtypes; the numeric core (magnitudes, errors) is held as float64 arrays beside it so
estimators work on arrays.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..exceptions import CatalogError, InputTypeError, MissingBandError, MissingColumnError
from .bands import Survey
from .photometry import clean_magnitudes, flux_err_to_mag_err, flux_to_mag
from .validate import numeric_column, screen_magnitudes

__all__ = ["Catalog", "nothing_measured", "require_measured"]

logger = logging.getLogger(__name__)


class Catalog:
    """A photometric catalog: magnitudes per band (NaN = missing) and the roles of columns.

    Parameters
    ----------
    table : pandas.DataFrame
        The file's columns, carried through untouched.
    survey : Survey
        Which columns hold which band and role.
    source : str
        Where the table came from, used in every error message.

    Attributes
    ----------
    mags : ndarray, shape (n, n_bands)
        AB magnitudes in survey band order; NaN where not measured.
    mag_errs : ndarray, shape (n, n_bands)
        Magnitude errors; NaN where not given or not measured.
    screening : Screening
        Values set aside as implausible (undeclared sentinels, outside the survey's
        ``mag_range``), counted per band, and the rows holding them
        (:mod:`zphot.catalog.validate`).
    """

    def __init__(self, table: pd.DataFrame, survey: Survey, source: str = "<table>") -> None:
        if not isinstance(table, pd.DataFrame):
            raise InputTypeError(
                f"Catalog(table, survey) takes a pandas DataFrame, got {type(table).__name__}; "
                "zphot.read_catalog(obj, survey) takes astropy Tables, arrays and files"
            )
        self.table = table.reset_index(drop=True)
        self.survey = survey
        self.source = source
        have = list(map(str, table.columns))
        for role in ("id", "redshift", "size", "ra", "dec"):
            col = getattr(survey, role)
            if col is not None and col not in table.columns and role != "redshift":
                raise MissingColumnError(source, col, have, f"it is the survey's '{role}' column")
        n = len(table)
        mags = np.empty((n, len(survey.bands)))
        self.mag_errs = np.full((n, len(survey.bands)), np.nan)
        for j, band in enumerate(survey.bands):
            for col in band.columns:
                if col not in table.columns:
                    raise MissingColumnError(
                        source, col, have, f"band '{band.name}' reads it; map it with --survey FILE"
                    )
            if band.mag:
                mags[:, j] = clean_magnitudes(self._numeric(band.mag), survey.sentinels)
                if band.mag_err:
                    err = clean_magnitudes(self._numeric(band.mag_err), survey.sentinels)
                    self.mag_errs[:, j] = np.where(err > 0, err, np.nan)
            else:
                flux = self._numeric(band.flux)
                mags[:, j] = flux_to_mag(flux, band.flux_unit)
                if band.flux_err:
                    self.mag_errs[:, j] = flux_err_to_mag_err(flux, self._numeric(band.flux_err))
        self.mags, self.screening = screen_magnitudes(
            mags,
            survey.band_names,
            survey.sentinels,
            survey.mag_range,
            from_flux=tuple(not b.mag for b in survey.bands),
        )
        self.mag_errs[np.isnan(self.mags)] = np.nan

    def _numeric(self, column: str) -> NDArray[np.float64]:
        return numeric_column(self.table, column, self.source)

    # --- roles ---------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.table)

    def __repr__(self) -> str:
        return f"<Catalog {self.source!r}: {len(self)} rows, bands {''.join(self.bands)}>"

    @property
    def bands(self) -> tuple[str, ...]:
        return self.survey.band_names

    def _role(self, role: str) -> NDArray | None:
        col = getattr(self.survey, role)
        if col is None or col not in self.table.columns:
            return None
        return self.table[col].to_numpy()

    @property
    def z(self) -> NDArray[np.float64] | None:
        """Spectroscopic (or true) redshift, if the catalog has one."""
        col = self.survey.redshift
        if col is None or col not in self.table.columns:
            return None
        return clean_magnitudes(self._numeric(col), self.survey.sentinels)

    def require_z(self) -> NDArray[np.float64]:
        """The redshift column, or a clear error naming it (training needs it)."""
        z = self.z
        if z is None:
            col = self.survey.redshift or "(none mapped)"
            raise MissingColumnError(
                self.source, col, list(map(str, self.table.columns)), "training needs redshifts"
            )
        if np.isnan(z).any():
            bad = np.flatnonzero(np.isnan(z))
            raise CatalogError(
                f"{self.source}: column '{self.survey.redshift}' has {len(bad)} missing "
                f"value(s), first at row {bad[0]}; apply a redshift cut first"
            )
        return z

    @property
    def size(self) -> NDArray[np.float64] | None:
        col = self.survey.size
        if col is None or col not in self.table.columns:
            return None
        return clean_magnitudes(self._numeric(col), self.survey.sentinels)

    @property
    def ids(self) -> NDArray | None:
        return self._role("id")

    @property
    def ra(self) -> NDArray | None:
        return self._role("ra")

    @property
    def dec(self) -> NDArray | None:
        return self._role("dec")

    # --- bands by name -------------------------------------------------------------------

    def _band_index(self, bands: Sequence[str] | None) -> list[int]:
        if bands is None:
            return list(range(len(self.bands)))
        idx = []
        for b in bands:
            if b not in self.bands:
                raise MissingBandError(b, self.source, list(self.bands))
            idx.append(self.bands.index(b))
        return idx

    def magnitudes(self, bands: Sequence[str] | None = None) -> NDArray[np.float64]:
        """Magnitudes of ``bands`` in that order (matched by name), NaN where missing."""
        return self.mags[:, self._band_index(bands)]

    def errors(self, bands: Sequence[str] | None = None) -> NDArray[np.float64]:
        """Magnitude errors of ``bands``, floored at the survey's ``mag_err_floor``."""
        err = self.mag_errs[:, self._band_index(bands)]
        floor = self.survey.mag_err_floor
        return np.where(np.isnan(err), floor, np.maximum(err, floor))

    def missing_fraction(self) -> dict[str, float]:
        """Fraction of rows without a measurement, per band."""
        if len(self) == 0:
            return {b: 0.0 for b in self.bands}
        return dict(zip(self.bands, np.isnan(self.mags).mean(axis=0).tolist(), strict=True))

    # --- new catalogs --------------------------------------------------------------------

    def take(self, rows: NDArray) -> Catalog:
        """A new catalog holding ``rows`` (integer indices or a boolean mask)."""
        rows = np.asarray(rows)
        if rows.dtype == bool:
            rows = np.flatnonzero(rows)
        new = object.__new__(Catalog)
        new.table = self.table.iloc[rows].reset_index(drop=True)
        new.survey, new.source = self.survey, self.source
        new.mags, new.mag_errs = self.mags[rows], self.mag_errs[rows]
        new.screening = self.screening.take(rows)
        return new

    def with_magnitudes(self, mags: NDArray[np.float64]) -> Catalog:
        """A copy with the magnitude array replaced (e.g. after imputation)."""
        if mags.shape != self.mags.shape:
            raise ValueError(f"magnitudes shape {mags.shape} != {self.mags.shape}")
        new = self.take(np.arange(len(self)))
        new.mags = np.array(mags, dtype=np.float64)
        return new


def require_measured(cat: Catalog) -> None:
    """A one-line error if no row has any usable magnitude (every prediction would be a guess)."""
    if len(cat) and np.isnan(cat.mags).all():
        raise nothing_measured(cat.source, cat.survey)


def nothing_measured(source: object, survey: Survey) -> CatalogError:
    """The error for a catalog with no measured magnitude in any row, naming its band columns."""
    cols = ", ".join(c for b in survey.bands for c in (b.mag or b.flux,))
    return CatalogError(f"{source}: no measured magnitude in any row (columns {cols})")
