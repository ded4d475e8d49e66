"""Quality cuts and seeded splits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from zphot.catalog import (
    Catalog,
    drop_incomplete,
    kfold_indices,
    load_survey,
    magnitude_limits,
    read_catalog,
    redshift_range,
    select,
    split_indices,
    train_test,
)
from zphot.exceptions import CatalogError, MissingBandError, MissingColumnError, ParameterError


@pytest.fixture
def cat() -> Catalog:
    table = pd.DataFrame(
        {
            "u": [20.0, 21.0, 22.0, 23.0, 24.0],
            "g": [19.0, 20.0, 99.0, 22.0, 23.0],
            "r": [18.0, 19.0, 20.0, 21.0, 22.5],
            "i": [17.5, 18.5, 19.5, 20.5, 21.5],
            "z": [17.0, 18.0, 19.0, 20.0, 21.0],
            "redshift": [0.05, 0.5, 1.0, 2.5, np.nan],
            "spec_class": ["GALAXY", "QSO", "GALAXY", "STAR", "GALAXY"],
        }
    )
    return Catalog(table, load_survey("sdss"), source="cuts.csv")


def test_redshift_range_is_inclusive_and_drops_missing(cat):
    assert redshift_range(cat, 0.05, 1.0).z.tolist() == [0.05, 0.5, 1.0]
    assert redshift_range(cat).z.tolist() == [0.05, 0.5, 1.0]  # default [0, 2]
    assert len(redshift_range(cat, 3.0, 4.0)) == 0


def test_redshift_range_needs_a_redshift(cat):
    no_z = Catalog(cat.table.drop(columns=["redshift"]), cat.survey, source="noz.csv")
    with pytest.raises(CatalogError, match="noz.csv: no redshift column"):
        redshift_range(no_z)


def test_magnitude_limits_keep_missing_values(cat):
    out = magnitude_limits(cat, {"r": (18.0, 21.0)})
    assert out.magnitudes(["r"])[:, 0].tolist() == [18.0, 19.0, 20.0, 21.0]
    # g is missing in row 2, which stays; row 3 (g=22) is cut.
    out = magnitude_limits(cat, {"g": (0.0, 21.0), "r": (18.0, 21.0)})
    assert out.table["u"].tolist() == [20.0, 21.0, 22.0]
    with pytest.raises(MissingBandError, match="'y'"):
        magnitude_limits(cat, {"y": (0.0, 30.0)})


def test_select_compares_text(cat):
    galaxies = select(cat, "spec_class", "GALAXY")
    assert galaxies.table["u"].tolist() == [20.0, 22.0, 24.0]
    with pytest.raises(CatalogError, match="no row has spec_class == 'QUASAR'") as err:
        select(cat, "spec_class", "QUASAR")
    assert "GALAXY" in str(err.value)  # the values present are listed
    with pytest.raises(MissingColumnError, match="'class'"):
        select(cat, "class", "GALAXY")


def test_select_on_bytes_from_a_file(tmp_path):
    # SDSS-style structured array with fixed-width byte strings ('S6'), padded.
    rec = np.zeros(
        4, dtype=[(b, "f8") for b in "ugriz"] + [("spec_class", "S6"), ("redshift", "f8")]
    )
    for j, b in enumerate("ugriz"):
        rec[b] = 20.0 - j * 0.5
    rec["spec_class"] = [b"GALAXY", b"QSO", b"STAR  ", b"GALAXY"]
    rec["redshift"] = [0.1, 1.2, 0.0, 0.3]
    path = tmp_path / "sdss.npy"
    np.save(path, rec)
    cat = read_catalog(path, "sdss")
    assert cat.table["spec_class"].tolist() == ["GALAXY", "QSO", "STAR", "GALAXY"]
    assert select(cat, "spec_class", "GALAXY").z.tolist() == [0.1, 0.3]
    assert select(cat, "spec_class", "STAR").z.tolist() == [0.0]


def test_drop_incomplete(cat):
    out = drop_incomplete(cat)
    assert out.table["u"].tolist() == [20.0, 21.0, 23.0, 24.0]
    assert not np.isnan(out.mags).any()


def test_train_test_reproduces_the_public_split(cat):
    n = 50
    table = pd.DataFrame({b: np.linspace(18, 22, n) for b in "ugriz"} | {"row": np.arange(n)})
    big = Catalog(table, load_survey("sdss"), source="split.csv")
    train, test = train_test(big, 0.7, seed=42)
    perm = np.random.default_rng(42).permutation(n)
    assert train.table["row"].tolist() == perm[:35].tolist()
    assert test.table["row"].tolist() == perm[35:].tolist()
    tr, te = split_indices(n, 0.7, seed=42)
    np.testing.assert_array_equal(tr, perm[:35])
    np.testing.assert_array_equal(te, perm[35:])
    # Default arguments are the public split.
    assert train_test(big)[0].table["row"].tolist() == perm[:35].tolist()
    assert split_indices(n, 0.7, seed=1)[0].tolist() != tr.tolist()


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.5, 1.5])
def test_bad_train_fraction(fraction):
    with pytest.raises(ParameterError, match="train_fraction"):
        split_indices(10, fraction)


def test_kfold_partitions():
    n, k = 23, 4
    folds = list(kfold_indices(n, k, seed=3))
    assert len(folds) == k
    held = np.concatenate([te for _, te in folds])
    assert sorted(held.tolist()) == list(range(n))  # every row held out exactly once
    for train, test in folds:
        assert sorted(np.concatenate([train, test]).tolist()) == list(range(n))
        assert not set(train) & set(test)
        assert len(test) in (5, 6)  # sizes differ by at most one
    again = list(kfold_indices(n, k, seed=3))
    for (a, b), (c, d) in zip(folds, again, strict=True):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)


@pytest.mark.parametrize("k", [1, 24])
def test_bad_k(k):
    with pytest.raises(ParameterError, match="k must be"):
        list(kfold_indices(23, k))
