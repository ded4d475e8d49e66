"""``zphot info``: what is in a catalog, or in a qp Ensemble file of PDFs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.table import Table

from ...io.formats import is_qp_file
from ..console import command, out
from ..options import Preset, Select, SurveyFile, open_catalog


@command
def info(
    catalog: Annotated[
        str, typer.Option(help="Catalog (any format, or builtin:NAME), or a qp Ensemble file.")
    ],
    preset: Preset = None,
    survey: SurveyFile = None,
    select: Select = None,
) -> None:
    """Rows, bands, missing fractions and the redshift range of a catalog.

    For a qp Ensemble HDF5 file (zphot predict --qp, RAIL, qp): the PDFs' parameterization,
    count and grid, and its ancil columns.
    Example: zphot info --catalog ../shared/data/sdss_galaxy_colors.npy --preset sdss
    """
    if is_qp_file(Path(catalog)):
        _qp_info(Path(catalog))
        return
    cat = open_catalog(catalog, preset, survey, select)
    out.print(f"[bold]{cat.source}[/]  survey [cyan]{cat.survey.name}[/]")
    out.print(f"rows: {len(cat):,}")
    out.print(f"bands: {len(cat.bands)} ({' '.join(cat.bands)})")
    table = Table("band", "column", "missing", "min", "median", "max")
    missing = cat.missing_fraction()
    for j, band in enumerate(cat.survey.bands):
        m = cat.mags[:, j]
        ok = m[np.isfinite(m)]
        stats = [f"{v:.2f}" for v in (ok.min(), np.median(ok), ok.max())] if len(ok) else ["-"] * 3
        table.add_row(band.name, band.mag or band.flux, f"{missing[band.name]:.2%}", *stats)
    out.print(table)
    z = cat.z
    if z is not None:
        ok = z[np.isfinite(z)]
        out.print(
            f"redshift ({cat.survey.redshift}): {len(ok):,} values, "
            f"range {ok.min():.4f} .. {ok.max():.4f}, median {np.median(ok):.4f}"
        )
    else:
        out.print("redshift: none")
    if cat.size is not None:
        out.print(f"size column: {cat.survey.size}")
    used = {c for b in cat.survey.bands for c in b.columns} | {
        getattr(cat.survey, r) for r in ("id", "redshift", "size", "ra", "dec")
    }
    others = [c for c in cat.table.columns if c not in used]
    out.print(f"other columns: {', '.join(map(str, others)) or 'none'}")


def _qp_info(path: Path) -> None:
    from ...pdf.qp import read_qp
    from .evaluate import qp_grid

    batch, ancil = read_qp(path, qp_grid(path))
    grid = batch.grid
    out.print(f"[bold]{path}[/]  qp Ensemble")
    out.print(f"PDFs: {len(batch):,} on {grid.n_bins} bins, z {grid.z_min:g} .. {grid.z_max:g}")
    table = Table("ancil column", "type", "min", "median", "max")
    for name, values in ancil.items():
        values = np.asarray(values)
        ok = values[np.isfinite(values)] if values.dtype.kind == "f" else values
        numeric = values.dtype.kind in "fiu" and len(ok)
        stats = [f"{v:.4g}" for v in (ok.min(), np.median(ok), ok.max())] if numeric else ["-"] * 3
        table.add_row(name, str(values.dtype), *stats)
    out.print(table if ancil else "ancil columns: none")
