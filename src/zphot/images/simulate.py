"""Render a catalog's stamps on several processes into one HDF5 file, resumably.

Each galaxy is drawn from its own random stream, so the pixels do not depend on the process
count; chunking, resuming and the atomic finish are :mod:`zphot.images.stampfile`'s.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from .._rng import child_generator
from ..catalog.bands import Survey
from ..catalog.catalog import Catalog
from ..catalog.observing import Observing
from ..catalog.survey import load_survey
from ..exceptions import CatalogError, ParameterError
from ..sim.mock import STRUCTURE_COLUMNS
from ..sim.population import TYPES, draw_structure, fit_types
from .render import render_galaxy
from .stampfile import StampRun, check_run_options, config_digest, write_stamps

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
    that type's relations (stream ``(seed, "structure")``, apart from every galaxy's render
    stream); the bulge and disk fluxes of every band are
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
        types, z, filled[:, ref], filters[ref], filters, child_generator(seed, "structure")
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


def _render_chunk(args: tuple) -> tuple[int, np.ndarray, dict]:
    """Render one chunk: ``(chunk, records, start, obs, bands, size, seed)``."""
    chunk, records, start, obs, bands, size, seed = args
    out = np.empty((len(records), len(bands), size, size), dtype=np.float32)
    for i, rec in enumerate(records):
        out[i] = render_galaxy(rec, obs, bands, size, seed, start + i)
    return chunk, out, {}


def _stamp_run(
    obs: Observing, table: pd.DataFrame, cols: list[str], size: int, seed: int, chunk_size: int
) -> StampRun:
    """The settings stored with the stamps, and the digest a resumed run must match."""
    config = {
        "survey": obs.name,
        "bands": list(obs.bands),
        "size": size,
        "seed": seed,
        "chunk_size": chunk_size,
        "n": len(table),
        "pixel_scale": obs.pixel_scale,
        "psf_fwhm": list(obs.psf_fwhm),
        "m5": list(obs.m5),
        "sky": list(obs.sky),
    }
    attrs = {
        "survey": obs.name,
        "pixel_scale": obs.pixel_scale,
        "psf_fwhm": np.array(obs.psf_fwhm),
        "seed": seed,
    }
    digest = config_digest(config, table, cols)
    return StampRun(obs.bands, size, chunk_size, config, digest, attrs)


def simulate_images(
    table: pd.DataFrame,
    survey: str | Survey | Observing,
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
    survey : str, Survey or Observing
        Observing conditions (PSF, pixel scale, depth) and band order: a preset name, a survey
        TOML path or a Survey (its ``[observing]`` table), or the conditions themselves.
    out : str or PathLike
        Target ``.h5`` file.
    size : int
        Stamp width in pixels (32, or 64 as Pasquet et al. 2019 used).
    seed : int
        Run seed; galaxy i draws from stream ``(seed, "galaxy", i)``.
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

    obs = survey if isinstance(survey, Observing) else load_survey(survey).require_observing()
    check_run_options(size, n_jobs, chunk_size)
    cols = structure_columns(obs.bands)
    missing = [c for c in cols if c not in table.columns]
    if missing:
        raise CatalogError(
            f"catalog lacks the structure columns {missing[:4]}{'...' if len(missing) > 4 else ''}"
            "; prepare a real catalog with zphot.images.simulate.prepare_catalog"
        )
    run = _stamp_run(obs, table, cols, int(size), int(seed), int(chunk_size))
    records = table[cols].to_dict("records")
    return write_stamps(
        table,
        out,
        run,
        _render_chunk,
        records,
        (obs, obs.bands, size, seed),
        n_jobs=n_jobs,
        overwrite=overwrite,
        progress=progress,
    )
