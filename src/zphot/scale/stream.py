"""Predict a catalog of any size on one machine: chunks in, numbered Parquet parts out.

The catalog is read a chunk of rows at a time (:mod:`zphot.io.chunks`); each chunk's predictions
are written as ``part-NNNNNNNN.parquet`` in a hidden work folder beside the output, and a manifest
(``_zphot.json``) listing the complete parts is replaced atomically after each one. When every
chunk is done the parts are merged into the output file (or the folder is renamed into place as a
partitioned dataset) and the work folder goes. A killed run leaves the folder; ``resume=True``
reads the manifest and starts at the first row no complete part holds, so no row is duplicated
or dropped. Rows are independent (the estimator contract), which makes chunked, resumed and
whole-file predictions equal bit for bit.

The work folder is the run's: its manifest marks it as zphot's and a lock file
(:mod:`zphot.io.lock`) names the run writing it, so a second run to the same output is refused
while the first lives, and a killed run's folder is taken over only with ``resume`` or
``overwrite``. An existing output is replaced only by a file or a folder zphot wrote, never a
user's folder, and never an input.

Memory is bounded twice: a chunk (the unit of I/O and of resuming) holds narrow columns only,
and inside it the estimator sees sub-batches sized so one (rows, grid bins) array stays small.

This module holds the run's steps only: rows become prediction columns in
:mod:`zphot.scale.rows`, and the work folder, manifest and parts are :mod:`zphot.scale.parts`.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

from ..catalog.bands import Survey
from ..catalog.catalog import Catalog, nothing_measured, require_measured
from ..catalog.validate import report_screening
from ..exceptions import ParameterError
from ..io.atomic import check_not_input, check_writable
from ..io.chunks import ChunkedTable, open_chunked
from ..io.lock import release_on_error
from .parts import (
    OWN_FILES,
    PartWriter,
    Progress,
    StreamResult,
    check_output,
    qp_chunks,
    run_key,
)
from .rows import OutputSpec, auto_chunk_size, check_model, source_columns

__all__ = ["check_measured", "predict_catalog"]


def check_measured(path: Path, survey: Survey, n_rows: int, resumed_at: int, seen: dict) -> None:
    """Refuse a catalog with no usable band in any row; count implausible values per band.

    Checked before the output is written, so a file of NaNs (every prediction a guess from no
    data) leaves no output behind.
    """
    report_screening(path, seen["screening"])
    if n_rows > 0 and resumed_at == 0 and seen["measured"] == 0:
        raise nothing_measured(path, survey)


@release_on_error
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
        File to write, in the format its suffix names (:mod:`zphot.io.assemble`), or a folder
        of Parquet parts with ``partitioned``; provenance as :func:`file_metadata`.
    survey, spec : Survey, OutputSpec, optional
        Column mapping of ``source`` (the training survey by default); output columns.
    chunk_size : int, optional
        Rows per chunk and per part; :func:`auto_chunk_size` by default.
    resume, overwrite : bool
        Continue an interrupted run (same model, catalog, survey, options) from its last part;
        or replace an existing output (a file, or a folder zphot wrote) and its parts.
    partitioned : bool
        Keep the parts as a Parquet dataset folder instead of merging them into one file.
    qp, qp_kind : str or PathLike, {"hist", "interp"}
        Also write the PDFs as a qp Ensemble HDF5 file, see :func:`zphot.pdf.qp.to_qp`.
    format, read_options : str, dict, optional
        Force the input format; ``hdu`` (FITS) or ``key`` (HDF5) of the table to read.
    progress : callable, optional
        ``progress(rows_done, rows_total or None)`` at the start and after each part.

    Returns
    -------
    StreamResult

    Raises
    ------
    OverwriteError
        ``out`` or ``qp`` exists without ``overwrite``; ``out`` is a folder zphot did not write.
    OutputLockedError
        Another run writes ``out``, or one died writing it and no ``resume``/``overwrite``.
    ParameterError
        Parts of an interrupted run without either flag; ``resume`` with another model, catalog
        or options; ``out`` or ``qp`` is, holds or lies inside the catalog.
    """
    t0 = time.perf_counter()
    spec, survey, out = spec or OutputSpec(), survey or estimator.survey_, Path(out)
    qp_path = None if qp is None else Path(qp)
    check_output(out, partitioned)
    table = open_chunked(source, format, **(read_options or {}))
    columns, constants = source_columns(estimator, table.columns, str(table.path), survey, spec)
    empty = check_model(estimator, columns, constants, survey, spec, str(table.path))
    chunk_size = _chunk_size(chunk_size, estimator, spec, qp_path is not None)
    _check_destinations(out, qp_path, qp_kind, table.path, overwrite)
    if not resume and table.n_rows and table.n_rows <= chunk_size:
        _check_single_chunk(table, chunk_size, columns, survey)
    options = {"chunk_size": chunk_size, "partitioned": partitioned, "qp": qp_path is not None}
    key = run_key(table, estimator, survey, spec, options | {"qp_kind": qp_kind})
    run = (table, out, key, resume, overwrite, progress)
    writer = PartWriter.start(estimator, survey, spec, *run)
    chunks = table.chunks(chunk_size, columns, start=writer.resumed_at)
    n_rows = writer.write_all(chunks, constants, empty)
    check_measured(table.path, survey, n_rows, writer.resumed_at, writer.seen)
    if qp_path is not None:
        _write_qp(qp_path, writer, estimator, n_rows, qp_kind)
    return writer.finish(out, partitioned, t0, qp_path)


def _check_single_chunk(
    table: ChunkedTable, chunk_size: int, columns: list[str], survey: Survey
) -> None:
    """A catalog of one chunk is checked before the run starts, so a file with nothing
    measured leaves no work folder (a longer one is checked at the end)."""
    _, _, first = next(iter(table.chunks(chunk_size, columns)))
    require_measured(Catalog(first, survey, source=str(table.path)))


def _chunk_size(chunk_size: int | None, estimator: Any, spec: OutputSpec, keep_probs: bool) -> int:
    size = int(chunk_size or auto_chunk_size(estimator.grid_.n_bins, spec, keep_probs))
    if size < 1:
        raise ParameterError(f"chunk_size must be a positive integer, got {size}")
    return size


def _check_destinations(
    out: Path, qp_path: Path | None, qp_kind: str, source: Path, overwrite: bool
) -> None:
    """Refuse outputs that are the input, exist without ``overwrite``, or a bad qp request."""
    check_not_input({"--out": out, "--qp": qp_path}, {"--catalog": source})
    check_writable(out, overwrite, folder_files=OWN_FILES)
    if qp_path is not None:
        check_writable(qp_path, overwrite)
        from ..pdf.qp import check_qp_path

        check_qp_path(qp_path)
        if qp_kind not in ("hist", "interp"):
            raise ParameterError(f"qp_kind must be 'hist' or 'interp', got {qp_kind!r}")


def _write_qp(qp_path: Path, writer: PartWriter, estimator: Any, n_rows: int, qp_kind: str) -> None:
    """Write the qp file from the parts' saved PDFs, then drop them."""
    from ..pdf.qp import write_qp_chunks

    chunks = qp_chunks(writer.work, writer.parts, estimator)
    write_qp_chunks(qp_path, chunks, n_rows, qp_kind, overwrite=True)
    shutil.rmtree(writer.work / "_qp")
