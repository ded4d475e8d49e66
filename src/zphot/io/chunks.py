"""Read a table a block of rows at a time, so memory does not grow with the catalog.

Each format is read through the cheapest slicing its library offers: Parquet through pyarrow's
``iter_batches`` (a file, or a folder of files as a dataset), FITS through an astropy memory map,
HDF5 through h5py dataset slices, NumPy ``.npy`` through ``mmap_mode``, and CSV through pandas'
``chunksize``. Every reader yields ``(start, stop, frame)`` with fixed boundaries
``[k * chunk_size, (k + 1) * chunk_size)``, so a chunk is the same rows whichever run reads it
and a resumed run can start at any boundary.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import FormatError, ParameterError
from .formats import _decode_bytes
from .registry import identify_format

__all__ = ["ChunkedTable", "open_chunked", "iter_chunks", "parquet_files"]

Chunk = tuple[int, int, pd.DataFrame]


def parquet_files(path: str | os.PathLike) -> list[Path]:
    """The Parquet files of a file or a dataset folder, in name order.

    Names starting with ``.`` or ``_`` (``_metadata``, work folders, manifests) are skipped, as
    pyarrow's and Dask's dataset readers skip them, so every reader sees the same rows in the
    same order.
    """
    path = Path(path)
    if path.is_file():
        return [path]
    files = sorted(
        p
        for p in path.rglob("*.parquet")
        if not any(part.startswith((".", "_")) for part in p.relative_to(path).parts)
    )
    if not files:
        raise FormatError(f"{path}: folder holds no .parquet files")
    return files


@dataclass
class ChunkedTable:
    """A table on disk that can be read in row blocks.

    Attributes
    ----------
    path : Path
    format : str
        One of the registered format names (``parquet``, ``fits``, ``hdf5``, ``npy``, ``csv``).
    columns : list of str
        Every column in the file, in file order.
    n_rows : int or None
        Row count, or ``None`` where it would take a pass over the file (CSV).
    """

    path: Path
    format: str
    columns: list[str]
    n_rows: int | None
    options: dict[str, Any]

    def chunks(
        self, chunk_size: int, columns: Sequence[str] | None = None, start: int = 0
    ) -> Iterator[Chunk]:
        """Yield ``(start, stop, frame)`` for consecutive row blocks from row ``start``.

        Parameters
        ----------
        chunk_size : int
            Rows per block; the last block may be shorter.
        columns : sequence of str, optional
            Read only these columns (in this order); all columns by default.
        start : int
            First row to read; a multiple of ``chunk_size`` keeps the usual boundaries.
        """
        if chunk_size < 1:
            raise ParameterError(f"chunk_size must be a positive integer, got {chunk_size}")
        cols = list(self.columns if columns is None else columns)
        missing = [c for c in cols if c not in self.columns]
        if missing:
            raise FormatError(f"{self.path}: no column(s) {missing} (have {self.columns})")
        reader = {
            "parquet": _parquet_chunks,
            "fits": _fits_chunks,
            "hdf5": _hdf5_chunks,
            "npy": _npy_chunks,
            "csv": _csv_chunks,
        }[self.format]
        yield from reader(self, chunk_size, cols, start)


def open_chunked(
    path: str | os.PathLike, format: str | None = None, **options: Any
) -> ChunkedTable:
    """Describe a table file (or Parquet dataset folder) for chunked reading.

    Parameters
    ----------
    path : str or PathLike
        Parquet file or folder of Parquet files, FITS, HDF5, CSV or structured ``.npy``.
    format : str, optional
        Force a format instead of identifying it from magic bytes and suffix.
    **options
        ``hdu`` for FITS (default: the first table extension), ``key`` for an HDF5 group or dataset.

    Examples
    --------
    >>> import tempfile, os, pandas as pd
    >>> path = os.path.join(tempfile.mkdtemp(), "t.parquet")
    >>> pd.DataFrame({"a": range(5)}).to_parquet(path)
    >>> table = open_chunked(path)
    >>> table.n_rows, [(lo, hi) for lo, hi, _ in table.chunks(2)]
    (5, [(0, 2), (2, 4), (4, 5)])
    """
    path = Path(path)
    if not path.exists():
        raise FormatError(f"{path}: no such file")
    name = "parquet" if path.is_dir() else (format or identify_format(path))
    opener = {
        "parquet": _parquet_info,
        "fits": _fits_info,
        "hdf5": _hdf5_info,
        "npy": _npy_info,
        "csv": _csv_info,
    }
    if name not in opener:
        raise FormatError(f"{path}: format '{name}' cannot be read in chunks")
    try:
        columns, n_rows = opener[name](path, **options)
    except (OSError, ValueError, KeyError) as exc:
        if isinstance(exc, FormatError):
            raise
        raise FormatError(f"{path}: cannot read as {name}: {exc}") from exc
    return ChunkedTable(path, name, columns, n_rows, options)


def iter_chunks(
    path: str | os.PathLike,
    chunk_size: int,
    columns: Sequence[str] | None = None,
    start: int = 0,
    format: str | None = None,
    **options: Any,
) -> Iterator[Chunk]:
    """Shortcut for ``open_chunked(path, format, **options).chunks(chunk_size, columns, start)``."""
    yield from open_chunked(path, format, **options).chunks(chunk_size, columns, start)


def _fields(records: Any, columns: Sequence[str]) -> pd.DataFrame:
    """Columns of a structured array (or FITS_rec) as a DataFrame in native byte order."""
    out = {}
    for name in columns:
        values = np.asarray(records[name])
        if values.ndim != 1:
            raise FormatError(f"column '{name}' is multidimensional {values.shape}")
        if values.dtype.byteorder not in ("=", "|"):
            values = values.astype(values.dtype.newbyteorder("="))
        out[name] = values
    return _decode_bytes(pd.DataFrame(out))


def _blocks(n_rows: int, chunk_size: int, start: int) -> Iterator[tuple[int, int]]:
    for lo in range(start, n_rows, chunk_size):
        yield lo, min(lo + chunk_size, n_rows)


# --- Parquet: pyarrow batches, re-cut to exact chunk boundaries ---------------------------------


def _parquet_info(path: Path) -> tuple[list[str], int]:
    import pyarrow.parquet as pq

    files = parquet_files(path)
    schema = pq.read_schema(files[0])
    n_rows = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
    return [n for n in schema.names if not n.startswith("__index_level_")], n_rows


def _parquet_chunks(
    table: ChunkedTable, chunk_size: int, columns: list[str], start: int
) -> Iterator[Chunk]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pending: list[pa.RecordBatch] = []
    n_pending = 0
    lo = start
    offset = 0  # first global row of the current file
    for file in parquet_files(table.path):
        # Without pre-buffering, pyarrow reads a row group's pages as they are decoded instead
        # of holding whole column chunks: peak memory is then set by the chunk, not the file's
        # row groups (half the reader's peak on 1M-row groups).
        pf = pq.ParquetFile(file, pre_buffer=False)
        meta = pf.metadata
        if offset + meta.num_rows <= start:
            offset += meta.num_rows
            continue
        # Skip whole row groups before ``start`` without reading them.
        groups, skip = [], start - offset
        for g in range(meta.num_row_groups):
            n = meta.row_group(g).num_rows
            if skip >= n and not groups:
                skip -= n
                continue
            groups.append(g)
        skip = max(skip, 0)
        for batch in pf.iter_batches(
            batch_size=min(chunk_size, 65536), row_groups=groups, columns=columns
        ):
            if skip:
                cut = min(skip, batch.num_rows)
                batch, skip = batch.slice(cut), skip - cut
            pending.append(batch)
            n_pending += batch.num_rows
            while n_pending >= chunk_size:
                whole = pa.Table.from_batches(pending)
                head, rest = whole.slice(0, chunk_size), whole.slice(chunk_size)
                yield lo, lo + chunk_size, head.to_pandas()  # one copy, batches joined
                lo += chunk_size
                pending, n_pending = rest.to_batches(), rest.num_rows
        offset += meta.num_rows
    if n_pending:
        yield lo, lo + n_pending, pa.Table.from_batches(pending).to_pandas()


# --- FITS: memory-mapped binary table ------------------------------------------------------------


def _fits_info(path: Path, hdu: int | str | None = None) -> tuple[list[str], int]:
    from astropy.io import fits

    from .formats import table_hdu

    with fits.open(path, memmap=True) as hdul:
        header = table_hdu(hdul, hdu, path).header
        names = [header[f"TTYPE{i}"] for i in range(1, header["TFIELDS"] + 1)]
        return names, int(header["NAXIS2"])


def _fits_chunks(
    table: ChunkedTable, chunk_size: int, columns: list[str], start: int
) -> Iterator[Chunk]:
    from astropy.io import fits

    from .formats import table_hdu

    with fits.open(table.path, memmap=True) as hdul:
        data = table_hdu(hdul, table.options.get("hdu"), table.path).data
        for lo, hi in _blocks(len(data), chunk_size, start):
            # Field access on the FITS_rec slice applies TZERO/TSCAL and reads only these rows.
            yield lo, hi, _fields(data[lo:hi], columns)


# --- HDF5: a group of equal-length 1-D datasets, or one compound dataset -------------------------


def _hdf5_node(fh: Any, key: str | None) -> Any:
    """The node ``read_hdf5`` reads (see :func:`zphot.io.formats.hdf5_table_node`)."""
    from .formats import hdf5_table_node

    return hdf5_table_node(fh, key)


def _hdf5_layout(node: Any) -> tuple[list[str], int]:
    import h5py

    if isinstance(node, h5py.Dataset):
        if node.dtype.names is None:
            raise FormatError(f"dataset '{node.name}' is not a table (no named fields)")
        return list(node.dtype.names), len(node)
    cols = {k: len(v) for k, v in node.items() if isinstance(v, h5py.Dataset) and v.ndim == 1}
    if len(set(cols.values())) != 1:
        raise FormatError(
            f"datasets in '{node.name}' have different lengths {sorted(set(cols.values()))}"
        )
    return list(cols), next(iter(cols.values()))


def _hdf5_info(path: Path, key: str | None = None) -> tuple[list[str], int]:
    import h5py

    with h5py.File(path, "r") as fh:
        return _hdf5_layout(_hdf5_node(fh, key))


def _hdf5_chunks(
    table: ChunkedTable, chunk_size: int, columns: list[str], start: int
) -> Iterator[Chunk]:
    import h5py

    with h5py.File(table.path, "r") as fh:
        node = _hdf5_node(fh, table.options.get("key"))
        _, n_rows = _hdf5_layout(node)
        for lo, hi in _blocks(n_rows, chunk_size, start):
            if isinstance(node, h5py.Dataset):
                yield lo, hi, _fields(node[lo:hi], columns)
            else:
                yield lo, hi, _decode_bytes(pd.DataFrame({c: node[c][lo:hi] for c in columns}))


# --- NumPy structured .npy: memory map -----------------------------------------------------------


def _npy_info(path: Path) -> tuple[list[str], int]:
    arr = np.load(path, mmap_mode="r", allow_pickle=False)
    if arr.dtype.names is None:
        raise FormatError(f"{path}: not a structured (record) array: column names are needed")
    return list(arr.dtype.names), len(arr)


def _npy_chunks(
    table: ChunkedTable, chunk_size: int, columns: list[str], start: int
) -> Iterator[Chunk]:
    arr = np.load(table.path, mmap_mode="r", allow_pickle=False)
    for lo, hi in _blocks(len(arr), chunk_size, start):
        yield lo, hi, _fields(arr[lo:hi], columns)


# --- CSV: pandas chunks (rows before ``start`` are parsed and dropped) ---------------------------


def _csv_sep(path: Path) -> str:
    return "\t" if path.suffix.lower() == ".tsv" else ","


def _csv_info(path: Path) -> tuple[list[str], None]:
    head = pd.read_csv(path, sep=_csv_sep(path), comment="#", nrows=0)
    return list(map(str, head.columns)), None


def _csv_chunks(
    table: ChunkedTable, chunk_size: int, columns: list[str], start: int
) -> Iterator[Chunk]:
    # Comment lines make physical line numbers useless for seeking, so a resumed CSV read
    # parses the rows it skips: CSV is the slow path, and Parquet the format for large runs.
    reader = pd.read_csv(
        table.path, sep=_csv_sep(table.path), comment="#", usecols=columns, chunksize=chunk_size
    )
    lo = 0
    with reader:
        for frame in reader:
            hi = lo + len(frame)
            if hi > start:
                frame = frame.iloc[max(start - lo, 0) :].reset_index(drop=True)
                yield max(lo, start), hi, frame[columns]
            lo = hi
