"""qp Ensembles in and out: the PDF exchange format of LSST DESC (RAIL and its evaluation tools).

zphot's PDFs are probabilities per bin of an equal-width :class:`RedshiftGrid`. qp's ``hist``
parameterization holds the same thing as bin edges plus densities (probability / bin width), so
export and import are exact up to rounding; ``interp`` (density at the bin centres) is offered
for tools that expect gridded values. PDFs of other codes, in any qp parameterization, are read
onto a zphot grid by integrating their CDF over each bin, so zphot's metrics can score them.

qp (the ``qp-prob`` package, extra ``zphot[qp]``) is imported only when these functions run.
Files are written through qp's own chunked HDF5 writer (``initializeHdf5Write``,
``writeHdf5Chunk``), so a catalog's PDFs never have to be in memory at once.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..exceptions import FormatError, ParameterError
from ..io.atomic import atomic_path
from .batch import PDFBatch
from .grid import RedshiftGrid

__all__ = [
    "QP_KINDS",
    "check_qp_path",
    "from_qp",
    "read_qp",
    "to_qp",
    "write_qp",
    "write_qp_chunks",
]

QP_KINDS = ("hist", "interp")
# qp reads a file by its suffix through tables_io, which takes only ``.hdf5`` as the plain
# HDF5 layout written here (``.h5`` means a pandas HDF5 store to it).
_SUFFIX = ".hdf5"


def _qp() -> Any:
    try:
        import qp
    except ImportError as exc:
        raise FormatError("qp files need the package qp-prob: pip install 'zphot[qp]'") from exc
    return qp


def to_qp(batch: PDFBatch, kind: str = "hist", ancil: Mapping[str, NDArray] | None = None) -> Any:
    """A qp Ensemble holding the PDFs of ``batch``.

    Parameters
    ----------
    batch : PDFBatch
        Probabilities per bin.
    kind : {"hist", "interp"}
        ``hist``: bin edges and densities, exactly zphot's PDF. ``interp``: densities at the bin
        centres, linearly interpolated by qp (a smoothed version of the same PDF).
    ancil : mapping of str to array, optional
        Per-object columns (ids, point estimates such as RAIL's ``zmode``), each of length n.

    Returns
    -------
    qp.Ensemble

    Examples
    --------
    >>> g = RedshiftGrid(0.0, 1.0, 4)
    >>> ens = to_qp(PDFBatch(np.array([[0.1, 0.6, 0.2, 0.1]]), g))
    >>> int(ens.npdf), round(float(np.ravel(ens.cdf(0.5))[0]), 6)
    (1, 0.7)
    """
    qp = _qp()
    if kind not in QP_KINDS:
        raise ParameterError(f"kind must be one of {', '.join(QP_KINDS)}, got {kind!r}")
    ancil = None if ancil is None else {k: np.asarray(v) for k, v in ancil.items()}
    for name, values in (ancil or {}).items():
        if len(values) != len(batch):
            raise ParameterError(
                f"ancil column '{name}' has {len(values)} values for {len(batch)} PDFs"
            )
    if kind == "hist":
        return qp.hist.create_ensemble(bins=batch.grid.edges, pdfs=batch.density, ancil=ancil)
    return qp.interp.create_ensemble(xvals=batch.grid.centres, yvals=batch.density, ancil=ancil)


def _uniform_grid(edges: NDArray[np.float64]) -> RedshiftGrid | None:
    """The RedshiftGrid with these edges, or None if the bins are not of equal width."""
    grid = RedshiftGrid(float(edges[0]), float(edges[-1]), len(edges) - 1)
    return grid if np.allclose(grid.edges, edges, rtol=0, atol=1e-9 * grid.width) else None


def from_qp(ensemble: Any, grid: RedshiftGrid | None = None) -> PDFBatch:
    """PDFs of a qp Ensemble as a :class:`PDFBatch` on a zphot grid.

    A ``hist`` ensemble with equal-width bins converts exactly (densities times bin width) when
    ``grid`` is omitted or has the same edges. Any other ensemble (``interp``, ``quant``,
    ``mixmod``, scipy distributions, unequal bins) needs ``grid``: each bin gets the ensemble's
    probability between its edges, from the CDF, and rows are renormalised to the grid (mass
    outside ``[z_min, z_max]`` is dropped, as every zphot metric works on the grid).

    Parameters
    ----------
    ensemble : qp.Ensemble
    grid : RedshiftGrid, optional

    Raises
    ------
    ParameterError
        ``grid`` is needed and was not given.
    """
    name = type(ensemble.gen_obj).__name__.removesuffix("_gen")
    if name == "hist":
        edges = np.asarray(ensemble.metadata["bins"], dtype=np.float64).ravel()
        own = _uniform_grid(edges)
        if own is not None and (grid is None or np.array_equal(grid.edges, own.edges)):
            densities = np.asarray(ensemble.objdata["pdfs"], dtype=np.float64)
            return PDFBatch.normalised(densities.reshape(ensemble.npdf, -1) * own.width, own)
    if grid is None:
        raise ParameterError(
            f"a qp '{name}' ensemble has no equal-width zphot grid; pass grid=RedshiftGrid(...)"
        )
    cdf = np.asarray(ensemble.cdf(grid.edges), dtype=np.float64).reshape(ensemble.npdf, -1)
    return PDFBatch.normalised(np.diff(cdf, axis=1), grid)


def check_qp_path(path: str | os.PathLike) -> Path:
    """``path`` if zphot can write a qp file there (suffix, qp installed), else a clear error.

    Called before a long run starts, so a wrong name fails in a second, not at the end.
    """
    path = Path(path)
    if path.suffix != _SUFFIX:
        raise ParameterError(f"{path}: qp files are written as HDF5 named *{_SUFFIX}")
    _qp()
    return path


def write_qp_chunks(
    path: str | os.PathLike,
    chunks: Iterable[tuple[PDFBatch, Mapping[str, NDArray] | None]],
    n_total: int,
    kind: str = "hist",
    overwrite: bool = False,
) -> Path:
    """Write PDFs arriving in blocks to one qp HDF5 file, holding one block in memory at a time.

    Parameters
    ----------
    path : str or PathLike
        ``.hdf5`` file; written to a temporary name and renamed when complete.
    chunks : iterable of (PDFBatch, ancil)
        Consecutive blocks on one grid, with the same ancil columns and dtypes. Text is stored
        as UTF-8 bytes as wide as in the first block: pad longer text there.
    n_total : int
        Number of PDFs over all blocks.
    kind : {"hist", "interp"}
    overwrite : bool
        Replace an existing file.
    """
    path = check_qp_path(path)
    with atomic_path(path, overwrite=overwrite) as tmp:
        groups = fout = first = None
        widths: dict[str, int] = {}
        done = 0
        for batch, ancil in chunks:
            # HDF5 stores text as bytes: UTF-8, at the width the first block sets.
            ancil = {
                k: np.char.encode(v, "utf-8") if np.asarray(v).dtype.kind == "U" else v
                for k, v in (ancil or {}).items()
            }
            for k, v in ancil.items():
                if np.asarray(v).dtype.kind == "S":
                    if np.asarray(v).dtype.itemsize > widths.setdefault(k, v.dtype.itemsize):
                        raise ParameterError(
                            f"{path}: ancil column '{k}' holds text longer than the first "
                            f"block's {widths[k]} bytes; pad it to one width"
                        )
                    ancil[k] = np.asarray(v, dtype=f"S{widths[k]}")
            ens = to_qp(batch, kind, ancil or None)
            if first is None:
                first = ens
                groups, fout = ens.initializeHdf5Write(str(tmp), n_total)
            ens.writeHdf5Chunk(groups, done, done + len(batch))
            done += len(batch)
        if first is None or done != n_total:
            if fout is not None:
                fout.close()
            raise ParameterError(f"{path}: expected {n_total} PDFs, got {done}")
        first.finalizeHdf5Write(fout)
    return path


def write_qp(
    batch: PDFBatch,
    path: str | os.PathLike,
    ancil: Mapping[str, NDArray] | None = None,
    kind: str = "hist",
    overwrite: bool = False,
) -> Path:
    """Write PDFs (and optional per-object columns) as a qp Ensemble HDF5 file, atomically.

    Examples
    --------
    >>> import tempfile, os
    >>> g = RedshiftGrid(0.0, 1.0, 4)
    >>> path = os.path.join(tempfile.mkdtemp(), "pz.hdf5")
    >>> _ = write_qp(PDFBatch(np.array([[0.1, 0.6, 0.2, 0.1]]), g), path, {"id": np.array([7])})
    >>> batch, ancil = read_qp(path)
    >>> batch.probs.round(6).tolist(), ancil["id"].tolist()
    ([[0.1, 0.6, 0.2, 0.1]], [7])
    """
    return write_qp_chunks(path, [(batch, ancil)], len(batch), kind, overwrite)


def read_qp(
    path: str | os.PathLike, grid: RedshiftGrid | None = None
) -> tuple[PDFBatch, dict[str, NDArray]]:
    """Read a qp file (from zphot or any RAIL estimator) as PDFs on a zphot grid.

    Parameters
    ----------
    path : str or PathLike
        A qp Ensemble file (HDF5, FITS or Parquet, as qp writes them).
    grid : RedshiftGrid, optional
        Target grid; needed unless the file holds equal-width ``hist`` PDFs (see
        :func:`from_qp`).

    Returns
    -------
    batch : PDFBatch
    ancil : dict of str to ndarray
        The per-object columns (ids, ``zmode``...), empty if the file has none.

    See Also
    --------
    zphot.metrics.pdf_metrics : score the PDFs, e.g. ``pdf_metrics(b.probs, b.grid.edges, z)``.
    """
    qp = _qp()
    path = Path(path)
    if not path.is_file():
        raise FormatError(f"{path}: no such file")
    try:
        ens = qp.read(str(path))
    except (OSError, KeyError, ValueError, TypeError, RuntimeError) as exc:  # tables_io wraps
        raise FormatError(f"{path}: not a qp Ensemble file ({exc})") from exc
    ancil = {
        k: (np.char.decode(v, "utf-8") if np.asarray(v).dtype.kind == "S" else np.asarray(v))
        for k, v in (ens.ancil or {}).items()
    }
    return from_qp(ens, grid), ancil
