"""zphot compare on models trained beforehand: model files and zphot debias folders, scored on
the given catalog without training, with the bulk row of a Step 4 model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from cli_helpers import one_error_line, zphot

from zphot.debias import DebiasedEstimator
from zphot.estimators import get_estimator
from zphot.io import read_table
from zphot.metrics import point_metrics
from zphot.testing import synthetic_catalog


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """A zphot debias folder (step1..step4, fast settings), a k-NN file and two catalogs."""
    folder = tmp_path_factory.mktemp("models")
    train = synthetic_catalog(600, random_state=0)
    params = DebiasedEstimator.tags["fast_params"] | {"steps": 4, "n_folds": 2}
    est = DebiasedEstimator(**params).fit(train)
    (folder / "debiased").mkdir()
    for k in (1, 2, 3, 4):
        est.at_step(k).save(folder / "debiased" / f"step{k}")
    (folder / "debiased" / "notes.txt").write_text("not a model")
    get_estimator("knn", k=10).fit(train).save(folder / "knn.zphot")
    test = synthetic_catalog(400, random_state=1)
    test.table.to_csv(folder / "test.csv", index=False)
    train.table.to_csv(folder / "train.csv", index=False)
    return folder, est, test


def test_a_debias_folder_expands_into_its_steps(models, tmp_path):
    folder, est, test = models
    out = tmp_path / "steps"
    result = zphot(
        "compare", "--catalog", folder / "test.csv", "--models", folder / "debiased",
        "--min-bin-count", "30", "--out", out,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "results.csv")
    assert table["model"].tolist() == ["step1", "step2", "step3", "step4", "step4 (bulk)"]
    assert table.loc[0, "settings"].startswith(str(folder / "debiased" / "step1"))
    # The whole --catalog is the test set, and the models are used as saved: no training.
    for k in (1, 2, 3, 4):
        pred = read_table(out / f"predictions_step{k}.parquet")
        assert len(pred) == 400
        np.testing.assert_array_equal(pred["z_phot"], est.at_step(k).predict(test))
        expected = point_metrics(pred["z_phot"], test.z)
        assert table.loc[k - 1, "sigma_nmad"] == pytest.approx(expected["sigma_nmad"])
    assert table["train_s"].isna().all()
    # Step 4's bulk view is a row of its own, scored on z_phot_bulk.
    bulk = est.predict_bulk(test)
    step4 = read_table(out / "predictions_step4.parquet")
    np.testing.assert_array_equal(step4["z_phot_bulk"], bulk)
    assert table.loc[4, "mse"] == pytest.approx(point_metrics(bulk, test.z)["mse"])
    assert table.loc[4, "settings"] == "z_phot_bulk of step4"
    assert np.isnan(table.loc[4, "pit_ks"]) and np.isfinite(table.loc[3, "pit_ks"])
    binned = pd.read_csv(out / "binned_step4_bulk.csv")
    by_phot = binned[binned["by"] == "z_phot"]
    inside = (bulk >= by_phot["lo"].min()) & (bulk <= by_phot["hi"].max())
    assert by_phot["count"].sum() == inside.sum()
    full = by_phot[by_phot["count"] >= 30]
    assert table.loc[4, "max_dz_zphot_fixed"] == pytest.approx(full["mean"].abs().max())
    assert {f"binned_step{k}.csv" for k in (1, 2, 3, 4)} <= {p.name for p in out.iterdir()}
    html = (out / "report.html").read_text()
    assert "all of --catalog is the test set" in html
    assert "trained beforehand and scored on the same test set" in html
    assert "step4 (bulk)" in result.stdout


def test_names_and_trained_files_share_the_split(models, tmp_path):
    folder, est, _ = models
    out = tmp_path / "mixed"
    result = zphot(
        "compare", "--catalog", folder / "train.csv", "--test", folder / "test.csv", "--models",
        f"knn,{folder / 'knn.zphot'},{folder / 'debiased' / 'step4'}",
        "--set", "knn.k=5", "--bin-width", "0.05", "--out", out,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "results.csv")
    # The file knn.zphot would be labelled knn, which the name takes: its folder goes in front.
    labels = ["knn", f"{folder.name}/knn", "step4", "step4 (bulk)"]
    assert table["model"].tolist() == labels
    assert table.loc[0, "settings"] == "k=5"
    assert table.loc[1, "settings"].endswith("knn.zphot: k=10")
    assert np.isfinite(table.loc[0, "train_s"]) and np.isnan(table.loc[1, "train_s"])
    assert len(read_table(out / f"predictions_{folder.name}_knn.parquet")) == 400  # --test
    assert "scored on the same test galaxies" in (out / "report.html").read_text()
    csv = pd.read_csv(out / "binned_knn.csv")
    assert np.allclose(csv["hi"] - csv["lo"], 0.05)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--test", "{folder}/test.csv"), "without --test"),
        (("--set", "step1.k=3"), "'step1' is trained already"),
        (("--bin-width", "0"), "--bin-width must be positive"),
    ],
)
def test_usage_errors_with_trained_models(models, tmp_path, args, message):
    folder, _, _ = models
    args = [a.format(folder=folder) for a in args]
    result = zphot(
        "compare", "--catalog", folder / "test.csv", "--models", folder / "debiased", *args,
        "--out", tmp_path / "o",
    )  # fmt: skip
    assert result.exit_code == 2
    assert message in one_error_line(result)
    assert not (tmp_path / "o").exists()


def test_missing_or_foreign_model_files(models, tmp_path):
    folder, _, _ = models
    (tmp_path / "empty").mkdir()
    for spec, message in (
        (tmp_path / "nope.zphot", "no such model file or folder"),
        (tmp_path / "empty", "a folder with no zphot model files"),
        (folder / "test.csv", "not a zphot model"),
    ):
        result = zphot(
            "compare", "--catalog", folder / "test.csv", "--models", spec, "--out", tmp_path / "o"
        )
        assert result.exit_code != 0
        assert message in one_error_line(result)
    assert not (tmp_path / "o").exists()
