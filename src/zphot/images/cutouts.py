"""Stamps from a user's own multi-band images: WCS-aware cutouts on one common pixel grid.

Each band's stack has its own WCS, pixel scale, orientation and zero point. For each galaxy
the common grid is a tangent-plane grid centred on its catalog position, north up and east
left, at one pixel scale for all bands (the reference band's unless given). Per band:

1. ``Cutout2D`` takes a native-pixel region large enough to cover that grid at any rotation;
2. the sky is subtracted (a clipped-median map of the whole image with SEP's sources masked,
   :func:`with_background`; a sigma-clipped median of the region when no map is given) and
   the counts are put on one AB scale, nanomaggies, from the band's zero point;
3. ``reproject_adaptive`` resamples the region onto the common grid conserving flux, so colours
   are the same whatever each band's native scale;
4. flags: the galaxy's centre off the image, part of the stamp off the image, masked pixels
   (weight 0 or NaN). Uncovered or masked pixels are set to 0 after flagging.

The output is the stamp file :func:`zphot.images.simulate.simulate_images` writes, so
``train``, ``predict``, ``compare`` and ``debias`` take it unchanged.
"""

from __future__ import annotations

import dataclasses
import math
import os
import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..exceptions import CatalogError, FormatError, ParameterError
from .stampfile import StampRun, check_run_options, config_digest, write_stamps

__all__ = [
    "CUTOUT_FLAGS",
    "Mosaic",
    "cut_galaxy",
    "cutout_stamps",
    "read_cutout_files",
    "read_mosaics",
    "target_wcs",
    "with_background",
]

#: Bits of the ``cutout_flags`` columns.
CUTOUT_FLAGS = {"off_edge": 1, "partial": 2, "masked": 4}
#: A stamp pixel counts as covered (or unmasked) within this fraction: resampling leaves
#: rounding-level departures from exactly 1 (or 0).
_COVER_TOL = 1e-3
#: Rows shared by neighbouring strips of the source search: more than the largest galaxy.
_STRIP_OVERLAP = 256
#: AB zero point of a nanomaggy, the stamps' flux unit.
_NANOMAGGY_ZP = 22.5
#: Header keys read for a band's zero point, PSF FWHM and filter, in order of preference.
_ZP_KEYS = ("MAGZP", "MAGZERO", "ZP", "PHOTZP")
_PSF_KEYS = ("PSF_FWHM", "SEEING", "FWHM")


@dataclasses.dataclass(frozen=True)
class Mosaic:
    """One band's stacked image: pixels, WCS, zero point and optional weight map."""

    band: str
    path: str
    data: NDArray[np.float32]
    wcs: object  # astropy.wcs.WCS
    zero_point: float
    weight: NDArray[np.float32] | None = None
    psf_fwhm: float | None = None
    background: NDArray[np.float32] | None = None

    @property
    def pixel_scale(self) -> float:
        """Mean pixel side in arcsec (from the WCS's pixel area)."""
        from astropy.wcs.utils import proj_plane_pixel_area

        return math.sqrt(proj_plane_pixel_area(self.wcs)) * 3600.0


def with_background(mosaic: Mosaic, mesh: int = 64) -> Mosaic:
    """The mosaic with its sky map, measured once per band over the whole image.

    Sources are found with SEP on a first meshed estimate (1.5 sigma, masked to ten times their
    second-moment size); the sky is then the sigma-clipped *median* of the remaining pixels per
    ``mesh`` x ``mesh`` cell (photutils' ``Background2D``), median-filtered and interpolated.
    SEP's own second pass estimates the mode (2.5 median - 1.5 mean), which the source masks
    and a low sky's Poisson skew bias at the galaxies' positions (0.18 counts low on a sky of
    20 counts: +0.6 sigma of an aperture's flux), and a mean is pulled up by the galaxies' faint
    wings beyond their masks (BENCHMARKS, issue 22); masks of six radii left the z band's sky
    map 0.73 counts high on average on the 20,000-galaxy test field (a 1.1% flux deficit), ten
    radii 0.28. Sources are found strip by strip, so a
    mosaic of a few hundred million pixels needs memory for a few copies of it.
    """
    import sep
    from photutils.background import Background2D, MedianBackground

    data = np.array(mosaic.data, dtype=np.float32)  # native byte order, as SEP needs
    bad = ~np.isfinite(data)
    if mosaic.weight is not None:
        bad |= ~(np.asarray(mosaic.weight) > 0)
    data[bad] = 0.0
    first = sep.Background(data, mask=bad, bw=mesh, bh=mesh)
    sources = _source_mask(data, first.back(), first.globalrms, bad)
    del first
    sky = Background2D(
        data,
        mesh,
        mask=bad | sources,
        filter_size=3,
        bkg_estimator=MedianBackground(),
        exclude_percentile=90.0,
    )
    return dataclasses.replace(mosaic, background=np.asarray(sky.background, dtype=np.float32))


def _source_mask(
    data: NDArray[np.float32], back: NDArray, rms: float, bad: NDArray, strip: int = 2048
) -> NDArray[np.bool_]:
    """Pixels within ten second-moment radii of a source SEP detects at 1.5 sigma, found in
    overlapping strips of rows (a source cut by a strip edge is found whole in the next)."""
    import sep

    sources = np.zeros(data.shape, dtype=bool)
    margin = _STRIP_OVERLAP
    for y0 in range(0, data.shape[0], strip):
        lo, hi = max(0, y0 - margin), min(data.shape[0], y0 + strip + margin)
        part = np.ascontiguousarray(data[lo:hi] - back[lo:hi])
        objects = sep.extract(part, 1.5, err=rms, mask=np.ascontiguousarray(bad[lo:hi]))
        view = sources[lo:hi]  # rows of a C-ordered array: a contiguous view
        sep.mask_ellipse(
            view, objects["x"], objects["y"], objects["a"], objects["b"], objects["theta"], r=10.0
        )
    return sources


def _header_value(header: object, keys: Sequence[str]) -> float | None:
    for key in keys:
        if key in header:
            return float(header[key])
    return None


def _read_image(path: str, hdu: int | None = None) -> tuple[NDArray, object]:
    """The first image HDU with data (or ``hdu``) and its header, memory-mapped."""
    from astropy.io import fits

    try:
        hdul = fits.open(path, memmap=True)
    except (OSError, ValueError) as exc:
        raise FormatError(f"{path}: not a readable FITS image ({exc})") from None
    candidates = [hdu] if hdu is not None else range(len(hdul))
    for i in candidates:
        if i < len(hdul) and getattr(hdul[i], "data", None) is not None and hdul[i].data.ndim == 2:
            return hdul[i].data, hdul[i].header
    raise FormatError(f"{path}: no 2-D image HDU")


def _mosaic(band: str, entry: dict, base: Path) -> Mosaic:
    from astropy.wcs import WCS

    allowed = {"image", "weight", "zero_point", "psf_fwhm", "hdu"}
    unknown = set(entry) - allowed
    if unknown or "image" not in entry:
        raise FormatError(
            f"band '{band}': keys {sorted(allowed)} with 'image' required, got {sorted(entry)}"
        )
    path = str(base / entry["image"])
    data, header = _read_image(path, entry.get("hdu"))
    zp = entry.get("zero_point", _header_value(header, _ZP_KEYS))
    if zp is None:
        raise FormatError(f"{path}: no zero point (header {'/'.join(_ZP_KEYS)}); set zero_point")
    weight = None
    if "weight" in entry:
        weight, _ = _read_image(str(base / entry["weight"]))
        if weight.shape != data.shape:
            raise FormatError(f"band '{band}': weight map shape {weight.shape} != {data.shape}")
    psf = entry.get("psf_fwhm", _header_value(header, _PSF_KEYS))
    return Mosaic(band, path, data, WCS(header), float(zp), weight, psf)


def read_mosaics(spec: str | os.PathLike | Sequence[str | os.PathLike]) -> list[Mosaic]:
    """The bands' images from a TOML mapping or from a list of FITS files.

    A TOML file maps each band (in wavelength order) to ``image`` and optionally ``weight``,
    ``zero_point`` (AB), ``psf_fwhm`` (arcsec) and ``hdu``; paths are relative to the TOML
    file. A list of FITS files takes each band from the header's ``FILTER`` and the zero point
    from ``MAGZP`` (or ``MAGZERO``, ``ZP``, ``PHOTZP``).
    """
    if isinstance(spec, str | os.PathLike) and Path(spec).suffix.lower() == ".toml":
        path = Path(spec)
        try:
            table = tomllib.loads(path.read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise FormatError(f"{path}: cannot read the image mapping ({exc})") from None
        bands = table.get("bands", table)
        return [_mosaic(b, dict(e), path.parent) for b, e in bands.items()]
    paths = [spec] if isinstance(spec, str | os.PathLike) else list(spec)
    out = []
    for p in paths:
        _, header = _read_image(str(p))
        if "FILTER" not in header:
            raise FormatError(f"{p}: no FILTER in the header; map bands in a TOML file")
        out.append(_mosaic(str(header["FILTER"]), {"image": str(p)}, Path(".")))
    return out


def target_wcs(ra: float, dec: float, size: int, pixel_scale: float):  # noqa: ANN201
    """The common grid of one stamp: TAN, centred on (ra, dec), north up, east left."""
    from astropy.wcs import WCS

    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [ra, dec]
    wcs.wcs.crpix = [(size + 1) / 2, (size + 1) / 2]
    wcs.wcs.cdelt = [-pixel_scale / 3600.0, pixel_scale / 3600.0]
    return wcs


def cut_galaxy(
    mosaics: Sequence[Mosaic], ra: float, dec: float, size: int, pixel_scale: float
) -> tuple[NDArray[np.float32], NDArray[np.int32]]:
    """One galaxy's ``(bands, size, size)`` stamp in nanomaggies and its per-band flags."""
    stamp = np.zeros((len(mosaics), size, size), dtype=np.float32)
    flags = np.zeros(len(mosaics), dtype=np.int32)
    target = target_wcs(ra, dec, size, pixel_scale)
    for k, mosaic in enumerate(mosaics):
        stamp[k], flags[k] = _cut_band(mosaic, target, ra, dec, size, pixel_scale)
    return stamp, flags


def _cut_band(
    mosaic: Mosaic, target: object, ra: float, dec: float, size: int, pixel_scale: float
) -> tuple[NDArray[np.float32], int]:
    from astropy.nddata import Cutout2D
    from astropy.nddata.utils import NoOverlapError

    native = mosaic.pixel_scale
    # Side of a native region covering the stamp at any rotation, plus interpolation margin.
    side = int(math.ceil(size * pixel_scale / native * math.sqrt(2))) + 6
    x, y = (float(v) for v in mosaic.wcs.all_world2pix(ra, dec, 0))
    if not (math.isfinite(x) and math.isfinite(y)):
        return np.zeros((size, size), np.float32), CUTOUT_FLAGS["off_edge"]
    try:
        cut = Cutout2D(mosaic.data, (x, y), side, wcs=mosaic.wcs, mode="partial", fill_value=np.nan)
    except NoOverlapError:
        return np.zeros((size, size), np.float32), CUTOUT_FLAGS["off_edge"]
    data = np.asarray(cut.data, dtype=np.float64)
    bad = ~np.isfinite(data)
    if mosaic.weight is not None:
        w = Cutout2D(mosaic.weight, (x, y), side, mode="partial", fill_value=0)
        bad |= ~(np.asarray(w.data) > 0)
    outside = ~np.isfinite(data)
    data = np.where(bad, np.nan, data)
    if mosaic.background is None:
        data = _subtract_background(data)
    else:
        sky = Cutout2D(mosaic.background, (x, y), side, mode="partial", fill_value=np.nan)
        data = data - sky.data
    data *= 10 ** (-0.4 * (mosaic.zero_point - _NANOMAGGY_ZP))
    flux, cover, masked = _resample(data, outside, bad & ~outside, cut.wcs, target, size)
    flags = _flags(mosaic, (x, y), cover, masked)
    flux[(cover < 1 - _COVER_TOL) | masked] = 0.0
    return flux.astype(np.float32), flags


def _subtract_background(data: NDArray[np.float64]) -> NDArray[np.float64]:
    """Remove the local sky when no map was measured (:func:`with_background`): the
    sigma-clipped median of the region, galaxy pixels clipped away (their faint wings are not,
    so this errs slightly high around large galaxies)."""
    from astropy.stats import sigma_clipped_stats

    finite = data[np.isfinite(data)]
    if finite.size == 0:
        return data
    _, median, _ = sigma_clipped_stats(finite, sigma=3.0, maxiters=10)
    return data - median


def _resample(
    data: NDArray, outside: NDArray, masked: NDArray, wcs_in: object, target: object, size: int
) -> tuple[NDArray, NDArray, NDArray]:
    """Flux on the target grid, its coverage, and which pixels touch a mask, in one call.

    ``reproject_adaptive`` (DeForest 2004) with flux conservation: anti-aliased where the
    target is coarser than the native grid, interpolating where it is finer; the Hann kernel
    blurs less than the default Gaussian. The three planes share one set of coordinate
    transforms (reproject broadcasts over the leading axis).
    """
    from reproject import reproject_adaptive

    planes = np.stack(
        [np.where(np.isfinite(data), data, 0.0), (~outside).astype(float), masked.astype(float)]
    )
    out, _ = reproject_adaptive(
        (planes, wcs_in),
        target,
        shape_out=(size, size),
        conserve_flux=True,
        kernel="hann",
        boundary_mode="ignore",
        roundtrip_coords=False,
    )
    out = np.nan_to_num(out, nan=0.0)
    # conserve_flux scales every plane by the pixel-area ratio; coverage and mask are fractions.
    area = out[1].max() if out[1].max() > 0 else 1.0
    return out[0], out[1] / area, out[2] / area > _COVER_TOL


def _flags(mosaic: Mosaic, centre: tuple[float, float], cover: NDArray, masked: NDArray) -> int:
    x, y = centre
    ny, nx = mosaic.data.shape
    flags = 0
    if not (-0.5 <= float(x) < nx - 0.5 and -0.5 <= float(y) < ny - 0.5):
        flags |= CUTOUT_FLAGS["off_edge"]
    if (cover < 1 - _COVER_TOL).any():
        flags |= CUTOUT_FLAGS["partial"]
    if masked.any():
        flags |= CUTOUT_FLAGS["masked"]
    return flags


def _extension_band(header: object) -> str:
    """The band an extension holds, by EXTNAME or FILTER (FITS keeps EXTNAME upper case)."""
    return str(header.get("EXTNAME", header.get("FILTER", ""))).strip().upper()


def _pick_bands(path: object, images: list, bands: Sequence[str]) -> list:
    """The extensions of ``bands`` in order: by name when the file names them, else by
    position when there is one image per band."""
    named = {_extension_band(h.header): h for h in images}
    wanted = [b.upper() for b in bands]
    if any(b in named for b in wanted):
        missing = [b for b, w in zip(bands, wanted, strict=True) if w not in named]
        if missing:
            raise FormatError(f"{path}: no extension named {missing} (have {sorted(named)})")
        return [named[w] for w in wanted]
    if len(images) != len(bands):
        raise FormatError(
            f"{path}: {len(images)} image extensions for {len(bands)} bands "
            f"and no EXTNAME/FILTER naming them"
        )
    return images


def read_cutout_files(
    paths: Sequence[str | os.PathLike], bands: Sequence[str]
) -> tuple[NDArray[np.float32], list[str]]:
    """A ``(n, bands, H, W)`` cube from per-object multi-extension FITS files, as survey cutout
    services deliver them: one file per galaxy, one image extension per band (found by
    ``EXTNAME`` or ``FILTER``, else by position), all the same shape.

    Returns the cube and the file names, in the order given.
    """
    from astropy.io import fits

    if not paths:
        raise ParameterError("no cutout files given")
    cube = []
    for path in paths:
        try:
            with fits.open(path) as hdul:
                images = [h for h in hdul if getattr(h, "data", None) is not None]
                picked = _pick_bands(path, images, bands)
                cube.append(np.stack([np.asarray(h.data, dtype=np.float32) for h in picked]))
        except OSError as exc:
            raise FormatError(f"{path}: not a readable FITS file ({exc})") from None
    shapes = {c.shape for c in cube}
    if len(shapes) != 1:
        raise FormatError(f"cutout files differ in shape: {sorted(shapes)}")
    return np.stack(cube), [str(p) for p in paths]


#: The images of the run in progress. Worker processes are forked, so they inherit these
#: (gigabytes for a large mosaic) instead of receiving a pickled copy with every chunk.
_RUN_MOSAICS: list[Mosaic] = []


def _cut_chunk(args: tuple) -> tuple[int, NDArray[np.float32], dict[str, NDArray]]:
    """Cut one chunk: ``(chunk, records, start, size, pixel_scale)`` from :data:`_RUN_MOSAICS`."""
    chunk, records, _start, size, pixel_scale = args
    mosaics = _RUN_MOSAICS
    pixels = np.empty((len(records), len(mosaics), size, size), dtype=np.float32)
    flags = np.empty((len(records), len(mosaics)), dtype=np.int32)
    for i, rec in enumerate(records):
        pixels[i], flags[i] = cut_galaxy(mosaics, rec["ra"], rec["dec"], size, pixel_scale)
    return chunk, pixels, {"cutout_flags": flags}


def _check_options(
    table: pd.DataFrame, ra: str, dec: str, size: int, n_jobs: int, chunk_size: int
) -> None:
    missing = [c for c in (ra, dec) if c not in table.columns]
    if missing:
        raise CatalogError(f"catalog lacks the sky position columns {missing}; set --ra/--dec")
    check_run_options(size, n_jobs, chunk_size)


def _stamp_run(
    mosaics: Sequence[Mosaic], positions: pd.DataFrame, size: int, scale: float, chunk_size: int
) -> StampRun:
    """The stamp file's description: its configuration (a resumed run must match it, by digest
    with the positions), its attributes, and the per-band cutout flags column."""
    bands = tuple(m.band for m in mosaics)
    config = {
        "source": "cutouts",
        "images": [m.path for m in mosaics],
        "zero_points": [m.zero_point for m in mosaics],
        "bands": list(bands),
        "size": size,
        "pixel_scale": scale,
        "chunk_size": chunk_size,
        "n": len(positions),
    }
    psf = [m.psf_fwhm if m.psf_fwhm is not None else np.nan for m in mosaics]
    attrs = {"survey": "cutouts", "pixel_scale": scale, "psf_fwhm": np.array(psf)}
    return StampRun(
        bands,
        size,
        chunk_size,
        config,
        config_digest(config, positions, ["ra", "dec"]),
        attrs,
        extras={"cutout_flags": ("int32", (len(bands),))},
    )


def cutout_stamps(
    table: pd.DataFrame,
    mosaics: Sequence[Mosaic],
    out: str | os.PathLike,
    *,
    size: int = 32,
    pixel_scale: float | None = None,
    n_jobs: int = 2,
    chunk_size: int = 256,
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
    ra: str = "ra",
    dec: str = "dec",
) -> Path:
    """Cut every galaxy of ``table`` out of ``mosaics`` into the stamp file ``out``.

    The sky of each band is measured once over its whole image (:func:`with_background`)
    before any cutting; then each galaxy's stamp is resampled from every band onto one
    north-up grid centred on it, on one AB flux scale, with its flags (module docstring). The
    file is the one ``zphot simulate images`` writes, so every image estimator reads it.

    Parameters
    ----------
    table : DataFrame
        The catalog, stored beside the stamps; ``ra`` and ``dec`` (degrees) locate each galaxy.
    mosaics : sequence of Mosaic
        One per band, in wavelength order (:func:`read_mosaics`).
    size : int
        Stamp width in pixels of the common grid.
    pixel_scale : float, arcsec / pixel, optional
        Pixel scale of the common grid; by default the first band's.
    n_jobs, chunk_size, overwrite, progress
        As for :func:`zphot.images.simulate.simulate_images`; an interrupted run resumes.
    ra, dec : str
        The columns of ``table`` holding the positions.

    Returns
    -------
    Path
        ``out``, with per-band ``cutout_flags_<band>`` columns and their OR, ``cutout_flags``
        (bits :data:`CUTOUT_FLAGS`).
    """
    _check_options(table, ra, dec, size, n_jobs, chunk_size)
    scale = float(pixel_scale or mosaics[0].pixel_scale)
    mosaics = [m if m.background is not None else with_background(m) for m in mosaics]
    positions = table[[ra, dec]].rename(columns={ra: "ra", dec: "dec"})
    run = _stamp_run(mosaics, positions, int(size), scale, int(chunk_size))
    _RUN_MOSAICS[:] = mosaics
    try:
        return write_stamps(
            table,
            out,
            run,
            _cut_chunk,
            positions.to_dict("records"),
            (int(size), scale),
            n_jobs=n_jobs,
            overwrite=overwrite,
            progress=progress,
        )
    finally:
        _RUN_MOSAICS.clear()
