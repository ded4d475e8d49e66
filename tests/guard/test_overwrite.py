"""--overwrite replaces the file zphot writes, never a user's folder, and never an input."""

from __future__ import annotations

import pandas as pd
import pytest
from guard_helpers import error_line, snapshot, zphot

from zphot.exceptions import OverwriteError, ParameterError
from zphot.io.atomic import check_not_input, check_writable


def _user_folder(tmp_path):
    folder = tmp_path / "results"
    (folder / "sub").mkdir(parents=True)
    (folder / "notes.txt").write_text("three months of notes")
    (folder / "sub" / "data.parquet").write_bytes(b"PAR1 not really")
    return folder


def _refused(folder, *args):
    """The error line of a zphot run refused as bad usage (exit 2) that changed nothing below
    ``folder`` (no file replaced, no work folder left)."""
    before = snapshot(folder)
    line = error_line(zphot(*args), 2)
    assert snapshot(folder) == before
    return line


@pytest.mark.parametrize("extra", [[], ["--partitioned"]])
def test_predict_overwrite_refuses_a_users_folder(catalogs, knn_model, tmp_path, extra):
    """Before: the folder and its contents became one Parquet file."""
    folder = _user_folder(tmp_path)
    line = _refused(
        tmp_path, "predict", "--model", knn_model, "--catalog", catalogs["test"], "--out", folder,
        "--overwrite", *extra,
    )  # fmt: skip
    assert "zphot did not create" in line and str(folder) in line


def test_overwrite_replaces_a_folder_zphot_wrote_unless_a_user_file_is_in_it(
    catalogs, knn_model, tmp_path
):
    out = tmp_path / "z.parquet"  # a dataset folder or a file: .parquet names both
    args = ["predict", "--model", knn_model, "--catalog", catalogs["test"], "--out", out]
    assert zphot(*args, "--partitioned").exit_code == 0
    assert out.is_dir()
    # zphot's own dataset folder is replaced by the file asked for.
    assert zphot(*args, "--overwrite").exit_code == 0
    assert out.is_file() and len(pd.read_parquet(out)) == 300
    out.unlink()
    assert zphot(*args, "--partitioned").exit_code == 0
    (out / "mine.txt").write_text("keep")
    before = snapshot(tmp_path)
    line = error_line(zphot(*args, "--overwrite"), 2)
    assert "'mine.txt'" in line and "zphot did not write" in line
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_predict_out_equal_to_an_input_is_refused(catalogs, knn_model, tmp_path, overwrite):
    """Before: --out equal to the catalog with --overwrite replaced it while reading it."""
    catalog = tmp_path / "cat.parquet"
    catalog.write_bytes(catalogs["test"].read_bytes())
    model = tmp_path / "knn.zphot"
    model.write_bytes(knn_model.read_bytes())
    link = tmp_path / "link.parquet"
    link.symlink_to(catalog)
    before = snapshot(tmp_path)
    base = ["predict", "--model", model, "--catalog", catalog, *overwrite]
    cases = [
        ([*base, "--out", catalog], "--out is the same file as --catalog"),
        ([*base, "--out", link], "--out is the same file as --catalog"),  # real paths
        ([*base, "--out", tmp_path / "." / "cat.parquet"], "same file as --catalog"),
        ([*base, "--out", model], "--out is the same file as --model"),
        ([*base, "--out", tmp_path / "z.parquet", "--qp", catalog], "--qp is the same file"),
    ]
    for args, expected in cases:
        assert expected in error_line(zphot(*args), 2)
    assert snapshot(tmp_path) == before


def test_train_out_equal_to_its_catalog_is_refused(catalogs, tmp_path):
    catalog = tmp_path / "train.parquet"
    catalog.write_bytes(catalogs["train"].read_bytes())
    for flags in ([], ["--overwrite"]):
        line = _refused(
            tmp_path, "train", "--model", "knn", "--catalog", catalog, "--preset", "sdss",
            "--out", catalog, *flags,
        )  # fmt: skip
        assert "--out is the same file as --catalog" in line


def test_a_model_file_never_replaces_a_folder(catalogs, tmp_path):
    folder = _user_folder(tmp_path)
    line = _refused(
        tmp_path, "train", "--model", "knn", "--catalog", catalogs["train"], "--preset", "sdss",
        "--out", folder, "--overwrite",
    )  # fmt: skip
    assert "is a folder" in line


def test_simulate_images_out_equal_to_its_catalog_is_refused(tmp_path):
    catalog = tmp_path / "mock.h5"
    catalog.write_bytes(b"not read: refused before")
    result = zphot(
        "simulate", "images", "--catalog", catalog, "--preset", "lsst", "--out", catalog,
        "--overwrite",
    )  # fmt: skip
    assert "--out is the same file as --catalog" in error_line(result, 2)
    assert catalog.read_bytes() == b"not read: refused before"


def test_compare_refuses_to_write_its_report_over_an_input(catalogs, tmp_path):
    report = tmp_path / "report"
    report.mkdir()
    catalog = report / "results.csv"  # a report file name: the report would replace it
    pd.read_parquet(catalogs["train"]).to_csv(catalog, index=False)
    line = _refused(
        tmp_path, "compare", "--catalog", catalog, "--preset", "sdss", "--models", "knn",
        "--out", report, "--overwrite",
    )  # fmt: skip
    assert "would replace this input (--catalog)" in line


def test_check_not_input_rules(tmp_path):
    """The library-level rules, path by path (the messages name the user's words)."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.parquet").write_text("x")
    check_not_input({"--out": tmp_path / "z.parquet"}, {"--catalog": data / "a.parquet"})
    check_not_input({"--out": tmp_path / "z.parquet"}, {"--catalog": None})
    with pytest.raises(ParameterError, match="--out holds --catalog"):
        check_not_input({"--out": data}, {"--catalog": data / "a.parquet"})
    with pytest.raises(ParameterError, match="lies inside the --catalog folder"):
        check_not_input({"--out": data / "z.parquet"}, {"--catalog": data})
    with pytest.raises(ParameterError, match="given as both --out and --qp"):
        check_not_input({"--out": tmp_path / "z", "--qp": tmp_path / "z"}, {})
    # check_writable: a folder is never replaced by a file, even with overwrite.
    with pytest.raises(OverwriteError, match="is a folder"):
        check_writable(data, overwrite=True)
    with pytest.raises(OverwriteError, match="zphot did not create"):
        check_writable(data, overwrite=True, folder_files=("*.parquet",))


def test_dask_engine_refuses_a_users_folder_before_starting(catalogs, knn_model, tmp_path):
    pytest.importorskip("distributed")
    folder = _user_folder(tmp_path)
    before = snapshot(tmp_path)
    result = zphot(
        "predict", "--model", knn_model, "--catalog", catalogs["test"], "--out", folder,
        "--overwrite", "--engine", "dask", "--partitioned",
    )  # fmt: skip
    assert "zphot did not create" in error_line(result, 2)
    assert snapshot(tmp_path) == before
