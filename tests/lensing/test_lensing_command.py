"""``zphot lensing`` on a hand-made predictions file with a hand-computed answer."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from astropy.cosmology import Planck18
from typer.testing import CliRunner

from zphot.cli.app import app


def flat_beta(z_lens: float, z_s: float) -> float:
    """D_ls / D_s = 1 - D_C(z_l) / D_C(z_s) in a flat universe (Planck18 is flat)."""
    return float(1 - Planck18.comoving_distance(z_lens) / Planck18.comoving_distance(z_s))


@pytest.fixture
def predictions(tmp_path):
    # Grid [0, 2] in 4 bins (edges 0, 0.5, 1, 1.5, 2), recorded in the file's metadata as
    # zphot predict records it.
    probs = np.array(
        [
            [0.0, 1.0, 0.0, 0.0],  # A: all at 0.75
            [0.0, 0.5, 0.0, 0.5],  # B: half at 0.75, half at 1.75
            [1.0, 0.0, 0.0, 0.0],  # C: all in [0, 0.5]
        ]
    )
    frame = pd.DataFrame(
        {
            "id": [1, 2, 3],
            "z_phot": [0.75, 0.75, 0.25],
            "out_of_coverage": [False, False, False],
            "z_spec": [0.8, 0.3, 0.2],
        }
    )
    for j in range(4):
        frame[f"pdf_{j:03d}"] = probs[:, j]
    path = tmp_path / "z.parquet"
    table = pa.Table.from_pandas(frame, preserve_index=False)
    grid = {"z_min": 0.0, "z_max": 2.0, "n_bins": 4}
    pq.write_table(table.replace_schema_metadata({"zphot": json.dumps(grid)}), path)
    return path


def test_lensing_command_hand_computed(predictions, tmp_path) -> None:
    out = tmp_path / "lens.parquet"
    args = ["lensing", "--predictions", str(predictions), "--z-lens", "0.35", "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--plots", str(tmp_path / "plots")])
    assert result.exit_code == 0, result.output
    report = json.loads(out.with_suffix(".json").read_text())
    b1, b2 = flat_beta(0.35, 0.75), flat_beta(0.35, 1.75)
    # P(z > 0.45): A and B 1; C only the top 0.05 of its bin [0, 0.5]: 0.1. Selected: A, B.
    per = pd.read_parquet(out)
    np.testing.assert_allclose(per["p_background"], [1.0, 1.0, 0.1])
    assert per["selected"].tolist() == [True, True, False]
    assert per["id"].tolist() == [1, 2, 3]
    np.testing.assert_allclose(per["beta"], [b1, (b1 + b2) / 2, 0.0], rtol=1e-6)
    assert report["z_lens"] == 0.35
    assert report["n_selected"] == 2
    assert report["beta_mean"] == pytest.approx((b1 + (b1 + b2) / 2) / 2, rel=1e-6)
    assert report["beta2_mean"] == pytest.approx((b1**2 + (b1**2 + b2**2) / 2) / 2, rel=1e-6)
    # Truth: A (0.8) is background, B (0.3) is in front of z_l + 0.02: half the selection.
    assert report["beta_true"] == pytest.approx(flat_beta(0.35, 0.8) / 2, rel=1e-6)
    assert report["contamination"] == pytest.approx(0.5)
    assert report["completeness"] == pytest.approx(1.0)
    assert report["covered_fraction"] == 1.0
    assert "beta_mean" in result.stdout
    for name in ("beta_vs_zlens.png", "nz.png"):
        assert (tmp_path / "plots" / name).read_bytes()[:4] == b"\x89PNG"


def test_lensing_command_refuses_a_file_without_pdfs(tmp_path) -> None:
    path = tmp_path / "z.parquet"
    pd.DataFrame({"z_phot": [0.5, 0.6]}).to_parquet(path)
    args = [
        "lensing",
        "--predictions",
        str(path),
        "--z-lens",
        "0.3",
        "--out",
        str(tmp_path / "l.parquet"),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    assert (
        f"{path}: no redshift grid in the file's metadata; write the predictions with zphot "
        "predict --pdf grid"
        in " ".join(result.output.split())
    )


def test_empty_selection_writes_strict_json_with_nulls(predictions, tmp_path) -> None:
    out = tmp_path / "far.parquet"
    args = ["lensing", "--predictions", str(predictions), "--z-lens", "1.9", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    text = out.with_suffix(".json").read_text()
    assert "NaN" not in text
    report = json.loads(text)
    # P(z > 2.0) is 0 for every galaxy: nothing selected, means undefined.
    assert report["n_selected"] == 0
    assert report["beta_mean"] is None and report["contamination"] is None


def test_lensing_reads_what_zphot_predict_writes(tmp_path) -> None:
    """The grid PDFs of a real prediction file give the same per-galaxy ⟨β⟩ from Parquet and
    from FITS (the grid comes from each format's own metadata)."""
    from zphot.estimators.knn import KNNEstimator
    from zphot.testing import synthetic_catalog

    model = tmp_path / "knn.zphot"
    KNNEstimator(k=5).fit(synthetic_catalog(300, random_state=0)).save(model)
    catalog = tmp_path / "cat.parquet"
    synthetic_catalog(40, random_state=1).table.to_parquet(catalog)
    runner = CliRunner()
    betas = []
    for suffix in (".parquet", ".fits"):
        pred = tmp_path / f"z{suffix}"
        args = ["predict", "--model", model, "--catalog", catalog, "--pdf", "grid", "--out", pred]
        result = runner.invoke(app, [str(a) for a in args])
        assert result.exit_code == 0, result.output
        out = tmp_path / f"lens_{suffix[1:]}.parquet"
        args = ["lensing", "--predictions", pred, "--z-lens", "0.2", "--dz", "0.05", "--out", out]
        result = runner.invoke(app, [str(a) for a in args])
        assert result.exit_code == 0, result.output
        betas.append(pd.read_parquet(out)["beta"].to_numpy())
    assert len(betas[0]) == 40 and ((betas[0] >= 0) & (betas[0] <= 1)).all()
    np.testing.assert_allclose(betas[1], betas[0], rtol=1e-6)
