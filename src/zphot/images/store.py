"""Stamp files: multi-band cutouts with their catalog, and how a Catalog points at them.

Layout of a zphot stamp file (HDF5)::

    /<column> ...          the catalog, one 1-D dataset per column (zphot's HDF5 table layout,
                           so ``read_catalog("stamps.h5", survey)`` reads it as is), including
                           ``stamp_row``, the galaxy's row in /stamps/pixels
    /stamps/pixels         (n, bands, size, size) float32, nanomaggies per pixel, chunked
    /stamps/done           (n_chunks,) bool: chunks written (what --resume reads)
    /stamps attrs          format, format_version, bands, survey, pixel_scale, psf_fwhm,
                           size, seed, config (JSON)

A catalog row finds its stamp through two columns: ``stamp_row`` (index into the cube) and,
optionally, ``stamp_file`` (the file holding it; without that column, the file the catalog was
read from). A user's own cutouts, as a NumPy ``.npy`` cube, a FITS primary HDU cube or an HDF5
stamp file, are attached to a catalog of the same galaxies with :func:`attach_stamps`.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ..catalog.catalog import Catalog
from ..exceptions import CatalogError, FormatError, MissingBandError

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "attach_stamps",
    "load_stamps",
    "stamp_bands",
    "stamp_columns",
    "stamps_in_bands",
]

FORMAT_NAME = "zphot-stamps"
FORMAT_VERSION = 1


def _open_cube(path: str) -> NDArray[np.float32] | object:
    """An array-like (n, bands, size, size) for a stamp file (h5py dataset or array)."""
    suffix = Path(path).suffix.lower()
    if suffix in (".h5", ".hdf5"):
        return _h5_pixels(path)
    if suffix == ".npy":
        return np.load(path, mmap_mode="r", allow_pickle=False)
    if suffix in (".fits", ".fit", ".fz"):
        from astropy.io import fits

        with fits.open(path, memmap=False) as hdul:
            return np.asarray(hdul[0].data, dtype=np.float32)
    raise FormatError(f"{path}: stamps must be .h5/.hdf5, .npy or .fits (got '{suffix}')")


def _h5_pixels(path: str) -> object:
    import h5py

    fh = h5py.File(path, "r")
    if "stamps/pixels" not in fh:
        raise FormatError(f"{path}: no /stamps/pixels dataset (not a zphot stamp file)")
    return fh["stamps/pixels"]


def _cube(path: str) -> object:
    key = os.path.abspath(path)
    if not os.path.exists(key):
        raise FormatError(f"{path}: no such stamp file")
    # The cache is keyed on modification time too, so a rewritten file is reopened.
    return _cached_cube(key, os.stat(key).st_mtime_ns)


@lru_cache(maxsize=8)
def _cached_cube(path: str, mtime: int) -> object:
    cube = _open_cube(path)
    if len(getattr(cube, "shape", ())) != 4:
        raise FormatError(f"{path}: stamps must be 4-D (n, bands, y, x), got {cube.shape}")
    return cube


def _stamp_files(catalog: Catalog) -> NDArray:
    if "stamp_row" not in catalog.table.columns:
        raise CatalogError(
            f"{catalog.source}: no 'stamp_row' column, so no images; render stamps with "
            "`zphot simulate images` or attach a cube with zphot.images.attach_stamps"
        )
    if "stamp_file" in catalog.table.columns:
        return catalog.table["stamp_file"].astype(str).to_numpy()
    return np.full(len(catalog), str(catalog.source))


#: Columns through which a catalog row points at its stamp.
STAMP_COLUMNS = ("stamp_row", "stamp_file", "stamp_bands")


def stamp_columns(available: list[str] | tuple[str, ...], path: str) -> dict[str, str | None]:
    """The stamp columns to read from the catalog file ``path`` (columns ``available``), for
    :meth:`~zphot.estimators.base.PhotoZEstimator.prediction_columns`.

    Each present column maps to ``None`` (read it). Without ``stamp_file`` the rows point into
    the catalog's own file, which the chunks of a streamed run no longer name, so that column
    becomes the constant ``path``.

    Raises
    ------
    CatalogError
        No ``stamp_row`` column: the catalog has no images.
    """
    available = [str(c) for c in available]
    if "stamp_row" not in available:
        raise CatalogError(
            f"{path}: no 'stamp_row' column, so no images; render stamps with "
            "`zphot simulate images` or attach a cube with zphot.images.attach_stamps"
        )
    cols: dict[str, str | None] = {c: None for c in STAMP_COLUMNS if c in available}
    if "stamp_file" not in cols:
        cols["stamp_file"] = os.path.abspath(path)
    return cols


def load_stamps(catalog: Catalog) -> NDArray[np.float32]:
    """The stamps of every catalog row, (n, bands, size, size) float32, in row order.

    Raises
    ------
    CatalogError
        The catalog has no ``stamp_row`` column, or a row points past its cube.
    FormatError
        A stamp file is missing or not a 4-D cube.
    """
    files = _stamp_files(catalog)
    rows = catalog.table["stamp_row"].to_numpy().astype(np.int64)
    if len(catalog) == 0:
        return np.zeros((0, 0, 0, 0), dtype=np.float32)
    out = None
    for f in np.unique(files):
        sel = np.flatnonzero(files == f)
        cube = _cube(f)
        r = rows[sel]
        if r.min() < 0 or r.max() >= cube.shape[0]:
            raise CatalogError(
                f"{catalog.source}: stamp_row {int(r.max())} outside {f} ({cube.shape[0]} stamps)"
            )
        order = np.argsort(r, kind="stable")
        uniq, inverse = np.unique(r[order], return_inverse=True)
        block = np.asarray(cube[uniq], dtype=np.float32)  # h5py needs increasing indices
        if out is None:
            out = np.empty((len(catalog), *block.shape[1:]), dtype=np.float32)
        elif block.shape[1:] != out.shape[1:]:
            raise CatalogError(
                f"{catalog.source}: stamp files differ in shape ({block.shape[1:]} vs "
                f"{out.shape[1:]})"
            )
        out[sel[order]] = block[inverse]
    return out


def stamp_bands(catalog: Catalog) -> tuple[str, ...]:
    """Band order of the catalog's cube: the ``stamp_bands`` column (set by
    :func:`attach_stamps`), else the bands a zphot stamp file records, else the survey's."""
    if "stamp_bands" in catalog.table.columns and len(catalog):
        return tuple(str(catalog.table["stamp_bands"].iloc[0]).split(","))
    files = _stamp_files(catalog)
    if len(files) and Path(files[0]).suffix.lower() in (".h5", ".hdf5"):
        bands = _cube(files[0]).parent.attrs.get("bands")
        if bands is not None:
            return tuple(b.decode() if isinstance(b, bytes) else str(b) for b in bands)
    return catalog.bands


def stamps_in_bands(catalog: Catalog, bands: tuple[str, ...]) -> NDArray[np.float32]:
    """:func:`load_stamps` with the channels put in ``bands`` order (matched by name).

    Raises
    ------
    MissingBandError
        The cube has no channel for one of ``bands``.
    """
    have = stamp_bands(catalog)
    for b in bands:
        if b not in have:
            raise MissingBandError(b, f"{catalog.source} (stamps)", list(have))
    cube = load_stamps(catalog)
    if len(catalog) and cube.shape[1] != len(have):
        raise CatalogError(
            f"{catalog.source}: the stamps have {cube.shape[1]} channels but name "
            f"{len(have)} bands ({', '.join(have)})"
        )
    if not len(catalog):
        return cube
    return cube[:, [have.index(b) for b in bands]]


def attach_stamps(
    catalog: Catalog,
    path: str | os.PathLike,
    rows: NDArray[np.int64] | None = None,
    bands: tuple[str, ...] | None = None,
) -> Catalog:
    """A copy of ``catalog`` whose rows point at the stamps in ``path``.

    Parameters
    ----------
    catalog : Catalog
    path : str or PathLike
        ``.npy`` cube, FITS primary-HDU cube or zphot HDF5 stamp file, shape
        (n, bands, size, size) with bands in the catalog's survey order.
    rows : ndarray of int, optional
        Cube row of each catalog row (default: 0..n-1).
    bands : tuple of str, optional
        Band of each cube channel (default: the catalog's survey order).

    Examples
    --------
    >>> import tempfile, os
    >>> from zphot.testing import synthetic_catalog
    >>> cat = synthetic_catalog(3)
    >>> path = os.path.join(tempfile.mkdtemp(), "cube.npy")
    >>> np.save(path, np.zeros((3, 5, 8, 8), dtype=np.float32))
    >>> load_stamps(attach_stamps(cat, path)).shape
    (3, 5, 8, 8)
    """
    path = os.path.abspath(path)
    cube = _cube(path)
    rows = np.arange(len(catalog)) if rows is None else np.asarray(rows, dtype=np.int64)
    if len(rows) != len(catalog) or (len(rows) and rows.max() >= cube.shape[0]):
        raise CatalogError(
            f"{path}: {cube.shape[0]} stamps cannot serve {len(catalog)} catalog rows"
        )
    table = catalog.table.copy()
    table["stamp_file"] = path
    table["stamp_row"] = rows
    table["stamp_bands"] = ",".join(bands if bands is not None else catalog.bands)
    return Catalog(table, catalog.survey, source=catalog.source)
