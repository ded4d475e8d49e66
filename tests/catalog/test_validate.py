"""Physical validation: which values are magnitudes, what is set aside, and the train policy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from zphot.catalog import Catalog, load_survey
from zphot.catalog.validate import check_training_rows, screen_magnitudes
from zphot.exceptions import CatalogError, ParameterError
from zphot.testing import synthetic_catalog


def test_screen_counts_each_reason_per_band():
    # Hand-built: band a holds one undeclared -666, one 1e30 and one 3.0 (below 5);
    # band b one declared sentinel (already NaN) and one 99.99.
    mags = np.array([[20.0, 21.0], [-666.0, np.nan], [1e30, 99.99], [3.0, 22.0]])
    out, s = screen_magnitudes(mags, ("a", "b"), declared=(99.0, -99.0))
    assert s.sentinel == {"a": {-666.0: 1}, "b": {99.99: 1}}
    assert s.out_of_range == {"a": 2}
    assert s.bad_rows.tolist() == [False, True, True, True]
    assert np.isnan(out[1:, 0]).all() and out[0].tolist() == [20.0, 21.0]
    assert s.describe() == "a: 1 x -666, 2 outside [5, 40]; b: 1 x 99.99"


def test_declared_sentinel_is_silent_and_range_is_configurable():
    mags = np.array([[-666.0], [45.0]])
    _, s = screen_magnitudes(mags, ("a",), declared=(-666.0,), mag_range=(0.0, 50.0))
    assert s.n_bad_rows == 0


def test_flux_bands_are_only_range_checked():
    # A flux code such as -999 is already NaN (non-positive flux); 99.99 is only out of range.
    mags = np.array([[99.99], [25.0]])
    _, s = screen_magnitudes(mags, ("a",), declared=(), from_flux=(True,))
    assert s.sentinel == {} and s.out_of_range == {"a": 1}
    assert s.bad_rows.tolist() == [True, False]


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        ([True, False], "boolean"),
        (pd.to_datetime(["2020-01-01", "2021-01-01"]), "date/time"),
        (pd.to_timedelta([1, 2], unit="s"), "time-interval"),
    ],
)
def test_non_numeric_column_types_are_named(values, kind):
    table = synthetic_catalog(2).table.copy()
    table["g"] = values
    with pytest.raises(CatalogError, match=f"column 'g' holds {kind} values, not numbers"):
        Catalog(table, load_survey("sdss"), source="cat.parquet")


def test_text_value_names_its_row():
    table = synthetic_catalog(3).table.copy()
    table["r"] = table["r"].astype(object)
    table.loc[2, "r"] = "faint"
    with pytest.raises(CatalogError, match=r"column 'r' is not numeric \(row 2: 'faint'\)"):
        Catalog(table, load_survey("sdss"), source="cat.csv")


def test_training_policy_refuses_then_drops():
    table = synthetic_catalog(200).table.copy()
    table.loc[:9, "u"] = -666.0  # 10 of 200 rows: 5% > the default 0.1%
    cat = Catalog(table, load_survey("sdss"), source="cat.csv")
    with pytest.raises(CatalogError) as err:
        check_training_rows(cat)
    assert str(err.value) == (
        "cat.csv: 10 of 200 training rows (5.0%, more than 0.1%) have implausible magnitudes "
        "(u: 10 x -666); fix or declare them ([missing] sentinels, [validation] mag_range) or "
        "pass --drop-bad-rows"
    )
    kept = check_training_rows(cat, drop=True)
    assert len(kept) == 190 and kept.screening.n_bad_rows == 0


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "sentinels",
            "sentinel",
            "unknown key 'sentinel' in [missing] (did you mean 'sentinels'?)",
        ),
        ('mag = "u"', 'magg = "u"', "unknown key 'magg' in bands[0] (did you mean 'mag'?)"),
        ("name = ", "nmae = ", "unknown key 'nmae' in the survey (did you mean 'name'?)"),
    ],
)
def test_survey_typos_name_the_closest_key(tmp_path, old, new, message):
    text = (
        'name = "s"\n[missing]\nsentinels = [99.0]\n'
        + "".join(f'[[bands]]\nname = "{b}"\nmag = "{b}"\n' for b in "ugr")
    ).replace(old, new, 1)
    path = tmp_path / "s.toml"
    path.write_text(text)
    with pytest.raises(ParameterError) as err:
        load_survey(path)
    assert str(err.value) == f"{path}: {message}"
