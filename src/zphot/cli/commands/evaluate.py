"""``zphot evaluate``: the metrics table of a predictions file."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.table import Table

from ...catalog.validate import Z_RANGE, numeric_column
from ...exceptions import CatalogError, MissingColumnError, ParameterError
from ...io import read_table
from ...metrics import point_metrics
from ..console import command, out

logger = logging.getLogger(__name__)


@command
def evaluate(
    predictions: Path,
    z_phot: Annotated[str, typer.Option(help="Column of the estimates.")] = "z_phot",
    z_spec: Annotated[str, typer.Option(help="Column of the true redshifts.")] = "z_spec",
    outlier: Annotated[float, typer.Option(help="Outlier threshold on |dz| besides 0.15.")] = 0.05,
) -> None:
    """Metrics (MSE, R², bias, sigma_NMAD, outlier fractions) from a file with z_phot and z_spec.

    Example: zphot evaluate predictions.parquet --z-spec redshift
    """
    if not (np.isfinite(outlier) and outlier > 0):
        raise ParameterError(f"--outlier must be a positive |dz| threshold, got {outlier}")
    table = read_table(predictions)
    for col in (z_phot, z_spec):
        if col not in table.columns:
            raise MissingColumnError(str(predictions), col, list(map(str, table.columns)))
    source = str(predictions)
    zp = numeric_column(table, z_phot, source)
    zs = numeric_column(table, z_spec, source)
    finite = np.isfinite(zp) & np.isfinite(zs)
    lo, hi = Z_RANGE
    with np.errstate(invalid="ignore"):
        ok = finite & (zs >= lo) & (zs <= hi) & (zp >= lo) & (zp <= hi)
    if (finite & ~ok).any():
        logger.warning(
            "%s: %d row(s) not scored: %s or %s outside [%g, %g] (sentinels such as -99)",
            predictions,
            int((finite & ~ok).sum()),
            z_spec,
            z_phot,
            lo,
            hi,
        )
    if not ok.any():
        raise CatalogError(f"{predictions}: no row with both {z_phot} and {z_spec} usable")
    metrics = point_metrics(zp[ok], zs[ok], outlier_threshold=outlier)
    result = Table("metric", "value", title=f"{predictions} ({ok.sum():,} of {len(table):,} rows)")
    for key, value in metrics.items():
        result.add_row(key, f"{value:,}" if key == "n" else f"{value:.5f}")
    out.print(result)
