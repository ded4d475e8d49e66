"""One prediction file from numbered Parquet parts, in the format its suffix names.

Streamed prediction (:mod:`zphot.scale.stream`) always writes Parquet parts, which makes resuming
exact whatever the final format; this module joins them, one part in memory at a time, into
Parquet, FITS (binary table), HDF5, ECSV or plain CSV. Each format is written so that
``astropy.table.Table.read`` returns the units and descriptions of :mod:`zphot.io.columns` and the
run's provenance as ``Table.meta``:

- Parquet: astropy's own ``table_meta_yaml`` schema metadata (plus ``table::len::`` for text).
- FITS: ``TUNITn``, ``TCOMMn`` and a comment on each ``TTYPEn`` card for any FITS reader, and
  astropy's serialized-columns comment block for the descriptions; provenance as header keywords.
- HDF5: one compound dataset ``predictions`` with astropy's ``__table_column_meta__`` beside it,
  and the provenance as the dataset's attributes as well.
- ECSV: astropy's YAML header, comma-delimited rows. Plain CSV cannot carry units or
  descriptions: it holds the column names and rows only.

Every file is written through :func:`zphot.io.atomic.atomic_path`.
"""

from __future__ import annotations

import io
import itertools
import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..exceptions import CatalogError, ParameterError
from .atomic import atomic_path
from .columns import output_table

__all__ = ["OUTPUT_SUFFIXES", "output_format", "assemble_parts", "read_provenance"]

#: Output suffix -> format. ``.ecsv`` is CSV with units, descriptions and metadata.
OUTPUT_SUFFIXES: dict[str, str] = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".fits": "fits",
    ".fit": "fits",
    ".h5": "hdf5",
    ".hdf5": "hdf5",
    ".ecsv": "ecsv",
    ".csv": "csv",
}
HDF5_DATASET = "predictions"


def output_format(path: str | os.PathLike) -> str:
    """The format a prediction file named ``path`` is written in, from its suffix."""
    suffix = Path(path).suffix.lower()
    if suffix not in OUTPUT_SUFFIXES:
        accepted = ", ".join(OUTPUT_SUFFIXES)
        raise ParameterError(
            f"{path}: unknown output suffix {suffix or '(none)'!r}; name the file with one of "
            f"{accepted} (.ecsv is CSV with units)"
        )
    return OUTPUT_SUFFIXES[suffix]


# --- reading the parts ------------------------------------------------------------------------


def _parts(parts: Sequence[Path]) -> Any:
    """Each part as an Arrow table cast to the first part's schema (one in memory at a time)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pq.read_schema(parts[0])
    for part in parts:
        table = pq.read_table(part)
        if not table.schema.equals(schema, check_metadata=False):
            try:
                table = table.cast(schema)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise CatalogError(
                    f"{part.name}: column types differ from the first chunk's ({exc}); a CSV "
                    "column typed differently in some rows? convert the catalog to Parquet first"
                ) from exc
        yield table


def _text_widths(parts: Sequence[Path]) -> dict[str, tuple[int, int]]:
    """Longest text of each string column over all parts: (characters, UTF-8 bytes), so fixed
    width formats size the column once for the whole file."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    schema = pq.read_schema(parts[0])
    names = [
        f.name for f in schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
    ]
    widths = {name: (1, 1) for name in names}
    for part in parts if names else []:
        table = pq.read_table(part, columns=names)
        for name in names:
            chars = pc.max(pc.utf8_length(table[name])).as_py() or 1
            nbytes = pc.max(pc.binary_length(table[name])).as_py() or 1
            old = widths[name]
            widths[name] = (max(old[0], chars), max(old[1], nbytes))
    return widths


def _described(
    table: Any, meta: Mapping[str, Any], widths: Mapping[str, tuple[int, int]], as_bytes: bool
) -> Any:
    """A part (Arrow table) as an astropy Table with units and descriptions, its text columns
    of one width over the whole file: UTF-8 bytes (FITS, HDF5) or str (Parquet, ECSV)."""
    from astropy.table import Column

    described = output_table(table.to_pandas(), meta)
    for name, (chars, nbytes) in widths.items():
        text = np.asarray(described[name]).astype(str)
        values = np.char.encode(text, "utf-8").astype(f"S{nbytes}") if as_bytes else text
        old = described[name]
        new = Column(
            values.astype(f"U{chars}") if not as_bytes else values,
            name=name,
            unit=old.unit,
            description=old.description,
        )
        described.replace_column(name, new)
    return described


def _first(parts: Sequence[Path], n: int = 0) -> Any:
    import pyarrow.parquet as pq

    return pq.read_table(parts[0]).slice(0, n)


# --- one writer per format --------------------------------------------------------------------


def _write_parquet(parts: Sequence[Path], path: Path, meta: Mapping[str, Any]) -> None:
    import pyarrow.parquet as pq
    from astropy.table import meta as table_meta

    widths = _text_widths(parts)
    described = _described(_first(parts), meta, widths, as_bytes=False)
    extra = {f"table::len::{name}": str(chars) for name, (chars, _) in widths.items()}
    extra["table_meta_yaml"] = "\n".join(table_meta.get_yaml_from_table(described))
    schema = pq.read_schema(parts[0])
    metadata = dict(schema.metadata or {}) | {k.encode(): v.encode() for k, v in extra.items()}
    with pq.ParquetWriter(path, schema.with_metadata(metadata)) as writer:
        for table in _parts(parts):
            writer.write_table(table.replace_schema_metadata(metadata))


def _records(table: Any, dtype: np.dtype, fits: bool = False) -> NDArray:
    """A part's rows as one structured array of ``dtype`` (the whole file's), built column by
    column: text as UTF-8 bytes of the file's width, FITS logicals as the bytes ``T``/``F``."""
    records = np.empty(table.num_rows, dtype=dtype)
    for name in dtype.names:
        values = table[name].to_numpy(zero_copy_only=False)
        if values.dtype == object or values.dtype.kind == "U":
            values = np.char.encode(values.astype(str), "utf-8")
        elif fits and values.dtype == bool:
            values = np.where(values, ord("T"), ord("F"))
        records[name] = values
    return records


def _fits_table(table: Any, meta: Mapping[str, Any], widths: Mapping[str, tuple[int, int]]) -> Any:
    described = _described(table, meta, widths, as_bytes=True)
    for name in described.colnames:  # FITS has no 16-bit float: stored as float32, exactly
        if described[name].dtype == np.float16:
            described[name] = described[name].astype(np.float32)
    described.meta.clear()  # provenance goes in as keywords of our own, see _fits_header
    return described


def _fits_header(parts: Sequence[Path], meta: Mapping[str, Any], n_rows: int) -> Any:
    """The binary-table header astropy writes for these columns (with its serialized column
    descriptions), plus the row count, TCOMMn, TTYPEn comments and provenance keywords; and
    the big-endian record type of one row."""
    import warnings

    from astropy.io import fits
    from astropy.io.fits.verify import VerifyWarning

    empty = _fits_table(_first(parts), meta, _text_widths(parts))
    dtype = np.asarray(fits.table_to_hdu(empty).data).dtype
    buf = io.BytesIO()
    empty.write(buf, format="fits")
    header = fits.getheader(io.BytesIO(buf.getvalue()), 1)
    header["NAXIS2"] = n_rows
    with warnings.catch_warnings():  # long keywords become HIERARCH cards, as intended
        warnings.simplefilter("ignore", VerifyWarning)
        for j, name in enumerate(empty.colnames, start=1):
            text = empty[name].description
            header.comments[f"TTYPE{j}"] = text
            header.append((f"TCOMM{j}", text), end=True)
        for key, value in meta.items():
            for item in value if isinstance(value, list) else [value]:
                header.append((key, item), end=True)
    return header, dtype.newbyteorder(">")


def _write_fits(parts: Sequence[Path], path: Path, meta: Mapping[str, Any]) -> None:
    import warnings

    from astropy.io import fits
    from astropy.io.fits.verify import VerifyWarning

    header, dtype = _fits_header(parts, meta, sum(_rows(p) for p in parts))
    fits.PrimaryHDU().writeto(path)
    written = 0
    with open(path, "ab") as fh:
        with warnings.catch_warnings():  # TTYPEn comments longer than the card are cut
            warnings.simplefilter("ignore", VerifyWarning)
            fh.write(header.tostring().encode("ascii"))
        for table in _parts(parts):
            data = _records(table, dtype, fits=True)
            fh.write(data.tobytes())
            written += data.nbytes
        fh.write(b"\0" * (-written % 2880))


def _write_hdf5(parts: Sequence[Path], path: Path, meta: Mapping[str, Any]) -> None:
    import h5py
    from astropy.table import meta as table_meta

    widths = _text_widths(parts)
    described = _described(_first(parts), meta, widths, as_bytes=True)
    yaml = [line.encode("utf-8") for line in table_meta.get_yaml_from_table(described)]
    dtype = described.as_array().dtype
    with h5py.File(path, "w") as fh:
        data = fh.create_dataset(HDF5_DATASET, shape=(sum(_rows(p) for p in parts),), dtype=dtype)
        data.attrs.update(dict(meta))
        fh.create_dataset(f"{HDF5_DATASET}.__table_column_meta__", data=np.array(yaml))
        done = 0
        for table in _parts(parts):
            records = _records(table, dtype)
            data[done : done + len(records)] = records
            done += len(records)


def _write_text(
    parts: Sequence[Path], path: Path, meta: Mapping[str, Any], with_header: bool
) -> None:
    widths = _text_widths(parts)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        if with_header:
            buf = io.StringIO()
            _described(_first(parts), meta, widths, as_bytes=False).write(
                buf, format="ascii.ecsv", delimiter=","
            )
            fh.write(buf.getvalue())
        for k, table in enumerate(_parts(parts)):
            header = k == 0 and not with_header
            table.to_pandas().to_csv(fh, index=False, header=header, na_rep="nan")


def _rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows


_WRITERS: dict[str, Callable[[Sequence[Path], Path, Mapping[str, Any]], None]] = {
    "parquet": _write_parquet,
    "fits": _write_fits,
    "hdf5": _write_hdf5,
    "ecsv": lambda parts, path, meta: _write_text(parts, path, meta, True),
    "csv": lambda parts, path, meta: _write_text(parts, path, meta, False),
}


def assemble_parts(
    parts: Sequence[Path],
    out: str | os.PathLike,
    meta: Mapping[str, Any],
    format: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Join Parquet ``parts`` (same columns, in row order) into ``out``, atomically.

    Parameters
    ----------
    parts : sequence of Path
        Parquet files, at least one (it may hold zero rows).
    out : str or PathLike
        The file to write; its suffix names the format unless ``format`` is given.
    meta : mapping
        Provenance for the table metadata: str, int, float or lists of them (nested
        mappings are left out; Parquet keeps them in the parts' own ``zphot`` JSON key).
    format : {"parquet", "fits", "hdf5", "ecsv", "csv"}, optional
    overwrite : bool
        Replace an existing ``out``.
    """
    fmt = format or output_format(out)
    flat = {k: v for k, v in meta.items() if not isinstance(v, dict)}
    with atomic_path(out, overwrite=overwrite) as tmp:
        tmp.unlink()  # the writers create the file (FITS appends to it)
        _WRITERS[fmt](list(parts), tmp, flat)
    return Path(out)


def read_provenance(path: str | os.PathLike) -> dict[str, Any]:
    """The provenance a prediction file holds (see :func:`zphot.scale.parts.file_metadata`),
    read from its metadata only: the same flat mapping for every format, keys lower case,
    ``{}`` for a file without any (plain CSV).
    """
    import json

    path = Path(path)
    fmt = OUTPUT_SUFFIXES.get(path.suffix.lower())
    if fmt == "parquet":
        import pyarrow.parquet as pq

        raw = (pq.read_schema(path).metadata or {}).get(b"zphot")
        meta = json.loads(raw) if raw else {}
        return {k: v for k, v in meta.items() if not isinstance(v, dict)}
    if fmt == "fits":
        from astropy.io import fits

        meta: dict[str, Any] = {}
        for key, value in fits.getheader(path, 1).items():
            if not _FITS_STRUCTURE.fullmatch(key):
                old = meta.get(key.lower())
                meta[key.lower()] = value if old is None else [*np.atleast_1d(old).tolist(), value]
        return meta
    if fmt == "hdf5":
        import h5py

        with h5py.File(path, "r") as fh:
            node = fh.get(HDF5_DATASET)
            return {} if node is None else {k: _plain(v) for k, v in node.attrs.items()}
    if fmt == "ecsv":
        from astropy.table import meta as table_meta

        with open(path, encoding="utf-8") as fh:
            header = itertools.takewhile(lambda line: line.startswith("#"), fh)
            lines = [line[2:].rstrip("\n") for line in header][1:]  # after "%ECSV 1.0"
        return dict(table_meta.get_header_from_yaml(lines).get("meta", {}))
    return {}


# Keywords of the binary table itself, not of the provenance.
_FITS_STRUCTURE = re.compile(
    r"XTENSION|BITPIX|NAXIS\d*|PCOUNT|GCOUNT|TFIELDS|EXTNAME|COMMENT|HISTORY|"
    r"T(?:TYPE|FORM|UNIT|COMM|DISP|NULL|SCAL|ZERO|DIM)\d+"
)


def _plain(value: Any) -> Any:
    """An HDF5 attribute as a Python value (NumPy scalars and arrays to numbers and lists)."""
    return value.tolist() if isinstance(value, np.ndarray | np.generic) else value
