"""``zphot predict --out``: the suffix picks the format; an unknown one is a usage error."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.table import Table
from cli_helpers import one_error_line, zphot

from zphot.estimators.knn import KNNEstimator
from zphot.testing import synthetic_catalog


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("predict")
    model = folder / "knn.zphot"
    KNNEstimator(k=5, grid=(0.0, 0.8, 40)).fit(synthetic_catalog(300, random_state=0)).save(model)
    catalog = folder / "cat.parquet"
    synthetic_catalog(120, random_state=1).table.to_parquet(catalog, index=False)
    return model, catalog


def test_unknown_suffix_is_one_line_and_exit_2(files, tmp_path):
    model, catalog = files
    result = zphot("predict", "--model", model, "--catalog", catalog, "--out", tmp_path / "z.txt")
    assert result.exit_code == 2
    line = one_error_line(result)
    assert "z.txt: unknown output suffix '.txt'" in line and ".fits" in line and ".ecsv" in line
    assert list(tmp_path.iterdir()) == []  # nothing written, no work folder left


def test_fits_output_with_quantiles_then_evaluate(files, tmp_path):
    model, catalog = files
    out = tmp_path / "z.fits"
    args = ["--model", model, "--catalog", catalog, "--out", out, "--pdf", "quantiles"]
    result = zphot("predict", *args)
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"SIMPLE  =")  # FITS, not Parquet under a FITS name
    table = Table.read(out)
    assert [c for c in table.colnames if c.startswith("z_q")] == [
        "z_q025",
        "z_q16",
        "z_q50",
        "z_q84",
        "z_q975",
    ]
    assert np.all(table["z_q025"] <= table["z_q975"])
    assert table["z_q50"].description.startswith("redshift PDF quantile at level 0.5")
    assert table.meta["MODEL"] == "knn"
    # the synthetic catalog's redshifts came along as z_spec
    scored = zphot("evaluate", "--predictions", out)
    assert scored.exit_code == 0, scored.output
    assert "sigma_nmad" in scored.stdout


@pytest.mark.parametrize("suffix", [".parquet", ".h5"])
def test_evaluate_scores_grid_pdf_columns_on_the_recorded_grid(files, tmp_path, suffix):
    from zphot import load, read_catalog
    from zphot.metrics import pdf_metrics

    model, catalog = files
    out = tmp_path / f"z{suffix}"
    result = zphot("predict", "--model", model, "--catalog", catalog, "--out", out, "--pdf", "grid")
    assert result.exit_code == 0, result.output
    scored = zphot("evaluate", "--predictions", out)
    assert scored.exit_code == 0, scored.output
    # The file's grid comes from its metadata: the same CRPS as the model's own PDFs (stored
    # as float32, hence the tolerance).
    est = load(model)
    cat = read_catalog(catalog, est.survey_)
    want = pdf_metrics(est.predict_pdf(cat).probs, est.grid_.edges, cat.z)["crps"]
    line = next(row for row in scored.stdout.splitlines() if " crps " in row)
    assert float(line.split("│")[2]) == pytest.approx(want, abs=2e-5)
