"""Render a catalog's stamps on several processes into one HDF5 file, resumably.

The work is cut into chunks of rows. Worker processes render chunks (each galaxy from its own
random stream, so the pixels do not depend on the process count); the parent writes each
finished chunk into ``.<name>.partial`` beside the target and marks it done. Re-running the
same command finds the partial file, checks it was started with the same configuration and
renders only the chunks not yet done. At the end the file is flushed, fsynced and renamed onto
the target, so an interrupted run leaves either a complete file or none (plus the hidden
partial file that the next run resumes).
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from .._rng import child_generator
from ..catalog.catalog import Catalog
from ..exceptions import CatalogError, ParameterError
from ..io.atomic import check_writable
from ..io.lock import OutputLock, release_on_error
from ..sim.mock import STRUCTURE_COLUMNS
from ..sim.observing import Observing, observing
from ..sim.population import TYPES, draw_structure, fit_types
from .render import render_galaxy
from .store import FORMAT_NAME, FORMAT_VERSION

__all__ = ["prepare_catalog", "simulate_images", "structure_columns"]

logger = logging.getLogger(__name__)


def structure_columns(bands: tuple[str, ...]) -> list[str]:
    """Columns a table needs before its galaxies can be rendered."""
    cols = ["r_bulge", "r_disk", "q_bulge", "q_disk", "beta"]
    return cols + [f"flux_{c}_{b}" for b in bands for c in ("bulge", "disk")]


def prepare_catalog(catalog: Catalog, seed: int = 0) -> pd.DataFrame:
    """Give a real catalog (magnitudes and redshifts known) the structure to render it.

    Each galaxy's type is the template mix that best fits its colours at its redshift
    (:func:`zphot.sim.population.fit_types`); bulge fraction, sizes and shapes are drawn from
    that type's relations (stream (seed, 1)); the bulge and disk fluxes of every band are
    scaled so their sum is the catalog's magnitude while keeping the model's bulge share in
    that band. Bands without a magnitude keep the model's fluxes.

    Returns
    -------
    DataFrame
        The catalog table plus ``type``, ``type_name``, the structure columns and per band
        ``flux_bulge_<band>`` and ``flux_disk_<band>`` (nanomaggies).
    """
    # Spectroscopic redshifts can sit a hair below 0 (peculiar velocities); the spectra and
    # distances treat those galaxies as at z = 0 (distances are floored further anyway).
    z = np.clip(catalog.require_z(), 0.0, None)
    survey = catalog.survey
    filters = tuple(b.filter for b in survey.bands)
    if not all(filters):
        raise ParameterError(f"survey '{survey.name}': every band needs a filter curve")
    mags = catalog.mags
    ref = survey.band_names.index(survey.reference_band) if survey.reference_band else 0
    filled = np.where(np.isfinite(mags), mags, np.nanmedian(mags, axis=1, keepdims=True))
    types = fit_types(filled, z, filters)
    struct = draw_structure(
        types, z, filled[:, ref], filters[ref], filters, child_generator(seed, 1)
    )
    out = catalog.table.copy()
    out["type"] = types
    out["type_name"] = np.array([t.name for t in TYPES])[types]
    for col in STRUCTURE_COLUMNS[1:]:
        out[col] = struct[col].to_numpy()
    for k, band in enumerate(survey.band_names):
        fb = struct[f"flux_bulge_{k}"].to_numpy()
        fd = struct[f"flux_disk_{k}"].to_numpy()
        target = 10 ** (-0.4 * (mags[:, k] - 22.5))
        scale = np.where(np.isfinite(target), target / (fb + fd), 1.0)
        out[f"flux_bulge_{band}"] = fb * scale
        out[f"flux_disk_{band}"] = fd * scale
    return out


def _config_hash(config: dict, table: pd.DataFrame, columns: list[str]) -> str:
    h = hashlib.sha256(json.dumps(config, sort_keys=True).encode())
    h.update(np.ascontiguousarray(table[columns].to_numpy(dtype=np.float64)).tobytes())
    return h.hexdigest()


def _init_worker() -> None:
    """One thread per worker: the processes already use the cores."""
    threadpool_limits(1)
    os.environ["OMP_NUM_THREADS"] = "1"


def _render_chunk(
    args: tuple[int, list[dict], Observing, tuple[str, ...], int, int, int],
) -> tuple[int, np.ndarray]:
    chunk, records, obs, bands, size, seed, start = args
    out = np.empty((len(records), len(bands), size, size), dtype=np.float32)
    for i, rec in enumerate(records):
        out[i] = render_galaxy(rec, obs, bands, size, seed, start + i)
    return chunk, out


@release_on_error
def simulate_images(
    table: pd.DataFrame,
    survey: str | Observing,
    out: str | os.PathLike,
    *,
    size: int = 32,
    seed: int = 0,
    n_jobs: int = 2,
    chunk_size: int = 256,
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Render every row of ``table`` into the stamp file ``out`` (see :mod:`zphot.images.store`).

    Parameters
    ----------
    table : DataFrame
        Rows with the structure columns (:func:`structure_columns`): a mock catalog from
        :func:`zphot.sim.mock.simulate_catalog` or a real one from :func:`prepare_catalog`.
        It is stored beside the stamps with an added ``stamp_row`` column.
    survey : str or Observing
        Observing conditions (PSF, pixel scale, depth) and band order.
    out : str or PathLike
        Target ``.h5`` file.
    size : int
        Stamp width in pixels (32, or 64 as Pasquet et al. 2019 used).
    seed : int
        Run seed; galaxy i draws from stream (seed, i).
    n_jobs : int
        Worker processes (1 renders in this process).
    chunk_size : int
        Rows per chunk (the unit of writing and of resuming).
    overwrite : bool
        Replace an existing ``out``.
    progress : callable, optional
        ``progress(rows_done, rows_total)`` after each chunk.

    Returns
    -------
    Path
        ``out``.
    """

    obs = observing(survey) if isinstance(survey, str) else survey
    if size < 8 or size > 512:
        raise ParameterError(f"stamp size must be in [8, 512] pixels, got {size}")
    if n_jobs < 1 or chunk_size < 1:
        raise ParameterError(f"n_jobs and chunk_size must be >= 1, got {n_jobs}, {chunk_size}")
    bands = obs.bands
    cols = structure_columns(bands)
    missing = [c for c in cols if c not in table.columns]
    if missing:
        raise CatalogError(
            f"catalog lacks the structure columns {missing[:4]}{'...' if len(missing) > 4 else ''}"
            "; prepare a real catalog with zphot.images.simulate.prepare_catalog"
        )
    out = check_writable(out, overwrite)
    partial = out.with_name(f".{out.name}.partial")
    # One run per output: a second would find the partial file locked by HDF5 and start it
    # again under the first. Rerunning resumes here, so a dead owner's lock is taken over.
    lock = OutputLock.acquire(out.with_name(f".{out.name}.lock"), str(out), takeover=True)
    n = len(table)
    n_chunks = max(1, -(-n // chunk_size))
    config = {
        "survey": obs.name,
        "bands": list(bands),
        "size": int(size),
        "seed": int(seed),
        "chunk_size": int(chunk_size),
        "n": n,
        "pixel_scale": obs.pixel_scale,
        "psf_fwhm": list(obs.psf_fwhm),
        "m5": list(obs.m5),
        "sky": list(obs.sky),
    }
    digest = _config_hash(config, table, cols)
    fh = _open_partial(partial, digest, config, table, n_chunks)
    try:
        pixels, done = fh["stamps/pixels"], fh["stamps/done"]
        todo = [c for c in range(n_chunks) if not done[c]]
        rows_done = n - sum(min(chunk_size, n - c * chunk_size) for c in todo)
        if rows_done:
            logger.info("%s: resuming, %d of %d stamps already rendered", partial, rows_done, n)
        records = table[cols].to_dict("records")
        jobs = [
            (
                c,
                records[c * chunk_size : (c + 1) * chunk_size],
                obs,
                bands,
                size,
                seed,
                c * chunk_size,
            )
            for c in todo
        ]
        if progress is not None:
            progress(rows_done, n)
        if n_jobs == 1 or len(jobs) <= 1:
            results = map(_render_chunk, jobs)
            pool = None
        else:
            pool = multiprocessing.get_context("fork").Pool(n_jobs, initializer=_init_worker)
            results = pool.imap_unordered(_render_chunk, jobs)
        try:
            for c, block in results:
                pixels[c * chunk_size : c * chunk_size + len(block)] = block
                done[c] = True
                fh.flush()
                rows_done += len(block)
                if progress is not None:
                    progress(rows_done, n)
        finally:
            if pool is not None:
                pool.terminate()
                pool.join()
    finally:
        fh.close()
    with open(partial, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(partial, out)
    lock.release()
    return out


def _open_partial(partial: Path, digest: str, config: dict, table: pd.DataFrame, n_chunks: int):  # noqa: ANN202
    """Reopen a partial file started with the same configuration, or start a new one."""
    import h5py

    if partial.exists():
        try:
            fh = h5py.File(partial, "r+")
            if fh["stamps"].attrs.get("digest") == digest:
                return fh
            fh.close()
            logger.info("%s: started with other settings; starting again", partial)
        except (OSError, KeyError):
            logger.info("%s: unreadable partial file; starting again", partial)
        partial.unlink()
    n, bands, size = len(table), config["bands"], config["size"]
    fh = h5py.File(partial, "w", track_order=True)
    stored = table.copy()
    stored["stamp_row"] = np.arange(n, dtype=np.int64)
    for col in stored.columns:
        values = stored[col].to_numpy()
        if values.dtype == object:
            values = np.char.encode(values.astype(str), "utf-8")
        fh.create_dataset(str(col), data=values)
    grp = fh.create_group("stamps")
    grp.create_dataset(
        "pixels",
        shape=(n, len(bands), size, size),
        dtype=np.float32,
        chunks=(max(1, min(config["chunk_size"], n, 64)), len(bands), size, size),
    )
    grp.create_dataset("done", data=np.zeros(n_chunks, dtype=bool))
    grp.attrs.update(
        format=FORMAT_NAME,
        format_version=FORMAT_VERSION,
        bands=np.array(bands, dtype="S"),
        survey=config["survey"],
        pixel_scale=config["pixel_scale"],
        psf_fwhm=np.array(config["psf_fwhm"]),
        size=size,
        seed=config["seed"],
        config=json.dumps(config),
        digest=digest,
    )
    fh.flush()
    return fh
