"""Grid PDFs from a ``zphot predict --pdf grid`` file, and per-galaxy lensing columns.

:func:`pdf_columns` is the one place that knows how prediction files name their PDF columns
(today ``p_<bin centre>``, the grid itself in the Parquet metadata key ``zphot``); a renaming
of those columns is absorbed there.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..exceptions import CatalogError
from ..pdf.grid import RedshiftGrid
from .efficiency import beta, pdf_average, sigma_crit_inv
from .selection import prob_above

__all__ = ["PDF_PREFIXES", "pdf_columns", "read_predictions", "galaxy_columns"]

#: Column-name prefixes a bin probability may carry, followed by the bin centre.
PDF_PREFIXES = ("p_", "pdf_", "p_z_", "pz_")
_NUMBER = re.compile(r"^[-+]?\d+(\.\d*)?([eE][-+]?\d+)?$")


def pdf_columns(
    columns: list[str], meta: dict | None, source: str
) -> tuple[list[str], RedshiftGrid]:
    """The PDF columns (in grid order) and their grid, from the file's metadata or names.

    The grid is the metadata's ``grid`` when present; otherwise it is rebuilt from the bin
    centres in the names (equal bins). Raises a one-line error when no PDF column is found.
    """
    best: list[str] = []
    for prefix in PDF_PREFIXES:
        names = [c for c in columns if c.startswith(prefix) and _NUMBER.match(c[len(prefix) :])]
        if len(names) > len(best):
            best = names
    if len(best) < 2:
        raise CatalogError(
            f"{source}: no PDF columns (p_<z> ...); write the predictions with "
            "zphot predict --pdf grid"
        )
    prefix = next(p for p in PDF_PREFIXES if best[0].startswith(p))
    centres = np.array([float(c[len(prefix) :]) for c in best])
    order = np.argsort(centres)
    best, centres = [best[i] for i in order], centres[order]
    if meta and "grid" in meta:
        grid = RedshiftGrid(**meta["grid"])
    else:
        width = float(np.median(np.diff(centres)))
        grid = RedshiftGrid(centres[0] - width / 2, centres[-1] + width / 2, len(centres))
    if grid.n_bins != len(best):
        raise CatalogError(
            f"{source}: {len(best)} PDF columns but the metadata's grid has {grid.n_bins} bins"
        )
    return best, grid


def _file_meta(path: Path) -> dict | None:
    import pyarrow.parquet as pq

    raw = (pq.read_schema(path).metadata or {}).get(b"zphot")
    return json.loads(raw) if raw else None


def read_predictions(path: str | Path) -> tuple[pd.DataFrame, NDArray[np.float64], RedshiftGrid]:
    """(the non-PDF columns, the (n, n_bins) probabilities, the grid) of a predictions file."""
    from ..io import read_table

    path = Path(path)
    table = read_table(path)
    meta = _file_meta(path) if path.suffix == ".parquet" and path.is_file() else None
    names, grid = pdf_columns([str(c) for c in table.columns], meta, str(path))
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
