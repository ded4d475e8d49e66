"""What every column of a prediction table means: its unit, a one-line description, its name.

One table of the columns zphot writes (``z_phot``, ``z_err``...), name patterns for the
per-quantile (``z_q025``) and per-bin (``pdf_000``) columns, and :func:`output_table`, which
turns a predictions DataFrame into an astropy Table carrying those units and descriptions plus the
run's provenance as table metadata. Every output format is written from that Table's
description (:mod:`zphot.io.assemble`), so Parquet, FITS, HDF5 and ECSV files all read back with
``astropy.table.Table.read`` showing the same units, descriptions and metadata.

Naming:

- ``z_qDD``: the PDF quantile at level ``0.DD``, the digits after the decimal point, at least
  two (``z_q025`` = 0.025, ``z_q16`` = 0.16, ``z_q50`` = 0.5, ``z_q975`` = 0.975).
- ``pdf_KKK``: the probability of bin ``KKK`` (zero-padded, at least three digits) of the
  model's grid: bin k spans ``z_min + k * dz`` to ``z_min + (k + 1) * dz`` with
  ``dz = (z_max - z_min) / n_bins``, recorded in the metadata and in each column's description.
- A one-word prefix before a known name (``mlp_z_phot``) keeps that name's unit and description,
  so several codes' columns can share one table.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # astropy.table is imported where a Table is built, not with zphot.io
    import pandas as pd
    from astropy.table import Table

__all__ = [
    "COLUMNS",
    "column_info",
    "output_table",
    "pdf_column",
    "pdf_columns",
    "quantile_column",
    "quantile_level",
]

#: Unit strings: "" is dimensionless (a redshift, a probability), None has no unit (a flag, an
#: identifier), "mag" is an AB magnitude. Descriptions may use the metadata's ``{point}``.
COLUMNS: dict[str, tuple[str | None, str]] = {
    "z_phot": ("", "photometric redshift: the {point} of the redshift PDF"),
    "z_phot_bulk": (
        "",
        "bulk redshift of a Step 4 bias-corrected model (Lin et al. 2022): its mean "
        "residual is flat in bins of z_phot, for samples of many galaxies",
    ),
    "z_err": ("", "half the central 68% credible interval, (z_hi - z_lo) / 2"),
    "z_lo": ("", "lower end of the central 68% credible interval (PDF quantile 0.16)"),
    "z_hi": ("", "upper end of the central 68% credible interval (PDF quantile 0.84)"),
    "out_of_coverage": (
        None,
        "True where the inputs lie outside the training set's coverage (nearest-neighbour "
        "distance in feature space): treat the redshift with caution",
    ),
    "z_spec": ("", "true (spectroscopic) redshift, copied from the input catalog"),
    "zmode": ("", "mode of the redshift PDF"),
    "zmean": ("", "mean of the redshift PDF"),
    "zmedian": ("", "median of the redshift PDF"),
}

_QUANTILE = re.compile(r"z_q(\d{2,})")
_PDF = re.compile(r"pdf_(\d{3,})")
_MAG = re.compile(r"(?:mag_\w+|\w+_mag)")
_MAG_ERR = re.compile(r"(?:magerr_\w+|mag_err_\w+|\w+_magerr|\w+_mag_err)")


def quantile_column(level: float) -> str:
    """Column name of the PDF quantile at ``level``: the digits after "0.", at least two.

    Examples
    --------
    >>> [quantile_column(q) for q in (0.025, 0.16, 0.5, 0.84, 0.975)]
    ['z_q025', 'z_q16', 'z_q50', 'z_q84', 'z_q975']
    """
    digits = f"{float(level):.12f}".split(".")[1].rstrip("0")
    return "z_q" + digits.ljust(2, "0")


def quantile_level(name: str) -> float | None:
    """The level a ``z_qDD`` column holds (inverse of :func:`quantile_column`), else None."""
    match = _QUANTILE.fullmatch(name)
    return float("0." + match.group(1)) if match else None


def pdf_column(k: int, n_bins: int) -> str:
    """Column name of grid bin ``k`` out of ``n_bins`` (zero-padded, at least three digits)."""
    return f"pdf_{k:0{max(3, len(str(n_bins - 1)))}d}"


def pdf_columns(n_bins: int) -> list[str]:
    """``pdf_000`` ... one name per grid bin, in grid order."""
    return [pdf_column(k, n_bins) for k in range(n_bins)]


def _pattern_info(name: str, meta: Mapping[str, Any]) -> tuple[str | None, str] | None:
    level = quantile_level(name)
    if level is not None:
        return "", f"redshift PDF quantile at level {level:g}: P(z < value) = {level:g}"
    match = _PDF.fullmatch(name)
    if match:
        k = int(match.group(1))
        text = f"probability that the redshift lies in grid bin {k}"
        if {"z_min", "z_max", "n_bins"} <= set(meta):
            width = (float(meta["z_max"]) - float(meta["z_min"])) / int(meta["n_bins"])
            lo = float(meta["z_min"]) + k * width
            text += f", [{lo:.5g}, {lo + width:.5g})"
        return "", text
    if _MAG_ERR.fullmatch(name):
        return "mag", "AB magnitude uncertainty, copied from the input catalog"
    if _MAG.fullmatch(name):
        return "mag", "AB magnitude, copied from the input catalog"
    return None


def column_info(name: str, meta: Mapping[str, Any] | None = None) -> tuple[str | None, str]:
    """(unit, description) of output column ``name``; ``meta`` fills in the point estimator
    and the grid. A column zphot does not produce was copied from the input catalog."""
    meta = meta or {}
    for candidate in (name, name.split("_", 1)[-1]):  # a one-word prefix: mlp_z_phot
        if candidate in COLUMNS:
            unit, text = COLUMNS[candidate]
            return unit, text.format(point=meta.get("point", "point estimate"))
        info = _pattern_info(candidate, meta)
        if info is not None:
            return info
    if name == meta.get("id_column"):
        return None, "object identifier, copied from the input catalog"
    return None, "copied from the input catalog"


def output_table(df: pd.DataFrame, meta: Mapping[str, Any] | None = None) -> Table:
    """``df`` as an astropy Table whose columns carry unit and description, ``meta`` as its
    metadata.

    Parameters
    ----------
    df : pandas.DataFrame
        Prediction columns (any subset, any order; unknown columns count as copied input).
    meta : mapping, optional
        The run's provenance (flat: str, int, float or lists of them), e.g. from
        :func:`zphot.scale.parts.file_metadata`; ``point``, ``z_min``, ``z_max``, ``n_bins`` and
        ``id_column`` also complete the column descriptions.

    Returns
    -------
    astropy.table.Table

    Examples
    --------
    >>> import pandas as pd
    >>> meta = {"point": "mode", "z_min": 0.0, "z_max": 1.0, "n_bins": 1}
    >>> t = output_table(pd.DataFrame({"z_phot": [0.1], "pdf_000": [1.0]}), meta)
    >>> t["z_phot"].description
    'photometric redshift: the mode of the redshift PDF'
    >>> t["pdf_000"].description, t.meta["point"]
    ('probability that the redshift lies in grid bin 0, [0, 1)', 'mode')
    """
    import astropy.units as u
    from astropy.table import Column, Table
    from pandas.api.types import is_object_dtype, is_string_dtype

    meta = dict(meta or {})
    table = Table.from_pandas(df, index=False)
    for name in table.colnames:
        if is_string_dtype(df[name]) or is_object_dtype(df[name]):
            # Text as text even without rows (an empty object column would become float).
            table.replace_column(name, Column(df[name].to_numpy().astype(str), name=name))
        unit, text = column_info(name, meta)
        table[name].unit = None if unit is None else u.Unit(unit)
        table[name].description = text
    table.meta.update(meta)
    return table
