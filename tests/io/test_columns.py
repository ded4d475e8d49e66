"""Output column names, units and descriptions (zphot.io.columns)."""

from __future__ import annotations

import astropy.units as u
import numpy as np
import pandas as pd
import pytest

from zphot.io.columns import (
    column_info,
    output_table,
    pdf_column,
    pdf_columns,
    quantile_column,
    quantile_level,
)


@pytest.mark.parametrize(
    ("level", "name"),
    [(0.025, "z_q025"), (0.16, "z_q16"), (0.5, "z_q50"), (0.05, "z_q05"), (0.975, "z_q975")],
)
def test_quantile_names_are_the_digits_after_the_point(level, name):
    assert quantile_column(level) == name
    assert quantile_level(name) == level


def test_quantile_names_stay_distinct():
    levels = [0.005, 0.05, 0.5, 0.25, 0.025, 0.1, 0.01, 0.001]
    names = [quantile_column(q) for q in levels]
    assert len(set(names)) == len(levels)
    assert [quantile_level(n) for n in names] == levels


def test_pdf_names_are_zero_padded_bin_numbers():
    assert pdf_columns(3) == ["pdf_000", "pdf_001", "pdf_002"]
    assert pdf_column(0, 1500) == "pdf_0000" and pdf_column(1499, 1500) == "pdf_1499"
    names = pdf_columns(1000)
    assert names == sorted(names) and names[-1] == "pdf_999"


def test_descriptions_follow_the_metadata():
    meta = {"point": "median", "z_min": 0.0, "z_max": 2.0, "n_bins": 200}
    assert column_info("z_phot", meta) == (
        "",
        "photometric redshift: the median of the redshift PDF",
    )
    # bin 10 of 200 on [0, 2] spans 0.10 to 0.11
    assert column_info("pdf_010", meta)[1].endswith("grid bin 10, [0.1, 0.11)")
    assert column_info("z_q975", meta)[1].startswith("redshift PDF quantile at level 0.975")
    # A prefixed name (several codes in one table) keeps the known column's meaning.
    assert column_info("mlp_z_phot", meta) == column_info("z_phot", meta)
    assert column_info("mag_r") == ("mag", "AB magnitude, copied from the input catalog")
    assert column_info("objid", {"id_column": "objid"})[0] is None
    assert column_info("whatever") == (None, "copied from the input catalog")


def test_output_table_attaches_units_descriptions_and_meta():
    df = pd.DataFrame(
        {
            "objid": pd.Series([], dtype=object),
            "z_phot": np.array([], dtype=np.float64),
            "out_of_coverage": np.array([], dtype=bool),
            "mag_r": np.array([], dtype=np.float32),
        }
    )
    table = output_table(df, {"model": "knn", "point": "mode"})
    assert table["objid"].dtype.kind == "U"  # text stays text even without rows
    assert table["z_phot"].unit == u.dimensionless_unscaled
    assert table["mag_r"].unit == u.mag
    assert table["out_of_coverage"].unit is None
    assert all(table[c].description for c in table.colnames)
    assert dict(table.meta) == {"model": "knn", "point": "mode"}
