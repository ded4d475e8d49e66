"""``zphot simulate catalog`` and ``zphot simulate images`` end to end on tiny inputs."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

import zphot
from zphot.cli.app import app

pytest.importorskip("galsim")
runner = CliRunner()


def zphot_cli(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def test_simulate_catalog_then_images(tmp_path):
    cat_path = tmp_path / "mock.parquet"
    r = zphot_cli(
        "simulate", "catalog", "--survey", "hsc", "--n", 20, "--seed", 1, "--out", cat_path
    )
    assert r.exit_code == 0, r.stderr
    r = zphot_cli("simulate", "catalog", "--survey", "hsc", "--n", 20, "--out", cat_path)
    assert r.exit_code == 2 and "error:" in r.stderr  # refuses to overwrite
    out = tmp_path / "stamps.h5"
    sheet = tmp_path / "sheet.png"
    r = zphot_cli(
        "simulate",
        "images",
        "--catalog",
        cat_path,
        "--preset",
        "hsc",
        "--size",
        16,
        "--jobs",
        1,
        "--out",
        out,
        "--sheet",
        sheet,
    )
    assert r.exit_code == 0, r.stderr
    cat = zphot.read_catalog(out, "hsc")
    assert len(cat) == 20 and sheet.read_bytes()[:4] == b"\x89PNG"
    stamps = zphot.images.load_stamps(cat)
    assert stamps.shape == (20, 5, 16, 16) and np.isfinite(stamps).all()


def test_simulate_images_from_a_real_catalog(tmp_path):
    table = zphot.testing.synthetic_catalog(6, random_state=0).table
    path = tmp_path / "real.csv"
    table.to_csv(path, index=False)
    out = tmp_path / "real.h5"
    r = zphot_cli(
        "simulate",
        "images",
        "--catalog",
        path,
        "--preset",
        "sdss",
        "--size",
        16,
        "--jobs",
        1,
        "--out",
        out,
    )
    assert r.exit_code == 0, r.stderr
    cat = zphot.read_catalog(out, "sdss")
    np.testing.assert_allclose(cat.mags, zphot.read_catalog(path, "sdss").mags)
    assert "type_name" in cat.table.columns
