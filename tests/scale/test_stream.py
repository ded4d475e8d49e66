"""Streamed prediction: chunk readers, chunked == whole, resume after a kill, refusals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from zphot.catalog import read_catalog
from zphot.estimators.knn import KNNEstimator
from zphot.estimators.lgbm import LightGBMEstimator
from zphot.estimators.mlp import MLPEstimator
from zphot.exceptions import (
    FormatError,
    MissingBandError,
    MissingColumnError,
    OverwriteError,
    ParameterError,
)
from zphot.io import read_table, write_table
from zphot.io.chunks import iter_chunks, open_chunked
from zphot.scale import OutputSpec, predict_catalog, predict_frame
from zphot.scale.parts import MANIFEST, work_dir
from zphot.testing import synthetic_catalog

N_ROWS = 1000
CHUNK = 97  # not a divisor of N_ROWS, nor of the Parquet row groups (128)


@pytest.fixture(scope="module")
def catalog_file(tmp_path_factory) -> Path:
    """A Parquet catalog with an id column, some missing bands and a far-off galaxy."""
    table = synthetic_catalog(N_ROWS, random_state=1).table
    table.insert(0, "objid", np.arange(N_ROWS, dtype=np.int64) * 3 + 11)
    table.loc[5, "u"] = np.nan
    table.loc[7, ["u", "g", "r", "i", "z"]] = 99.0  # nothing measured: a flat PDF
    table.loc[9, "r"] = 30.0  # far outside the training magnitudes: out of coverage
    path = tmp_path_factory.mktemp("cat") / "cat.parquet"
    pq.write_table(pa.Table.from_pandas(table, preserve_index=False), path, row_group_size=128)
    return path


@pytest.fixture(scope="module")
def models() -> dict:
    train = synthetic_catalog(600, random_state=0)
    return {
        "knn": KNNEstimator(k=7).fit(train),
        "lgbm-median": LightGBMEstimator(n_estimators=30, point="median", n_jobs=1).fit(train),
        "lgbm-mean": LightGBMEstimator(n_estimators=30, n_jobs=1).fit(train),
        "mlp": MLPEstimator(hidden=(32, 32), max_epochs=3, n_ensemble=2, n_jobs=1).fit(train),
    }


@pytest.fixture(scope="module")
def model_file(models, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("model") / "knn.zphot"
    models["knn"].save(path)
    return path


# --- chunk readers --------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".parquet", ".fits", ".hdf5", ".csv", ".npy", "dataset"])
def test_chunks_cover_every_row_once_in_order(catalog_file, tmp_path, suffix):
    whole = read_table(catalog_file)
    if suffix == "dataset":
        path = tmp_path / "ds"
        path.mkdir()
        for k, lo in enumerate(range(0, N_ROWS, 400)):
            whole.iloc[lo : lo + 400].to_parquet(path / f"part-{k}.parquet", index=False)
        (path / "_ignored.parquet").write_bytes(b"not a part")
    else:
        path = write_table(whole, tmp_path / f"cat{suffix}")
    table = open_chunked(path)
    assert table.columns == list(whole.columns)
    assert table.n_rows == (None if suffix == ".csv" else N_ROWS)
    chunks = list(table.chunks(CHUNK, columns=["objid", "r"]))
    bounds = [(lo, hi) for lo, hi, _ in chunks]
    assert bounds == [(lo, min(lo + CHUNK, N_ROWS)) for lo in range(0, N_ROWS, CHUNK)]
    got = pd.concat([frame for _, _, frame in chunks], ignore_index=True)
    pd.testing.assert_frame_equal(got, whole[["objid", "r"]], check_dtype=False)
    # Starting at a boundary gives exactly the remaining chunks (what --resume relies on).
    later = list(iter_chunks(path, CHUNK, columns=["objid"], start=3 * CHUNK))
    assert [(lo, hi) for lo, hi, _ in later] == bounds[3:]
    assert later[0][2]["objid"].iloc[0] == whole["objid"].iloc[3 * CHUNK]


def test_chunk_reader_errors(catalog_file):
    with pytest.raises(ParameterError, match="chunk_size"):
        next(iter_chunks(catalog_file, 0))
    with pytest.raises(FormatError, match="no column"):
        next(iter_chunks(catalog_file, 10, columns=["nope"]))


# --- chunked == whole -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "knn",
        "lgbm-median",
        "lgbm-mean",
        "mlp",
    ],
)
def test_chunked_equals_whole_file(models, catalog_file, tmp_path, name):
    est = models[name]
    spec = OutputSpec(pdf="quantiles", id_column="objid")
    result = predict_catalog(est, catalog_file, tmp_path / "z.parquet", chunk_size=CHUNK, spec=spec)
    assert (result.n_rows, result.n_parts) == (N_ROWS, -(-N_ROWS // CHUNK))
    got = pd.read_parquet(result.path)

    whole = read_catalog(catalog_file, est.survey_)
    batch = est.predict_pdf(whole)
    expected = est.predict_table(whole, batch)
    expected.insert(0, "objid", whole.table["objid"].to_numpy())
    expected["z_spec"] = whole.z
    # The levels 0.025, 0.16, 0.5, 0.84, 0.975, named by their digits after "0.".
    names = ["z_q025", "z_q16", "z_q50", "z_q84", "z_q975"]
    for name, q in zip(names, batch.quantiles(spec.quantiles).T, strict=True):
        expected[name] = q
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert got["out_of_coverage"].iloc[9] and not got["out_of_coverage"].iloc[:5].any()
    # One chunk or many: the same bytes.
    one = predict_catalog(est, catalog_file, tmp_path / "one.parquet", chunk_size=10**6, spec=spec)
    assert pq.read_table(one.path).equals(pq.read_table(result.path))


@pytest.mark.parametrize("name", ["knn", "mlp"])
def test_point_only_stream_matches_the_pdf_route(models, catalog_file, tmp_path, name):
    """Without PDF columns a network summarises from its logits: the same table to float64
    rounding, and still the same bytes in one chunk or many."""
    est = models[name]
    result = predict_catalog(est, catalog_file, tmp_path / "z.parquet", chunk_size=CHUNK)
    got = pd.read_parquet(result.path)
    whole = read_catalog(catalog_file, est.survey_)
    expected = est.predict_table(whole, est.predict_pdf(whole))
    expected["z_spec"] = whole.z
    pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(got["out_of_coverage"], expected["out_of_coverage"])
    one = predict_catalog(est, catalog_file, tmp_path / "one.parquet", chunk_size=10**6)
    assert pq.read_table(one.path).equals(pq.read_table(result.path))


@pytest.mark.parametrize("suffix", [".fits", ".hdf5", ".csv", ".npy"])
def test_every_format_streams_the_same_rows(models, catalog_file, tmp_path, suffix):
    src = write_table(read_table(catalog_file), tmp_path / f"cat{suffix}")
    spec = OutputSpec(id_column="objid")
    got = predict_catalog(models["knn"], src, tmp_path / "a.parquet", chunk_size=300, spec=spec)
    ref = predict_catalog(models["knn"], catalog_file, tmp_path / "b.parquet", spec=spec)
    pd.testing.assert_frame_equal(pd.read_parquet(got.path), pd.read_parquet(ref.path))


def test_predict_frame_needs_the_model_bands(models):
    frame = synthetic_catalog(5, random_state=0).table.drop(columns="g")
    with pytest.raises(MissingColumnError, match="'g'"):
        predict_frame(models["knn"], frame)
    from zphot.catalog import Survey

    survey = models["knn"].survey_
    fewer = Survey(survey.name, tuple(b for b in survey.bands if b.name != "g"))
    with pytest.raises(MissingBandError, match="band 'g' missing"):
        predict_frame(models["knn"], frame, survey=fewer)


def test_grid_pdf_partitioned_and_metadata(models, catalog_file, tmp_path):
    est = models["knn"]
    spec = OutputSpec(pdf="grid", pdf_dtype="float16")
    folder = predict_catalog(
        est, catalog_file, tmp_path / "z", chunk_size=400, spec=spec, partitioned=True
    ).path
    names = sorted(p.name for p in folder.iterdir())
    assert names == [
        MANIFEST,
        "part-00000000.parquet",
        "part-00000001.parquet",
        "part-00000002.parquet",
    ]
    got = pd.read_parquet(folder)  # pyarrow skips the _zphot.json manifest
    n_bins = est.grid_.n_bins
    pcols = [c for c in got.columns if c.startswith("pdf_")]
    assert pcols == [f"pdf_{k:03d}" for k in range(n_bins)] and got[pcols[0]].dtype == np.float16
    probs = est.predict_pdf(read_catalog(catalog_file, est.survey_)).probs
    np.testing.assert_array_equal(got[pcols].to_numpy(), probs.astype(np.float16))
    meta = json.loads(pq.read_schema(folder / "part-00000001.parquet").metadata[b"zphot"])
    assert {k: meta[k] for k in ("z_min", "z_max", "n_bins")} == est.grid_.to_dict()
    assert meta["grid"] == est.grid_.to_dict()
    assert meta["pdf"] == "grid"
    assert meta["fingerprint"] == est.fingerprint_
    assert not work_dir(folder).exists()


def test_qp_output_holds_the_pdfs(models, catalog_file, tmp_path):
    pytest.importorskip("qp")
    from zphot.pdf.qp import read_qp

    est = models["knn"]
    spec = OutputSpec(id_column="objid")
    result = predict_catalog(
        est,
        catalog_file,
        tmp_path / "z.parquet",
        chunk_size=300,
        spec=spec,
        qp=tmp_path / "z.hdf5",
    )
    batch, ancil = read_qp(result.qp_path)
    whole = read_catalog(catalog_file, est.survey_)
    np.testing.assert_allclose(batch.probs, est.predict_pdf(whole).probs, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(ancil["objid"], whole.table["objid"].to_numpy())
    np.testing.assert_array_equal(ancil["zmedian"], pd.read_parquet(result.path)["z_phot"])
    assert set(ancil) == {"objid", "zmode", "zmedian"}


def test_empty_catalog_gives_an_empty_table(models, catalog_file, tmp_path):
    empty = read_table(catalog_file).iloc[:0]
    src = write_table(empty, tmp_path / "empty.parquet")
    result = predict_catalog(models["knn"], src, tmp_path / "z.parquet")
    got = pd.read_parquet(result.path)
    assert len(got) == 0 and "z_phot" in got.columns


# --- refusals -------------------------------------------------------------------------------


class _Stop(Exception):
    pass


def _stop_after(parts: int, chunk: int):
    def progress(done: int, total: int | None) -> None:
        if done >= parts * chunk:
            raise _Stop

    return progress


def test_refusals_name_what_to_do(models, catalog_file, tmp_path):
    est, out = models["knn"], tmp_path / "z.parquet"
    out.write_text("old")
    with pytest.raises(OverwriteError, match="z.parquet"):
        predict_catalog(est, catalog_file, out)
    assert out.read_text() == "old"
    out.unlink()
    with pytest.raises(_Stop):
        predict_catalog(est, catalog_file, out, chunk_size=CHUNK, progress=_stop_after(2, CHUNK))
    assert not out.exists() and work_dir(out).is_dir()
    with pytest.raises(ParameterError, match="--resume"):
        predict_catalog(est, catalog_file, out, chunk_size=CHUNK)
    with pytest.raises(ParameterError, match="options differs"):
        predict_catalog(est, catalog_file, out, chunk_size=CHUNK + 1, resume=True)
    with pytest.raises(ParameterError, match="model differs"):
        predict_catalog(models["lgbm-median"], catalog_file, out, chunk_size=CHUNK, resume=True)
    # --overwrite discards the interrupted parts and starts again.
    result = predict_catalog(est, catalog_file, out, chunk_size=CHUNK, overwrite=True)
    assert result.resumed_at == 0 and result.n_rows == N_ROWS and not work_dir(out).exists()


# --- resume after a real kill -----------------------------------------------------------------

KILLED_RUN = """
import sys, time
from pathlib import Path
from zphot import load
from zphot.scale import predict_catalog

model, source, out, marker, chunk = sys.argv[1:]

def progress(done, total):
    if done >= 3 * int(chunk):
        Path(marker).write_text(str(done))
        time.sleep(120)  # killed here, mid-run

predict_catalog(load(model), source, out, chunk_size=int(chunk), progress=progress)
"""


def test_killed_run_resumes_to_the_uninterrupted_file(
    model_file, catalog_file, tmp_path, monkeypatch
):
    # One start time for every run here (the killed one too), so the files match byte for byte.
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    out, marker = tmp_path / "z.parquet", tmp_path / "marker"
    script = tmp_path / "run.py"
    script.write_text(KILLED_RUN)
    args = [sys.executable, str(script), str(model_file), str(catalog_file), str(out), str(marker)]
    proc = subprocess.Popen([*args, str(CHUNK)], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "the run never reached its third part"
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    work = work_dir(out)
    manifest = json.loads((work / MANIFEST).read_text())
    assert [p["stop"] for p in manifest["parts"]] == [CHUNK, 2 * CHUNK, 3 * CHUNK]
    assert not out.exists()
    # What a kill during the next part would leave: a torn part file and a temporary.
    (work / "part-00000003.parquet").write_bytes(b"PAR1 torn")
    (work / ".part-00000004.parquet.x.tmp").write_bytes(b"")

    from zphot import load

    est = load(model_file)
    resumed = predict_catalog(est, catalog_file, out, chunk_size=CHUNK, resume=True)
    assert resumed.resumed_at == 3 * CHUNK and resumed.n_rows == N_ROWS
    ref = predict_catalog(est, catalog_file, tmp_path / "ref.parquet", chunk_size=CHUNK)
    assert pq.read_table(out).equals(pq.read_table(ref.path))
    assert out.read_bytes() == ref.path.read_bytes()
    assert not work.exists()
    assert sorted(os.listdir(tmp_path)) == sorted(["marker", "ref.parquet", "run.py", "z.parquet"])


# --- the command ------------------------------------------------------------------------------


def test_cli_predict_streams_with_options(model_file, catalog_file, tmp_path):
    from typer.testing import CliRunner

    from zphot.cli.app import app

    out = tmp_path / "z.parquet"
    args = [
        "predict",
        "--model",
        str(model_file),
        "--catalog",
        str(catalog_file),
        "--out",
        str(out),
        "--pdf",
        "quantiles",
        "--id-column",
        "objid",
        "--chunk-size",
        "300",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    got = pd.read_parquet(out)
    assert got.columns[0] == "objid" and "z_q50" in got.columns and len(got) == N_ROWS
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 2 and "--overwrite" in again.output
    bad = CliRunner().invoke(app, [*args, "--overwrite", "--pdf", "all"])
    assert bad.exit_code == 2 and "pdf must be one of" in bad.output
    dask_resume = CliRunner().invoke(app, [*args, "--engine", "dask", "--resume"])
    assert dask_resume.exit_code == 2 and "--engine local" in dask_resume.output
