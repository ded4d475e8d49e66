"""image-cnn through streamed prediction (``predict_catalog`` and ``zphot predict``): the chunks
carry the stamp columns, and rows of a stamp file point into that file."""

from __future__ import annotations

import h5py
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import zphot
from zphot.cli.app import app
from zphot.exceptions import CatalogError
from zphot.images.estimator import ImageCNNEstimator
from zphot.images.store import load_stamps, stamp_columns
from zphot.io import write_table
from zphot.scale import predict_catalog

TINY = {"widths": (4,), "hidden": (32,), "batch_size": 16, "max_epochs": 2, "n_ensemble": 1}


@pytest.fixture(scope="module")
def model(blob_data, tmp_path_factory):
    est = ImageCNNEstimator(**TINY, scalars="colours").fit(blob_data["small"])
    path = tmp_path_factory.mktemp("model") / "cnn.zphot"
    est.save(path)
    return est, path


def _expected(est, cat) -> pd.DataFrame:
    table = est.predict_table(cat)
    table["z_spec"] = cat.z
    return table


def test_stamp_columns():
    assert stamp_columns(["u", "stamp_row", "stamp_file"], "c.parquet") == {
        "stamp_row": None,
        "stamp_file": None,
    }
    got = stamp_columns(["u", "stamp_row"], "/data/stamps.h5")
    assert got == {"stamp_row": None, "stamp_file": "/data/stamps.h5"}
    with pytest.raises(CatalogError, match="stamp_row"):
        stamp_columns(["u", "g"], "c.parquet")


def test_parquet_catalog_pointing_at_a_cube(model, blob_data, tmp_path):
    est, _ = model
    cat = blob_data["test"]  # stamp_file, stamp_row and stamp_bands columns (attach_stamps)
    src = write_table(cat.table.assign(extra=1.0), tmp_path / "cat.parquet")
    result = predict_catalog(est, src, tmp_path / "z.parquet", chunk_size=97)
    got = pd.read_parquet(result.path)
    pd.testing.assert_frame_equal(got, _expected(est, cat), check_exact=False, rtol=0, atol=1e-9)
    # With PDF columns too (the PDF route).
    result = predict_catalog(
        est, src, tmp_path / "q.parquet", chunk_size=97, spec=zphot.scale.OutputSpec(pdf="grid")
    )
    probs = pd.read_parquet(result.path).filter(like="pdf_").to_numpy()
    np.testing.assert_allclose(probs, est.predict_pdf(cat).probs.astype(np.float32), atol=1e-6)


def test_cli_predicts_a_stamp_file(model, blob_data, tmp_path):
    """A zphot stamp file (catalog + /stamps/pixels, no stamp_file column), as written by
    ``zphot simulate images``: its rows point into the file itself."""
    est, model_path = model
    cat = blob_data["test"]
    stamps = load_stamps(cat)
    path = tmp_path / "stamps.h5"
    write_table(cat.table.drop(columns=["stamp_file", "stamp_bands"]), path)
    with h5py.File(path, "a") as fh:
        grp = fh.create_group("stamps")
        grp.create_dataset("pixels", data=stamps)
        grp.attrs["bands"] = list(cat.bands)
    out = tmp_path / "z.parquet"
    args = ["predict", "--model", model_path, "--catalog", path, "--out", out]
    result = CliRunner().invoke(app, [*map(str, args), "--chunk-size", "120"])
    assert result.exit_code == 0, result.output
    got = pd.read_parquet(out)
    from_file = zphot.read_catalog(path, est.survey_)
    pd.testing.assert_frame_equal(
        got, _expected(est, from_file), check_exact=False, rtol=0, atol=1e-9
    )
    pd.testing.assert_frame_equal(got, _expected(est, cat), check_exact=False, rtol=0, atol=1e-9)


def test_catalog_without_stamps_is_refused_before_any_work(model, blob_data, tmp_path):
    est, _ = model
    src = write_table(
        blob_data["test"].table.drop(columns=["stamp_row", "stamp_file", "stamp_bands"]),
        tmp_path / "bare.parquet",
    )
    with pytest.raises(CatalogError, match="stamp_row"):
        predict_catalog(est, src, tmp_path / "z.parquet")
    assert not (tmp_path / "z.parquet").exists()
    assert not (tmp_path / ".z.parquet.zphot-work").exists()
