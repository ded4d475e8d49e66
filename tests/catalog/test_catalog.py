"""Catalog: columns to clean magnitudes through a survey, band access by name, new catalogs."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import zphot
from zphot.catalog import Catalog, load_survey, read_catalog
from zphot.exceptions import CatalogError, MissingBandError, MissingColumnError
from zphot.io import write_table

# The repository's parent holds the shared data folder (tests/catalog/ -> repo root -> ..).
SDSS_FILE = (
    Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "sdss_galaxy_colors.npy"
)

TOY_SURVEY = """
name = "toy"
reference_band = "r"
mag_err_floor = 0.05

[columns]
id = "objid"
redshift = "zspec"

[[bands]]
name = "g"
flux = "flux_g"
flux_err = "flux_err_g"
flux_unit = "uJy"
wavelength = 4800.0

[[bands]]
name = "r"
mag = "mag_r"
mag_err = "err_r"
wavelength = 6200
"""


@pytest.fixture
def toy_survey(tmp_path):
    path = tmp_path / "toy.toml"
    path.write_text(TOY_SURVEY)
    return load_survey(path)


@pytest.fixture
def toy_table() -> pd.DataFrame:
    # 1 uJy = 23.9 AB and each factor of 100 in flux is 5 mag.
    return pd.DataFrame(
        {
            "objid": [7, 8, 9, 10],
            "flux_g": [1.0, 100.0, -3.0, np.nan],
            "flux_err_g": [0.1, 1.0, 1.0, 1.0],
            "mag_r": [23.0, 18.5, 99.0, 20.0],
            "err_r": [0.2, 0.01, 0.5, -1.0],
            "zspec": [0.1, 0.2, 0.3, -99.0],
        }
    )


def test_magnitudes_from_flux_columns(tmp_path, toy_survey, toy_table):
    path = tmp_path / "toy.parquet"
    write_table(toy_table, path)
    cat = read_catalog(path, toy_survey)
    assert cat.bands == ("g", "r")
    assert len(cat) == cat.mags.shape[0] == 4
    np.testing.assert_allclose(cat.mags[:2, 0], [23.9, 18.9], atol=1e-4)
    assert np.isnan(cat.mags[2:, 0]).all()  # negative and NaN flux: not measured
    assert cat.mags[:, 1][[0, 1, 3]].tolist() == [23.0, 18.5, 20.0]
    assert np.isnan(cat.mags[2, 1])  # the 99 sentinel
    k = 2.5 / np.log(10.0)
    np.testing.assert_allclose(cat.mag_errs[:2, 0], [0.1 * k, 0.01 * k], rtol=1e-12)
    # Missing magnitudes have no error; non-positive errors are "not given".
    assert np.isnan(cat.mag_errs[2]).all()
    assert np.isnan(cat.mag_errs[3, 1])
    # errors() floors at mag_err_floor and fills what is not given with it.
    np.testing.assert_allclose(cat.errors(["r"])[:, 0], [0.2, 0.05, 0.05, 0.05])
    assert cat.ids.tolist() == [7, 8, 9, 10]
    assert cat.z[:3].tolist() == [0.1, 0.2, 0.3]
    assert np.isnan(cat.z[3])
    assert cat.source == str(path)


def test_missing_column_names_file_column_and_columns(tmp_path, toy_survey, toy_table):
    path = tmp_path / "toy.csv"
    write_table(toy_table.drop(columns=["mag_r"]), path)
    with pytest.raises(MissingColumnError) as err:
        read_catalog(path, toy_survey)
    msg = str(err.value)
    assert str(path) in msg
    assert "'mag_r'" in msg
    for have in ("objid", "flux_g", "err_r", "zspec"):
        assert have in msg
    assert err.value.column == "mag_r"
    assert isinstance(err.value, KeyError)
    assert isinstance(err.value, CatalogError)


def test_missing_role_column_is_named(toy_survey, toy_table):
    with pytest.raises(MissingColumnError, match="'objid' missing"):
        Catalog(toy_table.drop(columns=["objid"]), toy_survey, source="t.csv")
    # The redshift column is optional (prediction catalogs lack it) but training needs it.
    cat = Catalog(toy_table.drop(columns=["zspec"]), toy_survey, source="t.csv")
    assert cat.z is None
    with pytest.raises(MissingColumnError, match="training needs redshifts"):
        cat.require_z()


def test_require_z_names_missing_values(toy_survey, toy_table):
    cat = Catalog(toy_table, toy_survey, source="t.csv")
    with pytest.raises(CatalogError, match=r"'zspec' has 1 missing value\(s\), first at row 3"):
        cat.require_z()
    assert cat.take([0, 1]).require_z().tolist() == [0.1, 0.2]


def test_non_numeric_band_column(toy_survey, toy_table):
    bad = toy_table.assign(mag_r=["a", "b", "c", "d"])
    with pytest.raises(CatalogError, match="'mag_r' is not numeric"):
        Catalog(bad, toy_survey, source="t.csv")


def test_all_nan_file_is_refused(tmp_path):
    path = tmp_path / "empty_mags.csv"
    table = pd.DataFrame({b: [np.nan, 99.0] for b in "ugriz"} | {"redshift": [0.1, 0.2]})
    write_table(table, path)
    with pytest.raises(CatalogError, match="no measured magnitude") as err:
        read_catalog(path, "sdss")
    assert str(path) in str(err.value)


def test_file_without_rows_is_refused(tmp_path):
    path = tmp_path / "norows.parquet"
    write_table(pd.DataFrame({b: np.array([], dtype=float) for b in "ugriz"}), path)
    with pytest.raises(CatalogError, match="no rows"):
        read_catalog(path, "sdss")


@pytest.fixture
def sdss_cat() -> Catalog:
    table = pd.DataFrame(
        {
            "u": [20.0, 21.0, 22.0],
            "g": [19.0, 20.0, np.nan],
            "r": [18.0, 19.0, 20.0],
            "i": [17.5, 18.5, 19.5],
            "z": [17.0, 18.0, 19.0],
            "redshift": [0.1, 0.2, 0.3],
        }
    )
    return Catalog(table, load_survey("sdss"), source="mem.csv")


def test_magnitudes_by_name_in_any_order(sdss_cat):
    assert sdss_cat.magnitudes(["z", "u"]).tolist() == [[17.0, 20.0], [18.0, 21.0], [19.0, 22.0]]
    np.testing.assert_array_equal(sdss_cat.magnitudes(), sdss_cat.mags)
    got = sdss_cat.magnitudes(["g", "r"])
    assert got[:2].tolist() == [[19.0, 18.0], [20.0, 19.0]]
    assert np.isnan(got[2, 0])


def test_missing_band_names_the_band(sdss_cat):
    with pytest.raises(MissingBandError) as err:
        sdss_cat.magnitudes(["r", "y"])
    assert err.value.band == "y"
    assert "'y'" in str(err.value)
    assert "mem.csv" in str(err.value)
    assert "u, g, r, i, z" in str(err.value)
    with pytest.raises(MissingBandError, match="'y'"):
        sdss_cat.errors(["y"])


def test_take_rows_and_mask(sdss_cat):
    sub = sdss_cat.take(np.array([2, 0]))
    assert sub.table["redshift"].tolist() == [0.3, 0.1]
    np.testing.assert_array_equal(sub.mags, sdss_cat.mags[[2, 0]])
    assert sub.table.index.tolist() == [0, 1]
    masked = sdss_cat.take(np.array([False, True, False]))
    assert masked.z.tolist() == [0.2]
    assert masked.survey is sdss_cat.survey and masked.source == "mem.csv"
    assert len(sdss_cat.take(np.array([], dtype=int))) == 0
    assert len(sdss_cat) == 3  # the original is untouched


def test_with_magnitudes_returns_a_copy(sdss_cat):
    new_mags = np.full(sdss_cat.mags.shape, 21.0)
    new = sdss_cat.with_magnitudes(new_mags)
    assert (new.mags == 21.0).all()
    new_mags[0, 0] = 0.0
    assert new.mags[0, 0] == 21.0  # copied, not shared
    assert np.isnan(sdss_cat.mags[2, 1])  # the original keeps its values
    with pytest.raises(ValueError, match="shape"):
        sdss_cat.with_magnitudes(np.zeros((3, 4)))


def test_missing_fraction_and_repr(sdss_cat):
    frac = sdss_cat.missing_fraction()
    assert frac["g"] == pytest.approx(1 / 3)
    assert frac["u"] == 0.0
    assert sdss_cat.take(np.array([], dtype=int)).missing_fraction()["g"] == 0.0
    assert "3 rows" in repr(sdss_cat) and "ugriz" in repr(sdss_cat)


def test_top_level_read_catalog_is_the_same_function():
    assert zphot.read_catalog is read_catalog


@pytest.mark.skipif(not SDSS_FILE.is_file(), reason=f"shared SDSS sample not found at {SDSS_FILE}")
def test_real_sdss_sample():
    cat = read_catalog(SDSS_FILE, "sdss")
    assert len(cat) == 50_000
    assert cat.bands == ("u", "g", "r", "i", "z")
    assert cat.mags.shape == (50_000, 5)
    assert set(cat.table["spec_class"].unique()) <= {"GALAXY", "QSO", "STAR"}
    assert np.isfinite(cat.z).all()


def _dc2_file() -> Path | None:
    spec = importlib.util.find_spec("rail")  # a namespace package: search its folders
    for folder in spec.submodule_search_locations if spec else []:
        path = Path(folder) / "examples_data" / "testdata" / "test_dc2_training_9816.hdf5"
        if path.is_file():
            return path
    return None


@pytest.mark.skipif(_dc2_file() is None, reason="pz-rail-base's DC2 test catalog not installed")
def test_dc2_training_file_with_lsst_preset():
    cat = read_catalog(_dc2_file(), "lsst")
    assert len(cat) == 10_225
    assert cat.bands == ("u", "g", "r", "i", "z", "y")
    assert cat.ids is not None and len(np.unique(cat.ids)) == len(cat)
    # u-band non-detections (99 in the file) are masked, the redder bands are complete.
    assert 0 < np.isnan(cat.mags[:, 0]).mean() < 0.2
    assert not np.isnan(cat.mags[:, 2:]).any()
