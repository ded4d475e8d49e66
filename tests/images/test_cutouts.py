"""Cutouts from multi-band images: positions through the WCS, flux against direct rendering,
flags at edges and masks, the stamp file, and per-object cutout files."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from astropy.io import fits
from astropy.wcs import WCS

import zphot
from zphot.catalog.survey import load_survey
from zphot.exceptions import FormatError
from zphot.images.cutouts import (
    CUTOUT_FLAGS,
    Mosaic,
    cut_galaxy,
    cutout_stamps,
    read_cutout_files,
    read_mosaics,
    target_wcs,
    with_background,
)
from zphot.images.field import BandFrame, default_frames, frame_wcs, render_field
from zphot.images.store import load_stamps

CENTRE = (150.0, 2.0)


def _blobs(wcs: WCS, shape: tuple[int, int], sky: list[tuple[float, float]], sigma_px: float):
    """Unit-flux circular Gaussians at sky positions, placed through ``wcs`` (0-based pixels)."""
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    image = np.zeros(shape)
    for ra, dec in sky:
        x, y = wcs.all_world2pix(ra, dec, 0)
        image += np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * sigma_px**2))
    return image / (2 * np.pi * sigma_px**2)


def _centroid(stamp: np.ndarray) -> tuple[float, float]:
    yy, xx = np.mgrid[0 : stamp.shape[0], 0 : stamp.shape[1]]
    return float((stamp * xx).sum() / stamp.sum()), float((stamp * yy).sum() / stamp.sum())


def test_a_cutout_at_a_known_offset_and_rotation_lands_where_the_wcs_says():
    """A source 2" north and 1" east of a galaxy, in an image whose grid is rotated by 30 deg,
    0.3" pixels and dithered: on the 0.2" north-up stamp around the galaxy, the galaxy sits at
    the centre and the neighbour 10 pixels up and 5 to the left (east is left)."""
    frame = BandFrame("r", 0.3, rotation=30.0, dither=(0.37, -0.61))
    shape = (120, 120)
    wcs = frame_wcs(frame, CENTRE, shape)
    ra0, dec0 = CENTRE[0] + 3 / 3600, CENTRE[1] - 4 / 3600
    neighbour = (ra0 + 1 / 3600 / math.cos(math.radians(dec0)), dec0 + 2 / 3600)
    only_galaxy = Mosaic("r", "-", _blobs(wcs, shape, [(ra0, dec0)], 2.0), wcs, 22.5)
    stamp, flags = cut_galaxy([only_galaxy], ra0, dec0, 48, 0.2)
    assert flags.tolist() == [0]
    centre = (48 - 1) / 2
    x, y = _centroid(stamp[0])
    assert abs(x - centre) < 0.02 and abs(y - centre) < 0.02
    # Zero point 22.5: counts are nanomaggies already, and the flux is kept on the finer grid.
    assert stamp[0].sum() == pytest.approx(1.0, rel=0.01)
    only_neighbour = Mosaic("r", "-", _blobs(wcs, shape, [neighbour], 2.0), wcs, 22.5)
    stamp, _ = cut_galaxy([only_neighbour], ra0, dec0, 48, 0.2)
    x, y = _centroid(stamp[0])
    assert abs(x - (centre - 5)) < 0.05 and abs(y - (centre + 10)) < 0.05


def test_zero_points_put_every_band_on_one_ab_scale():
    # Counts of 10 at zero point 25 are 10 * 10^(-0.4 (25 - 22.5)) = 1 nanomaggy.
    wcs = frame_wcs(BandFrame("g", 0.25), CENTRE, (80, 80))
    image = 10 * _blobs(wcs, (80, 80), [CENTRE], 1.5)
    stamp, _ = cut_galaxy([Mosaic("g", "-", image, wcs, 25.0)], *CENTRE, 40, 0.25)
    assert stamp.sum() == pytest.approx(1.0, rel=0.01)


@pytest.fixture(scope="module")
def field():
    """Three galaxies on grids that differ per band (scale x1 and x1.5, rotations, dithers):
    one inside, one on the mosaic's edge, one in a masked region; noiseless."""
    pytest.importorskip("galsim")
    obs = load_survey("sdss").require_observing()
    frames = default_frames(obs)
    shape = (160, 160)
    inside = CENTRE
    wcs0 = frame_wcs(frames[0], CENTRE, shape)
    edge = tuple(float(v) for v in wcs0.all_pix2world(0.0, 80.0, 0))
    masked = tuple(float(v) for v in wcs0.all_pix2world(120.0, 40.0, 0))
    table = pd.DataFrame([inside, edge, masked], columns=["ra", "dec"])
    for b in obs.bands:
        table[f"flux_bulge_{b}"], table[f"flux_disk_{b}"] = 40.0, 90.0
        table[b] = 22.5 - 2.5 * np.log10(130.0)  # the catalog magnitude of those fluxes
    table["redshift"] = 0.1
    table = table.assign(r_bulge=0.4, r_disk=1.2, q_bulge=0.9, q_disk=0.6, beta=25.0)
    # Mask a box around the third galaxy in every band (each band's own pixels).
    images = render_field(table, obs, frames, CENTRE, shape, seed=3, noise=False)
    for im in images:
        x, y = WCS(im.header).all_world2pix(masked[0], masked[1], 0)
        im.weight[int(y) - 3 : int(y) + 4, int(x) - 3 : int(x) + 4] = 0.0
    mosaics = [
        Mosaic(im.band, "-", im.counts, WCS(im.header), im.header["MAGZP"], im.weight)
        for im in images
    ]
    return obs, table, mosaics


def test_field_cutouts_match_direct_rendering(field):
    from zphot.images.render import render_galaxy

    obs, table, mosaics = field
    row = table.iloc[0].to_dict()
    stamp, flags = cut_galaxy(mosaics, row["ra"], row["dec"], 32, obs.pixel_scale)
    assert flags.tolist() == [0] * 5
    direct = render_galaxy(row, obs, obs.bands, 32, 0, 0, noise=False)
    ratio = stamp.sum(axis=(1, 2)) / direct.sum(axis=(1, 2))
    np.testing.assert_allclose(ratio, 1.0, atol=0.01)
    for k in range(5):  # bands 1 and 3 come from a 1.5x coarser, rotated grid
        x, y = _centroid(stamp[k])
        assert abs(x - 15.5) < 0.1 and abs(y - 15.5) < 0.1


def test_edge_and_masked_galaxies_are_flagged(field):
    obs, table, mosaics = field
    ra, dec = table.ra[1], table.dec[1]
    _, edge = cut_galaxy(mosaics, ra, dec, 32, obs.pixel_scale)
    # Independently: the stamp's corners through each band's WCS; partial where one falls off.
    corners = target_wcs(ra, dec, 32, obs.pixel_scale).all_pix2world(
        [-0.5, 31.5, -0.5, 31.5], [-0.5, -0.5, 31.5, 31.5], 0
    )
    for m, flag in zip(mosaics, edge, strict=True):
        x, y = m.wcs.all_world2pix(*corners, 0)
        off = (x < -0.5).any() or (y < -0.5).any() or (x > 159.5).any() or (y > 159.5).any()
        assert bool(flag & CUTOUT_FLAGS["partial"]) == off, m.band
    assert edge[0] & CUTOUT_FLAGS["partial"]  # placed on band u's edge
    _, masked = cut_galaxy(mosaics, table.ra[2], table.dec[2], 32, obs.pixel_scale)
    assert all(f & CUTOUT_FLAGS["masked"] for f in masked)
    assert not any(f & CUTOUT_FLAGS["partial"] for f in masked)
    far = cut_galaxy(mosaics, CENTRE[0] + 1.0, CENTRE[1], 32, obs.pixel_scale)
    assert far[1].tolist() == [CUTOUT_FLAGS["off_edge"]] * 5 and not far[0].any()


def test_cutout_stamps_write_a_stamp_file_the_estimators_read(field, tmp_path):
    obs, table, mosaics = field
    out = cutout_stamps(table, mosaics, tmp_path / "cut.h5", size=24, n_jobs=1, chunk_size=2)
    cat = zphot.read_catalog(out, "sdss")
    assert cat.table["cutout_flags"].tolist()[1] & CUTOUT_FLAGS["partial"]
    assert cat.table["cutout_flags_r"].tolist()[2] & CUTOUT_FLAGS["masked"]
    assert cat.table["cutout_flags"].tolist()[0] == 0
    stamps = load_stamps(cat)
    assert stamps.shape == (3, 5, 24, 24)
    # The stamp file's sky comes from each band's SEP map (with_background).
    mapped = [with_background(m) for m in mosaics]
    again, _ = cut_galaxy(mapped, table.ra[0], table.dec[0], 24, mosaics[0].pixel_scale)
    np.testing.assert_array_equal(stamps[0], again)


def test_read_mosaics_from_fits_headers_and_toml(tmp_path):
    wcs = frame_wcs(BandFrame("g", 0.25), CENTRE, (20, 20))
    for band, zp in (("g", 27.0), ("r", 26.5)):
        header = wcs.to_header()
        header["FILTER"], header["MAGZP"] = band, zp
        fits.PrimaryHDU(np.zeros((20, 20), np.float32), header=header).writeto(
            tmp_path / f"{band}.fits"
        )
    mosaics = read_mosaics([tmp_path / "g.fits", tmp_path / "r.fits"])
    assert [(m.band, m.zero_point) for m in mosaics] == [("g", 27.0), ("r", 26.5)]
    assert mosaics[0].pixel_scale == pytest.approx(0.25)
    (tmp_path / "m.toml").write_text('[bands.g]\nimage = "g.fits"\nzeropoint = 27\n')
    with pytest.raises(FormatError, match="zeropoint"):
        read_mosaics(tmp_path / "m.toml")


def test_per_object_cutout_files_are_read_in_band_order(tmp_path):
    paths = []
    for i in range(3):
        hdus = [fits.PrimaryHDU()]
        for band in ("r", "g", "i"):  # stored out of order, named by EXTNAME
            hdus.append(fits.ImageHDU(np.full((8, 8), i * 10 + "gri".index(band)), name=band))
        paths.append(tmp_path / f"obj{i}.fits")
        fits.HDUList(hdus).writeto(paths[-1])
    cube, names = read_cutout_files(paths, ["g", "r", "i"])
    assert cube.shape == (3, 3, 8, 8) and names == [str(p) for p in paths]
    assert cube[:, :, 0, 0].tolist() == [[0, 1, 2], [10, 11, 12], [20, 21, 22]]
    with pytest.raises(FormatError, match=r"no extension named \['z'\]"):
        read_cutout_files(paths[:1], ["g", "z"])
    unnamed = tmp_path / "unnamed.fits"
    fits.HDUList([fits.PrimaryHDU(np.zeros((8, 8)))]).writeto(unnamed)
    with pytest.raises(FormatError, match="1 image extensions for 2 bands"):
        read_cutout_files([unnamed], ["g", "r"])


def test_simulate_field_then_cutouts_on_the_command_line(tmp_path):
    pytest.importorskip("galsim")
    from typer.testing import CliRunner

    from zphot.cli.app import app

    def zphot_cli(*args):
        result = CliRunner().invoke(app, [str(a) for a in args])
        assert result.exit_code == 0, result.output
        return result

    mock = tmp_path / "mock.parquet"
    zphot_cli("simulate", "catalog", "--survey", "sdss", "--n", 40, "--seed", 1, "--out", mock)
    field = tmp_path / "field"
    zphot_cli("simulate", "field", "--catalog", mock, "--preset", "sdss", "--out", field)
    stamps = tmp_path / "stamps.h5"
    zphot_cli(
        "cutouts", "--images", field / "field.toml", "--catalog", field / "truth.parquet",
        "--size", 16, "--jobs", 1, "--out", stamps,
    )  # fmt: skip
    cat = zphot.read_catalog(stamps, "sdss")
    assert len(cat) == 40 and load_stamps(cat).shape == (40, 5, 16, 16)
    truth = zphot.io.read_table(field / "truth.parquet")
    np.testing.assert_array_equal(cat.table["ra"], truth["ra"])
    # The galaxies placed on the u image's edge have half their u stamp off it; no other does.
    edge = truth["on_edge"].to_numpy()
    partial_u = (cat.table["cutout_flags_u"].to_numpy() & CUTOUT_FLAGS["partial"]) > 0
    assert edge.any() and np.array_equal(partial_u, edge)


def test_cutouts_do_not_depend_on_the_process_count(field, tmp_path):
    """Two forked workers (the images reach them by inheritance, not pickled per chunk) cut the
    same pixels as one process."""
    _, table, mosaics = field
    one = cutout_stamps(table, mosaics, tmp_path / "one.h5", size=16, n_jobs=1, chunk_size=1)
    two = cutout_stamps(table, mosaics, tmp_path / "two.h5", size=16, n_jobs=2, chunk_size=1)
    cats = [zphot.read_catalog(p, "sdss") for p in (one, two)]
    np.testing.assert_array_equal(load_stamps(cats[0]), load_stamps(cats[1]))
