"""Writing a stamp file chunk by chunk, on several processes, resumably.

Both ways of making stamps, rendering them (:mod:`zphot.images.simulate`) and cutting them out
of a user's images (:mod:`zphot.images.cutouts`), fill the same HDF5 layout
(:mod:`zphot.images.store`) the same way. The work is cut into chunks of rows; worker
processes make chunks, the parent writes each finished chunk into ``.<name>.partial`` beside
the target and marks it done. Re-running the same command finds the partial file, checks it was
started with the same configuration (a digest) and makes only the chunks not yet done. At the
end per-row results beside the pixels (e.g. cutout flags) become catalog columns, the file is
flushed, fsynced and renamed onto the target, so an interrupted run leaves either a complete
file or none (plus the hidden partial file that the next run resumes).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import multiprocessing
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from ..exceptions import ParameterError
from ..io.atomic import check_writable
from ..io.lock import OutputLock, release_on_error
from .store import FORMAT_NAME, FORMAT_VERSION

__all__ = ["StampRun", "check_run_options", "config_digest", "write_stamps"]

logger = logging.getLogger(__name__)

#: ``worker((chunk, records, start, *args)) -> (chunk, pixels, {name: per-row array})``.
Worker = Callable[[tuple], tuple[int, np.ndarray, dict[str, np.ndarray]]]


@dataclasses.dataclass(frozen=True)
class StampRun:
    """What a stamp file is made of: its shape, the run's settings and per-row extras.

    ``config`` is stored in the file (``/stamps`` attrs) and, with ``digest``, decides whether
    a partial file can be resumed. ``extras`` maps a name to (dtype, shape per row) of arrays
    the worker returns beside the pixels; each becomes a catalog column (one per trailing
    entry, suffixed with ``band_names``) when the file is finished.
    """

    bands: tuple[str, ...]
    size: int
    chunk_size: int
    config: dict[str, Any]
    digest: str
    attrs: dict[str, Any] = dataclasses.field(default_factory=dict)
    extras: dict[str, tuple[str, tuple[int, ...]]] = dataclasses.field(default_factory=dict)


def check_run_options(size: int, n_jobs: int, chunk_size: int) -> None:
    """Refuse a stamp size or a process/chunk count no run can use (before any work starts)."""
    if size < 8 or size > 512:
        raise ParameterError(f"stamp size must be in [8, 512] pixels, got {size}")
    if n_jobs < 1 or chunk_size < 1:
        raise ParameterError(f"n_jobs and chunk_size must be >= 1, got {n_jobs}, {chunk_size}")


def config_digest(config: dict, table: pd.DataFrame, columns: list[str]) -> str:
    """Hash of the settings and the input columns: a partial file resumes only on a match."""
    h = hashlib.sha256(json.dumps(config, sort_keys=True).encode())
    h.update(np.ascontiguousarray(table[columns].to_numpy(dtype=np.float64)).tobytes())
    return h.hexdigest()


def _init_worker() -> None:
    """One thread per worker: the processes already use the cores."""
    threadpool_limits(1)
    os.environ["OMP_NUM_THREADS"] = "1"


@release_on_error
def write_stamps(
    table: pd.DataFrame,
    out: str | os.PathLike,
    run: StampRun,
    worker: Worker,
    records: list[dict],
    worker_args: tuple,
    *,
    n_jobs: int,
    overwrite: bool,
    progress: Callable[[int, int], None] | None,
) -> Path:
    """Make every chunk not yet done with ``worker`` and write the finished file ``out``.

    ``records[i]`` is what the worker needs of row ``i``; ``table`` is stored as the catalog.
    """
    out = check_writable(out, overwrite)
    partial = out.with_name(f".{out.name}.partial")
    # One run per output: a second would find the partial file locked by HDF5 and start it
    # again under the first. Rerunning resumes here, so a dead owner's lock is taken over.
    lock = OutputLock.acquire(out.with_name(f".{out.name}.lock"), str(out), takeover=True)
    n = len(table)
    n_chunks = max(1, -(-n // run.chunk_size))
    fh = _open_partial(partial, run, table, n_chunks)
    try:
        done = fh["stamps/done"]
        todo = [c for c in range(n_chunks) if not done[c]]
        rows_done = n - sum(min(run.chunk_size, n - c * run.chunk_size) for c in todo)
        if rows_done:
            logger.info("%s: resuming, %d of %d stamps already made", partial, rows_done, n)
        cs = run.chunk_size
        jobs = [(c, records[c * cs : (c + 1) * cs], c * cs, *worker_args) for c in todo]
        if progress is not None:
            progress(rows_done, n)
        _run_jobs(fh, jobs, worker, run, n_jobs, rows_done, n, progress)
        _finish(fh, run)
    finally:
        fh.close()
    with open(partial, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(partial, out)
    lock.release()
    return out


def _run_jobs(
    fh: Any,
    jobs: list[tuple],
    worker: Worker,
    run: StampRun,
    n_jobs: int,
    rows_done: int,
    n: int,
    progress: Callable[[int, int], None] | None,
) -> None:
    """Run the jobs (in this process, or on a pool) and write each chunk as it finishes."""
    pool = None
    if n_jobs == 1 or len(jobs) <= 1:
        results: Iterable = map(worker, jobs)
    else:
        pool = multiprocessing.get_context("fork").Pool(n_jobs, initializer=_init_worker)
        results = pool.imap_unordered(worker, jobs)
    try:
        for c, block, extras in results:
            rows = slice(c * run.chunk_size, c * run.chunk_size + len(block))
            fh["stamps/pixels"][rows] = block
            for name, values in extras.items():
                fh[f"stamps/{name}"][rows] = values
            fh["stamps/done"][c] = True
            fh.flush()
            rows_done += len(block)
            if progress is not None:
                progress(rows_done, n)
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()


def _finish(fh: Any, run: StampRun) -> None:
    """Per-row extras become catalog columns (``name`` for 1-D, ``name_<band>`` per band)."""
    for name in run.extras:
        values = fh[f"stamps/{name}"][()]
        if values.ndim == 1:
            fh.create_dataset(name, data=values)
            continue
        fh.create_dataset(name, data=np.bitwise_or.reduce(values, axis=1))
        for k, band in enumerate(run.bands):
            fh.create_dataset(f"{name}_{band}", data=values[:, k])


def _open_partial(partial: Path, run: StampRun, table: pd.DataFrame, n_chunks: int) -> Any:
    """Reopen a partial file started with the same configuration, or start a new one."""
    import h5py

    if partial.exists():
        try:
            fh = h5py.File(partial, "r+")
            if fh["stamps"].attrs.get("digest") == run.digest:
                return fh
            fh.close()
            logger.info("%s: started with other settings; starting again", partial)
        except (OSError, KeyError):
            logger.info("%s: unreadable partial file; starting again", partial)
        partial.unlink()
    fh = h5py.File(partial, "w", track_order=True)
    _write_catalog(fh, table)
    n, size = len(table), run.size
    grp = fh.create_group("stamps")
    grp.create_dataset(
        "pixels",
        shape=(n, len(run.bands), size, size),
        dtype=np.float32,
        chunks=(max(1, min(run.chunk_size, n, 64)), len(run.bands), size, size),
    )
    grp.create_dataset("done", data=np.zeros(n_chunks, dtype=bool))
    for name, (dtype, shape) in run.extras.items():
        grp.create_dataset(name, shape=(n, *shape), dtype=dtype)
    grp.attrs.update(
        format=FORMAT_NAME,
        format_version=FORMAT_VERSION,
        bands=np.array(run.bands, dtype="S"),
        size=size,
        config=json.dumps(run.config),
        digest=run.digest,
        **run.attrs,
    )
    fh.flush()
    return fh


def _write_catalog(fh: Any, table: pd.DataFrame) -> None:
    """The catalog as one 1-D dataset per column, plus ``stamp_row``."""
    stored = table.copy()
    stored["stamp_row"] = np.arange(len(table), dtype=np.int64)
    for col in stored.columns:
        values = stored[col].to_numpy()
        if values.dtype == object:
            values = np.char.encode(values.astype(str), "utf-8")
        fh.create_dataset(str(col), data=values)
