"""Readers and writers for each table format, registered with :mod:`zphot.io.registry`.

Kept in one small module because each format is a few lines over a well-kept library (pyarrow,
astropy, h5py, pandas, numpy); the registry is what the rest of zphot sees.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import FormatError
from .registry import register_format


def _decode_bytes(df: pd.DataFrame) -> pd.DataFrame:
    """Byte-string columns (FITS, NumPy, HDF5) become str, stripped, so selections compare text."""
    for col in df.columns:
        if df[col].dtype == object and len(df) and isinstance(df[col].iloc[0], bytes):
            df[col] = df[col].str.decode("utf-8").str.strip()
    return df


def _from_records(arr: np.ndarray) -> pd.DataFrame:
    if arr.dtype.names is None:
        raise FormatError("not a structured (record) array: column names are needed")
    cols = {}
    for name in arr.dtype.names:
        values = arr[name]
        if values.ndim != 1:
            raise FormatError(f"column '{name}' is multidimensional {values.shape}")
        if values.dtype.byteorder not in ("=", "|"):
            values = values.astype(values.dtype.newbyteorder("="))
        cols[name] = values
    return _decode_bytes(pd.DataFrame(cols))


# --- Parquet ----------------------------------------------------------------------------------


def read_parquet(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    import pyarrow.parquet as pq

    return pq.read_table(path, columns=columns).to_pandas()


def write_parquet(table: pd.DataFrame, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pandas(table, preserve_index=False), path)


# --- FITS -------------------------------------------------------------------------------------


def table_hdu(hdul: Any, hdu: int | str | None, path: Path) -> Any:
    """The HDU holding the table: ``hdu`` if given, else the first table extension.

    A file with only a primary HDU (an image, or an empty table written wrongly) is a one-line
    error naming the HDUs present, never an IndexError.
    """
    names = [f"{i}:{h.name}({type(h).__name__})" for i, h in enumerate(hdul)]
    if hdu is None:
        for h in hdul:
            if getattr(h, "is_image", True) is False:
                return h
        raise FormatError(
            f"{path}: no table HDU (the file holds {', '.join(names)}); "
            "zphot reads a FITS binary or ASCII table extension"
        )
    try:
        found = hdul[hdu]
    except (IndexError, KeyError):
        raise FormatError(f"{path}: no HDU {hdu!r} (the file holds {', '.join(names)})") from None
    if getattr(found, "is_image", True) is not False:
        raise FormatError(f"{path}: HDU {hdu!r} holds no table (the file holds {', '.join(names)})")
    return found


def read_fits(path: Path, hdu: int | str | None = None) -> pd.DataFrame:
    from astropy.io import fits

    with fits.open(path, memmap=False) as hdul:
        data = table_hdu(hdul, hdu, path).data
        if data is None or data.dtype.names is None:
            raise FormatError(f"{path}: HDU {hdu} holds no table")
        # Field access on the FITS_rec (not its raw buffer) applies TZERO/TSCAL and logicals.
        return _from_records(data)


def write_fits(table: pd.DataFrame, path: Path) -> None:
    from astropy.table import Table

    Table.from_pandas(table).write(path, format="fits", overwrite=True)


# --- HDF5 -------------------------------------------------------------------------------------


def read_hdf5(path: Path, key: str | None = None) -> pd.DataFrame:
    """Read a group of equal-length 1-D datasets (tables_io / RAIL layout) or a compound dataset.

    Without ``key`` the root is used if it holds datasets, else its only group (DC2's
    ``photometry``).
    """
    import h5py

    with h5py.File(path, "r") as fh:
        node = hdf5_table_node(fh, key)
        if isinstance(node, h5py.Dataset):
            return _from_records(node[()])
        cols = {k: v[()] for k, v in node.items() if isinstance(v, h5py.Dataset) and v.ndim == 1}
        lengths = {len(v) for v in cols.values()}
        if len(lengths) != 1:
            raise FormatError(f"datasets in '{node.name}' have different lengths {sorted(lengths)}")
        return _decode_bytes(pd.DataFrame(cols))


def hdf5_table_node(fh: object, key: str | None = None) -> object:
    """The HDF5 node holding the table: ``key``; else the root, or its only group (DC2's
    ``photometry``); inside it, its only compound dataset (the layout astropy writes)."""
    import h5py

    node = fh[key] if key else fh
    if not key and is_qp_layout(fh):
        raise FormatError(
            f"{fh.filename}: a qp Ensemble file (PDFs), not a table; zphot evaluate and zphot "
            "info read it, and zphot.pdf.qp.read_qp in Python"
        )
    if isinstance(node, h5py.Group) and not any(isinstance(v, h5py.Dataset) for v in node.values()):
        groups = [k for k, v in node.items() if isinstance(v, h5py.Group)]
        if len(groups) != 1:
            raise FormatError(
                f"{fh.filename}: groups {', '.join(groups) or '(none)'} but no table at the top "
                "level; copy the catalog's group into a file of its own (h5copy -s /GROUP "
                "-d /GROUP), or pass key=GROUP in Python"
            )
        node = node[groups[0]]
    if isinstance(node, h5py.Group):
        tables = [v for v in node.values() if isinstance(v, h5py.Dataset) and v.dtype.names]
        if len(tables) == 1:
            node = tables[0]
    return node


def is_qp_layout(node: object) -> bool:
    """Whether an open HDF5 file is laid out as a qp Ensemble (``meta/pdf_name`` and ``data``)."""
    import h5py

    meta = node.get("meta") if isinstance(node, h5py.Group) else None
    return isinstance(meta, h5py.Group) and "pdf_name" in meta and "data" in node


def is_qp_file(path: str | os.PathLike) -> bool:
    """Whether ``path`` is an HDF5 file laid out as a qp Ensemble (from zphot, RAIL or qp)."""
    import h5py

    path = Path(path)
    if not path.is_file():
        return False
    with open(path, "rb") as fh:
        if not fh.read(8).startswith(b"\x89HDF\r\n\x1a\n"):
            return False
    with h5py.File(path, "r") as fh:
        return is_qp_layout(fh)


def write_hdf5(table: pd.DataFrame, path: Path) -> None:
    import h5py

    # Creation order tracked, so the columns read back in the order they were written.
    with h5py.File(path, "w", track_order=True) as fh:
        for col in table.columns:
            values = table[col].to_numpy()
            if values.dtype == object:  # text as UTF-8 bytes ("S" alone fails on non-ASCII)
                values = np.char.encode(values.astype(str), "utf-8")
            fh.create_dataset(str(col), data=values)


# --- CSV --------------------------------------------------------------------------------------


def read_csv(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    sep = "\t" if path.suffix.lower() == ".tsv" else ","
    return pd.read_csv(path, sep=sep, comment="#", usecols=columns)


def write_csv(table: pd.DataFrame, path: Path) -> None:
    table.to_csv(path, index=False)


# --- ECSV (CSV with astropy's YAML header: units, descriptions, metadata) ----------------------


def read_ecsv(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    from astropy.table import Table

    table = Table.read(path, format="ascii.ecsv")
    frame = table.to_pandas(index=False)
    return _decode_bytes(frame[columns] if columns else frame)


def write_ecsv(table: pd.DataFrame, path: Path) -> None:
    from astropy.table import Table

    Table.from_pandas(table).write(path, format="ascii.ecsv", delimiter=",", overwrite=True)


# --- NumPy structured .npy --------------------------------------------------------------------


def read_npy(path: Path) -> pd.DataFrame:
    return _from_records(np.load(path, allow_pickle=False))


def write_npy(table: pd.DataFrame, path: Path) -> None:
    # Text columns arrive as object arrays, which np.save can only pickle; as fixed-width
    # unicode they are plain bytes that read back with allow_pickle=False.
    columns = [table[c].to_numpy() for c in table.columns]
    columns = [v.astype(str) if v.dtype == object else v for v in columns]
    records = np.rec.fromarrays(columns, names=[str(c) for c in table.columns])
    with open(path, "wb") as fh:
        np.save(fh, records, allow_pickle=False)


register_format("parquet", (".parquet", ".pq"), b"PAR1", read_parquet, write_parquet)
register_format("fits", (".fits", ".fit", ".fits.gz"), b"SIMPLE  =", read_fits, write_fits)
register_format("hdf5", (".hdf5", ".h5", ".hdf"), b"\x89HDF\r\n\x1a\n", read_hdf5, write_hdf5)
register_format("npy", (".npy",), b"\x93NUMPY", read_npy, write_npy)
register_format("ecsv", (".ecsv",), None, read_ecsv, write_ecsv)  # before csv: .ecsv ends in .csv
register_format("csv", (".csv", ".tsv", ".txt"), None, read_csv, write_csv)
