"""Predict a catalog of any size on one machine: chunks in, numbered Parquet parts out.

The catalog is read a chunk of rows at a time (:mod:`zphot.io.chunks`); each chunk's predictions
are written as ``part-NNNNNNNN.parquet`` in a hidden work folder beside the output, and a manifest
(``_zphot.json``) listing the complete parts is replaced atomically after each one. When every
chunk is done the parts are merged into the output file (or the folder is renamed into place as a
partitioned dataset) and the work folder goes. A killed run leaves the folder; ``resume=True``
reads the manifest and starts at the first row no complete part holds, so no row is duplicated
or dropped. Rows are independent (the estimator contract), which makes chunked, resumed and
whole-file predictions equal bit for bit.

Memory is bounded twice: a chunk (the unit of I/O and of resuming) holds narrow columns only,
and inside it the estimator sees sub-batches sized so one (rows, grid bins) array stays small.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..catalog.bands import Survey
from ..catalog.catalog import Catalog, require_measured
from ..catalog.validate import Screening
from ..exceptions import CatalogError, MissingColumnError, OverwriteError, ParameterError
from ..io.atomic import atomic_path
from ..io.chunks import ChunkedTable, open_chunked, parquet_files
from ..pdf.batch import PDFBatch

__all__ = [
    "PDF_KINDS",
    "PDF_DTYPES",
    "OutputSpec",
    "StreamResult",
    "predict_frame",
    "predict_catalog",
    "input_columns",
    "estimator_columns",
    "auto_chunk_size",
    "file_metadata",
    "finish_parts",
    "merge_parts",
    "replace_path",
    "work_dir",
]

logger = logging.getLogger(__name__)

PDF_KINDS = ("none", "quantiles", "grid")
PDF_DTYPES = ("float32", "float16")
DEFAULT_QUANTILES = (0.025, 0.16, 0.5, 0.84, 0.975)
FORMAT_NAME = "zphot-predictions"
FORMAT_VERSION = 1
MANIFEST = "_zphot.json"
PART_NAME = "part-{:08d}.parquet"
METADATA_KEY = b"zphot"

# One (rows, bins) float64 array of a sub-batch holds at most this many cells (32 MiB); the
# estimators and PDFBatch make a handful of them, so a sub-batch peaks at a few hundred MiB.
_BATCH_CELLS = 2**22
# Default chunk sizes: narrow outputs can take many rows per part; a grid PDF (or the float64
# PDFs kept for a qp file) is as wide as the grid, so its chunks hold about 2**25 cells.
_NARROW_CHUNK = 200_000
_WIDE_CELLS = 2**25

Progress = Callable[[int, int | None], None]


@dataclass(frozen=True)
class OutputSpec:
    """What a prediction table holds beyond z_phot, z_err, z_lo, z_hi and out_of_coverage.

    Parameters
    ----------
    pdf : {"none", "quantiles", "grid"}
        ``none``: point estimate and 68% interval only. ``quantiles``: also one column
        ``z_q<level>`` per level of ``quantiles``. ``grid``: also the probability of every bin of
        the model's grid, one column ``p_<centre>`` each (the exact edges are in the file's
        metadata).
    pdf_dtype : {"float32", "float16"}
        Storage type of grid probabilities; float16 halves the file and keeps about three
        significant digits (probabilities below ~6e-8 become 0).
    quantiles : tuple of float
        Levels in (0, 1) for ``pdf="quantiles"``.
    id_column : str, optional
        An input column copied to the output (first), to join results back to the catalog. The
        survey's own id column is carried anyway.
    """

    pdf: str = "none"
    pdf_dtype: str = "float32"
    quantiles: tuple[float, ...] = DEFAULT_QUANTILES
    id_column: str | None = None

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


@dataclass(frozen=True)
class StreamResult:
    """What :func:`predict_catalog` did.

    Attributes
    ----------
    path : Path
        The output file or dataset folder.
    n_rows : int
        Rows written.
    n_parts : int
        Chunks (Parquet parts) the run was cut into.
    resumed_at : int
        First row this call predicted (0 unless it resumed an interrupted run).
    seconds : float
        Wall time of this call.
    qp_path : Path or None
        The qp Ensemble file, if one was asked for.
    """

    path: Path
    n_rows: int
    n_parts: int
    resumed_at: int
    seconds: float
    qp_path: Path | None = None


# --- one table of rows ----------------------------------------------------------------------------


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


def _column_names(prefix: str, values: NDArray[np.float64]) -> list[str]:
    """``prefix`` + value with the fewest decimals (at least 4) that keeps names distinct."""
    for digits in range(4, 13):
        names = [f"{prefix}{v:.{digits}f}" for v in values]
        if len(set(names)) == len(names):
            return names
    return [f"{prefix}{v!r}" for v in values]


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
            table[f"z_q{level:g}"] = q[:, j]
    elif spec.pdf == "grid":
        probs = pd.DataFrame(
            batch.probs.astype(spec.pdf_dtype), columns=_column_names("p_", batch.grid.centres)
        )
        table = pd.concat([table, probs], axis=1)
    return table, batch


def _predict_rows(
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
        columns, one row per input row, in input order.

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
    table, _ = _predict_rows(
        estimator, frame, survey or estimator.survey_, spec, source, keep_probs=False
    )
    return table


def auto_chunk_size(n_bins: int, spec: OutputSpec, keep_probs: bool = False) -> int:
    """Rows per chunk when none is given: large for narrow outputs, grid-sized for wide ones."""
    if spec.pdf == "grid" or keep_probs:
        return max(1000, _WIDE_CELLS // int(n_bins))
    return _NARROW_CHUNK


def file_metadata(estimator: Any, spec: OutputSpec, source: str | os.PathLike) -> dict:
    """What a prediction file records about itself (Parquet schema metadata key ``zphot``).

    No timestamps: the same model, catalog and options give the same bytes.
    """
    from .. import __version__

    grid = estimator.grid_
    meta: dict[str, Any] = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "zphot_version": __version__,
        "estimator": estimator.name,
        "fingerprint": estimator.fingerprint_,
        "point": estimator.get_params().get("point", "mode"),
        "grid": grid.to_dict(),
        "source": str(Path(source).resolve()),
    } | {k: v for k, v in asdict(spec).items()}
    meta["quantiles"] = list(spec.quantiles)
    if spec.pdf == "grid":
        meta["pdf_values"] = "probability per bin; bin edges = linspace(z_min, z_max, n_bins + 1)"
    return meta


# --- work folder and manifest -----------------------------------------------------------------


def work_dir(out: str | os.PathLike) -> Path:
    """The hidden folder beside ``out`` where a run keeps its parts until it finishes."""
    out = Path(out)
    return out.parent / f".{out.name}.zphot-work"


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=repr))


def _source_identity(table: ChunkedTable) -> dict:
    files = parquet_files(table.path) if table.format == "parquet" else [table.path]
    return {
        "path": str(table.path.resolve()),
        "format": table.format,
        "options": _jsonable(table.options),
        "files": [[str(f.resolve()), f.stat().st_size, f.stat().st_mtime_ns] for f in files],
    }


def _write_json(path: Path, data: dict) -> None:
    with atomic_path(path, overwrite=True) as tmp:
        tmp.write_text(json.dumps(data, indent=1))


def _start_manifest(work: Path, key: dict, resume: bool, overwrite: bool) -> dict:
    """The manifest to continue from: the interrupted run's (``resume``) or a fresh one."""
    manifest_path = work / MANIFEST
    if work.exists():
        if resume and manifest_path.is_file():
            manifest = json.loads(manifest_path.read_text())
            for name, value in key.items():
                if manifest.get(name) != value:
                    raise ParameterError(
                        f"{work}: cannot resume: the {name} differs from the interrupted run's "
                        f"({manifest.get(name)!r} then, {value!r} now); pass --overwrite "
                        "without --resume to start again"
                    )
            return manifest
        if not (resume or overwrite):
            raise ParameterError(
                f"{work}: an interrupted run's parts are here; pass --resume to continue it "
                "or --overwrite to start again"
            )
        shutil.rmtree(work)
    work.mkdir(parents=True)
    manifest = {"format": "zphot-stream", "format_version": FORMAT_VERSION} | key | {"parts": []}
    _write_json(manifest_path, manifest)
    return manifest


def _write_part(frame: pd.DataFrame, path: Path, metadata: dict) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    meta = dict(table.schema.metadata or {}) | {METADATA_KEY: json.dumps(metadata).encode()}
    with atomic_path(path, overwrite=True) as tmp:
        pq.write_table(table.replace_schema_metadata(meta), tmp)


def _qp_ancil(
    frame: pd.DataFrame,
    table: pd.DataFrame,
    probs: NDArray,
    estimator: Any,
    survey: Survey,
    spec: OutputSpec,
) -> dict[str, NDArray]:
    """Per-object qp columns: the id and RAIL's point-estimate names (``zmode``, ``zmean``...)."""
    ancil: dict[str, NDArray] = {}
    id_col = spec.id_column or survey.id
    if id_col is not None and id_col in frame.columns:
        ids = frame[id_col].to_numpy()
        ancil[id_col] = ids.astype(str) if ids.dtype.kind in "OUT" else ids
    ancil["zmode"] = PDFBatch(probs, estimator.grid_).point("mode")
    point = estimator.get_params().get("point", "mode")
    ancil[f"z{point}"] = table["z_phot"].to_numpy()
    return ancil


def _qp_chunks(
    work: Path, parts: list[dict], estimator: Any
) -> Iterator[tuple[PDFBatch, dict[str, NDArray]]]:
    files = [work / "_qp" / Path(p["file"]).with_suffix(".npz").name for p in parts]
    # Text ids must have one width over the whole file (qp sizes columns from the first chunk).
    widths: dict[str, int] = {}
    for f in files:
        with np.load(f, allow_pickle=False) as z:
            for k in z.files:
                if z[k].dtype.kind == "U":
                    size = max((len(t.encode()) for t in z[k].tolist()), default=1)
                    widths[k] = max(widths.get(k, 1), size)
    for f in files:
        with np.load(f, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        probs = arrays.pop("__probs")
        for k, w in widths.items():
            arrays[k] = np.char.encode(arrays[k], "utf-8").astype(f"S{w}")
        yield PDFBatch(probs, estimator.grid_), arrays


def merge_parts(parts: list[Path], out: Path, overwrite: bool = False) -> None:
    """Concatenate part files into one Parquet file, one part in memory at a time."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pq.read_schema(parts[0])
    with atomic_path(out, overwrite=overwrite) as tmp, pq.ParquetWriter(tmp, schema) as writer:
        for part in parts:
            table = pq.read_table(part)
            if not table.schema.equals(schema, check_metadata=False):
                try:
                    table = table.cast(schema)
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                    raise CatalogError(
                        f"{part.name}: column types differ from the first chunk's ({exc}); a "
                        "CSV column typed differently in some rows? convert the catalog to "
                        "Parquet first"
                    ) from exc
            writer.write_table(table)


def finish_parts(work: Path, parts: list[Path], out: Path, partitioned: bool) -> None:
    """Put a finished run in place: the work folder itself as a dataset, or the merged file.

    Either replaces an existing ``out`` (file or folder) only once the new one is complete;
    callers have already refused to overwrite where that was not asked for.
    """
    if partitioned:
        replace_path(work, out)
        return
    merged = work / "_merged.parquet"
    merge_parts(parts, merged, overwrite=True)
    replace_path(merged, out)
    shutil.rmtree(work)


def replace_path(src: Path, dst: Path) -> None:
    """Move ``src`` (a file or folder) to ``dst``, replacing what is there without deleting it
    first: an existing ``dst`` is moved aside, then removed once ``src`` is in place."""
    if not dst.exists():
        os.replace(src, dst)
        return
    aside = dst.parent / f".{dst.name}.zphot-old-{os.getpid()}"
    os.replace(dst, aside)
    os.replace(src, dst)
    if aside.is_dir():
        shutil.rmtree(aside)
    else:
        aside.unlink()


# --- the streamed run -------------------------------------------------------------------------


def check_measured(path: Path, survey: Survey, n_rows: int, resumed_at: int, seen: dict) -> None:
    """Refuse a catalog with no usable band in any row; count implausible values per band.

    Checked before the output is written, so a file of NaNs (every prediction a guess from no
    data) leaves no output behind.
    """
    screening = seen["screening"]
    if screening.n_bad_rows:
        logger.warning(
            "%s: %d value(s) treated as missing (%s); declare sentinels or [validation] "
            "mag_range in a survey TOML if they are meant",
            path,
            screening.n_values,
            screening.describe(),
        )
    if n_rows > 0 and resumed_at == 0 and seen["measured"] == 0:
        cols = ", ".join(c for b in survey.bands for c in (b.mag or b.flux,))
        raise CatalogError(f"{path}: no measured magnitude in any row (columns {cols})")


def predict_catalog(
    estimator: Any,
    source: str | os.PathLike,
    out: str | os.PathLike,
    *,
    survey: Survey | None = None,
    spec: OutputSpec | None = None,
    chunk_size: int | None = None,
    resume: bool = False,
    overwrite: bool = False,
    partitioned: bool = False,
    qp: str | os.PathLike | None = None,
    qp_kind: str = "hist",
    format: str | None = None,
    read_options: dict[str, Any] | None = None,
    progress: Progress | None = None,
) -> StreamResult:
    """Predict every row of a catalog file of any size, writing Parquet as it goes.

    Parameters
    ----------
    estimator : PhotoZEstimator
        A fitted estimator.
    source : str or PathLike
        Parquet file or dataset folder, FITS, HDF5, CSV or structured ``.npy``.
    out : str or PathLike
        Parquet file to write (a folder of parts with ``partitioned=True``).
    survey : Survey, optional
        Column mapping of ``source``; the estimator's training survey by default.
    spec : OutputSpec, optional
        PDF columns and carried id column.
    chunk_size : int, optional
        Rows per chunk (and per Parquet part); see :func:`auto_chunk_size` for the default.
    resume : bool
        Continue an interrupted run into ``out`` from its last complete part. The model,
        catalog, survey and options must be those of the interrupted run.
    overwrite : bool
        Replace an existing output (and discard an interrupted run's parts).
    partitioned : bool
        Keep the parts as a Parquet dataset folder instead of merging them into one file.
    qp : str or PathLike, optional
        Also write the PDFs as a qp Ensemble HDF5 file (with the id and RAIL's ``zmode``).
    qp_kind : {"hist", "interp"}
        qp parameterization, see :func:`zphot.pdf.qp.to_qp`.
    format : str, optional
        Force the input format.
    read_options : dict, optional
        ``hdu`` (FITS) or ``key`` (HDF5) of the table to read.
    progress : callable, optional
        Called as ``progress(rows_done, rows_total)`` at the start and after each part;
        ``rows_total`` is None where unknown (CSV).

    Returns
    -------
    StreamResult

    Raises
    ------
    OverwriteError
        ``out`` (or ``qp``) exists, or an interrupted run's parts do, and neither ``overwrite``
        nor ``resume`` says what to do.
    ParameterError
        ``resume`` with a different model, catalog or options than the interrupted run.
    """
    t0 = time.perf_counter()
    spec = spec or OutputSpec()
    survey = survey or estimator.survey_
    out = Path(out)
    qp_path = None if qp is None else Path(qp)
    table = open_chunked(source, format, **(read_options or {}))
    extra, constants = estimator_columns(estimator, table.columns, str(table.path))
    columns = input_columns(table.columns, survey, spec.id_column, str(table.path), extra)
    # Validate the model against the file (fitted, bands present) before any work starts.
    empty = pd.DataFrame({c: pd.Series(dtype=np.float64) for c in columns}).assign(**constants)
    predict_frame(estimator, empty, survey, spec, source=str(table.path))
    keep_probs = qp_path is not None
    chunk_size = int(chunk_size or auto_chunk_size(estimator.grid_.n_bins, spec, keep_probs))
    if chunk_size < 1:
        raise ParameterError(f"chunk_size must be a positive integer, got {chunk_size}")
    for target in (out, qp_path):
        if target is not None and target.exists() and not overwrite:
            raise OverwriteError(str(target))
    if qp_path is not None:
        from ..pdf.qp import check_qp_path

        check_qp_path(qp_path)
        if qp_kind not in ("hist", "interp"):
            raise ParameterError(f"qp_kind must be 'hist' or 'interp', got {qp_kind!r}")
    if not resume and table.n_rows and table.n_rows <= chunk_size:
        # One chunk: check it now, so a file with nothing measured leaves no work folder.
        _, _, first = next(iter(table.chunks(chunk_size, columns)))
        require_measured(Catalog(first, survey, source=str(table.path)))
    work = work_dir(out)
    key = {
        "source": _source_identity(table),
        "model": _jsonable(
            {
                "estimator": estimator.name,
                "fingerprint": estimator.fingerprint_,
                "params": estimator.get_params(),
            }
        ),
        "survey": _jsonable(survey.to_dict()),
        "options": _jsonable(
            asdict(spec)
            | {
                "chunk_size": chunk_size,
                "partitioned": partitioned,
                "qp": keep_probs,
                "qp_kind": qp_kind,
            }
        ),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    manifest = _start_manifest(work, key, resume, overwrite)
    parts: list[dict] = manifest["parts"]
    resumed_at = parts[-1]["stop"] if parts else 0
    metadata = file_metadata(estimator, spec, table.path)
    if keep_probs:
        (work / "_qp").mkdir(exist_ok=True)
    if progress is not None:
        progress(resumed_at, table.n_rows)

    seen = {"measured": 0, "screening": Screening(survey.band_names, mag_range=survey.mag_range)}

    def write(lo: int, hi: int, frame: pd.DataFrame) -> None:
        name = PART_NAME.format(len(parts))
        rows, probs = _predict_rows(
            estimator, frame, survey, spec, f"{table.path} rows {lo}-{hi}", keep_probs, seen
        )
        if probs is not None:
            ancil = _qp_ancil(frame, rows, probs, estimator, survey, spec)
            qp_part = work / "_qp" / Path(name).with_suffix(".npz").name
            with atomic_path(qp_part, overwrite=True) as tmp, open(tmp, "wb") as fh:
                np.savez(fh, __probs=probs, **ancil)
        _write_part(rows, work / name, metadata)
        parts.append({"file": name, "start": lo, "stop": hi})
        _write_json(work / MANIFEST, manifest)
        logger.debug("part %s: rows %d-%d", name, lo, hi)
        if progress is not None:
            progress(hi, table.n_rows)

    for lo, hi, frame in table.chunks(chunk_size, columns, start=resumed_at):
        write(lo, hi, frame.assign(**constants) if constants else frame)
    if not parts:  # an empty catalog still gets a file with the output columns
        write(0, 0, empty)

    n_rows = parts[-1]["stop"]
    check_measured(table.path, survey, n_rows, resumed_at, seen)
    if qp_path is not None:
        from ..pdf.qp import write_qp_chunks

        write_qp_chunks(
            qp_path, _qp_chunks(work, parts, estimator), n_rows, qp_kind, overwrite=True
        )
        shutil.rmtree(work / "_qp")
    finish_parts(work, [work / p["file"] for p in parts], out, partitioned)
    seconds = time.perf_counter() - t0
    logger.debug("%d rows in %d parts -> %s (%.1f s)", n_rows, len(parts), out, seconds)
    return StreamResult(out, n_rows, len(parts), resumed_at, seconds, qp_path)
