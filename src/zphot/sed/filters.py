"""Filter curves: photon-counting throughput against wavelength.

A band's ``filter`` string names its curve in one of three forms:

- a speclite name, ``"GROUP-BAND"`` (``"sdss2010-r"``, ``"lsst2023-i"``, ``"hsc2017-g"``),
  read with :func:`speclite.filters.load_filter` from the curves speclite installs;
- ``"bpz:NAME"``, the desc-bpz file ``desc_bpz/data_files/FILTER/NAME.res``;
- the path of a two-column text file: wavelength in Angstrom, throughput.

Throughputs are read as photon-counting responses (the convention of SDSS, LSST, speclite
and BPZ), so synthetic fluxes weight f_lambda by ``R(lambda) * lambda``.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ..catalog.bands import Survey
from ..exceptions import ParameterError
from .templates import _read_columns, bpz_data_file

__all__ = ["Filter", "load_filter", "survey_filters", "trapezoid_weights"]

_FORMS = "a speclite name like 'sdss2010-r', 'bpz:NAME' or a two-column file (Angstrom, R)"


def trapezoid_weights(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Weights ``w`` with ``w @ y`` the trapezoid-rule integral of samples ``y`` over ``x``
    (one vector reused for many integrands, and numpy-version independent)."""
    dx = np.diff(x)
    w = np.zeros_like(x)
    w[:-1] += 0.5 * dx
    w[1:] += 0.5 * dx
    return w


class Filter:
    """A filter's throughput curve, trimmed to where it transmits.

    Parameters
    ----------
    name : str
        The string it was loaded from.
    wavelength : array_like, Angstrom
        Strictly increasing.
    response : array_like
        Photon-counting throughput (>= 0, not all zero).

    Examples
    --------
    >>> f = Filter("box", [4000.0, 4001.0, 5000.0, 5001.0], [0.0, 1.0, 1.0, 0.0])
    >>> round(f.pivot_wavelength)
    4473
    """

    __slots__ = ("name", "wavelength", "response")

    def __init__(self, name: str, wavelength: NDArray | list, response: NDArray | list) -> None:
        wl = np.array(wavelength, dtype=np.float64)
        r = np.array(response, dtype=np.float64)
        if wl.ndim != 1 or wl.shape != r.shape or len(wl) < 2:
            raise ParameterError(
                f"filter '{name}': wavelength and response must be 1-D of equal length >= 2"
            )
        if not (np.isfinite(wl).all() and np.isfinite(r).all()) or np.any(np.diff(wl) <= 0):
            raise ParameterError(f"filter '{name}': wavelengths must be finite and increasing")
        if np.any(r < 0) or not np.any(r > 0):
            raise ParameterError(f"filter '{name}': throughput must be >= 0 and not all zero")
        # Keep one zero sample on each side of the transmitting range: integrals are unchanged
        # and the synthetic photometry does less work.
        on = np.flatnonzero(r > 0)
        lo, hi = max(on[0] - 1, 0), min(on[-1] + 2, len(r))
        wl, r = wl[lo:hi], r[lo:hi]
        wl.flags.writeable = False
        r.flags.writeable = False
        object.__setattr__(self, "name", str(name))
        object.__setattr__(self, "wavelength", wl)
        object.__setattr__(self, "response", r)

    def __setattr__(self, key: str, value: object) -> None:
        raise AttributeError(f"Filter is immutable; cannot set '{key}'")

    def __repr__(self) -> str:
        return f"Filter({self.name!r}, {self.wavelength[0]:g}-{self.wavelength[-1]:g} A)"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Filter):
            return NotImplemented
        return (
            self.name == other.name
            and np.array_equal(self.wavelength, other.wavelength)
            and np.array_equal(self.response, other.response)
        )

    def __hash__(self) -> int:
        return hash((self.name, self.wavelength.tobytes(), self.response.tobytes()))

    @property
    def pivot_wavelength(self) -> float:
        """Pivot wavelength in Angstrom: sqrt(int R l dl / int R / l dl); converts between
        f_nu and f_lambda for a flat spectrum."""
        wl, r = self.wavelength, self.response
        return float(np.sqrt(trapezoid_weights(wl) @ (r * wl) / (trapezoid_weights(wl) @ (r / wl))))


@lru_cache(maxsize=64)
def _load_named(spec: str) -> Filter:
    if spec.startswith("bpz:"):
        name = spec[4:]
        wl, r = _read_columns(bpz_data_file("FILTER", f"{name.removesuffix('.res')}.res"), "filter")
        return Filter(spec, wl, np.clip(r, 0.0, None))
    import speclite.filters

    try:
        f = speclite.filters.load_filter(spec)
    except ValueError as exc:
        raise ParameterError(f"unknown filter '{spec}': need {_FORMS} ({exc})") from exc
    return Filter(spec, np.asarray(f.wavelength, dtype=np.float64), f.response)


def load_filter(spec: str | os.PathLike) -> Filter:
    """A filter curve from a speclite name, ``"bpz:NAME"`` or a two-column file path.

    Parameters
    ----------
    spec : str or PathLike
        See the module docstring for the three forms. An existing file wins over a name.

    Raises
    ------
    ParameterError
        The name is unknown to speclite or desc-bpz.
    FormatError
        A file is not two numeric columns.

    Examples
    --------
    >>> load_filter("sdss2010-r")
    Filter('sdss2010-r', 5379-7041 A)
    >>> round(load_filter("bpz:DC2LSST_i").pivot_wavelength)
    7537
    """
    path = Path(spec)
    if path.is_file():
        wl, r = _read_columns(path, "filter")
        return Filter(str(spec), wl, np.clip(r, 0.0, None))
    if isinstance(spec, os.PathLike) or os.sep in str(spec):
        raise ParameterError(f"{spec}: no such filter file (need {_FORMS})")
    return _load_named(str(spec))


def survey_filters(survey: Survey, bands: tuple[str, ...] | None = None) -> tuple[Filter, ...]:
    """The filter curve of each band of ``survey`` (or of ``bands``, in that order).

    Raises
    ------
    ParameterError
        A band has no ``filter`` in the survey description.
    """
    out = []
    for name in bands if bands is not None else survey.band_names:
        band = survey.band(name)
        if not band.filter:
            raise ParameterError(
                f"survey '{survey.name}': band '{name}' has no filter curve; add "
                f'filter = "..." to its [[bands]] entry ({_FORMS})'
            )
        out.append(load_filter(band.filter))
    return tuple(out)
