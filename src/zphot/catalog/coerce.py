"""Whatever table a user holds in Python -> :class:`Catalog`, and predictions back to that type.

Every public entry point (``read_catalog``, an estimator's ``fit``/``predict``/``predict_pdf``/
``predict_table``) calls :func:`as_catalog` first, so all of them take the same inputs: a
Catalog, a pandas DataFrame, an astropy Table (masked values become missing; Quantity columns
in mag, or flux densities converted to the band's unit), a structured NumPy array, a file path
or ``builtin:NAME``. :func:`like_input` turns a prediction table back into the type given.

astropy.table is never imported here unless the caller passed a Table (so it is loaded already).
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..datasets import resolve_catalog
from ..exceptions import CatalogError, InputTypeError, ParameterError
from ..io import read_table
from ..io.formats import _decode_bytes, _from_records
from .bands import Survey
from .catalog import Catalog, require_measured
from .survey import list_presets, load_survey
from .validate import report_screening

__all__ = [
    "ACCEPTED",
    "as_catalog",
    "guess_preset",
    "like_input",
    "read_catalog",
]


#: What every entry point takes, as its errors word it.
ACCEPTED = (
    "a Catalog, pandas DataFrame, astropy Table, structured NumPy array, file path or "
    "'builtin:NAME'"
)

_OPTIONAL_ROLES = ("id", "ra", "dec")


def as_catalog(
    obj: Any,
    survey: str | os.PathLike | Survey | None = None,
    *,
    default: Survey | None = None,
    what: str = "catalog",
    format: str | None = None,
    **read_kwargs: object,
) -> Catalog:
    """``obj`` as a :class:`Catalog`, its columns mapped to bands by a survey.

    Parameters
    ----------
    obj : Catalog, pandas.DataFrame, astropy.table.Table, structured ndarray, str or PathLike
        A Catalog is returned as it is. A string is a file path or ``builtin:NAME``.
    survey : Survey, str or PathLike, optional
        The column mapping: a :class:`Survey`, a preset name (``"lsst"``) or a survey TOML file.
    default : Survey, optional
        Used when ``survey`` is not given (a fitted model's survey); its id/ra/dec columns may
        then be absent from the table.
    what : str
        The argument's name, for the error message (``"catalog"``, ``"validation"``).
    format, **read_kwargs
        For files: force a format, and options of its reader (``key`` for HDF5).

    Without ``survey`` or ``default``: a built-in catalog's own preset, else the first preset
    whose band columns are all present.

    Raises
    ------
    InputTypeError
        ``obj`` is of a type not in :data:`ACCEPTED`.
    ParameterError
        ``survey`` given with a Catalog mapped by another survey, or no preset fits the columns.

    Examples
    --------
    >>> from astropy.table import MaskedColumn, Table
    >>> t = Table({b: [18.0, 19.0] for b in "ugriz"})
    >>> t["g"] = MaskedColumn([18.0, 19.0], mask=[False, True])
    >>> cat = as_catalog(t)  # no survey: the preset whose columns the table has
    >>> cat.survey.name, cat.mags[1].tolist()
    ('sdss', [19.0, nan, 19.0, 19.0, 19.0])
    """
    if isinstance(obj, Catalog):
        if survey is not None and load_survey(survey) != obj.survey:
            raise ParameterError(
                f"{what}: a Catalog keeps its own survey ('{obj.survey.name}'); pass survey= "
                "with a table or a file, or build the Catalog with the survey you want"
            )
        return obj
    frame, source, preset, units = _as_frame(obj, what, format, read_kwargs)
    columns = set(map(str, frame.columns))
    if survey is not None:
        chosen = load_survey(survey)
    else:
        chosen = default or _preset_for(columns, preset, source)
        chosen = dataclasses.replace(
            chosen, **{r: None for r in _OPTIONAL_ROLES if getattr(chosen, r) not in columns}
        )
    if units:
        frame = _apply_units(frame, units, chosen, source)
    return Catalog(frame, chosen, source=source)


def read_catalog(
    obj: Any,
    survey: str | os.PathLike | Survey | None = None,
    format: str | None = None,
    **kwargs: object,
) -> Catalog:
    """Read a photometric catalog and map its columns to bands.

    Parameters
    ----------
    obj : str, PathLike, pandas.DataFrame, astropy.table.Table, structured ndarray or Catalog
        A Parquet, FITS, HDF5, CSV or NumPy ``.npy`` file, ``builtin:dc2-train`` /
        ``builtin:dc2-test``, or a table already in memory (see :func:`as_catalog`).
    survey : str, PathLike or Survey, optional
        A preset name (``"sdss"``, ``"lsst"``), a survey TOML file, or a :class:`Survey`;
        by default a built-in catalog's preset, else the preset whose columns the table has.
    format : str, optional
        Force a file format instead of identifying it from magic bytes and suffix.

    Raises
    ------
    MissingColumnError
        A mapped column is not in the table (the message lists the columns present).
    CatalogError
        The table has no rows, or no band is measured in any row.
    InputTypeError
        ``obj`` is none of the types above.

    Examples
    --------
    >>> import numpy as np, pandas as pd, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "cat.csv")
    >>> pd.DataFrame({b: [18.0, 99.0] for b in "ugriz"} | {"redshift": [0.1, 0.2]}).to_csv(
    ...     path, index=False)
    >>> cat = read_catalog(path, "sdss")
    >>> len(cat), cat.bands, bool(np.isnan(cat.mags[1]).all())
    (2, ('u', 'g', 'r', 'i', 'z'), True)
    """
    cat = as_catalog(obj, survey, format=format, **kwargs)
    if len(cat) == 0:
        raise CatalogError(f"{cat.source}: the table has no rows")
    report_screening(cat.source, cat.screening)
    require_measured(cat)
    return cat


def like_input(frame: pd.DataFrame, original: Any, id_column: str | None = None) -> Any:
    """``frame`` as the type of ``original``: an astropy Table (units and descriptions from
    :func:`zphot.io.columns.column_info`, as the output files carry them), a structured array,
    or the DataFrame itself otherwise (with the index of a DataFrame given)."""
    if _is_table(original):
        from ..io.columns import column_info

        table = type(original).from_pandas(frame)
        for name in table.colnames:
            unit, text = column_info(name, {"id_column": id_column})
            if unit is not None:
                table[name].unit = unit
            table[name].info.description = text
        return table
    if isinstance(original, np.ndarray) and original.dtype.names:
        cols = [frame[c].to_numpy() for c in frame.columns]
        cols = [v.astype(str) if v.dtype == object else v for v in cols]
        return np.rec.fromarrays(cols, names=list(map(str, frame.columns))).view(np.ndarray)
    if isinstance(original, pd.DataFrame):
        frame.index = original.index  # rows line up with the caller's (df.join(out) works)
    return frame


# --- inputs -> DataFrame ------------------------------------------------------------------------


def _as_frame(
    obj: Any, what: str, format: str | None, read_kwargs: Mapping[str, object]
) -> tuple[pd.DataFrame, str, str | None, dict[str, Any]]:
    """(table, source for messages, built-in preset, {column: unit}) of any accepted input."""
    if isinstance(obj, str | os.PathLike):
        path, preset = resolve_catalog(str(obj))
        return read_table(path, format=format, **read_kwargs), str(obj), preset, {}
    if isinstance(obj, pd.DataFrame):
        return obj, "<DataFrame>", None, {}
    if _is_table(obj):
        frame, units = _table_frame(obj)
        return frame, "<astropy Table>", None, units
    if isinstance(obj, np.ndarray) and obj.dtype.names:
        if isinstance(obj, np.ma.MaskedArray):
            return _columns_frame((n, obj[n]) for n in obj.dtype.names), "<masked array>", None, {}
        return _from_records(obj), "<structured array>", None, {}
    module = type(obj).__module__.split(".")[0]
    kind = type(obj).__qualname__ if module == "builtins" else f"{module}.{type(obj).__qualname__}"
    hint = " without named fields" if isinstance(obj, np.ndarray) else ""
    raise InputTypeError(f"{what} must be {ACCEPTED}; got {kind}{hint}")


def _is_table(obj: Any) -> bool:
    table_module = sys.modules.get("astropy.table")
    return table_module is not None and isinstance(obj, table_module.Table)


def _table_frame(table: Any) -> tuple[pd.DataFrame, dict[str, Any]]:
    units = {name: table[name].unit for name in table.colnames if table[name].unit is not None}
    return _columns_frame((name, table[name]) for name in table.colnames), units


def _columns_frame(columns: Iterable[tuple[str, Any]]) -> pd.DataFrame:
    """1-D columns (masked or not, Quantity or not) -> DataFrame; masked numbers become NaN,
    masked text None, big-endian data native."""
    out = {}
    for name, col in columns:
        mask = getattr(col, "mask", None)
        values = np.ma.getdata(np.asarray(getattr(col, "unmasked", col)))
        if values.ndim != 1:
            raise CatalogError(f"column '{name}' is multidimensional {values.shape}; drop it")
        if values.dtype.byteorder not in ("=", "|"):
            values = values.astype(values.dtype.newbyteorder("="))
        if mask is not None and np.any(mask):
            mask = np.broadcast_to(np.asarray(mask), values.shape)
            if values.dtype.kind in "biuf":
                values = np.where(mask, np.nan, values.astype(np.float64))
            else:
                values = np.where(mask, None, values.astype(object))
        out[str(name)] = values
    return _decode_bytes(pd.DataFrame(out))


def _apply_units(
    frame: pd.DataFrame, units: Mapping[str, Any], survey: Survey, source: str
) -> pd.DataFrame:
    """Check magnitude columns are in mag; convert flux columns to their band's unit."""
    from astropy import units as u

    from .photometry import parse_unit

    frame = frame.copy()
    for band in survey.bands:
        for col in (band.mag, band.mag_err):
            unit = units.get(col)
            if unit is not None and unit not in (u.mag, u.ABmag, u.dimensionless_unscaled):
                raise CatalogError(
                    f"{source}: column '{col}' (band '{band.name}') is in {unit}; "
                    "a magnitude column must be in mag"
                )
        for col in (band.flux, band.flux_err):
            unit = units.get(col)
            if unit is not None:
                try:
                    factor = (1.0 * unit).to_value(parse_unit(band.flux_unit))
                except u.UnitConversionError as exc:
                    raise CatalogError(
                        f"{source}: column '{col}' (band '{band.name}') is in {unit}, "
                        f"not a flux density convertible to {band.flux_unit}"
                    ) from exc
                frame[col] = frame[col].to_numpy(np.float64) * factor
    return frame


def guess_preset(columns: Iterable[str]) -> Survey | None:
    """The first preset (by name) whose band columns are all among ``columns``, else None."""
    have = set(map(str, columns))
    for name in list_presets():
        survey = load_survey(name)
        if all(set(b.columns) <= have for b in survey.bands):
            return survey
    return None


def _preset_for(columns: set[str], preset: str | None, source: str) -> Survey:
    """A built-in catalog's preset, else the preset whose band columns are all present."""
    survey = load_survey(preset) if preset is not None else guess_preset(columns)
    if survey is None:
        raise ParameterError(
            f"{source}: columns match no survey preset ({', '.join(list_presets())}); "
            "pass survey= a Survey, a preset name or a survey TOML file"
        )
    return survey
