"""One read/write entry point for tables, dispatching on the file's format.

As astropy's I/O registry does: a format is identified from the file's magic bytes first, then
its suffix; each format module registers a reader, a writer and its signatures. Optional backends
are imported inside the reader, so a missing one is named in the error.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..exceptions import FormatError
from .atomic import atomic_path

__all__ = ["register_format", "identify_format", "read_table", "write_table", "FORMATS"]

Reader = Callable[..., pd.DataFrame]
Writer = Callable[[pd.DataFrame, Path], None]


@dataclass(frozen=True)
class Format:
    name: str
    suffixes: tuple[str, ...]
    magic: bytes | None
    reader: Reader
    writer: Writer


FORMATS: dict[str, Format] = {}


def register_format(
    name: str, suffixes: tuple[str, ...], magic: bytes | None, reader: Reader, writer: Writer
) -> None:
    """Register a table format; called once by each format module at import."""
    FORMATS[name] = Format(name, suffixes, magic, reader, writer)


def _known() -> str:
    return ", ".join(f"{f.name} ({'/'.join(f.suffixes)})" for f in FORMATS.values())


def identify_format(path: str | os.PathLike, for_writing: bool = False) -> str:
    """Name the format of ``path``: magic bytes of an existing file first, then the suffix."""
    path = Path(path)
    if not for_writing and path.is_file():
        with open(path, "rb") as fh:
            head = fh.read(16)
        for fmt in FORMATS.values():
            if fmt.magic is not None and head.startswith(fmt.magic):
                return fmt.name
    suffix = "".join(path.suffixes[-2:]).lower() if path.suffixes else ""
    for fmt in FORMATS.values():
        if any(suffix.endswith(s) for s in fmt.suffixes):
            return fmt.name
    raise FormatError(f"{path}: unknown table format (known: {_known()}); pass format=NAME")


def read_table(
    path: str | os.PathLike, format: str | None = None, **kwargs: object
) -> pd.DataFrame:
    """Read a whole table into a DataFrame.

    Parameters
    ----------
    path : str or PathLike
        Parquet, FITS, HDF5, CSV or NumPy structured ``.npy`` file.
    format : str, optional
        Force a format instead of identifying it.
    **kwargs
        Passed to the format's reader (e.g. ``key`` for an HDF5 group).
    """
    path = Path(path)
    if not path.exists():
        raise FormatError(f"{path}: no such file")
    name = format or identify_format(path)
    if name not in FORMATS:
        raise FormatError(f"{path}: unknown format '{name}' (known: {_known()})")
    try:
        return FORMATS[name].reader(path, **kwargs)
    except (OSError, ValueError, KeyError) as exc:
        if isinstance(exc, FormatError):
            raise
        raise FormatError(f"{path}: cannot read as {name}: {exc}") from exc


def write_table(
    table: pd.DataFrame,
    path: str | os.PathLike,
    format: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Write ``table`` atomically (temp file, fsync, rename); refuse to overwrite by default."""
    path = Path(path)
    name = format or identify_format(path, for_writing=True)
    with atomic_path(path, overwrite=overwrite) as tmp:
        FORMATS[name].writer(table, tmp)
    return path
