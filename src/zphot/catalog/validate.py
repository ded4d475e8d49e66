"""Physical validation of photometry: what counts as a magnitude, and what is implausible.

A catalog value is used as a magnitude only if its column is numeric (not boolean, date or
text) and the value is plausible: not an undeclared "not measured" code that surveys commonly
use (-666 in 2SLAQ, -999, 99.99, 1e30...), and inside the survey's magnitude range (5 to 40 AB
by default, ``[validation] mag_range`` in its TOML). Implausible values become missing (NaN)
and are counted per band, so a reader can say in one line what was set aside; ``zphot train``
refuses a catalog where more than ``max_bad_fraction`` of the rows hold one (or drops those rows
when asked), because a model fitted on them answers silently wrong.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..exceptions import CatalogError
from .bands import DEFAULT_MAG_RANGE, DEFAULT_MAX_BAD_FRACTION

if TYPE_CHECKING:
    from .catalog import Catalog

__all__ = [
    "report_screening",
    "COMMON_SENTINELS",
    "DEFAULT_MAG_RANGE",
    "DEFAULT_MAX_BAD_FRACTION",
    "Screening",
    "Z_RANGE",
    "check_training_rows",
    "numeric_column",
    "screen_magnitudes",
]

logger = logging.getLogger(__name__)

#: "Not measured" codes found in public catalogs. Declared sentinels (``[missing] sentinels``)
#: are silent; these are treated as missing too but counted, since a survey that did not
#: declare them may not mean them.
COMMON_SENTINELS = (-99.0, 99.0, -999.0, 999.0, -9999.0, 9999.0, -666.0, 99.99, -99.99)
#: Redshifts a galaxy can have; outside it a value is a code such as -99 (evaluate skips it).
Z_RANGE = (-0.1, 20.0)


def _kind(series: pd.Series) -> str | None:
    """The name of a column type that is never a magnitude or flux, else None."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_datetime64_any_dtype(dtype) or isinstance(dtype, pd.PeriodDtype):
        return "date/time"
    if pd.api.types.is_timedelta64_dtype(dtype):
        return "time-interval"
    if pd.api.types.is_complex_dtype(dtype):
        return "complex"
    if pd.api.types.is_object_dtype(dtype) and len(series):
        first = series.dropna()
        if len(first) and isinstance(first.iloc[0], bool | np.bool_):
            return "boolean"
    return None


def numeric_column(table: pd.DataFrame, column: str, source: str) -> NDArray[np.float64]:
    """A table column as float64, or a one-line error naming the column and a bad row.

    Boolean, date/time and text columns are refused: pandas would read ``True`` as 1 and a
    date as nanoseconds since 1970, both silently wrong as magnitudes.
    """
    series = table[column]
    if isinstance(series, pd.DataFrame):
        raise CatalogError(f"{source}: column '{column}' appears more than once")
    kind = _kind(series)
    if kind is not None:
        raise CatalogError(
            f"{source}: column '{column}' holds {kind} values, not numbers; "
            "map a numeric column with --survey FILE"
        )
    values = pd.to_numeric(series, errors="coerce")
    bad = values.isna().to_numpy() & series.notna().to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise CatalogError(
            f"{source}: column '{column}' is not numeric (row {row}: {series.iloc[row]!r}); "
            "map a numeric column with --survey FILE"
        )
    return values.to_numpy(np.float64, na_value=np.nan)


@dataclass
class Screening:
    """What validation set aside, per band: undeclared sentinels and out-of-range values.

    ``bad_rows`` marks rows holding at least one of them (the rows ``train`` counts).
    """

    bands: tuple[str, ...]
    sentinel: dict[str, dict[float, int]] = field(default_factory=dict)
    out_of_range: dict[str, int] = field(default_factory=dict)
    bad_rows: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=bool))
    mag_range: tuple[float, float] = DEFAULT_MAG_RANGE

    @property
    def n_bad_rows(self) -> int:
        return int(self.bad_rows.sum())

    def take(self, rows: NDArray) -> Screening:
        """The screening of a subset of rows (the per-band counts stay those of the file)."""
        return Screening(
            self.bands, self.sentinel, self.out_of_range, self.bad_rows[rows], self.mag_range
        )

    def add(self, other: Screening) -> None:
        """Add another chunk's counts (streamed prediction reports the whole file once)."""
        for band, codes in other.sentinel.items():
            mine = self.sentinel.setdefault(band, {})
            for code, n in codes.items():
                mine[code] = mine.get(code, 0) + n
        for band, n in other.out_of_range.items():
            self.out_of_range[band] = self.out_of_range.get(band, 0) + n
        self.bad_rows = np.concatenate([self.bad_rows, other.bad_rows])

    @property
    def n_values(self) -> int:
        """Values set aside, all bands together."""
        return sum(self.out_of_range.values()) + sum(
            n for codes in self.sentinel.values() for n in codes.values()
        )

    def describe(self) -> str:
        """One line: per band, how many values were set aside and why; '' if none."""
        parts = []
        lo, hi = self.mag_range
        for band in self.bands:
            why = [f"{n} x {s:g}" for s, n in sorted(self.sentinel.get(band, {}).items())]
            if self.out_of_range.get(band):
                why.append(f"{self.out_of_range[band]} outside [{lo:g}, {hi:g}]")
            if why:
                parts.append(f"{band}: {', '.join(why)}")
        return "; ".join(parts)


def report_screening(source: object, screening: Screening) -> None:
    """One warning line: how many values were set aside as missing, per band, and why."""
    if screening.n_bad_rows:
        logger.warning(
            "%s: %d value(s) treated as missing (%s); declare sentinels or [validation] "
            "mag_range in a survey TOML if they are meant",
            source,
            screening.n_values,
            screening.describe(),
        )


def screen_magnitudes(
    mags: NDArray[np.float64],
    bands: tuple[str, ...],
    declared: tuple[float, ...],
    mag_range: tuple[float, float] = DEFAULT_MAG_RANGE,
    from_flux: tuple[bool, ...] = (),
) -> tuple[NDArray[np.float64], Screening]:
    """Set undeclared common sentinels and out-of-range magnitudes to NaN, counting them.

    ``mags`` (n, n_bands) already has NaN for non-finite values and declared sentinels.
    Bands converted from fluxes (``from_flux``) are only range-checked: a flux code (-999) is
    already NaN as a non-positive flux, and 99.99 nJy is a real faint galaxy.
    """
    out = np.array(mags, dtype=np.float64)
    screening = Screening(bands, mag_range=tuple(mag_range))
    bad_rows = np.zeros(len(out), dtype=bool)
    lo, hi = mag_range
    for j, band in enumerate(bands):
        col = out[:, j]
        for s in () if j < len(from_flux) and from_flux[j] else COMMON_SENTINELS:
            if s in declared:
                continue
            hit = col == s
            if hit.any():
                screening.sentinel.setdefault(band, {})[s] = int(hit.sum())
                bad_rows |= hit
                col[hit] = np.nan
        with np.errstate(invalid="ignore"):
            far = ((col < lo) | (col > hi)) & ~np.isin(col, declared)
        if far.any():
            screening.out_of_range[band] = int(far.sum())
            bad_rows |= far
            col[far] = np.nan
    screening.bad_rows = bad_rows
    return out, screening


def check_training_rows(cat: Catalog, drop: bool = False) -> Catalog:
    """The catalog to train on: refuse (or, with ``drop``, remove) rows with implausible inputs.

    Up to the survey's ``max_bad_fraction`` of rows may hold an implausible value (then it is
    simply missing, as the reader reported); beyond it a model would learn from corrupted
    photometry, so training stops with a one-line count unless the caller asked to drop them.
    """
    screening = cat.screening
    n_bad, n = screening.n_bad_rows, len(cat)
    if n_bad == 0:
        return cat
    if drop:
        logger.warning(
            "%s: dropped %d of %d training rows with implausible magnitudes", cat.source, n_bad, n
        )
        kept = cat.take(~screening.bad_rows)
        if len(kept) == 0:
            raise CatalogError(f"{cat.source}: every training row has an implausible magnitude")
        return kept
    limit = cat.survey.max_bad_fraction
    if n_bad > limit * n:
        raise CatalogError(
            f"{cat.source}: {n_bad} of {n} training rows ({n_bad / n:.1%}, more than "
            f"{limit:.1%}) have implausible magnitudes ({screening.describe()}); fix or declare "
            "them ([missing] sentinels, [validation] mag_range) or pass --drop-bad-rows"
        )
    return cat
