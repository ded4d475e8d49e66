"""Synthetic catalogs where redshift is a known function of colour, for tests and examples."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .._rng import RandomState, as_generator
from ..catalog.catalog import Catalog
from ..catalog.survey import load_survey

__all__ = ["synthetic_catalog", "synthetic_files", "SYNTHETIC_SLOPES"]

# Adjacent colours of the sdss bands rise linearly with z: colour_j = a_j + b_j * z.
SYNTHETIC_SLOPES = ((1.0, 1.5), (0.5, 2.0), (0.2, 1.0), (0.1, 0.5))


def synthetic_catalog(
    n: int = 2000,
    random_state: RandomState = 0,
    z_range: tuple[float, float] = (0.02, 0.6),
    colour_noise: float = 0.01,
    survey: str = "sdss",
) -> Catalog:
    """An SDSS-like catalog whose adjacent colours are linear in z plus Gaussian noise.

    With ``colour_noise`` mag of scatter per colour, z is recoverable to about
    ``colour_noise / 2`` (the steepest colour's slope is 2 mag per unit z), which gives the
    contract tests a known answer.
    """
    rng = as_generator(random_state)
    z = rng.uniform(*z_range, n)
    r = rng.uniform(15.0, 19.0, n)
    colours = np.column_stack(
        [a + b * z + rng.normal(0, colour_noise, n) for a, b in SYNTHETIC_SLOPES]
    )
    # u-g, g-r, r-i, i-z -> magnitudes anchored on r.
    g = r + colours[:, 1]
    u = g + colours[:, 0]
    i = r - colours[:, 2]
    zb = i - colours[:, 3]
    table = pd.DataFrame({"u": u, "g": g, "r": r, "i": i, "z": zb, "redshift": z})
    return Catalog(table, load_survey(survey), source="<synthetic>")


def synthetic_files(
    folder: str | Path, sizes: dict[str, tuple[int, int]], suffix: str = ".parquet"
) -> dict[str, Path]:
    """Write a :func:`synthetic_catalog` per name (``sizes[name] = (n, seed)``) as
    ``folder/name{suffix}`` (.parquet or .csv), for command-line tests; their paths by name."""
    paths = {}
    for name, (n, seed) in sizes.items():
        path = paths[name] = Path(folder) / f"{name}{suffix}"
        table = synthetic_catalog(n, random_state=seed).table
        table.to_csv(path, index=False) if suffix == ".csv" else table.to_parquet(path, index=False)
    return paths
