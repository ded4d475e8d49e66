"""Every input type the Python API takes gives the predictions a Catalog gives; outputs come back
as the type given, with units and descriptions on an astropy Table."""

from __future__ import annotations

import dataclasses
import importlib.util

import numpy as np
import pandas as pd
import pytest
from astropy import units as u
from astropy.table import MaskedColumn, QTable, Table

import zphot
from zphot.catalog import as_catalog, load_survey, survey_from_dict
from zphot.exceptions import CatalogError, InputTypeError, NotFittedError, ParameterError
from zphot.io import write_table
from zphot.testing import synthetic_catalog

ACCEPTED = (
    "a Catalog, pandas DataFrame, astropy Table, structured NumPy array, file path or "
    "'builtin:NAME'"
)
HAS_DC2 = importlib.util.find_spec("rail") is not None


@pytest.fixture(scope="module")
def fitted():
    train = synthetic_catalog(400, random_state=0)
    test = synthetic_catalog(60, random_state=1)
    return zphot.get_estimator("knn").fit(train), test


def _inputs(frame: pd.DataFrame, tmp_path) -> dict[str, object]:
    qtable = QTable.from_pandas(frame)
    for band in "ugriz":  # magnitudes as Quantities in AB mag
        qtable[band] = qtable[band].value * u.ABmag
    path = tmp_path / "cat.parquet"
    write_table(frame, path)
    return {
        "DataFrame": frame,
        "Table": Table.from_pandas(frame),
        "QTable in mag": qtable,
        "structured array": frame.to_records(index=False),
        "path": str(path),
    }


def test_every_input_type_predicts_as_the_catalog(fitted, tmp_path):
    est, test = fitted
    expected_z = est.predict(test)
    expected_pdf = est.predict_pdf(test).probs
    expected_table = est.predict_table(test)
    for name, obj in _inputs(test.table, tmp_path).items():
        assert np.array_equal(est.predict(obj), expected_z), name
        assert np.array_equal(est.predict_pdf(obj).probs, expected_pdf), name
        table = est.predict_table(obj)
        for col in expected_table.columns:
            assert np.array_equal(np.asarray(table[col]), expected_table[col].to_numpy()), name


def test_fit_on_a_dataframe_equals_fit_on_the_catalog(fitted):
    est, test = fitted
    train = synthetic_catalog(400, random_state=0)
    from_frame = zphot.get_estimator("knn").fit(train.table, survey="sdss")
    # Without survey=, the preset whose band columns the table has (sdss: u g r i z).
    guessed = zphot.get_estimator("knn").fit(Table.from_pandas(train.table))
    assert guessed.survey_.name == "sdss"
    assert np.array_equal(from_frame.predict(test), est.predict(test))
    assert np.array_equal(guessed.predict(test), est.predict(test))


def test_masked_table_value_is_nan_in_the_dataframe(fitted):
    est, test = fitted
    table = Table.from_pandas(test.table)
    table["g"] = MaskedColumn(table["g"], mask=np.arange(len(table)) == 3)
    frame = test.table.copy()
    frame.loc[3, "g"] = np.nan
    cat = as_catalog(table, "sdss")
    assert np.isnan(cat.mags[3, 1]) and np.isnan(cat.mags).sum() == 1
    assert np.array_equal(est.predict_pdf(table).probs, est.predict_pdf(frame).probs)


def test_flux_quantities_are_converted_to_the_band_unit():
    survey = survey_from_dict(
        {"bands": [{"name": "r", "flux": "f_r", "flux_unit": "nJy"}], "columns": {}}, "toy"
    )
    table = QTable({"f_r": [1.0, 3631.0] * u.uJy})
    # AB: m = -2.5 log10(f / 3631 Jy): 1 uJy -> 23.9; 3631 uJy = 3631e-6 Jy -> 15.0.
    assert np.allclose(as_catalog(table, survey).mags[:, 0], [23.9, 15.0], atol=1e-6)
    bad = QTable({"f_r": [1.0] * u.m})
    with pytest.raises(CatalogError, match=r"^<astropy Table>: column 'f_r' \(band 'r'\) is in m,"):
        as_catalog(bad, survey)
    wrong_mag = Table({b: [1.0] for b in "ugriz"})
    wrong_mag["r"].unit = u.Jy
    with pytest.raises(CatalogError) as exc:
        as_catalog(wrong_mag, "sdss")
    assert str(exc.value) == (
        "<astropy Table>: column 'r' (band 'r') is in Jy; a magnitude column must be in mag"
    )


def test_predict_table_returns_the_type_given(fitted):
    est, test = fitted
    assert isinstance(est.predict_table(test), pd.DataFrame)
    shuffled = test.table.iloc[::-1]  # index 59..0: the output keeps it, so joins line up
    out = est.predict_table(shuffled)
    assert isinstance(out, pd.DataFrame) and out.index.equals(shuffled.index)
    joined = test.table.join(out)
    assert np.array_equal(joined["z_phot"].to_numpy(), est.predict(test))
    records = est.predict_table(test.table.to_records(index=False))
    assert type(records) is np.ndarray
    assert records.dtype.names == ("z_phot", "z_err", "z_lo", "z_hi", "out_of_coverage")
    table = est.predict_table(Table.from_pandas(test.table))
    assert type(table) is Table
    for name in ("z_phot", "z_err", "z_lo", "z_hi"):
        assert table[name].unit == u.dimensionless_unscaled
    assert table["out_of_coverage"].unit is None
    # The same descriptions as the output files carry (zphot.io.columns).
    assert table["z_err"].description == "half the central 68% credible interval, (z_hi - z_lo) / 2"
    assert table["out_of_coverage"].description.startswith("True where")
    qtable = est.predict_table(QTable.from_pandas(test.table))
    assert type(qtable) is QTable and qtable["z_phot"].unit == u.dimensionless_unscaled


def test_model_survey_id_is_optional_and_carried_when_present():
    train = synthetic_catalog(200, random_state=0)
    frame = train.table.assign(objid=np.arange(200) + 1000)
    survey = dataclasses.replace(load_survey("sdss"), id="objid")
    est = zphot.get_estimator("knn").fit(frame, survey=survey)
    with_id = est.predict_table(Table.from_pandas(frame))
    assert with_id.colnames[0] == "objid" and with_id["objid"][0] == 1000
    assert with_id["objid"].description == "object identifier, copied from the input catalog"
    without = est.predict_table(frame.drop(columns="objid"))
    assert "objid" not in without.columns
    assert np.array_equal(without["z_phot"].to_numpy(), np.asarray(with_id["z_phot"]))


def test_wrong_types_give_one_clear_line(fitted):
    est, test = fitted
    with pytest.raises(InputTypeError) as exc:
        est.predict([[18.0, 17.5]])
    assert str(exc.value) == f"catalog must be {ACCEPTED}; got list"
    with pytest.raises(TypeError) as exc:  # InputTypeError refines TypeError
        zphot.read_catalog(np.zeros((3, 5)))
    assert str(exc.value) == f"catalog must be {ACCEPTED}; got numpy.ndarray without named fields"
    with pytest.raises(InputTypeError) as exc:
        zphot.get_estimator("knn").fit(test, validation={"u": [1.0]})
    assert str(exc.value) == f"validation must be {ACCEPTED}; got dict"
    with pytest.raises(InputTypeError, match=r"^Catalog\(table, survey\) takes a pandas DataFrame"):
        zphot.Catalog(Table.from_pandas(test.table), load_survey("sdss"))
    with pytest.raises(ParameterError, match=r"^catalog: a Catalog keeps its own survey"):
        est.predict(test, survey="lsst")
    with pytest.raises(ParameterError, match=r"^<DataFrame>: columns match no survey preset"):
        zphot.read_catalog(pd.DataFrame({"x": [1.0]}))


def test_unfitted_model_says_so_before_reading_the_input():
    with pytest.raises(NotFittedError):
        zphot.get_estimator("knn").predict(pd.DataFrame({"x": [1.0]}))


@pytest.mark.skipif(not HAS_DC2, reason="the built-in DC2 catalogs come with pz-rail-base")
def test_read_catalog_takes_builtin_names(fitted):
    cat = zphot.read_catalog("builtin:dc2-train")
    # 10,225 galaxies in pz-rail-base's DC2 training file, read with its own preset (lsst).
    assert len(cat) == 10225 and cat.survey.name == "lsst" and cat.bands == tuple("ugrizy")
    small = cat.take(np.arange(300))
    est = zphot.get_estimator("knn").fit(small)
    frame = small.table
    assert np.array_equal(est.predict(frame), est.predict(small))
    assert len(est.predict("builtin:dc2-test")) == 20449
