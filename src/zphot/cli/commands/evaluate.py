"""``zphot evaluate``: the metrics table of a predictions file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.table import Table

from ...exceptions import CatalogError, MissingColumnError
from ...io import read_table
from ...metrics import full_range_residuals, point_metrics
from ..console import command, out


@command
def evaluate(
    predictions: Path,
    z_phot: Annotated[str, typer.Option(help="Column of the estimates.")] = "z_phot",
    z_spec: Annotated[str, typer.Option(help="Column of the true redshifts.")] = "z_spec",
    outlier: Annotated[float, typer.Option(help="Outlier threshold on |dz| besides 0.15.")] = 0.05,
) -> None:
    """Metrics (MSE, R², bias, sigma_NMAD, outlier fractions) from a file with z_phot and z_spec,
    and the largest |mean dz| over 20 equal-count bins of z_spec and of z_phot (the whole range).

    Example: zphot evaluate predictions.parquet --z-spec redshift
    """
    table = read_table(predictions)
    for col in (z_phot, z_spec):
        if col not in table.columns:
            raise MissingColumnError(str(predictions), col, list(map(str, table.columns)))
    zp = table[z_phot].to_numpy(np.float64)
    zs = table[z_spec].to_numpy(np.float64)
    ok = np.isfinite(zp) & np.isfinite(zs)
    if not ok.any():
        raise CatalogError(f"{predictions}: no row with both {z_phot} and {z_spec} finite")
    metrics = point_metrics(zp[ok], zs[ok], outlier_threshold=outlier)
    if ok.sum() >= 2:
        full = full_range_residuals(zp[ok], zs[ok])
        metrics |= {k: full[k] for k in ("max_dz_zspec", "max_dz_zphot", "slope_zspec")}
    result = Table("metric", "value", title=f"{predictions} ({ok.sum():,} of {len(table):,} rows)")
    for key, value in metrics.items():
        result.add_row(key, f"{value:,}" if key == "n" else f"{value:.5f}")
    out.print(result)
