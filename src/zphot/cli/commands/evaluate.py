"""``zphot evaluate``: the metrics table of a predictions file or a qp Ensemble file."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import numpy as np
import pandas as pd
import typer
from numpy.typing import NDArray
from rich.table import Table

from ...catalog.validate import Z_RANGE, numeric_column
from ...exceptions import CatalogError, MissingColumnError, ParameterError
from ...io import read_table
from ...io.formats import is_qp_file
from ...metrics import full_range_residuals, pdf_metrics, point_metrics
from ..console import command, out

if TYPE_CHECKING:
    from ...pdf.batch import PDFBatch
    from ...pdf.grid import RedshiftGrid

#: Where the true redshift is looked for when --z-spec is not given (zphot's, RAIL's names).
TRUTH_COLUMNS = ("z_spec", "redshift", "z_true", "specz", "zspec")

logger = logging.getLogger(__name__)


@command
def evaluate(
    predictions: Annotated[
        Path,
        typer.Option(help="Predictions table (zphot predict, any format) or qp Ensemble file."),
    ],
    z_phot: Annotated[
        str | None,
        typer.Option(
            help="Column of the estimates [default: z_phot; in a qp file zmode, else the "
            "PDFs' mode]."
        ),
    ] = None,
    z_spec: Annotated[
        str | None,
        typer.Option(
            help=f"Column of the true redshifts [default: the first of {', '.join(TRUTH_COLUMNS)}]."
        ),
    ] = None,
    truth: Annotated[
        Path | None,
        typer.Option(help="Catalog with the true redshifts, matched by row order or --id-column."),
    ] = None,
    id_column: Annotated[
        str | None,
        typer.Option("--id-column", help="Column matching --truth rows to the predictions."),
    ] = None,
    grid: Annotated[
        str | None,
        typer.Option(
            help="ZMIN,ZMAX,NBINS: grid to score qp PDFs on that are not equal-width hist "
            "[default: the file's own bins or points]."
        ),
    ] = None,
    outlier: Annotated[float, typer.Option(help="Outlier threshold on |dz| besides 0.15.")] = 0.05,
) -> None:
    """Metrics (MSE, R², bias, sigma_NMAD, outlier fractions; PIT, CRPS, HDI coverage for PDFs),
    and the largest |mean dz| over 20 equal-count bins of z_spec and of z_phot (the whole range).

    --predictions is a table from zphot predict (any format) or a qp Ensemble HDF5 file (zphot
    predict --qp, RAIL, qp's own writer), whose true redshifts are an ancil column or come from
    --truth.
    Example: zphot evaluate --predictions predictions.parquet --z-spec redshift
    """
    if not (np.isfinite(outlier) and outlier > 0):
        raise ParameterError(f"--outlier must be a positive |dz| threshold, got {outlier}")
    if is_qp_file(predictions):
        table, batch = _read_qp(predictions, grid)
    else:
        table = read_table(predictions)
        batch = _grid_pdfs(table, predictions)
    zs = _truth(table, predictions, z_spec, truth, id_column)
    zp = _estimates(table, predictions, z_phot, batch)
    ok = _scorable(zp, zs, predictions)
    metrics = point_metrics(zp[ok], zs[ok], outlier_threshold=outlier)
    if ok.sum() >= 2:
        full = full_range_residuals(zp[ok], zs[ok])
        metrics |= {k: full[k] for k in ("max_dz_zspec", "max_dz_zphot", "slope_zspec")}
    if batch is not None:
        metrics |= pdf_metrics(batch.probs[ok], batch.grid.edges, zs[ok])
    result = Table("metric", "value", title=f"{predictions} ({ok.sum():,} of {len(table):,} rows)")
    for key, value in metrics.items():
        result.add_row(key, f"{value:,}" if key == "n" else f"{value:.5f}")
    out.print(result)


def _read_qp(path: Path, grid: str | None) -> tuple[pd.DataFrame, PDFBatch]:
    """A qp file's ancil columns as a table, and its PDFs on a zphot grid."""
    from ...pdf.qp import read_qp

    batch, ancil = read_qp(path, parse_grid(grid) if grid else qp_grid(path))
    return pd.DataFrame({k: v for k, v in ancil.items() if np.ndim(v) == 1}), batch


def _grid_pdfs(table: pd.DataFrame, path: Path) -> PDFBatch | None:
    """The PDFs of a predictions file written with --pdf grid (columns pdf_000...), on the grid
    its metadata records; None for a file without them."""
    from ...io.assemble import read_provenance
    from ...io.columns import pdf_columns
    from ...pdf.batch import PDFBatch
    from ...pdf.grid import RedshiftGrid

    if "pdf_000" not in table.columns:
        return None
    meta = read_provenance(path)
    if not {"z_min", "z_max", "n_bins"} <= set(meta):
        return None  # a plain CSV: the grid is not in the file
    grid = RedshiftGrid(float(meta["z_min"]), float(meta["z_max"]), int(meta["n_bins"]))
    names = pdf_columns(grid.n_bins)
    missing = [c for c in names if c not in table.columns]
    if missing:
        raise MissingColumnError(str(path), missing[0], list(map(str, table.columns)))
    return PDFBatch.normalised(table[names].to_numpy(np.float64), grid)


def parse_grid(text: str) -> RedshiftGrid:
    """``ZMIN,ZMAX,NBINS`` as a RedshiftGrid."""
    from ...pdf.grid import RedshiftGrid

    try:
        z_min, z_max, n_bins = text.split(",")
        return RedshiftGrid(float(z_min), float(z_max), int(n_bins))
    except ValueError as exc:
        raise ParameterError(f"--grid needs ZMIN,ZMAX,NBINS, e.g. 0,3,300; got {text!r}") from exc


def qp_grid(path: Path) -> RedshiftGrid | None:
    """The grid of a qp file's own bins (hist) or points (interp), None for an equal-width hist
    (read exactly as it is) or a parameterization without either."""
    import h5py

    from ...pdf.grid import RedshiftGrid

    with h5py.File(path, "r") as fh:
        meta = fh["meta"]
        name = meta["pdf_name"][0].decode() if "pdf_name" in meta else ""
        key = {"hist": "bins", "interp": "xvals"}.get(name)
        if key is None or key not in meta:
            if name != "hist":
                raise ParameterError(
                    f"{path}: qp '{name}' PDFs have no bins of their own; pass --grid "
                    "ZMIN,ZMAX,NBINS to score them"
                )
            return None
        x = np.ravel(meta[key][()])
    if name == "hist" and np.allclose(np.diff(x), x[1] - x[0]):
        return None
    return RedshiftGrid(float(x[0]), float(x[-1]), len(x) - 1)


def _scorable(zp: NDArray[np.float64], zs: NDArray[np.float64], path: Path) -> NDArray[np.bool_]:
    """Rows with both redshifts finite and inside the plausible range; the others (sentinels
    such as -99) are counted in one warning, and no usable row at all is an error."""
    finite = np.isfinite(zp) & np.isfinite(zs)
    lo, hi = Z_RANGE
    with np.errstate(invalid="ignore"):
        ok = finite & (zs >= lo) & (zs <= hi) & (zp >= lo) & (zp <= hi)
    if (finite & ~ok).any():
        logger.warning(
            "%s: %d row(s) not scored: a redshift or estimate outside [%g, %g] (sentinels such "
            "as -99)",
            path,
            int((finite & ~ok).sum()),
            lo,
            hi,
        )
    if not ok.any():
        raise CatalogError(f"{path}: no row with both an estimate and a true redshift usable")
    return ok


def _truth(
    table: pd.DataFrame,
    path: Path,
    column: str | None,
    truth: Path | None,
    id_column: str | None,
) -> NDArray[np.float64]:
    """True redshifts of the prediction rows: a column of the file, or of --truth."""
    source, where = (table, str(path)) if truth is None else (read_table(truth), str(truth))
    names = [column] if column else list(TRUTH_COLUMNS)
    found = next((c for c in names if c in source.columns), None)
    if found is None:
        hint = "pass --z-spec COLUMN" + ("" if truth else " or --truth CATALOG")
        raise MissingColumnError(where, " or ".join(names), list(map(str, source.columns)), hint)
    values = numeric_column(source, found, where)
    if truth is None:
        return values
    if id_column is None:
        if len(source) != len(table):
            raise CatalogError(
                f"{truth}: {len(source):,} rows for {len(table):,} predictions; match them "
                "with --id-column COLUMN"
            )
        return values
    for frame, name in ((table, str(path)), (source, str(truth))):
        if id_column not in frame.columns:
            raise MissingColumnError(name, id_column, list(map(str, frame.columns)))
    z = pd.Series(values, index=source[id_column]).groupby(level=0).first()
    return z.reindex(table[id_column].to_numpy()).to_numpy(np.float64)


def _estimates(
    table: pd.DataFrame, path: Path, column: str | None, batch: PDFBatch | None
) -> NDArray[np.float64]:
    """The point estimates: the named column, zmode of a qp file, or the PDFs' mode."""
    if column is None and batch is not None:
        if "zmode" in table.columns:
            return numeric_column(table, "zmode", str(path))
        return batch.point("mode")
    column = column or "z_phot"
    if column not in table.columns:
        raise MissingColumnError(str(path), column, list(map(str, table.columns)))
    return numeric_column(table, column, str(path))
