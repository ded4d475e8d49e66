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
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..catalog.bands import Survey
from ..catalog.catalog import Catalog, require_measured
from ..catalog.validate import Screening
from ..exceptions import CatalogError, MissingColumnError, OverwriteError, ParameterError
from ..io.assemble import OUTPUT_SUFFIXES, assemble_parts, output_format
from ..io.atomic import (
    atomic_path,
    check_not_input,
    check_own_folder,
    check_writable,
    is_zphot_folder,
)
from ..io.chunks import ChunkedTable, open_chunked, parquet_files
from ..io.columns import pdf_columns, quantile_column
from ..io.lock import LOCK, OutputLock, claim_folder, release_on_error
from ..pdf.batch import PDFBatch

__all__ = [
    "PDF_KINDS",
    "PDF_DTYPES",
    "OWN_FILES",
    "OutputSpec",
    "StreamResult",
    "predict_frame",
    "predict_catalog",
    "input_columns",
    "source_columns",
    "estimator_columns",
    "auto_chunk_size",
    "check_output",
    "clear_work",
    "file_metadata",
    "now_utc",
    "finish_parts",
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
#: Every name a work folder (and so a partitioned output) may hold: parts, manifest, lock, the
#: qp PDFs, the merged file and atomic temporaries. A folder holding anything else is not
#: replaced or cleared.
OWN_FILES = (
    "part-*.parquet",
    MANIFEST,
    LOCK,
    f"{LOCK}.stale-*",
    "_qp",
    "_merged.parquet",
    ".*.tmp",
)

# One (rows, bins) float64 array of a sub-batch holds at most this many cells (32 MiB); the
# estimators and PDFBatch make a handful of them, so a sub-batch peaks at a few hundred MiB.
_BATCH_CELLS = 2**22
# Default chunk sizes: narrow outputs can take many rows per part; a grid PDF (or the float64
# PDFs kept for a qp file) is as wide as the grid, so its chunks hold about 2**25 cells.
_NARROW_CHUNK = 200_000
_WIDE_CELLS = 2**25

Progress = Callable[[int, int | None], None]
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
    table, _ = _predict_rows(
        estimator, frame, survey or estimator.survey_, spec, source, keep_probs=False
    )
    return table


def auto_chunk_size(n_bins: int, spec: OutputSpec, keep_probs: bool = False) -> int:
    """Rows per chunk when none is given: large for narrow outputs, grid-sized for wide ones."""
    if spec.pdf == "grid" or keep_probs:
        return max(1000, _WIDE_CELLS // int(n_bins))
    return _NARROW_CHUNK


def file_metadata(
    estimator: Any, spec: OutputSpec, source: str | os.PathLike, created: str | None = None
) -> dict:
    """The provenance a prediction file records: its table metadata in every format (and the
    JSON of the Parquet schema metadata key ``zphot``).

    Flat (text, numbers, a list of levels) but for ``grid``, which only the JSON key keeps: the
    table metadata holds ``z_min``, ``z_max`` and ``n_bins``, so FITS headers hold all of it as
    keywords. ``created`` (UTC, ISO 8601) is when the run started; a resumed run keeps its
    first start.
    """
    from .._version import __version__

    grid = estimator.grid_
    params = json.dumps(_jsonable(estimator.get_params()), sort_keys=True)
    meta: dict[str, Any] = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "zphot_version": __version__,
        "model": estimator.name,
        "params_sha256": hashlib.sha256(params.encode()).hexdigest(),
        "fingerprint": estimator.fingerprint_,
        "point": estimator.point,
        "z_min": float(grid.z_min),
        "z_max": float(grid.z_max),
        "n_bins": int(grid.n_bins),
        "grid": grid.to_dict(),  # the same three again, as readers of the JSON key expect
        "created": created or now_utc(),
        "source": str(Path(source).resolve()),
    } | {k: v for k, v in asdict(spec).items() if v is not None}
    meta["quantiles"] = list(spec.quantiles)
    if spec.pdf == "grid":
        meta["pdf_columns"] = (
            "pdf_KKK is the probability of grid bin KKK, which spans z_min + KKK * dz to "
            "z_min + (KKK + 1) * dz, dz = (z_max - z_min) / n_bins"
        )
    return meta


def now_utc() -> str:
    """The current UTC time to the second, ISO 8601 (the ``created`` of a prediction file).

    ``SOURCE_DATE_EPOCH`` (seconds, the reproducible-builds convention) replaces the clock, so
    a pipeline that sets it gets the same bytes from the same inputs.
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    when = datetime.fromtimestamp(int(epoch), UTC) if epoch else datetime.now(UTC)
    return when.isoformat(timespec="seconds")


def check_output(out: Path, partitioned: bool) -> str:
    """The format ``out`` will be written in; a one-line error for a user's folder (before any
    word on its name), an unknown suffix, or a partitioned dataset named as another format."""
    if out.is_dir() and not is_zphot_folder(out):
        raise OverwriteError(str(out), f"{out}: is a folder zphot did not create; not replacing it")
    if not partitioned:
        return output_format(out)
    if OUTPUT_SUFFIXES.get(out.suffix.lower(), "parquet") != "parquet":
        raise ParameterError(
            f"{out}: a partitioned output is a folder of Parquet parts; name it without a "
            "suffix or with .parquet"
        )
    return "parquet"


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


def _open_work(
    work: Path, target: Path, key: dict, resume: bool, overwrite: bool
) -> tuple[OutputLock, dict]:
    """Lock the work folder (creating it) and return the manifest to continue from: the
    interrupted run's (``resume``) or a fresh one (a new folder, or ``overwrite``)."""
    fresh = (
        {"format": "zphot-stream", "format_version": FORMAT_VERSION}
        | key
        | {"created": now_utc(), "parts": []}
    )
    lock, created = claim_folder(work, fresh, str(target), takeover=resume or overwrite)
    if created:
        return lock, fresh
    try:
        return lock, _reuse_work(work, key, fresh, resume, overwrite)
    except BaseException:
        lock.release()
        raise


def _reuse_work(work: Path, key: dict, fresh: dict, resume: bool, overwrite: bool) -> dict:
    """The manifest of an existing, locked work folder; see :func:`_open_work`."""
    if not is_zphot_folder(work):
        raise ParameterError(
            f"{work}: not a zphot work folder (no readable {MANIFEST}); move it away and run again"
        )
    manifest = json.loads((work / MANIFEST).read_text())
    if resume and manifest.get("format") == "zphot-stream":
        for name, value in key.items():
            if manifest.get(name) != value:
                raise ParameterError(
                    f"{work}: cannot resume: the {name} differs from the interrupted run's "
                    f"({manifest.get(name)!r} then, {value!r} now); pass --overwrite "
                    "without --resume to start again"
                )
        return manifest
    if not overwrite:
        raise ParameterError(
            f"{work}: an interrupted run's parts are here; pass --resume to continue it "
            "or --overwrite to start again"
        )
    clear_work(work)
    _write_json(work / MANIFEST, fresh)
    return fresh


def clear_work(work: Path) -> None:
    """Empty a locked work folder of zphot's files, keeping the lock; refuse one that holds a
    file zphot did not write (nothing is removed then)."""
    check_own_folder(work, OWN_FILES)
    _remove_all_but_lock(work)


def _remove_all_but_lock(work: Path) -> None:
    for entry in work.iterdir():
        if entry.name == LOCK:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


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
    point = estimator.point
    ancil[f"z{point}"] = table[spec.column_prefix + "z_phot"].to_numpy()
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


def finish_parts(
    work: Path,
    parts: list[Path],
    out: Path,
    partitioned: bool,
    metadata: dict | None = None,
    lock: OutputLock | None = None,
) -> None:
    """Put a finished run in place: the work folder itself as a dataset, or one file in the
    format ``out``'s suffix names (see :mod:`zphot.io.assemble`), ``metadata`` its provenance.

    Either replaces an existing ``out`` (file, or folder zphot wrote) only once the new one is
    complete; callers have already refused to overwrite where that was not asked for. The run's
    ``lock`` is released once the output is in place, and the work folder goes last.
    """
    if out.is_dir():  # checked again: files may have been added since the run started
        check_own_folder(out, OWN_FILES)
    if partitioned:
        replace_path(work, out)
        if lock is not None:
            lock.path = out / LOCK
            lock.release()
        return
    fmt = output_format(out)
    merged = work / f"_merged{out.suffix.lower()}"
    assemble_parts(parts, merged, metadata or {}, format=fmt, overwrite=True)
    replace_path(merged, out)
    _remove_all_but_lock(work)
    if lock is not None:
        lock.release()
    with contextlib.suppress(OSError):  # another run may have claimed it meanwhile
        work.rmdir()


def replace_path(src: Path, dst: Path) -> None:
    """Move ``src`` (a file or folder) to ``dst``, replacing what is there without deleting it
    first: an existing ``dst`` is moved aside, then removed once ``src`` is in place.

    A folder is replaced only if zphot created it (:func:`~zphot.io.atomic.is_zphot_folder`);
    callers check that it holds only zphot's files before they start.
    """
    if dst.is_dir() and not is_zphot_folder(dst):
        raise OverwriteError(str(dst), f"{dst}: is a folder zphot did not create; not replacing it")
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
    empty = _check_model(estimator, columns, constants, survey, spec, str(table.path))
    chunk_size = _chunk_size(chunk_size, estimator, spec, qp_path is not None)
    _check_destinations(out, qp_path, qp_kind, table.path, overwrite)
    if not resume and table.n_rows and table.n_rows <= chunk_size:
        _check_single_chunk(table, chunk_size, columns, survey)
    options = {"chunk_size": chunk_size, "partitioned": partitioned, "qp": qp_path is not None}
    key = _run_key(table, estimator, survey, spec, options | {"qp_kind": qp_kind})
    run = (table, out, key, resume, overwrite, progress)
    writer = _PartWriter.start(estimator, survey, spec, *run)
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


def source_columns(
    estimator: Any, available: Sequence[str], path: str, survey: Survey, spec: OutputSpec
) -> tuple[list[str], dict[str, Any]]:
    """The columns to read from a source (:func:`input_columns`) and the constant columns to
    add to each chunk (:func:`estimator_columns`): the opening every engine shares."""
    extra, constants = estimator_columns(estimator, available, path)
    return input_columns(available, survey, spec.id_column, path, extra), constants


def _check_model(
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


def _run_key(
    table: ChunkedTable, estimator: Any, survey: Survey, spec: OutputSpec, options: dict
) -> dict:
    """What a resumed run must share with the interrupted one (kept in the manifest)."""
    model = {
        "estimator": estimator.name,
        "fingerprint": estimator.fingerprint_,
        "params": estimator.get_params(),
    }
    return {
        "source": _source_identity(table),
        "model": _jsonable(model),
        "survey": _jsonable(survey.to_dict()),
        "options": _jsonable(asdict(spec) | options),
    }


@dataclass
class _PartWriter:
    """The locked work folder of one streamed run: predicts a chunk, writes its part (and its
    PDFs for qp), and records it in the manifest, so a killed run resumes after it."""

    estimator: Any
    survey: Survey
    spec: OutputSpec
    source: Path
    n_total: int | None
    work: Path
    lock: OutputLock
    manifest: dict
    metadata: dict
    seen: dict
    resumed_at: int  # the first row of this session: where the earlier complete parts stop
    keep_probs: bool
    progress: Progress | None

    @classmethod
    def start(
        cls,
        estimator: Any,
        survey: Survey,
        spec: OutputSpec,
        table: ChunkedTable,
        out: Path,
        key: dict,
        resume: bool,
        overwrite: bool,
        progress: Progress | None,
    ) -> _PartWriter:
        """Lock the work folder of ``out`` and continue its manifest (see :func:`_open_work`)."""
        work = work_dir(out)
        lock, manifest = _open_work(work, out, key, resume, overwrite)
        metadata = file_metadata(estimator, spec, table.path, manifest.get("created"))
        keep_probs = key["options"]["qp"]
        if keep_probs:
            (work / "_qp").mkdir(exist_ok=True)
        parts = manifest["parts"]
        return cls(
            estimator,
            survey,
            spec,
            table.path,
            table.n_rows,
            work,
            lock,
            manifest,
            metadata,
            seen={
                "measured": 0,
                "screening": Screening(survey.band_names, mag_range=survey.mag_range),
            },
            resumed_at=parts[-1]["stop"] if parts else 0,
            keep_probs=keep_probs,
            progress=progress,
        )

    @property
    def parts(self) -> list[dict]:
        return self.manifest["parts"]

    def write(self, lo: int, hi: int, frame: pd.DataFrame) -> None:
        """Predict rows ``lo``-``hi`` (``frame``) and record them as the next part."""
        name = PART_NAME.format(len(self.parts))
        where = f"{self.source} rows {lo}-{hi}"
        est, survey, spec = self.estimator, self.survey, self.spec
        rows, probs = _predict_rows(est, frame, survey, spec, where, self.keep_probs, self.seen)
        if probs is not None:
            ancil = _qp_ancil(frame, rows, probs, est, survey, spec)
            qp_part = self.work / "_qp" / Path(name).with_suffix(".npz").name
            with atomic_path(qp_part, overwrite=True) as tmp, open(tmp, "wb") as fh:
                np.savez(fh, __probs=probs, **ancil)
        _write_part(rows, self.work / name, self.metadata)
        self.parts.append({"file": name, "start": lo, "stop": hi})
        _write_json(self.work / MANIFEST, self.manifest)
        logger.debug("part %s: rows %d-%d", name, lo, hi)
        if self.progress is not None:
            self.progress(hi, self.n_total)

    def write_all(
        self, chunks: Iterator[tuple[int, int, pd.DataFrame]], constants: dict, empty: pd.DataFrame
    ) -> int:
        """Write every chunk (``constants`` added) as a part; an empty catalog still gets one
        part with the output columns (``empty``). Return the number of rows of the catalog."""
        if self.progress is not None:
            self.progress(self.resumed_at, self.n_total)
        for lo, hi, frame in chunks:
            self.write(lo, hi, frame.assign(**constants) if constants else frame)
        if not self.parts:
            self.write(0, 0, empty)
        return self.parts[-1]["stop"]

    def finish(self, out: Path, partitioned: bool, t0: float, qp: Path | None) -> StreamResult:
        """Put the parts in place as ``out`` (see :func:`finish_parts`); the run's result, timed
        from ``t0``."""
        paths = [self.work / p["file"] for p in self.parts]
        finish_parts(self.work, paths, out, partitioned, self.metadata, self.lock)
        n_rows, n_parts = self.parts[-1]["stop"], len(self.parts)
        seconds = time.perf_counter() - t0
        logger.debug("%d rows in %d parts -> %s (%.1f s)", n_rows, n_parts, out, seconds)
        return StreamResult(out, n_rows, n_parts, self.resumed_at, seconds, qp)


def _write_qp(
    qp_path: Path, writer: _PartWriter, estimator: Any, n_rows: int, qp_kind: str
) -> None:
    """Write the qp file from the parts' saved PDFs, then drop them."""
    from ..pdf.qp import write_qp_chunks

    chunks = _qp_chunks(writer.work, writer.parts, estimator)
    write_qp_chunks(qp_path, chunks, n_rows, qp_kind, overwrite=True)
    shutil.rmtree(writer.work / "_qp")
