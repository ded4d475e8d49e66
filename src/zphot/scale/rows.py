"""Rows to prediction columns: what every engine (chunks, Dask partitions, HATS) does to a table.

:class:`OutputSpec` says which columns a prediction table holds; :func:`source_columns` picks
the columns to read from a source and the constants to add; :func:`check_model` tries the model
on an empty frame before any work starts; :func:`predict_frame` turns one DataFrame of rows into
predictions. Rows are independent (the estimator contract), so any cut of a catalog into tables
gives the same values.

Memory is bounded inside a table too: the estimator sees sub-batches sized so one (rows, grid
bins) array stays small.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..catalog.bands import Survey
from ..catalog.catalog import Catalog
from ..exceptions import MissingColumnError, ParameterError
from ..io.columns import pdf_columns, quantile_column
from ..pdf.batch import PDFBatch

__all__ = [
    "DEFAULT_QUANTILES",
    "PDF_DTYPES",
    "PDF_KINDS",
    "OutputSpec",
    "auto_chunk_size",
    "check_model",
    "estimator_columns",
    "input_columns",
    "predict_frame",
    "predict_rows",
    "source_columns",
]

PDF_KINDS = ("none", "quantiles", "grid")
PDF_DTYPES = ("float32", "float16")
DEFAULT_QUANTILES = (0.025, 0.16, 0.5, 0.84, 0.975)

# One (rows, bins) float64 array of a sub-batch holds at most this many cells (32 MiB); the
# estimators and PDFBatch make a handful of them, so a sub-batch peaks at a few hundred MiB.
_BATCH_CELLS = 2**22
# Default chunk sizes: narrow outputs can take many rows per part; a grid PDF (or the float64
# PDFs kept for a qp file) is as wide as the grid, so its chunks hold about 2**25 cells.
_NARROW_CHUNK = 200_000
_WIDE_CELLS = 2**25

# A column prefix makes valid identifiers in Parquet, FITS, HDF5, SQL and pandas alike.
_PREFIX = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


@dataclass(frozen=True)
class OutputSpec:
    """What a prediction table holds beyond z_phot, z_err, z_lo, z_hi and out_of_coverage.

    Parameters
    ----------
    pdf : {"none", "quantiles", "grid"}
        ``none``: point estimate and 68% interval only. ``quantiles``: also one column
        ``z_qDD`` per level ``0.DD`` of ``quantiles`` (``z_q025``, ``z_q50``...). ``grid``:
        also the probability of every bin of the model's grid, one column ``pdf_KKK`` per bin
        (``z_min``, ``z_max`` and ``n_bins`` are in the file's metadata, each bin's edges in its
        column description); see :mod:`zphot.io.columns`.
    pdf_dtype : {"float32", "float16"}
        Storage type of grid probabilities; float16 halves the file and keeps about three
        significant digits (probabilities below ~6e-8 become 0).
    quantiles : tuple of float
        Levels in (0, 1) for ``pdf="quantiles"``.
    id_column : str, optional
        An input column copied to the output (first), to join results back to the catalog. The
        survey's own id column is carried anyway.
    column_prefix : str
        Put before the name of every predicted column (``mlp_`` gives ``mlp_z_phot``,
        ``mlp_z_err``...), so that several codes' estimates can sit side by side in one table,
        as Rubin names them (``{algo}_z_{est}``). Columns copied from the input (the ids,
        ``z_spec``, a HATS catalog's ra and dec) keep their names, so tables still join.
    """

    pdf: str = "none"
    pdf_dtype: str = "float32"
    quantiles: tuple[float, ...] = DEFAULT_QUANTILES
    id_column: str | None = None
    column_prefix: str = ""

    def __post_init__(self) -> None:
        if self.pdf not in PDF_KINDS:
            raise ParameterError(f"pdf must be one of {', '.join(PDF_KINDS)}, got {self.pdf!r}")
        if self.pdf_dtype not in PDF_DTYPES:
            raise ParameterError(
                f"pdf_dtype must be one of {', '.join(PDF_DTYPES)}, got {self.pdf_dtype!r}"
            )
        levels = tuple(float(q) for q in self.quantiles)
        if not levels or not all(0.0 < q < 1.0 for q in levels):
            raise ParameterError(f"quantiles must be levels in (0, 1), got {self.quantiles!r}")
        object.__setattr__(self, "quantiles", levels)
        if self.column_prefix and not _PREFIX.fullmatch(self.column_prefix):
            raise ParameterError(
                "column_prefix must be letters, digits and underscores starting with a letter "
                f"(e.g. mlp_), got {self.column_prefix!r}"
            )

    def prefixed(self, table: pd.DataFrame, passed: Sequence[str | None]) -> pd.DataFrame:
        """``table`` with :attr:`column_prefix` put before every column not in ``passed``
        (the columns copied from the input)."""
        if not self.column_prefix:
            return table
        keep = set(passed)
        return table.rename(
            columns={c: self.column_prefix + c for c in table.columns if c not in keep}
        )


def input_columns(
    available: Sequence[str],
    survey: Survey,
    id_column: str | None,
    source: str,
    extra: Sequence[str] = (),
) -> list[str]:
    """The columns prediction reads: bands, mapped roles, the redshift if present, ``id_column``
    and ``extra`` (what the estimator needs besides, see :func:`estimator_columns`).

    Reading only these keeps chunks narrow on catalogs with hundreds of columns. A column the
    survey maps but the file lacks raises the same error :class:`Catalog` gives, listing the
    file's columns.
    """
    available = list(map(str, available))
    Catalog(pd.DataFrame(columns=available), survey, source=source)  # raises on a missing column
    wanted = [c for band in survey.bands for c in band.columns]
    for role in ("id", "size", "ra", "dec", "redshift"):
        col = getattr(survey, role)
        if col is not None and col in available:
            wanted.append(col)
    if id_column is not None:
        if id_column not in available:
            raise MissingColumnError(source, id_column, available, "it was given as --id-column")
        wanted.append(id_column)
    wanted += [c for c in extra if c in available]
    return list(dict.fromkeys(wanted))


def estimator_columns(
    estimator: Any, available: Sequence[str], path: str
) -> tuple[list[str], dict[str, Any]]:
    """Columns ``estimator`` reads beyond the survey's (to pass to :func:`input_columns` as
    ``extra``), and constant columns to add to every chunk; see
    :meth:`~zphot.estimators.base.PhotoZEstimator.prediction_columns`."""
    wanted = estimator.prediction_columns(list(map(str, available)), str(path))
    extra = [c for c, v in wanted.items() if v is None]
    return extra, {c: v for c, v in wanted.items() if v is not None}


def source_columns(
    estimator: Any, available: Sequence[str], path: str, survey: Survey, spec: OutputSpec
) -> tuple[list[str], dict[str, Any]]:
    """The columns to read from a source (:func:`input_columns`) and the constant columns to
    add to each chunk (:func:`estimator_columns`): the opening every engine shares."""
    extra, constants = estimator_columns(estimator, available, path)
    return input_columns(available, survey, spec.id_column, path, extra), constants


def check_model(
    estimator: Any,
    columns: list[str],
    constants: dict[str, Any],
    survey: Survey,
    spec: OutputSpec,
    source: str,
) -> pd.DataFrame:
    """Validate the model against the file (fitted, bands present) before any work starts, on
    an empty frame of the columns read; return that frame (an empty catalog's one chunk)."""
    empty = pd.DataFrame({c: pd.Series(dtype=np.float64) for c in columns}).assign(**constants)
    predict_frame(estimator, empty, survey, spec, source=source)
    return empty


def _predict_batch(
    estimator: Any, cat: Catalog, spec: OutputSpec, keep_probs: bool
) -> tuple[pd.DataFrame, PDFBatch | None]:
    if spec.pdf == "none" and not keep_probs:
        # No PDF to write: the estimator's own summaries, which a network computes without
        # building the PDF array (the same values to float64 rounding).
        table = estimator.predict_table(cat)
        batch = None
    else:
        batch = estimator.predict_pdf(cat)
        table = estimator.predict_table(cat, batch)
    if spec.id_column is not None and spec.id_column not in table.columns:
        table.insert(0, spec.id_column, cat.table[spec.id_column].to_numpy())
    z = cat.z
    if z is not None:
        table["z_spec"] = z
    if spec.pdf == "quantiles":
        q = batch.quantiles(spec.quantiles)
        for j, level in enumerate(spec.quantiles):
            table[quantile_column(level)] = q[:, j]
    elif spec.pdf == "grid":
        probs = pd.DataFrame(
            batch.probs.astype(spec.pdf_dtype), columns=pdf_columns(batch.grid.n_bins)
        )
        table = pd.concat([table, probs], axis=1)
    return table, batch


def predict_rows(
    estimator: Any,
    frame: pd.DataFrame,
    survey: Survey,
    spec: OutputSpec,
    source: str,
    keep_probs: bool,
    seen: dict[str, Any] | None = None,
) -> tuple[pd.DataFrame, NDArray[np.float64] | None]:
    cat = Catalog(frame, survey, source=source)
    if seen is not None:  # rows with a usable band, and what validation set aside
        seen["measured"] += int((~np.isnan(cat.mags).all(axis=1)).sum()) if cat.mags.size else 0
        seen["screening"].add(cat.screening)
    n = len(cat)
    step = max(64, _BATCH_CELLS // int(estimator.grid_.n_bins))
    tables, probs = [], []
    for lo in range(0, n, step) if n else [0]:
        sub = cat.take(np.arange(lo, min(lo + step, n)))
        table, batch = _predict_batch(estimator, sub, spec, keep_probs)
        tables.append(table)
        if keep_probs:
            probs.append(batch.probs)
    out = tables[0] if len(tables) == 1 else pd.concat(tables, ignore_index=True)
    out = spec.prefixed(out, (spec.id_column, survey.id, "z_spec"))
    return out, (np.concatenate(probs) if keep_probs else None)


def predict_frame(
    estimator: Any,
    frame: pd.DataFrame,
    survey: Survey | None = None,
    spec: OutputSpec | None = None,
    source: str = "<frame>",
) -> pd.DataFrame:
    """Predictions for the rows of one DataFrame: what every chunk or Dask partition becomes.

    Parameters
    ----------
    estimator : PhotoZEstimator
        A fitted estimator.
    frame : pandas.DataFrame
        Catalog rows with the survey's columns.
    survey : Survey, optional
        Column mapping; the estimator's training survey by default.
    spec : OutputSpec, optional
        PDF columns and carried id column.
    source : str
        Named in error messages.

    Returns
    -------
    pandas.DataFrame
        [id], z_phot, z_err, z_lo, z_hi, out_of_coverage, [z_spec], then quantile or grid
        columns (the predicted ones named with ``spec.column_prefix`` before them), one row per
        input row, in input order.

    Examples
    --------
    >>> from zphot.testing import synthetic_catalog
    >>> from zphot.estimators.knn import KNNEstimator
    >>> cat = synthetic_catalog(300, random_state=0)
    >>> est = KNNEstimator(k=5).fit(cat)
    >>> predict_frame(est, cat.table.head(3)).columns.tolist()[:5]
    ['z_phot', 'z_err', 'z_lo', 'z_hi', 'out_of_coverage']
    """
    spec = spec or OutputSpec()
    table, _ = predict_rows(
        estimator, frame, survey or estimator.survey_, spec, source, keep_probs=False
    )
    return table


def auto_chunk_size(n_bins: int, spec: OutputSpec, keep_probs: bool = False) -> int:
    """Rows per chunk when none is given: large for narrow outputs, grid-sized for wide ones."""
    if spec.pdf == "grid" or keep_probs:
        return max(1000, _WIDE_CELLS // int(n_bins))
    return _NARROW_CHUNK
