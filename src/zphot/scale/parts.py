"""The work folder of a streamed run: manifest, numbered Parquet parts, and the finished output.

Each chunk's predictions are written as ``part-NNNNNNNN.parquet`` in a hidden work folder beside
the output (:func:`work_dir`), and a manifest (``_zphot.json``) listing the complete parts is
replaced atomically after each one, so a killed run resumes at the first row no complete part
holds. :func:`finish_parts` merges the parts into the output file (or renames the folder into
place as a partitioned dataset) and the work folder goes.

The work folder is the run's: its manifest marks it as zphot's and a lock file
(:mod:`zphot.io.lock`) names the run writing it; a folder holding a file zphot did not write
(:data:`OWN_FILES`) is never cleared or replaced.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..catalog.bands import Survey
from ..catalog.validate import Screening
from ..exceptions import OverwriteError, ParameterError
from ..io.assemble import OUTPUT_SUFFIXES, assemble_parts, output_format
from ..io.atomic import atomic_path, check_own_folder, is_zphot_folder, replace_path
from ..io.chunks import ChunkedTable, parquet_files
from ..io.lock import LOCK, OutputLock, claim_folder
from ..pdf.batch import PDFBatch
from .rows import OutputSpec, predict_rows

__all__ = [
    "MANIFEST",
    "METADATA_KEY",
    "OWN_FILES",
    "PART_NAME",
    "PartWriter",
    "Progress",
    "StreamResult",
    "check_output",
    "clear_work",
    "file_metadata",
    "finish_parts",
    "now_utc",
    "qp_chunks",
    "run_key",
    "work_dir",
]

logger = logging.getLogger(__name__)

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

Progress = Callable[[int, int | None], None]


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


def run_key(
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


def qp_chunks(
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


@dataclass
class PartWriter:
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
    ) -> PartWriter:
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
        rows, probs = predict_rows(est, frame, survey, spec, where, self.keep_probs, self.seen)
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
