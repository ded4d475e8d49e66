"""Spec-z for a field from public services by sky position (NED, SDSS), cached to a file.

A cluster field's spec-z come from looking its position up in public databases. Each service
answers a cone search (astroquery, imported only here and only when a query is made); the
answers become one table with ``ra``, ``dec`` (degrees), ``z_spec``, ``z_err``, ``service``
and ``name``, keeping galaxies with a spectroscopic redshift only (NED: type ``G`` without a
photometric-redshift flag; SDSS: class GALAXY with ``zWarning == 0``). An object both services
know (within ``dedupe_arcsec``) is kept once, from SDSS, which gives an error. The table is
written to ``cache`` (Parquet, with the query in its metadata) and read back by the same query
later, so a field is asked for once; :func:`attach_specz` then crossmatches it with the
photometric catalog (:func:`zphot.catalog.crossmatch.crossmatch`).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ..exceptions import FormatError, ParameterError

__all__ = ["SERVICES", "query_specz", "attach_specz"]

SERVICES = ("ned", "sdss")
_COLUMNS = ["ra", "dec", "z_spec", "z_err", "service", "name"]
_CACHE_KEY = b"zphot_specz_query"


def _astroquery(module: str):  # noqa: ANN202 - the astroquery class, imported lazily
    try:
        if module == "ned":
            from astroquery.ipac.ned import Ned

            return Ned
        from astroquery.sdss import SDSS

        return SDSS
    except ImportError as exc:
        raise FormatError("spec-z services need astroquery: pip install 'zphot[services]'") from exc


def _column(table, name: str, fill: float = np.nan) -> np.ndarray:
    """A column of an astropy Table as a float array, masked values as ``fill``."""
    col = table[name]
    data = np.ma.asarray(col).astype(np.float64) if col.dtype.kind in "fiu" else np.ma.asarray(col)
    return np.ma.filled(data, fill)


def _text(table, name: str) -> np.ndarray:  # noqa: ANN001
    """A text column as stripped str (bytes decoded, masked values empty)."""
    values = np.ma.filled(np.ma.asarray(table[name]).astype(object), "")
    out = [v.decode() if isinstance(v, bytes) else str(v) for v in values]
    return np.char.strip(np.asarray(out, dtype=str)) if out else np.array([], dtype=str)


def _ned(coord, radius) -> pd.DataFrame:  # noqa: ANN001 - astropy SkyCoord and Quantity
    t = _astroquery("ned").query_region(coord, radius=radius)
    ra, dec = ("RA", "DEC") if "RA" in t.colnames else ("RA(deg)", "DEC(deg)")
    z = _column(t, "Redshift")
    flag = np.char.upper(_text(t, "Redshift Flag"))
    keep = np.isfinite(z) & (_text(t, "Type") == "G") & (np.char.find(flag, "PHOT") < 0)
    return pd.DataFrame(
        {
            "ra": _column(t, ra)[keep],
            "dec": _column(t, dec)[keep],
            "z_spec": z[keep],
            "z_err": np.full(int(keep.sum()), np.nan),
            "service": "ned",
            "name": _text(t, "Object Name")[keep],
        }
    )


def _sdss(coord, radius) -> pd.DataFrame:  # noqa: ANN001
    fields = ["ra", "dec", "z", "zErr", "zWarning", "class", "specObjID"]
    t = _astroquery("sdss").query_region(coord, radius=radius, spectro=True, specobj_fields=fields)
    if t is None or len(t) == 0:
        return pd.DataFrame(columns=_COLUMNS)
    cls = np.char.upper(_text(t, "class"))
    keep = (cls == "GALAXY") & (_column(t, "zWarning", 1) == 0) & np.isfinite(_column(t, "z"))
    return pd.DataFrame(
        {
            "ra": _column(t, "ra")[keep],
            "dec": _column(t, "dec")[keep],
            "z_spec": _column(t, "z")[keep],
            "z_err": _column(t, "zErr")[keep],
            "service": "sdss",
            "name": _text(t, "specObjID")[keep],
        }
    )


def _dedupe(frames: list[pd.DataFrame], radius_arcsec: float) -> pd.DataFrame:
    """Concatenate, dropping NED rows within ``radius_arcsec`` of an SDSS row."""
    from astropy import units as u
    from astropy.coordinates import SkyCoord

    table = pd.concat([f for f in frames if len(f)] or [pd.DataFrame(columns=_COLUMNS)])
    table = table.reset_index(drop=True)
    sdss, ned = table["service"] == "sdss", table["service"] == "ned"
    if sdss.any() and ned.any():
        c_ned = SkyCoord(
            table.loc[ned, "ra"].to_numpy() * u.deg, table.loc[ned, "dec"].to_numpy() * u.deg
        )
        c_sdss = SkyCoord(
            table.loc[sdss, "ra"].to_numpy() * u.deg, table.loc[sdss, "dec"].to_numpy() * u.deg
        )
        _, sep, _ = c_ned.match_to_catalog_sky(c_sdss)
        dup = table.index[ned][sep.to_value(u.arcsec) <= radius_arcsec]
        table = table.drop(index=dup).reset_index(drop=True)
    return table[_COLUMNS]


def query_specz(
    ra: float,
    dec: float,
    radius_arcmin: float,
    services: tuple[str, ...] = SERVICES,
    cache: str | Path | None = None,
    dedupe_arcsec: float = 1.0,
) -> pd.DataFrame:
    """Spectroscopic redshifts of galaxies within ``radius_arcmin`` of (ra, dec) in degrees.

    With ``cache``: a file holding the same query is read instead of asking the services; a
    missing one is written (atomically) after the query; one holding another query is an error.
    """
    from astropy import units as u
    from astropy.coordinates import SkyCoord

    unknown = sorted(set(services) - set(SERVICES))
    if unknown or not services:
        raise ParameterError(f"services must be among {', '.join(SERVICES)}, got {services!r}")
    if radius_arcmin <= 0:
        raise ParameterError(f"search radius must be > 0 arcmin, got {radius_arcmin}")
    query = {
        "ra": float(ra),
        "dec": float(dec),
        "radius_arcmin": float(radius_arcmin),
        "services": sorted(services),
        "dedupe_arcsec": float(dedupe_arcsec),
    }
    if cache is not None and Path(cache).exists():
        return _read_cache(Path(cache), query)
    coord = SkyCoord(ra * u.deg, dec * u.deg)
    radius = radius_arcmin * u.arcmin
    ask = {"ned": _ned, "sdss": _sdss}
    table = _dedupe([ask[s](coord, radius) for s in sorted(services)], dedupe_arcsec)
    if cache is not None:
        _write_cache(Path(cache), table, query)
    return table


def _write_cache(path: Path, table: pd.DataFrame, query: dict) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from ..io.atomic import atomic_path

    arrow = pa.Table.from_pandas(table, preserve_index=False)
    meta = dict(arrow.schema.metadata or {}) | {_CACHE_KEY: json.dumps(query).encode()}
    with atomic_path(path) as tmp:
        pq.write_table(arrow.replace_schema_metadata(meta), tmp)


def _read_cache(path: Path, query: dict) -> pd.DataFrame:
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    stored = (table.schema.metadata or {}).get(_CACHE_KEY)
    if stored is None or json.loads(stored) != query:
        raise ParameterError(
            f"{path}: holds another spec-z query ({stored.decode() if stored else 'none'}); "
            "name another cache file or delete this one"
        )
    return table.to_pandas()


def attach_specz(
    phot: pd.DataFrame,
    specz: pd.DataFrame,
    radius_arcsec: float = 1.0,
    phot_radec: tuple[str, str] = ("ra", "dec"),
) -> pd.DataFrame:
    """The photometric rows that have a spec-z within ``radius_arcsec``, with ``z_spec``,
    ``z_err``, ``service`` and ``sep_arcsec`` appended (each spec-z used once)."""
    from ..catalog.crossmatch import crossmatch

    matched, _ = crossmatch(phot, specz, radius_arcsec, phot_radec=phot_radec)
    return matched
