"""Quality cuts that return new catalogs: redshift range, magnitude limits, column selection."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..exceptions import CatalogError, MissingColumnError
from .catalog import Catalog

__all__ = ["redshift_range", "magnitude_limits", "select", "drop_incomplete"]


def redshift_range(cat: Catalog, z_min: float = 0.0, z_max: float = 2.0) -> Catalog:
    """Keep rows with ``z_min <= z <= z_max`` (the first users cut at z = 2)."""
    z = cat.z
    if z is None:
        raise CatalogError(f"{cat.source}: no redshift column to cut on")
    with np.errstate(invalid="ignore"):
        return cat.take((z >= z_min) & (z <= z_max))


def magnitude_limits(cat: Catalog, limits: Mapping[str, tuple[float, float]]) -> Catalog:
    """Keep rows whose magnitude in each named band lies in ``(bright, faint)``.

    Rows with the band missing are kept: a cut is about measured values, imputation handles
    the rest.
    """
    keep = np.ones(len(cat), dtype=bool)
    for band, (bright, faint) in limits.items():
        m = cat.magnitudes([band])[:, 0]
        with np.errstate(invalid="ignore"):
            keep &= np.isnan(m) | ((m >= bright) & (m <= faint))
    return cat.take(keep)


def select(cat: Catalog, column: str, value: str) -> Catalog:
    """Keep rows where ``column`` equals ``value`` (compared as text, e.g. spec_class=GALAXY)."""
    if column not in cat.table.columns:
        raise MissingColumnError(cat.source, column, list(map(str, cat.table.columns)))
    keep = cat.table[column].astype(str).str.strip().to_numpy() == str(value)
    if not keep.any():
        seen = sorted(map(str, cat.table[column].astype(str).unique()[:10]))
        raise CatalogError(f"{cat.source}: no row has {column} == {value!r} (values: {seen})")
    return cat.take(keep)


def drop_incomplete(cat: Catalog) -> Catalog:
    """Drop rows with any band missing (the alternative to imputation)."""
    return cat.take(~np.isnan(cat.mags).any(axis=1))
