"""``zphot simulate catalog`` and ``zphot simulate images``: mock catalogs and galaxy stamps."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from ...catalog.survey import list_presets, resolve_survey
from ...exceptions import ParameterError
from ...io import check_writable, write_table
from ...io.atomic import check_not_input
from ..console import command, err, row_progress
from ..options import Preset, Select, SurveyFile, ZMax, open_catalog

simulate_app = typer.Typer(
    help="Mock catalogs from SED templates and multi-band galaxy stamps (GalSim).",
    no_args_is_help=True,
)


@simulate_app.command("catalog")
@command
def catalog_command(
    n: Annotated[int, typer.Option("--n", help="Number of galaxies.")],
    out: Annotated[Path, typer.Option("--out", help="Catalog file (Parquet, FITS, HDF5, CSV).")],
    preset: Annotated[
        str | None, typer.Option("--preset", help=f"Survey preset: {', '.join(list_presets())}.")
    ] = None,
    survey: Annotated[
        Path | None,
        typer.Option(
            "--survey",
            help="Survey TOML with filters and an [observing] table, instead of --preset.",
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Run seed: one seed, the same galaxies.")] = 0,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing file.")] = False,
) -> None:
    """A mock photometric catalog: the population through the survey's filters, with errors.

    The survey sets the columns, filter curves, depths, error model and population.

    Example: zphot simulate catalog --preset lsst --n 20000 --seed 1 --out lsst.parquet
    (the same --seed with --preset hsc observes the same galaxies through HSC filters).
    """
    from ...sim.mock import simulate_catalog

    if n < 1:
        raise ParameterError(f"--n must be >= 1, got {n}")
    check_not_input({"--out": out}, {"--survey": survey})
    chosen = resolve_survey(preset, survey)
    chosen.require_observing()
    check_writable(out, overwrite)
    t0 = time.perf_counter()
    with err.status(f"simulating {n:,} galaxies"):
        table = simulate_catalog(n, chosen, seed)
    write_table(table, out, overwrite=overwrite)
    err.print(f"{n:,} galaxies in {time.perf_counter() - t0:.1f} s -> {out}")


def _renderable(
    catalog: str,
    preset: str | None,
    survey: str | None,
    select: list[str] | None,
    z_max: float | None,
    limit: int | None,
    seed: int,
) -> tuple:
    """The catalog (its first ``limit`` rows), its survey's observing conditions, and its table
    with the structure to render it: a real catalog gets types fitted from its colours."""
    import numpy as np

    from ...images.simulate import prepare_catalog, structure_columns

    cat = open_catalog(catalog, preset, survey, select, z_max)
    obs = cat.survey.require_observing()
    if limit is not None:
        cat = cat.take(np.arange(min(limit, len(cat))))
    table = cat.table
    if any(c not in table.columns for c in structure_columns(obs.bands)):
        with err.status("fitting types and drawing structure for a real catalog"):
            table = prepare_catalog(cat, seed)
    return cat, obs, table


#: The catalog that ``simulate images`` and ``simulate field`` render.
RenderCatalog = Annotated[str, typer.Option(help="Mock catalog, or a real one with redshifts.")]


@simulate_app.command("images")
@command
def images_command(
    catalog: RenderCatalog,
    out: Annotated[Path, typer.Option("--out", help="Stamp file to write (.h5).")],
    preset: Preset = None,
    survey: SurveyFile = None,
    select: Select = None,
    z_max: ZMax = None,
    size: Annotated[int, typer.Option(help="Stamp width in pixels (32, or 64 as Pasquet).")] = 32,
    seed: Annotated[int, typer.Option(help="Run seed; each galaxy has its own stream.")] = 0,
    jobs: Annotated[int, typer.Option("--jobs", help="Worker processes.")] = 2,
    chunk_size: Annotated[int, typer.Option(help="Rows per written chunk.")] = 256,
    limit: Annotated[int | None, typer.Option(help="Render only the first N rows.")] = None,
    sheet: Annotated[Path | None, typer.Option(help="Also write a contact-sheet PNG here.")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing file.")] = False,
) -> None:
    """Render multi-band stamps (bulge + disk, per-band PSF, sky + Poisson noise) with GalSim.

    A real catalog (no structure columns) gets types fitted from its colours and sizes, shapes
    and bulge fractions drawn from the relations. Re-running an interrupted command resumes.

    Example: zphot simulate images --catalog sdss.npy --preset sdss --select spec_class=GALAXY
    --out sdss_stamps.h5
    """
    from ...images.simulate import simulate_images

    check_not_input({"--out": out, "--sheet": sheet}, {"--catalog": catalog, "--survey": survey})
    check_writable(out, overwrite)
    if sheet is not None:
        check_writable(sheet, overwrite)
    cat, obs, table = _renderable(catalog, preset, survey, select, z_max, limit, seed)
    t0 = time.perf_counter()
    with row_progress("rendering", len(table)) as progress:
        simulate_images(
            table,
            obs,
            out,
            size=size,
            seed=seed,
            n_jobs=jobs,
            chunk_size=chunk_size,
            overwrite=overwrite,
            progress=progress,
        )
    err.print(f"{len(table):,} stamps in {time.perf_counter() - t0:.1f} s -> {out}")
    if sheet is not None:
        from ...catalog import read_catalog
        from ...images.sheet import contact_sheet
        from ...images.store import load_stamps

        stamps_cat = read_catalog(out, cat.survey)
        contact_sheet(
            load_stamps(stamps_cat), stamps_cat.require_z(), obs.bands, sheet, overwrite=overwrite
        )
        err.print(f"contact sheet -> {sheet}")


@simulate_app.command("field")
@command
def field_command(
    catalog: RenderCatalog,
    out: Annotated[Path, typer.Option("--out", help="Folder for the images and the truth.")],
    spacing: Annotated[
        float,
        typer.Option(help="Lattice spacing of the galaxies in arcsec (jittered; sets the field)."),
    ] = 24.0,
    preset: Preset = None,
    survey: SurveyFile = None,
    select: Select = None,
    z_max: ZMax = None,
    seed: Annotated[int, typer.Option(help="Run seed (positions, structure, noise).")] = 0,
    limit: Annotated[int | None, typer.Option(help="Use only the first N rows.")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace existing files.")] = False,
) -> None:
    """Render a multi-band field: one FITS mosaic per band on its own grid, and the truth.

    Bands alternate between the survey's pixel scale and a 1.5x coarser one, each rotated
    and dithered differently, with a weight map whose masked square (weight 0) covers part of
    the field; galaxies sit on a jittered lattice (blends are rare), 5% on the field's edge.
    Writes field_<band>.fits and field_<band>.weight.fits, field.toml (what
    `zphot cutouts --images` reads) and truth.parquet (the catalog with ra, dec and the
    structure it was rendered with, which `zphot simulate images` renders directly).

    Example: zphot simulate field --catalog mock.parquet --preset sdss --out field/
    """

    from ...images.field import (
        default_frames,
        field_shape,
        field_width,
        place_galaxies,
        render_field,
        write_field,
    )

    _, obs, table = _renderable(catalog, preset, survey, select, z_max, limit, seed)
    centre = (150.0, 2.0)
    frames = default_frames(obs)
    width = field_width(len(table), spacing)
    shape = field_shape(width, frames)
    # Edge galaxies sit on the reference band's image edge (its grid is neither turned nor
    # dithered), half their stamp off it.
    edge_at = shape[1] / 2 * frames[0].pixel_scale
    positions = place_galaxies(len(table), centre, spacing, seed, edge_at=edge_at)
    table = table.drop(columns=["ra", "dec"], errors="ignore").reset_index(drop=True)
    table = table.assign(
        ra=positions["ra"].to_numpy(),
        dec=positions["dec"].to_numpy(),
        on_edge=positions["edge"].to_numpy(),
    )
    mask = (slice(shape[0] // 5, shape[0] // 3), slice(shape[1] // 5, shape[1] // 3))
    truth = Path(out) / "truth.parquet"
    check_writable(truth, overwrite)
    t0 = time.perf_counter()
    with err.status(f"rendering {len(table):,} galaxies in {len(frames)} bands"):
        images = render_field(table, obs, frames, centre, shape, seed=seed, mask=mask)
    toml = write_field(images, out, overwrite=overwrite)
    write_table(table, truth, overwrite=overwrite)
    err.print(
        f"{len(table):,} galaxies over {width / 60:.1f}' in {time.perf_counter() - t0:.1f} s"
        f" -> {toml}, {truth}"
    )
