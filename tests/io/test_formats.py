"""Every table format: round trips, identification by magic bytes, and the errors users meet."""

from __future__ import annotations

import h5py
import numpy as np
import pandas as pd
import pytest

from zphot.exceptions import FormatError, OverwriteError
from zphot.io import FORMATS, identify_format, read_table, write_table
from zphot.io.registry import Format

FORMAT_SUFFIX = {
    "parquet": ".parquet",
    "fits": ".fits",
    "hdf5": ".hdf5",
    "csv": ".csv",
    "ecsv": ".ecsv",
    "npy": ".npy",
}


@pytest.fixture
def table() -> pd.DataFrame:
    """Floats (with a NaN), 64-bit ints and text: the column kinds a photometric catalog holds."""
    return pd.DataFrame(
        {
            "mag_r": [18.25, 21.5, np.nan, 23.125],
            "id": np.array([10, 11, 12, 2**40], dtype=np.int64),
            "spec_class": ["GALAXY", "QSO", "STAR", "GALAXY"],
            "redshift": [0.1, 1.5, 0.0, 0.75],
        }
    )


def _same_table(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert list(got.columns) == list(want.columns)
    for col in want.columns:
        if want[col].dtype.kind in "fi":
            assert got[col].dtype == want[col].dtype, col
            np.testing.assert_array_equal(got[col].to_numpy(), want[col].to_numpy())
        else:
            assert got[col].astype(str).tolist() == want[col].astype(str).tolist()


@pytest.mark.parametrize("fmt", sorted(FORMAT_SUFFIX))
def test_round_trip(tmp_path, table, fmt):
    path = tmp_path / f"cat{FORMAT_SUFFIX[fmt]}"
    assert write_table(table, path) == path
    assert identify_format(path) == fmt
    _same_table(read_table(path), table)


def test_every_registered_format_is_round_tripped_here():
    # A new format registering itself must be added to the round-trip test above.
    assert set(FORMATS) == set(FORMAT_SUFFIX)


@pytest.mark.parametrize("fmt", ["parquet", "fits", "hdf5", "npy"])
def test_magic_bytes_beat_a_misleading_suffix(tmp_path, table, fmt):
    path = tmp_path / "really_binary.csv"
    write_table(table, path, format=fmt)
    assert identify_format(path) == fmt
    _same_table(read_table(path), table)


def test_suffix_decides_for_a_new_file(tmp_path):
    assert identify_format(tmp_path / "out.pq", for_writing=True) == "parquet"
    assert identify_format(tmp_path / "out.fits.gz", for_writing=True) == "fits"
    assert identify_format(tmp_path / "out.H5", for_writing=True) == "hdf5"


def test_tsv_is_read_with_tabs(tmp_path):
    path = tmp_path / "cat.tsv"
    path.write_text("# a comment line\nu\tg\n1.5\t2.5\n")
    got = read_table(path)
    assert got.columns.tolist() == ["u", "g"]
    assert got.to_numpy().tolist() == [[1.5, 2.5]]


def test_unknown_suffix_lists_the_formats(tmp_path, table):
    path = tmp_path / "cat.xyz"
    path.write_text("not a table we know\n")
    with pytest.raises(FormatError) as err:
        read_table(path)
    msg = str(err.value)
    assert "cat.xyz" in msg
    for name in FORMATS:
        assert name in msg
    with pytest.raises(FormatError, match="parquet"):
        write_table(table, tmp_path / "out.xyz")
    assert not (tmp_path / "out.xyz").exists()


def test_forced_unknown_format_is_refused(tmp_path, table):
    path = tmp_path / "cat.csv"
    write_table(table, path)
    with pytest.raises(FormatError, match="unknown format 'votable'"):
        read_table(path, format="votable")


def test_missing_file_names_the_path(tmp_path):
    path = tmp_path / "nowhere" / "cat.parquet"
    with pytest.raises(FormatError, match="no such file") as err:
        read_table(path)
    assert str(path) in str(err.value)


def test_unreadable_content_is_a_format_error(tmp_path):
    path = tmp_path / "cat.parquet"
    path.write_bytes(b"this is not parquet at all")
    with pytest.raises(FormatError, match="cannot read as parquet"):
        read_table(path)


def test_refuses_to_overwrite_and_keeps_the_old_file(tmp_path, table):
    path = tmp_path / "cat.parquet"
    write_table(table, path)
    before = path.read_bytes()
    with pytest.raises(OverwriteError) as err:
        write_table(table.iloc[:1], path)
    assert str(path) in str(err.value)
    assert isinstance(err.value, FileExistsError)
    assert path.read_bytes() == before
    write_table(table.iloc[:1], path, overwrite=True)
    assert len(read_table(path)) == 1


def test_failed_write_keeps_old_file_and_leaves_no_temp(tmp_path, table, monkeypatch):
    path = tmp_path / "cat.csv"
    write_table(table, path)
    before = path.read_bytes()

    def half_then_fail(df: pd.DataFrame, out) -> None:
        out.write_text("u,g\n1,")
        raise RuntimeError("disk full")

    monkeypatch.setitem(FORMATS, "csv", Format("csv", (".csv",), None, read_table, half_then_fail))
    with pytest.raises(RuntimeError, match="disk full"):
        write_table(table, path, overwrite=True)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cat.csv"]


def test_npy_text_columns_need_no_pickle(tmp_path, table):
    path = tmp_path / "cat.npy"
    write_table(table, path)
    arr = np.load(path, allow_pickle=False)
    assert arr.dtype["spec_class"].kind == "U"
    assert arr["spec_class"].tolist() == ["GALAXY", "QSO", "STAR", "GALAXY"]


def test_fits_scaled_and_logical_columns(tmp_path):
    # FITS stores uint32 as int32 + TZERO and booleans as 'T'/'F' bytes; both must come back.
    table = pd.DataFrame(
        {"n": np.array([1, 3_000_000_000], dtype=np.uint32), "flag": [True, False]}
    )
    path = tmp_path / "cat.fits"
    write_table(table, path)
    got = read_table(path)
    assert got["n"].tolist() == [1, 3_000_000_000]
    assert got["flag"].tolist() == [True, False]


def test_hdf5_non_ascii_text(tmp_path):
    path = tmp_path / "cat.h5"
    write_table(pd.DataFrame({"field": ["Göttingen", "COSMOS"]}), path)
    assert read_table(path)["field"].tolist() == ["Göttingen", "COSMOS"]


def test_hdf5_group_of_datasets_like_dc2(tmp_path):
    # DC2 / tables_io layout: one group 'photometry' of equal-length 1-D datasets, bytes text.
    path = tmp_path / "dc2.hdf5"
    with h5py.File(path, "w") as fh:
        grp = fh.create_group("photometry")
        grp.create_dataset("id", data=np.arange(3, dtype=np.int64))
        grp.create_dataset("mag_r_lsst", data=np.array([24.0, 25.5, 99.0], dtype=np.float32))
        grp.create_dataset("survey", data=np.array([b"dc2 ", b"dc2", b"dc2"]))
    got = read_table(path)
    assert sorted(got.columns) == ["id", "mag_r_lsst", "survey"]
    assert got["id"].tolist() == [0, 1, 2]
    assert got["mag_r_lsst"].tolist() == [24.0, 25.5, 99.0]
    assert got["survey"].tolist() == ["dc2", "dc2", "dc2"]
    assert read_table(path, key="photometry")["id"].tolist() == [0, 1, 2]


def test_hdf5_compound_dataset(tmp_path):
    rec = np.array([(1.0, 2), (3.0, 4)], dtype=[("a", ">f8"), ("b", "<i4")])
    path = tmp_path / "rec.h5"
    with h5py.File(path, "w") as fh:
        fh.create_dataset("table", data=rec)
    got = read_table(path, key="table")
    assert got["a"].tolist() == [1.0, 3.0]
    assert got["b"].tolist() == [2, 4]


def test_hdf5_ambiguous_groups_and_ragged_columns(tmp_path):
    path = tmp_path / "two.h5"
    with h5py.File(path, "w") as fh:
        fh.create_group("a").create_dataset("x", data=[1.0])
        fh.create_group("b").create_dataset("x", data=[1.0])
    # Advice a command-line user can follow (h5copy), not only a Python argument.
    with pytest.raises(FormatError, match=r"two.h5: groups a, b but no table .*h5copy"):
        read_table(path)
    ragged = tmp_path / "ragged.h5"
    with h5py.File(ragged, "w") as fh:
        fh.create_dataset("x", data=[1.0, 2.0])
        fh.create_dataset("y", data=[1.0])
    with pytest.raises(FormatError, match="different lengths"):
        read_table(ragged)


def test_qp_file_is_named_as_such(tmp_path):
    """A qp Ensemble's layout (meta/pdf_name + data) is recognised, not taken for a catalog."""
    path = tmp_path / "pz.hdf5"
    with h5py.File(path, "w") as fh:
        fh.create_group("meta").create_dataset("pdf_name", data=[b"hist"])
        fh.create_group("data").create_dataset("pdfs", data=np.ones((2, 3)))
        fh.create_group("ancil").create_dataset("zmode", data=[0.1, 0.2])
    with pytest.raises(FormatError, match="pz.hdf5: a qp Ensemble file .*zphot evaluate"):
        read_table(path)


def test_npy_needs_named_columns(tmp_path):
    path = tmp_path / "plain.npy"
    np.save(path, np.zeros((3, 2)))
    with pytest.raises(FormatError, match="structured"):
        read_table(path)
