"""``zphot cutouts``: stamps from a user's own multi-band images, for the image estimators."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from ...io import check_writable, read_table
from ..console import command, err, row_progress


@command
def cutouts(
    images: Annotated[
        list[str],
        typer.Option(
            help="A TOML file mapping each band to its image (weight, zero_point, psf_fwhm), "
            "or one FITS file per band with FILTER and MAGZP in its header (repeat the option)."
        ),
    ],
    catalog: Annotated[Path, typer.Option(help="Catalog with sky positions (any format).")],
    out: Annotated[Path, typer.Option("--out", help="Stamp file to write (.h5).")],
    size: Annotated[int, typer.Option(help="Stamp width in pixels of the common grid.")] = 32,
    pixel_scale: Annotated[
        float | None, typer.Option(help="Common grid's arcsec per pixel [default: first band's].")
    ] = None,
    ra: Annotated[str, typer.Option(help="Right ascension column (degrees).")] = "ra",
    dec: Annotated[str, typer.Option(help="Declination column (degrees).")] = "dec",
    jobs: Annotated[int, typer.Option("--jobs", help="Worker processes.")] = 2,
    chunk_size: Annotated[int, typer.Option(help="Rows per written chunk.")] = 256,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing file.")] = False,
) -> None:
    """Cut every catalog galaxy out of each band's image onto one common pixel grid.

    WCS-aware (each band keeps its own WCS, scale and orientation), flux-conserving
    resampling, local background subtracted, fluxes in nanomaggies from the zero points, and
    per-band flags (off the image, partly covered, masked). The stamp file goes through
    train, predict, compare and debias like `zphot simulate images`' files; re-running an
    interrupted command resumes.

    Example: zphot cutouts --images field.toml --catalog truth.parquet --size 32 --out stamps.h5
    """
    from ...images.cutouts import cutout_stamps, read_mosaics

    check_writable(out, overwrite)
    spec = images[0] if len(images) == 1 and images[0].lower().endswith(".toml") else images
    mosaics = read_mosaics(spec)
    table = read_table(catalog)
    t0 = time.perf_counter()
    with row_progress("cutting", len(table)) as progress:
        cutout_stamps(
            table,
            mosaics,
            out,
            size=size,
            pixel_scale=pixel_scale,
            ra=ra,
            dec=dec,
            n_jobs=jobs,
            chunk_size=chunk_size,
            overwrite=overwrite,
            progress=progress,
        )
    bands = " ".join(m.band for m in mosaics)
    err.print(f"{len(table):,} stamps ({bands}) in {time.perf_counter() - t0:.1f} s -> {out}")
