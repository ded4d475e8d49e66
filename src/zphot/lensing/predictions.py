"""Grid PDFs from a ``zphot predict --pdf grid`` file, and per-galaxy lensing columns.

The PDF columns are named by :func:`zphot.io.columns.pdf_columns` (``pdf_000`` ...) and the grid
is in the file's provenance (:func:`zphot.io.assemble.read_provenance`: ``z_min``, ``z_max``,
``n_bins``), so every output format of ``zphot predict`` reads the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..exceptions import CatalogError
from ..pdf.grid import RedshiftGrid
from .efficiency import beta, pdf_average, sigma_crit_inv
from .selection import prob_above

__all__ = ["pdf_columns", "read_predictions", "galaxy_columns"]

_NO_PDFS = "write the predictions with zphot predict --pdf grid"


def pdf_columns(
    columns: list[str], provenance: dict[str, Any], source: str
) -> tuple[list[str], RedshiftGrid]:
    """The PDF columns (in grid order) and their grid, from the file's provenance."""
    from ..io.columns import pdf_columns as names_for

    if not all(k in provenance for k in ("z_min", "z_max", "n_bins")):
        raise CatalogError(f"{source}: no redshift grid in the file's metadata; {_NO_PDFS}")
    grid = RedshiftGrid(
        float(provenance["z_min"]), float(provenance["z_max"]), int(provenance["n_bins"])
    )
    names = names_for(grid.n_bins)
    missing = [n for n in names if n not in columns]
    if missing:
        raise CatalogError(
            f"{source}: no PDF column {missing[0]} of the {grid.n_bins}-bin grid; {_NO_PDFS}"
        )
    return names, grid


def read_predictions(path: str | Path) -> tuple[pd.DataFrame, NDArray[np.float64], RedshiftGrid]:
    """(the non-PDF columns, the (n, n_bins) probabilities, the grid) of a predictions file."""
    from ..io import read_table
    from ..io.assemble import read_provenance

    path = Path(path)
    table = read_table(path)
    names, grid = pdf_columns([str(c) for c in table.columns], read_provenance(path), str(path))
    probs = table[names].to_numpy(np.float64)
    return table.drop(columns=names), probs, grid


def galaxy_columns(
    probs: NDArray[np.float64],
    grid: RedshiftGrid,
    z_lens: float,
    dz: float = 0.1,
    cosmology: Any = "Planck18",
) -> pd.DataFrame:
    """Per galaxy: ``beta`` and ``sigma_crit_inv`` (PDF averages) and ``p_background``
    (= P(z > z_lens + dz)); β and Σcrit⁻¹ are tabulated on the grid once."""
    b = beta(z_lens, grid.centres, cosmology)
    s = sigma_crit_inv(z_lens, grid.centres, cosmology)
    return pd.DataFrame(
        {
            "beta": pdf_average(probs, b),
            "sigma_crit_inv": pdf_average(probs, s),
            "p_background": prob_above(probs, grid, z_lens + dz),
        }
    )
