"""Galaxy spectral energy distributions (SEDs): the templates of template fitting and mocks.

The built-in set is the one the ``desc-bpz`` package installs (``desc_bpz/data_files/SED``):
Coleman, Wu & Weedman (1980) E, Sbc, Scd and Im spectra, Kinney et al. (1996) starbursts SB2
and SB3 (all as extended by Benitez et al. 2004, the ``_B2004a`` files) and two young
Bruzual & Charlot (2003) simple stellar populations. They are found with
:mod:`importlib.resources`, never copied into zphot.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..exceptions import FormatError, ParameterError

__all__ = ["SED", "bpz_data_file", "load_sed", "load_templates", "DEFAULT_TEMPLATES"]

#: The BPZ list of the CWW + Kinney + BC03 templates, ordered red to blue (E, Sbc, Scd, Im,
#: SB3, SB2, two SSPs): 1 elliptical, 2 spirals and 5 irregular/starburst types.
DEFAULT_TEMPLATES = "CWWSB4.list"


def bpz_data_file(kind: str, name: str) -> Path:
    """Path of a data file the ``desc-bpz`` package installs.

    Parameters
    ----------
    kind : {"SED", "FILTER"}
        Sub-folder of ``desc_bpz/data_files``.
    name : str
        File name within it (``"El_B2004a.sed"``, ``"DC2LSST_r.res"``).

    Raises
    ------
    ParameterError
        The file is not there; the message lists the files that are.
    """
    try:
        folder = resources.files("desc_bpz") / "data_files" / kind
    except ModuleNotFoundError as exc:
        raise ParameterError(
            f"'{name}' is a desc-bpz data file, but desc-bpz is not installed "
            "(pip install desc-bpz)"
        ) from exc
    path = Path(str(folder / name))
    if not path.is_file():
        have = sorted(p.name for p in Path(str(folder)).iterdir() if not p.name.startswith("."))
        raise ParameterError(f"desc-bpz has no {kind} file '{name}' (have {', '.join(have)})")
    return path


def _read_columns(path: Path, what: str) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Two numeric columns of a whitespace text file (``#`` comments)."""
    try:
        data = np.loadtxt(path, comments="#", usecols=(0, 1), ndmin=2, dtype=np.float64)
    except (ValueError, IndexError) as exc:
        raise FormatError(f"{path}: not a two-column {what} file ({exc})") from exc
    if len(data) < 2:
        raise FormatError(f"{path}: a {what} file needs at least 2 rows, got {len(data)}")
    return data[:, 0], data[:, 1]


class SED:
    """A spectrum: flux density per unit wavelength on an increasing wavelength grid.

    Immutable value (arrays are read-only copies); two SEDs are equal when name and samples
    are equal.

    Parameters
    ----------
    name : str
        Label (the file stem for loaded templates).
    wavelength : array_like, Angstrom
        Strictly increasing sample wavelengths.
    flux : array_like, f_lambda (arbitrary units)
        Non-negative flux density per unit wavelength. Template fitting only uses the shape;
        synthetic magnitudes read it as erg s^-1 cm^-2 A^-1.

    Raises
    ------
    ParameterError
        Shapes differ, wavelengths do not increase, or fluxes are negative or not finite.

    Examples
    --------
    >>> sed = SED("step", [1000.0, 3999.0, 4000.0, 9000.0], [0.0, 0.0, 1.0, 1.0])
    >>> sed.redshifted(1.0).wavelength.tolist()
    [2000.0, 7998.0, 8000.0, 18000.0]
    """

    __slots__ = ("name", "wavelength", "flux")

    def __init__(self, name: str, wavelength: ArrayLike, flux: ArrayLike) -> None:
        wl = np.array(wavelength, dtype=np.float64)
        fl = np.array(flux, dtype=np.float64)
        if wl.ndim != 1 or wl.shape != fl.shape or len(wl) < 2:
            raise ParameterError(
                f"SED '{name}': wavelength and flux must be 1-D of equal length >= 2, "
                f"got shapes {wl.shape} and {fl.shape}"
            )
        if not (np.isfinite(wl).all() and np.isfinite(fl).all()):
            raise ParameterError(f"SED '{name}': wavelengths and fluxes must be finite")
        if np.any(np.diff(wl) <= 0):
            bad = int(np.flatnonzero(np.diff(wl) <= 0)[0]) + 1
            raise ParameterError(
                f"SED '{name}': wavelengths must increase (row {bad}: {wl[bad]} after "
                f"{wl[bad - 1]})"
            )
        if np.any(fl < 0):
            raise ParameterError(f"SED '{name}': fluxes must be >= 0 (min {fl.min()})")
        wl.flags.writeable = False
        fl.flags.writeable = False
        object.__setattr__(self, "name", str(name))
        object.__setattr__(self, "wavelength", wl)
        object.__setattr__(self, "flux", fl)

    def __setattr__(self, key: str, value: object) -> None:
        raise AttributeError(f"SED is immutable; cannot set '{key}'")

    def __repr__(self) -> str:
        return (
            f"SED({self.name!r}, {len(self.wavelength)} samples, "
            f"{self.wavelength[0]:g}-{self.wavelength[-1]:g} A)"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SED):
            return NotImplemented
        return (
            self.name == other.name
            and np.array_equal(self.wavelength, other.wavelength)
            and np.array_equal(self.flux, other.flux)
        )

    def __hash__(self) -> int:
        return hash((self.name, self.wavelength.tobytes(), self.flux.tobytes()))

    def __call__(self, wavelength: ArrayLike) -> NDArray[np.float64]:
        """f_lambda at ``wavelength`` (Angstrom), linear between samples, 0 outside them."""
        return np.interp(wavelength, self.wavelength, self.flux, left=0.0, right=0.0)

    def redshifted(self, z: float) -> SED:
        """The spectrum seen at redshift ``z``: wavelengths stretched by (1+z), f_lambda divided
        by (1+z) (energy per unit observed wavelength; distance dimming not included)."""
        if not np.isfinite(z) or z <= -1:
            raise ParameterError(f"SED '{self.name}': redshift must be > -1, got {z}")
        return SED(self.name, self.wavelength * (1 + z), self.flux / (1 + z))


def load_sed(spec: str | os.PathLike) -> SED:
    """Read one SED: a desc-bpz template name (``"El_B2004a"``, ``.sed`` optional) or a path to
    a two-column file (wavelength in Angstrom, f_lambda).

    Raises
    ------
    ParameterError
        Neither an existing file nor a desc-bpz template.
    FormatError
        The file is not two numeric columns.
    """
    path = Path(spec)
    if not path.is_file():
        if os.sep in str(spec) or isinstance(spec, os.PathLike):
            raise ParameterError(f"{spec}: no such SED file")
        name = str(spec) if str(spec).endswith(".sed") else f"{spec}.sed"
        path = bpz_data_file("SED", name)
    wl, fl = _read_columns(path, "SED")
    return SED(path.name.removesuffix(".sed"), wl, fl)


def load_templates(
    spec: str | os.PathLike | Sequence[str | os.PathLike] = DEFAULT_TEMPLATES,
) -> tuple[SED, ...]:
    """Read a template set, in its list order.

    Parameters
    ----------
    spec : str, PathLike or sequence
        A desc-bpz ``.list`` file name (``"CWWSB4.list"``: one SED file name per line), the
        path of such a list (names resolved beside it, then in desc-bpz), or a sequence of
        SED names/paths (see :func:`load_sed`).

    Returns
    -------
    tuple of SED

    Examples
    --------
    >>> [t.name for t in load_templates()][:4]
    ['El_B2004a', 'Sbc_B2004a', 'Scd_B2004a', 'Im_B2004a']
    """
    if not isinstance(spec, str | os.PathLike):
        seds = tuple(load_sed(s) for s in spec)
        if not seds:
            raise ParameterError("load_templates: the template sequence is empty")
        return seds
    path = Path(spec)
    if not path.is_file():
        path = bpz_data_file("SED", str(spec))
    names = [
        line.split()[0]
        for line in path.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not names:
        raise FormatError(f"{path}: the template list names no SED file")
    out = []
    for name in names:
        local = path.parent / name
        out.append(load_sed(local if local.is_file() else name))
    return tuple(out)
