"""zphot's RAIL stages in a RAIL pipeline on pz-rail-base's DC2 test data.

The known answers come from zphot itself, reached the way a zphot user reaches it: the model
file the informer wrote is run through ``zphot predict --qp`` (the CLI, in-process), and
``zphot.metrics`` scores that file's ``zmode``. The RAIL side must reproduce both.
"""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile

import numpy as np
import pandas as pd
import pytest
import qp
import tables_io
from rail.evaluation.point_to_point_evaluator import PointToPointEvaluator
from rail.utils.path_utils import find_rail_file
from typer.testing import CliRunner

import zphot
from rail.estimation.algos.zphot import (
    ZphotEstimator,
    ZphotInformer,
    ZphotModelHandle,
    survey_from_rail,
)
from zphot.catalog.survey import load_survey
from zphot.cli.app import app
from zphot.exceptions import MissingColumnError, ParameterError
from zphot.metrics.point import sigma_nmad
from zphot.pdf.qp import from_qp, read_qp

TRAIN = find_rail_file("examples_data/testdata/test_dc2_training_9816.hdf5")
TEST = find_rail_file("examples_data/testdata/test_dc2_validation_9816.hdf5")
# Small and seeded, so the pipeline trains in seconds; accuracy is not what is tested here.
FAST = {"hidden": [32, 32], "max_epochs": 3, "batch_size": 256, "n_jobs": 1}


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    """Inform, then estimate in three chunks (chunk_size below the 20,449 test rows)."""
    tmp = tmp_path_factory.mktemp("rail")
    model = tmp / "mlp.zphot"
    handle = ZphotInformer.make_stage(
        name="inform_zphot", model=str(model), model_name="mlp", model_params=FAST, seed=3
    ).inform(tables_io.read(TRAIN))
    estimator = ZphotEstimator.make_stage(
        name="estimate_zphot",
        model=handle,
        output=str(tmp / "pz.hdf5"),
        chunk_size=7000,
        id_col="id",
    )
    ensemble = estimator.estimate(tables_io.read(TEST)).data
    return tmp, model, handle, estimator, ensemble


@pytest.fixture(scope="module")
def cli_qp(pipeline):
    """``zphot predict --qp`` of the informer's model file on the same test rows."""
    tmp, model, *_ = pipeline
    out = tmp / "cli.parquet"
    result = CliRunner().invoke(
        app,
        [
            "predict",
            "--model",
            str(model),
            "--catalog",
            str(TEST),
            "--out",
            str(out),
            "--qp",
            str(tmp / "cli_pz.hdf5"),
        ],
    )
    assert result.exit_code == 0, result.output
    return read_qp(tmp / "cli_pz.hdf5")


def test_pdfs_equal_zphot_predict_qp(pipeline, cli_qp):
    tmp, _, _, _, ensemble = pipeline
    ours = from_qp(ensemble)
    theirs, ancil = cli_qp
    assert ensemble.npdf == 20449
    assert np.array_equal(ours.grid.edges, theirs.grid.edges)
    assert np.abs(ours.probs - theirs.probs).max() < 1e-6
    # The file RAIL wrote (three chunks) holds the same Ensemble as the one returned.
    written = qp.read(str(tmp / "pz.hdf5"))
    assert np.array_equal(np.asarray(written.objdata["pdfs"]), np.asarray(ensemble.objdata["pdfs"]))
    # Point estimates of the same PDFs: the CLI's zmode, and its z_phot (point="median").
    assert np.allclose(np.ravel(ensemble.ancil["zmode"]), ancil["zmode"], rtol=0, atol=1e-9)
    assert np.allclose(np.ravel(ensemble.ancil["zmedian"]), ancil["zmedian"], rtol=0, atol=1e-6)


def test_grid_is_rails_and_model_file_is_zphots(pipeline):
    _, model, handle, estimator, ensemble = pipeline
    # RAIL's default grid: 301 points from 0 to 3, i.e. 300 bins of 0.01 whose edges they are.
    assert np.allclose(np.ravel(ensemble.metadata["bins"]), np.linspace(0.0, 3.0, 301))
    with zipfile.ZipFile(model) as zf:
        names = zf.namelist()
    assert "manifest.json" in names and not any(n.endswith((".pkl", ".pickle")) for n in names)
    loaded = zphot.load(model)
    assert loaded.get_params()["random_state"] == 3 and loaded.get_params()["max_epochs"] == 3
    # The estimator ran the file's model (read by path), not the informer's object.
    assert isinstance(handle, ZphotModelHandle)
    assert estimator.model is not handle.data
    # RAIL's own ancils come from the input: the id column asked for, the true redshift.
    truth = tables_io.read(TEST)["photometry"]
    assert np.array_equal(np.ravel(ensemble.ancil["id"]), truth["id"])
    assert np.array_equal(np.ravel(ensemble.ancil["redshift"]), truth["redshift"])


def test_rail_evaluator_scores_zmode_as_zphot_does(pipeline, cli_qp, tmp_path, monkeypatch):
    _, _, _, _, ensemble = pipeline
    monkeypatch.chdir(tmp_path)  # the evaluator writes a summary file in the working directory
    evaluator = PointToPointEvaluator.make_stage(
        name="evaluate_zphot",
        metrics=["point_stats_sigma_mad"],
        force_exact=True,
        point_estimate_key="zmode",
        output=str(tmp_path / "eval.hdf5"),
        summary=str(tmp_path / "summary.hdf5"),
    )
    summary = evaluator.evaluate(ensemble, tables_io.read(TEST))["summary"].data
    _, ancil = cli_qp
    truth = tables_io.read(TEST)["photometry"]["redshift"]
    expected = sigma_nmad(ancil["zmode"], truth)
    assert 0.0 < expected < 1.0
    assert float(np.ravel(summary["point_stats_sigma_mad"])[0]) == pytest.approx(expected, rel=1e-9)


def test_estimator_maps_renamed_columns_onto_the_models_bands(pipeline, tmp_path):
    _, model, _, _, ensemble = pipeline
    test = tables_io.read(TEST)["photometry"]
    bands = "ugrizy"
    renamed = {f"{b}_mag": test[f"mag_{b}_lsst"][:500] for b in bands}
    renamed |= {f"{b}_err": test[f"mag_err_{b}_lsst"][:500] for b in bands}
    out = (
        ZphotEstimator.make_stage(
            name="estimate_renamed",
            model=str(model),
            hdf5_groupname="",
            bands=[f"{b}_mag" for b in bands],
            err_bands=[f"{b}_err" for b in bands],
            output=str(tmp_path / "renamed.hdf5"),
        )
        .estimate(renamed)
        .data
    )
    # Same galaxies under other column names: the same PDFs as the first 500 of the pipeline.
    assert np.array_equal(
        np.asarray(out.objdata["pdfs"]), np.asarray(ensemble.objdata["pdfs"])[:500]
    )
    with pytest.raises(ParameterError, match="bands has 2 columns; the model has 6 bands"):
        ZphotEstimator.make_stage(
            name="estimate_short",
            model=str(model),
            hdf5_groupname="",
            bands=["a", "b"],
            output=str(tmp_path / "short.hdf5"),
        ).estimate(renamed)


def test_missing_column_is_named(pipeline, tmp_path):
    _, model, *_ = pipeline
    test = dict(tables_io.read(TEST)["photometry"])
    del test["mag_r_lsst"]
    with pytest.raises(MissingColumnError, match="column 'mag_r_lsst' missing"):
        ZphotEstimator.make_stage(
            name="estimate_missing",
            model=str(model),
            hdf5_groupname="",
            output=str(tmp_path / "missing.hdf5"),
        ).estimate(test)


def test_survey_from_rails_dc2_columns_is_the_lsst_preset():
    b = "ugrizy"
    survey = survey_from_rail(
        [f"mag_{x}_lsst" for x in b], [f"mag_err_{x}_lsst" for x in b], "mag_i_lsst", "redshift"
    )
    lsst = load_survey("lsst")
    # The preset maps exactly these columns (its own TOML), so bands, filters, wavelengths,
    # reference band and error floor are the preset's; only the id role is not mapped.
    assert survey.bands == lsst.bands
    assert survey.reference_band == "i" and survey.mag_err_floor == lsst.mag_err_floor
    assert survey.redshift == "redshift" and survey.id is None
    custom = survey_from_rail(["m1", "m2"], [], "m2", None, (99.0, float("nan")))
    assert custom.band_names == ("m1", "m2") and custom.reference_band == "m2"
    assert custom.sentinels == (99.0,) and custom.mag_err_floor == 0.02  # Survey's default
    with pytest.raises(ParameterError, match="err_bands has 1 columns for 2 bands"):
        survey_from_rail(["m1", "m2"], ["e1"], "m1", None)
    with pytest.raises(ParameterError, match="ref_band 'mag_i_lsst' is not one of the bands"):
        survey_from_rail(["m1", "m2"], [], "mag_i_lsst", None)


def test_informer_params_grid_and_seed():
    def params(**config):
        return ZphotInformer.make_stage(name="params", **config).estimator_params()

    assert params(model_name="knn", zmin=0.0, zmax=2.0, nzbins=201) == {
        "grid": (0.0, 2.0, 200),
        "random_state": 0,
    }
    # zphot's own grid (sized from the training redshifts) on request.
    assert params(model_name="knn", model_params={"grid": None}, seed=5)["grid"] is None
    with pytest.raises(ParameterError, match="set the seed with the 'seed' option"):
        params(model_name="knn", model_params={"random_state": 1})
    with pytest.raises(ParameterError, match="unknown model 'nope'"):
        params(model_name="nope")


def test_model_handle_refuses_what_is_not_a_zphot_model(tmp_path):
    with pytest.raises(ParameterError, match="holds a fitted zphot estimator, got dict"):
        ZphotModelHandle("model", data={"a": 1})
    pickled = tmp_path / "model.pkl"
    pickled.write_bytes(b"\x80\x04K\x01.")  # pickle of the int 1
    with pytest.raises(zphot.exceptions.ModelFileError, match="not a zphot model"):
        ZphotModelHandle("model", path=str(pickled)).read()


def test_debiased_step4_model_adds_the_bulk_estimate(tmp_path):
    train = tables_io.read(TRAIN)["photometry"]
    rows = {k: v[:2000] for k, v in train.items()}
    params = {
        "base_params": {"hidden": [16], "max_epochs": 2, "batch_size": 128, "n_jobs": 1},
        "head_epochs": 1,
        "n_folds": 2,
        "kept_fraction": 0.5,
        "calibration_bin": 0.05,  # wide enough for 2,000 galaxies to fill its bins
    }
    model = tmp_path / "debiased.zphot"
    handle = ZphotInformer.make_stage(
        name="inform_debiased",
        model=str(model),
        hdf5_groupname="",
        model_name="debiased",
        model_params=params,
    ).inform(rows)
    test = {k: v[2000:2600] for k, v in train.items()}
    ensemble = (
        ZphotEstimator.make_stage(
            name="estimate_debiased",
            model=handle,
            hdf5_groupname="",
            output=str(tmp_path / "debiased.hdf5"),
        )
        .estimate(test)
        .data
    )
    # zphot's own view of the same file and rows: the bulk column of its predictions table.
    loaded = zphot.load(model)
    table = loaded.predict_table(zphot.Catalog(pd.DataFrame(test), loaded.survey_))
    assert np.array_equal(np.ravel(ensemble.ancil["z_phot_bulk"]), table["z_phot_bulk"])
    assert not np.array_equal(np.ravel(ensemble.ancil["z_phot_bulk"]), ensemble.ancil["zmode"])


def test_rail_discovers_both_stages():
    # A fresh interpreter, so the stages must come from RAIL's own discovery, not this file.
    code = (
        "import rail.stages\n"
        "rail.stages.import_and_attach_all(silent=True)\n"
        "from rail.core.introspection import RailEnv\n"
        "assert 'rail.zphot' in RailEnv.list_rail_packages()\n"
        "print(rail.stages.ZphotInformer.__module__, rail.stages.ZphotEstimator.__name__)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["rail.estimation.algos.zphot", "ZphotEstimator"]


def test_zphot_evaluate_scores_the_file_rail_wrote(pipeline):
    """RAIL's own writer (the estimator's chunked output) read by ``zphot evaluate``: the
    zmode sigma_NMAD it prints is zphot's figure for those estimates and the catalog's truth."""
    tmp, _, _, _, ensemble = pipeline
    result = CliRunner().invoke(
        app,
        [
            "evaluate",
            "--predictions",
            str(tmp / "pz.hdf5"),
            "--truth",
            str(TEST),
            "--z-spec",
            "redshift",
        ],
    )
    assert result.exit_code == 0, result.output
    truth = tables_io.read(TEST)["photometry"]["redshift"]
    expected = sigma_nmad(np.ravel(ensemble.ancil["zmode"]), truth)
    printed = re.search(r"sigma_nmad\s*\W\s*([0-9.]+)", result.stdout)
    assert float(printed.group(1)) == pytest.approx(expected, abs=1e-5)
