"""A survey described by one TOML file, from mock catalog to stamps to a trained model to
predictions, through the CLI only; and the presets' mock catalogs unchanged by the move of their
observing numbers into their TOML files."""

from __future__ import annotations

import hashlib

import h5py
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import zphot
from zphot.cli.app import app

runner = CliRunner()

M5 = [26.0, 25.8, 25.5, 25.0]
FLOOR = 0.03


def zphot_cli(*args: object):
    return runner.invoke(app, [str(a) for a in args])


SURVEY = """
name = "mysurvey"
reference_band = "i"

[columns]
id = "id"
redshift = "redshift"

[[bands]]
name = "g"
mag = "mag_g"
mag_err = "err_g"
filter = "sdss2010-g"

[[bands]]
name = "r"
mag = "mag_r"
mag_err = "err_r"
filter = "sdss2010-r"

[[bands]]
name = "i"
mag = "mag_i"
mag_err = "err_i"
filter = "sdss2010-i"

[[bands]]
name = "z"
mag = "mag_z"
mag_err = "err_z"
filter = "{z_filter}"
"""
OBSERVING = f"""
[observing]
m5 = {M5}
sky = [22.0, 21.2, 20.4, 19.6]
psf_fwhm = [0.9, 0.85, 0.8, 0.8]
pixel_scale = 0.25
error_floor = {FLOOR}
error_model = "depth"
population = "deep"
"""


def write_survey(folder, observing: bool = True):
    """A made-up 4-band survey in one TOML file: three speclite filters and a top-hat z band
    from a two-column file (wavelength in Angstrom, response)."""
    z_filter = folder / "my_z.dat"
    wl = np.arange(7800.0, 9801.0, 50.0)
    np.savetxt(z_filter, np.column_stack([wl, np.where(abs(wl - 8800) < 800, 0.9, 0.0)]))
    path = folder / "mysurvey.toml"
    path.write_text(SURVEY.format(z_filter=z_filter) + (OBSERVING if observing else ""))
    return path


def test_own_survey_from_simulation_to_predictions(tmp_path):
    pytest.importorskip("galsim")
    survey = write_survey(tmp_path)
    mock, stamps = tmp_path / "mock.parquet", tmp_path / "stamps.h5"
    model, pred = tmp_path / "knn.zphot", tmp_path / "pred.parquet"
    r = zphot_cli("simulate", "catalog", "--survey", survey, "--n", 60, "--seed", 3, "--out", mock)
    assert r.exit_code == 0, r.output
    table = pd.read_parquet(mock)
    # The depth model's error, recomputed from the TOML's m5 and floor: sigma_F = F(m5) / 5,
    # err = hypot(1.0857 sigma_F / F_measured, floor) with F_measured from the magnitude.
    for b, m5 in zip("griz", M5, strict=True):
        ok = np.isfinite(table[f"mag_{b}"])
        flux = 10 ** (-0.4 * (table.loc[ok, f"mag_{b}"] - 22.5))
        sigma = 10 ** (-0.4 * (m5 - 22.5)) / 5
        expected = np.hypot(1.0857 * sigma / flux, FLOOR)
        np.testing.assert_allclose(table.loc[ok, f"err_{b}"], expected, rtol=1e-9)
    r = zphot_cli(
        "simulate", "images", "--catalog", mock, "--survey", survey, "--size", 16,
        "--limit", 6, "--jobs", 1, "--out", stamps,
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    cube = zphot.images.load_stamps(zphot.read_catalog(stamps, zphot.load_survey(survey)))
    assert cube.shape == (6, 4, 16, 16) and np.isfinite(cube).all()
    with h5py.File(stamps) as fh:  # rendered with the TOML's pixel scale and PSF
        attrs = fh["stamps"].attrs
        assert (attrs["survey"], attrs["pixel_scale"]) == ("mysurvey", 0.25)
        np.testing.assert_array_equal(attrs["psf_fwhm"], [0.9, 0.85, 0.8, 0.8])
    field = tmp_path / "field"
    r = zphot_cli("simulate", "field", "--catalog", mock, "--survey", survey, "--limit", 4,
                  "--out", field)  # fmt: skip
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in field.glob("field_?.fits")) == [f"field_{b}.fits" for b in "girz"]
    r = zphot_cli("train", "--model", "knn", "--catalog", mock, "--survey", survey, "--out", model)
    assert r.exit_code == 0, r.output
    r = zphot_cli("predict", "--model", model, "--catalog", mock, "--out", pred)
    assert r.exit_code == 0, r.output
    out = pd.read_parquet(pred)
    assert len(out) == 60 and (out["id"].to_numpy() == np.arange(60)).all()


def test_simulate_without_observing_says_so_in_one_line(tmp_path):
    survey = write_survey(tmp_path, observing=False)
    out = tmp_path / "mock.parquet"
    r = zphot_cli("simulate", "catalog", "--survey", survey, "--n", 5, "--out", out)
    assert r.exit_code != 0 and not out.exists()
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "survey 'mysurvey' has no" in lines[0]
    assert "table; simulating needs one" in lines[0]


def test_simulate_catalog_takes_one_survey(tmp_path):
    survey, out = write_survey(tmp_path), tmp_path / "mock.parquet"
    r = zphot_cli("simulate", "catalog", "--preset", "sdss", "--survey", survey, "--n", 5,
                  "--out", out)  # fmt: skip
    lines = r.stderr.strip().splitlines()
    assert r.exit_code != 0 and len(lines) == 1
    assert lines[0].endswith("give --preset or --survey, not both")
    r = zphot_cli("simulate", "catalog", "--n", 5, "--out", out)
    assert r.exit_code != 0 and "give --preset NAME (hsc, lsst, sdss) or --survey" in r.stderr


def _digest(path) -> str:
    table = pd.read_parquet(path)
    table = table[sorted(table.columns)].round(8)
    return hashlib.sha256(pd.util.hash_pandas_object(table, index=False).to_numpy()).hexdigest()


# Digests of `zphot simulate catalog --survey NAME --n 200 --seed 1 --out NAME.parquet` run on
# main before the [observing] tables (PYTHONPATH=/work/main/src, commit 09cdba2), hashed as
# `_digest` does: moving the numbers into the TOML files must not change a single galaxy.
BEFORE = {
    "lsst": "16d943e4632f75e9792473d8b7f76365aff5810cb55c6dba889764edd21bb9c4",
    "sdss": "a1d6278602c1682b89b2a1734ab9161b8d518b0c35a76576cb12ee15a8ff3ab3",
    "hsc": "7f6060cfe0f70844046253333cec07eb3ce8859bdc82a1d2564480e2cdb01305",
}


@pytest.mark.parametrize("name", ["lsst", "sdss", "hsc"])
def test_preset_mock_catalogs_are_unchanged(tmp_path, name):
    if name == "lsst":
        pytest.importorskip("photerr")
    out = tmp_path / f"{name}.parquet"
    r = zphot_cli("simulate", "catalog", "--survey", name, "--n", 200, "--seed", 1, "--out", out)
    assert r.exit_code == 0, r.output
    assert _digest(out) == BEFORE[name]
