"""Crossmatch a photometric catalog with a spec-z catalog by sky position (astropy SkyCoord)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..exceptions import CatalogError, MissingColumnError

if TYPE_CHECKING:
    import pandas as pd
    from astropy.coordinates import SkyCoord

__all__ = ["CrossmatchReport", "crossmatch"]


@dataclass(frozen=True)
class CrossmatchReport:
    """Counts of a crossmatch: matched pairs and what stayed unmatched on each side."""

    n_phot: int
    n_spec: int
    n_matched: int
    n_unmatched_phot: int
    n_unmatched_spec: int
    n_duplicates_dropped: int


def _coords(table: pd.DataFrame, ra: str, dec: str, name: str) -> SkyCoord:
    # astropy.coordinates is imported here, not with the package, so `import zphot.catalog` stays
    # light (the package binds this module's crossmatch eagerly; see catalog/__init__.py).
    from astropy import units as u
    from astropy.coordinates import SkyCoord

    for col in (ra, dec):
        if col not in table.columns:
            raise MissingColumnError(name, col, list(map(str, table.columns)))
    ra_v, dec_v = table[ra].to_numpy(float), table[dec].to_numpy(float)
    if not (np.isfinite(ra_v).all() and np.isfinite(dec_v).all()):
        raise CatalogError(f"{name}: non-finite {ra}/{dec} values")
    return SkyCoord(ra=ra_v * u.deg, dec=dec_v * u.deg)


def crossmatch(
    phot: pd.DataFrame,
    spec: pd.DataFrame,
    radius_arcsec: float = 1.0,
    phot_radec: tuple[str, str] = ("ra", "dec"),
    spec_radec: tuple[str, str] = ("ra", "dec"),
    suffix: str = "_spec",
) -> tuple[pd.DataFrame, CrossmatchReport]:
    """Attach to each photometric row its nearest spectroscopic object within a radius.

    Each spectroscopic object is used at most once: when several photometric rows share one,
    only the nearest keeps it.

    Returns
    -------
    matched : pandas.DataFrame
        Matched photometric rows, the spec columns appended (``suffix`` on name clashes) and
        ``sep_arcsec``.
    report : CrossmatchReport
    """
    import pandas as pd
    from astropy import units as u

    if radius_arcsec <= 0:
        raise CatalogError(f"crossmatch radius must be > 0 arcsec, got {radius_arcsec}")
    c_phot = _coords(phot, *phot_radec, name="photometric catalog")
    c_spec = _coords(spec, *spec_radec, name="spec-z catalog")
    idx, sep, _ = c_phot.match_to_catalog_sky(c_spec)
    sep_arcsec = sep.to_value(u.arcsec)
    within = sep_arcsec <= radius_arcsec
    order = np.lexsort((sep_arcsec, idx))  # by spec index, nearest first
    first = np.zeros(len(idx), dtype=bool)
    sorted_idx = idx[order]
    first[order] = np.concatenate([[True], sorted_idx[1:] != sorted_idx[:-1]])
    keep = within & first
    rows = np.flatnonzero(keep)
    left = phot.iloc[rows].reset_index(drop=True)
    right = spec.iloc[idx[rows]].reset_index(drop=True)
    right.columns = [c + suffix if c in left.columns else c for c in right.columns]
    matched = pd.concat([left, right], axis=1)
    matched["sep_arcsec"] = sep_arcsec[rows]
    report = CrossmatchReport(
        n_phot=len(phot),
        n_spec=len(spec),
        n_matched=len(rows),
        n_unmatched_phot=len(phot) - len(rows),
        n_unmatched_spec=len(spec) - len(rows),
        n_duplicates_dropped=int((within & ~first).sum()),
    )
    return matched, report
