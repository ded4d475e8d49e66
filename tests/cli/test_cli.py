"""The zphot command line end to end, on small synthetic catalogs written to tmp_path."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from cli_helpers import one_error_line, zphot
from scipy.stats import norm

from zphot.io import read_table
from zphot.testing import synthetic_catalog, synthetic_files


@pytest.fixture(scope="module")
def csvs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("catalogs")
    return synthetic_files(folder, {"train": (600, 0), "test": (200, 1)}, suffix=".csv")


def test_info_on_a_csv(csvs):
    result = zphot("info", "--catalog", csvs["train"], "--preset", "sdss")
    assert result.exit_code == 0, result.output
    assert "rows: 600" in result.stdout
    assert "bands: 5 (u g r i z)" in result.stdout


def test_bad_path_is_one_line_and_a_non_zero_exit(tmp_path):
    result = zphot("info", "--catalog", tmp_path / "nope.csv")
    assert result.exit_code != 0
    assert "nope.csv: no such file" in one_error_line(result)


def test_missing_column_names_it(csvs, tmp_path):
    path = tmp_path / "no_g.csv"
    pd.read_csv(csvs["train"]).drop(columns="g").to_csv(path, index=False)
    result = zphot("info", "--catalog", path, "--preset", "sdss")
    assert result.exit_code == 1
    assert "column 'g' missing" in one_error_line(result)


def test_nan_only_file_is_refused(csvs, tmp_path):
    path = tmp_path / "nan.csv"
    table = pd.read_csv(csvs["train"]).head(20)
    table[:] = np.nan
    table.to_csv(path, index=False)
    result = zphot("info", "--catalog", path, "--preset", "sdss")
    assert result.exit_code == 1
    assert "no measured magnitude" in one_error_line(result)


def test_evaluate_a_predictions_file(tmp_path):
    path = tmp_path / "pred.parquet"
    z = np.linspace(0.1, 1.0, 50)
    pd.DataFrame({"z_spec": z, "z_phot": z + 0.01}).to_parquet(path)
    result = zphot("evaluate", "--predictions", path)
    assert result.exit_code == 0, result.output
    assert "sigma_nmad" in result.stdout and "outlier_015" in result.stdout


def _printed_metrics(stdout: str) -> dict[str, float]:
    """The 'metric | value' rows of evaluate's table, as numbers."""
    rows = {}
    for line in stdout.splitlines():
        cells = [c.strip() for c in re.split(r"[│|]", line) if c.strip()]
        if len(cells) == 2 and re.fullmatch(r"[-+0-9.,e]+", cells[1]):
            rows[cells[0]] = float(cells[1].replace(",", ""))
    return rows


def test_evaluate_prints_the_right_numbers(tmp_path):
    # dz alternates 0.01 and 0.03 along z: median 0.02, every |dz - median| = 0.01, so
    # sigma_NMAD = 0.01 / Phi^-1(0.75); no |dz| beyond 0.05. Each of the 20 equal-count bins
    # holds 20 consecutive rows, 10 of each value, so every bin's mean dz is 0.02 and the
    # trend of dz against z is flat.
    path = tmp_path / "pred.parquet"
    z = np.linspace(0.1, 1.0, 400)
    d = np.where(np.arange(400) % 2 == 0, 0.01, 0.03)
    z_phot = z + d * (1 + z)
    pd.DataFrame({"z_spec": z, "z_phot": z_phot}).to_parquet(path)
    got = _printed_metrics(zphot("evaluate", "--predictions", path).stdout)
    assert got["n"] == 400
    assert got["bias"] == pytest.approx(0.02, abs=1e-5)
    assert got["sigma_nmad"] == pytest.approx(0.01 / norm.ppf(0.75), abs=1e-5)
    assert got["mse"] == pytest.approx(np.mean((z_phot - z) ** 2), abs=1e-5)
    assert got["outlier_015"] == 0.0 and got["outlier_005"] == 0.0
    assert got["max_dz_zspec"] == pytest.approx(0.02, abs=1e-5)
    assert got["slope_zspec"] == pytest.approx(0.0, abs=1e-3)


def test_train_then_predict_round_trip(csvs, tmp_path):
    model = tmp_path / "knn.zphot"
    result = zphot(
        "train",
        "--model",
        "knn",
        "--catalog",
        csvs["train"],
        "--preset",
        "sdss",
        "--set",
        "k=10",
        "--out",
        model,
    )
    assert result.exit_code == 0, result.output
    assert model.exists()
    out = tmp_path / "z.parquet"
    result = zphot("predict", "--model", model, "--catalog", csvs["test"], "--out", out)
    assert result.exit_code == 0, result.output
    pred = read_table(out)
    assert len(pred) == 200
    assert {"z_phot", "z_err", "out_of_coverage", "z_spec"} <= set(pred.columns)
    assert np.median(np.abs(pred["z_phot"] - pred["z_spec"])) < 0.03
    assert zphot("evaluate", "--predictions", out).exit_code == 0


def test_train_network_resumes_from_its_checkpoint(csvs, tmp_path, monkeypatch):
    """A network's zphot train checkpoints into OUT.ckpt: killed and run again, it resumes
    and saves the same model as an uninterrupted run, then removes the folder."""
    from zphot.estimators import load
    from zphot.estimators.nn import network as network_mod
    from zphot.estimators.nn import train as train_mod

    def run(out):  # noqa: ANN001, ANN202
        return zphot(
            "train", "--model", "mlp", "--catalog", csvs["train"], "--preset", "sdss",
            "--set", "hidden=[16]", "--set", "max_epochs=4", "--set", "batch_size=64",
            "--set", "n_jobs=1", "--out", out,
        )  # fmt: skip

    whole = tmp_path / "whole.zphot"
    assert run(whole).exit_code == 0
    assert not (tmp_path / "whole.zphot.ckpt").exists()
    real = train_mod.train_network

    def killed_after_epoch_two(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        def progress(epoch: int, *_: float) -> None:
            if epoch == 1:
                raise KeyboardInterrupt

        return real(*args, progress=progress, **kwargs)

    out = tmp_path / "mlp.zphot"
    with monkeypatch.context() as mp:
        mp.setattr(network_mod, "train_network", killed_after_epoch_two)
        assert run(out).exit_code != 0
    assert not out.exists()
    assert (tmp_path / "mlp.zphot.ckpt" / "member0.npz").exists()
    assert run(out).exit_code == 0
    assert not (tmp_path / "mlp.zphot.ckpt").exists()
    model, ref = load(out), load(whole)
    assert model.get_params()["checkpoint"] is None
    assert model.history_[0]["val_loss"] == ref.history_[0]["val_loss"]
    cat = synthetic_catalog(50, random_state=3)
    np.testing.assert_array_equal(model.predict_pdf(cat).probs, ref.predict_pdf(cat).probs)


COMPARE_FAST = ["--set=knn.k=10", "--set=lgbm.n_estimators=50", "--set=lgbm.n_jobs=1"]


def test_compare_writes_the_report(csvs, tmp_path):
    out = tmp_path / "cmp"
    result = zphot(
        "compare",
        "--catalog",
        csvs["train"],
        "--preset",
        "sdss",
        "--models",
        "knn,lgbm",
        *COMPARE_FAST,
        "--seed",
        "7",
        # 180 test galaxies: bins of 0.1 hold about 30, enough for the max |mean dz| columns.
        "--bin-width",
        "0.1",
        "--min-bin-count",
        "20",
        "--out",
        out,
    )
    assert result.exit_code == 0, result.output
    assert f"report: {out / 'report.html'}" in result.stdout
    assert "σ_NMAD" in result.stdout and "lgbm" in result.stdout
    table = pd.read_csv(out / "results.csv")
    assert table["model"].tolist() == ["knn", "lgbm"]
    assert table.loc[0, "sigma_nmad"] < 0.05  # lgbm with 50 trees is not accurate, only fast
    assert np.isfinite(table.drop(columns=["model", "settings"]).to_numpy(float)).all()
    assert "n_estimators=50" in table.loc[1, "settings"]
    assert "random_state=7" in table.loc[0, "settings"]
    html = (out / "report.html").read_text()
    assert "--split-seed" not in html and "70% / 30% of --catalog, seed 42" in html
    # 70% of 600 for training, the rest for testing
    assert len(read_table(out / "predictions_lgbm.parquet")) == 180
    assert zphot("evaluate", "--predictions", out / "predictions_knn.parquet").exit_code == 0

    again = zphot("compare", "--catalog", csvs["train"], "--models", "knn", "--out", out)
    assert again.exit_code == 2
    assert "--overwrite" in one_error_line(again)


def test_compare_with_a_separate_test_catalog(csvs, tmp_path):
    out = tmp_path / "cmp"
    out.mkdir()
    (out / "stale.txt").write_text("x")
    result = zphot(
        "compare",
        "--catalog",
        csvs["train"],
        "--test",
        csvs["test"],
        "--models",
        "knn",
        "--set",
        "knn.k=10",
        "--out",
        out,
        "--overwrite",
    )
    assert result.exit_code == 0, result.output
    assert len(read_table(out / "predictions_knn.parquet")) == 200


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--models", "knn", "--set", "lgbm.n_estimators=5"), "model 'lgbm' is not compared"),
        (("--models", "knn,lgbm", "--set", "k=5"), "MODEL.PARAM=VALUE"),
        (("--models", "knn", "--set", "knn.nope=5"), "unknown parameter"),
        (("--models", "nope"), "unknown model 'nope'"),
        (("--models", " , "), "--models needs"),
    ],
)
def test_compare_usage_errors_fail_before_training(csvs, tmp_path, args, message):
    result = zphot("compare", "--catalog", csvs["train"], *args, "--out", tmp_path / "o")
    assert result.exit_code == 2
    assert message in one_error_line(result)
    assert not (tmp_path / "o").exists()


def test_settings_parse_json_and_comma_lists():
    from zphot.estimators.settings import parse_settings
    from zphot.exceptions import ParameterError

    got = parse_settings(
        ["hidden=128,64", "widths=[8, 8]", "k=5", "point=median", "tag=a,b", "flag=true"], ["mlp"]
    )["mlp"]
    assert got == {
        "hidden": (128, 64),
        "widths": (8, 8),
        "k": 5,
        "point": "median",
        "tag": "a,b",
        "flag": True,
    }
    with pytest.raises(ParameterError, match="PARAM=VALUE"):
        parse_settings(["hidden"], ["mlp"])
