"""A simulated multi-band field: one mosaic per band on its own pixel grid, galaxies at known
sky positions, as a user's stacked images come.

Each band has its own WCS (:class:`BandFrame`: pixel scale, rotation of the pixel axes against
north, a dither offset of the grid), its own zero point and a weight map with a masked region.
The galaxies are the same bulge + disk profiles, PSFs and noise model as
:func:`zphot.images.render.render_galaxy`, drawn through each band's WCS at each galaxy's sky
position, so cutting them out again (:mod:`zphot.images.cutouts`) can be checked against
stamps rendered directly. Pixels are in counts above a constant sky that is left in, with the
band's AB zero point in the header (``MAGZP``), as in a real stack.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .._rng import child_generator
from ..catalog.observing import Observing
from ..exceptions import ParameterError
from ..io.atomic import atomic_path
from .render import _galsim, galaxy_profile, psf_profile

__all__ = [
    "BandFrame",
    "FieldImage",
    "default_frames",
    "field_shape",
    "field_width",
    "frame_wcs",
    "place_galaxies",
    "render_field",
    "write_field",
]


@dataclasses.dataclass(frozen=True)
class BandFrame:
    """The pixel grid of one band's mosaic.

    Parameters
    ----------
    band : str
    pixel_scale : float, arcsec / pixel
    rotation : float, degrees
        Angle of the pixel y axis east of north.
    dither : tuple of float, pixels
        Offset of the field centre from the mosaic's central pixel.
    """

    band: str
    pixel_scale: float
    rotation: float = 0.0
    dither: tuple[float, float] = (0.0, 0.0)


@dataclasses.dataclass(frozen=True)
class FieldImage:
    """One band's rendered mosaic: counts (sky included), weights (0 where masked), header."""

    band: str
    counts: NDArray[np.float32]
    weight: NDArray[np.float32]
    header: object  # astropy.io.fits.Header with the WCS, MAGZP, SKYLEVEL and PSF_FWHM


def default_frames(obs: Observing) -> list[BandFrame]:
    """Grids that differ as real stacks do: the reference scale, 1.5 times coarser in every
    other band, rotations of a few to 30 degrees and dithers of a fraction of a pixel."""
    frames = []
    for k, band in enumerate(obs.bands):
        scale = obs.pixel_scale * (1.0 if k % 2 == 0 else 1.5)
        frames.append(BandFrame(band, scale, rotation=7.5 * k, dither=(0.3 * k, -0.2 * k)))
    return frames


def frame_wcs(frame: BandFrame, centre: tuple[float, float], shape: tuple[int, int]):  # noqa: ANN201
    """The astropy TAN WCS of ``frame`` around ``centre`` (RA, Dec in degrees)."""
    from astropy.wcs import WCS

    theta = math.radians(frame.rotation)
    s = frame.pixel_scale / 3600.0
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = list(centre)
    # 1-based FITS pixels: the field centre sits at the middle of the array plus the dither.
    wcs.wcs.crpix = [(shape[1] + 1) / 2 + frame.dither[0], (shape[0] + 1) / 2 + frame.dither[1]]
    # East to the left (RA falls with x) for rotation 0; the grid then turns by `rotation`.
    wcs.wcs.cd = s * np.array(
        [[-math.cos(theta), math.sin(theta)], [math.sin(theta), math.cos(theta)]]
    )
    return wcs


def field_width(n: int, spacing: float) -> float:
    """Side in arcsec of the square lattice that holds ``n`` galaxies ``spacing`` apart."""
    return int(math.ceil(math.sqrt(n))) * spacing


def place_galaxies(
    n: int,
    centre: tuple[float, float],
    spacing: float,
    seed: int = 0,
    edge_fraction: float = 0.05,
    edge_at: float | None = None,
) -> pd.DataFrame:
    """Sky positions for ``n`` galaxies on a jittered square lattice of ``spacing`` arcsec
    (each moved by up to a quarter spacing, so no two are closer than half of it and blends
    stay rare), plus ``edge_fraction`` of them moved east or west to ``edge_at`` arcsec from
    the centre (the edge of the reference band's image, so half their stamp falls off it; the
    lattice's own border by default), so a cutout test meets both cases. Column ``edge`` marks
    those."""
    rng = child_generator(seed, "positions")
    side = int(math.ceil(math.sqrt(n)))
    width = field_width(n, spacing)
    cells = rng.permutation(side * side)[:n]
    x = (cells % side + 0.5) * spacing - width / 2 + rng.uniform(-0.25, 0.25, n) * spacing
    y = (cells // side + 0.5) * spacing - width / 2 + rng.uniform(-0.25, 0.25, n) * spacing
    edge = rng.random(n) < edge_fraction
    reach = width / 2 if edge_at is None else edge_at
    x[edge] = np.where(rng.random(edge.sum()) < 0.5, -reach, reach)
    dec = centre[1] + y / 3600.0
    ra = centre[0] + x / 3600.0 / np.cos(np.radians(dec))
    return pd.DataFrame({"ra": ra, "dec": dec, "edge": edge})


def render_field(
    table: pd.DataFrame,
    obs: Observing,
    frames: Sequence[BandFrame],
    centre: tuple[float, float],
    shape: tuple[int, int],
    *,
    seed: int = 0,
    mask: tuple[slice, slice] | None = None,
    noise: bool = True,
) -> list[FieldImage]:
    """Draw every galaxy of ``table`` (structure columns, ``ra``, ``dec``) into each band.

    Parameters
    ----------
    table : DataFrame
        Rows with :func:`zphot.images.simulate.structure_columns` and sky positions.
    obs : Observing
        PSF FWHM, sky and depth per band; each band's pixel scale comes from its frame.
    frames : sequence of BandFrame
        One per band to render.
    centre : (float, float), degrees
    shape : (int, int)
        Mosaic shape (ny, nx), the same in pixels for every band.
    seed : int
        Run seed: band ``k``'s noise is stream ``(seed, "band-noise", k)``.
    mask : (slice, slice), optional
        Pixels given weight 0 in every band (a bad region of the stack).
    noise : bool
        ``False`` leaves out the Poisson noise (the sky level stays), for exact checks.
    """
    out = []
    for k, frame in enumerate(frames):
        band_obs = dataclasses.replace(obs, pixel_scale=frame.pixel_scale)
        wcs = frame_wcs(frame, centre, shape)
        counts = _draw_band(table, band_obs, frame.band, wcs, shape)
        sky = band_obs.sky_counts(frame.band)
        rng = child_generator(seed, "band-noise", k)
        expected = np.clip(counts + sky, 0, None)
        noisy = (rng.poisson(expected) if noise else expected).astype(np.float32)
        weight = np.full(shape, 1.0 / sky, dtype=np.float32)  # inverse variance of the sky
        if mask is not None:
            weight[mask] = 0.0
        header = wcs.to_header()
        header["MAGZP"] = (band_obs.zero_point(frame.band), "AB zero point of the counts")
        header["SKYLEVEL"] = (sky, "sky counts per pixel left in the image")
        header["PSF_FWHM"] = (obs.psf_fwhm[obs.band_index(frame.band)], "arcsec")
        header["FILTER"] = frame.band
        out.append(FieldImage(frame.band, noisy, weight, header))
    return out


def _draw_band(
    table: pd.DataFrame, obs: Observing, band: str, wcs: object, shape: tuple[int, int]
) -> NDArray[np.float64]:
    """Noiseless counts of every galaxy in one band, drawn through the band's WCS."""
    galsim = _galsim()
    missing = [c for c in ("ra", "dec") if c not in table.columns]
    if missing:
        raise ParameterError(f"a field needs sky positions: the table lacks {missing}")
    image = galsim.ImageD(shape[1], shape[0], wcs=galsim.AstropyWCS(wcs=wcs))
    gain = obs.counts_per_nanomaggy(band)
    psf = psf_profile(obs, band)
    x, y = wcs.all_world2pix(table["ra"].to_numpy(), table["dec"].to_numpy(), 1)
    half = int(math.ceil(8 * max(obs.psf_fwhm) / obs.pixel_scale)) + 8
    for row, xi, yi in zip(table.to_dict("records"), x, y, strict=True):
        r_max = 4 * max(float(row["r_bulge"]), float(row["r_disk"])) / obs.pixel_scale
        h = half + int(math.ceil(r_max))
        bounds = galsim.BoundsI(int(xi) - h, int(xi) + h, int(yi) - h, int(yi) + h) & image.bounds
        if not bounds.isDefined():
            continue
        gal = galsim.Convolve(galaxy_profile(row, band), psf) * gain
        gal.drawImage(
            image=image[bounds], center=galsim.PositionD(xi, yi), add_to_image=True, method="auto"
        )
    return image.array


def field_shape(width_arcsec: float, frames: Sequence[BandFrame], margin: float = 1.1) -> tuple:
    """A square mosaic shape large enough for ``width_arcsec`` at the finest grid, rotated."""
    finest = min(f.pixel_scale for f in frames)
    side = int(math.ceil(width_arcsec * margin * math.sqrt(2) / finest))
    return (side, side)


def write_field(
    images: Sequence[FieldImage], out_dir: str | os.PathLike, *, overwrite: bool = False
) -> Path:
    """Write each band as ``field_<band>.fits`` + ``field_<band>.weight.fits`` and the TOML
    mapping ``field.toml`` that ``zphot cutouts --images`` reads; returns the TOML's path."""
    from astropy.io import fits

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    lines = ["# Bands in wavelength order: image, weight map, AB zero point, PSF FWHM (arcsec)."]
    for im in images:
        name = f"field_{im.band}.fits"
        for path, data in ((name, im.counts), (f"field_{im.band}.weight.fits", im.weight)):
            with atomic_path(out / path, overwrite=overwrite) as tmp:
                fits.PrimaryHDU(data, header=im.header).writeto(tmp, overwrite=True)
        lines += [
            f"[bands.{im.band}]",
            f'image = "{name}"',
            f'weight = "field_{im.band}.weight.fits"',
            f"zero_point = {float(im.header['MAGZP'])!r}",
            f"psf_fwhm = {float(im.header['PSF_FWHM'])!r}",
        ]
    toml = out / "field.toml"
    with atomic_path(toml, overwrite=overwrite) as tmp:
        tmp.write_text("\n".join(lines) + "\n")
    return toml
