"""Prediction files in every output format: astropy reads units, descriptions and provenance."""

from __future__ import annotations

import hashlib
import json
import warnings

import astropy.units as u
import numpy as np
import pandas as pd
import pytest
from astropy.io import fits
from astropy.table import Table

from zphot import __version__
from zphot.estimators.knn import KNNEstimator
from zphot.exceptions import ParameterError
from zphot.io import read_table
from zphot.io.assemble import output_format
from zphot.io.chunks import open_chunked
from zphot.scale import OutputSpec, predict_catalog
from zphot.scale.parts import work_dir
from zphot.testing import synthetic_catalog

N_ROWS = 300
CHUNK = 70  # five parts, the last one short
EPOCH = "1700000000"  # 2023-11-14 22:13:20 UTC


@pytest.fixture(scope="module")
def model():
    # A coarse grid keeps the files narrow (40 PDF columns) and the tests quick.
    return KNNEstimator(k=5, grid=(0.0, 0.8, 40)).fit(synthetic_catalog(400, random_state=0))


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    table = synthetic_catalog(N_ROWS, random_state=1).table
    # Text ids that grow longer in later parts (and one non-ASCII): one width for the file.
    table.insert(
        0, "objid", [f"g{i}" + ("é" if i == 5 else "x" * (i // 100)) for i in range(N_ROWS)]
    )
    path = tmp_path_factory.mktemp("cat") / "cat.parquet"
    table.to_parquet(path, index=False)
    return path


def _predict(model, catalog, out, **kwargs):
    spec = OutputSpec(pdf="grid", pdf_dtype="float16", id_column="objid")
    return predict_catalog(model, catalog, out, spec=spec, chunk_size=CHUNK, **kwargs)


def _read(path) -> Table:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # astropy finds everything it needs, guessing nothing
        return Table.read(path)


@pytest.mark.parametrize("suffix", [".parquet", ".fits", ".h5", ".ecsv"])
def test_astropy_reads_units_descriptions_and_provenance(
    model, catalog, tmp_path, suffix, monkeypatch
):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    out = _predict(model, catalog, tmp_path / f"z{suffix}").path
    table = _read(out)
    ref = pd.read_parquet(_predict(model, catalog, tmp_path / "ref.parquet").path)
    assert table.colnames == list(ref.columns)
    assert table.colnames[-1] == f"pdf_{model.grid_.n_bins - 1:03d}"
    for name in table.colnames:  # the same values as the Parquet file's
        got = np.asarray(table[name])
        got = np.char.decode(got, "utf-8") if got.dtype.kind == "S" else got  # FITS, HDF5
        np.testing.assert_array_equal(got, ref[name].to_numpy().astype(got.dtype), err_msg=name)
    assert table["objid"][5] == "g5é"
    # Units: FITS writes a dimensionless unit as TUNITn = '', which astropy reads as none.
    dimensionless = None if suffix == ".fits" else u.dimensionless_unscaled
    for name in ("z_phot", "z_err", "z_lo", "z_hi", "z_spec", "pdf_000"):
        assert table[name].unit == dimensionless, name
    assert table["z_phot"].description == "photometric redshift: the median of the redshift PDF"
    # Bin 3 of the model's grid, its edges computed from z_min, z_max and n_bins.
    z0, width = model.grid_.z_min, (model.grid_.z_max - model.grid_.z_min) / model.grid_.n_bins
    assert table["pdf_003"].description.endswith(f"[{z0 + 3 * width:.5g}, {z0 + 4 * width:.5g})")
    assert all(table[c].description for c in table.colnames)
    meta = {k.lower(): v for k, v in table.meta.items()}  # FITS keywords read back upper case
    params = json.dumps(model.get_params(), sort_keys=True).encode()
    assert meta["model"] == "knn" and meta["point"] == "median"
    assert meta["params_sha256"] == hashlib.sha256(params).hexdigest()
    assert meta["zphot_version"] == __version__
    assert (meta["z_min"], meta["z_max"], meta["n_bins"]) == (
        model.grid_.z_min,
        model.grid_.z_max,
        model.grid_.n_bins,
    )
    assert meta["created"] == "2023-11-14T22:13:20+00:00"
    # zphot reads its own outputs back too (zphot evaluate), whole or in chunks.
    assert len(read_table(out)) == N_ROWS and not work_dir(out).exists()
    if suffix != ".ecsv":
        assert open_chunked(out).n_rows == N_ROWS


def test_fits_columns_carry_tunit_and_tcomm_for_any_reader(model, catalog, tmp_path):
    out = _predict(model, catalog, tmp_path / "z.fits").path
    header = fits.getheader(out, 1)
    j = [header[f"TTYPE{k}"] for k in range(1, header["TFIELDS"] + 1)].index("z_lo") + 1
    assert header[f"TUNIT{j}"] == ""
    assert header[f"TCOMM{j}"].startswith("lower end of the central 68% credible interval")
    assert header.comments[f"TTYPE{j}"].startswith("lower end")
    # float16 probabilities are stored as 32-bit floats, exactly.
    k = [header[f"TTYPE{k}"] for k in range(1, header["TFIELDS"] + 1)].index("pdf_000") + 1
    assert header[f"TFORM{k}"] == "E"


def test_csv_is_plain_and_ecsv_is_csv_with_units(model, catalog, tmp_path):
    csv = _predict(model, catalog, tmp_path / "z.csv").path
    first = csv.read_text().splitlines()[0]
    assert first.startswith("objid,z_phot,z_err")  # a plain header line: no units there
    table = Table.read(csv, format="ascii.csv")
    ref = pd.read_parquet(_predict(model, catalog, tmp_path / "ref.parquet").path)
    # float16 printed in its shortest form reads back as the same float16.
    np.testing.assert_array_equal(np.asarray(table["pdf_010"]).astype(np.float16), ref["pdf_010"])
    np.testing.assert_array_equal(table["z_phot"], ref["z_phot"])
    ecsv = _predict(model, catalog, tmp_path / "z.ecsv").path
    assert ecsv.read_text().startswith("# %ECSV")
    assert Table.read(ecsv)["z_phot"].unit == u.dimensionless_unscaled


@pytest.mark.parametrize("suffix", [".fits", ".h5", ".ecsv"])
def test_interrupted_run_resumes_into_the_same_file(model, catalog, tmp_path, suffix, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    out = tmp_path / f"z{suffix}"

    def stop(done, total):
        if done >= 2 * CHUNK:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _predict(model, catalog, out, progress=stop)
    assert not out.exists() and work_dir(out).is_dir()
    resumed = _predict(model, catalog, out, resume=True)
    assert resumed.resumed_at == 2 * CHUNK
    ref = _predict(model, catalog, tmp_path / f"ref{suffix}")
    if suffix == ".h5":  # HDF5 files hold their own creation times: compare the content
        a, b = _read(out), _read(ref.path)
        assert a.meta == b.meta and all((a[c] == b[c]).all() for c in a.colnames)
    else:
        assert out.read_bytes() == ref.path.read_bytes()


def test_unknown_suffix_is_refused_before_any_work(model, catalog, tmp_path):
    out = tmp_path / "z.txt"
    with pytest.raises(ParameterError) as info:
        _predict(model, catalog, out)
    assert str(info.value) == (
        f"{out}: unknown output suffix '.txt'; name the file with one of .parquet, .pq, "
        ".fits, .fit, .h5, .hdf5, .ecsv, .csv (.ecsv is CSV with units)"
    )
    assert not work_dir(out).exists()
    with pytest.raises(ParameterError, match="no suffix|'\\(none\\)'"):
        output_format(tmp_path / "predictions")
    with pytest.raises(ParameterError, match="partitioned output is a folder of Parquet parts"):
        _predict(model, catalog, tmp_path / "z.fits", partitioned=True)


def test_empty_catalog_gives_empty_files_astropy_reads(model, catalog, tmp_path):
    empty = tmp_path / "empty.parquet"
    pd.read_parquet(catalog).iloc[:0].to_parquet(empty, index=False)
    for suffix in (".parquet", ".fits", ".h5", ".ecsv", ".csv"):
        out = _predict(model, empty, tmp_path / f"z{suffix}").path
        table = Table.read(out, format="ascii.csv") if suffix == ".csv" else _read(out)
        assert len(table) == 0 and "z_phot" in table.colnames, suffix


def test_read_provenance_is_the_same_in_every_format(model, catalog, tmp_path, monkeypatch):
    from zphot.io.assemble import read_provenance

    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    found = {}
    for suffix in (".parquet", ".fits", ".h5", ".ecsv", ".csv"):
        found[suffix] = read_provenance(_predict(model, catalog, tmp_path / f"z{suffix}").path)
    assert found.pop(".csv") == {}  # a plain CSV has nowhere to keep it
    want = found.pop(".parquet")
    assert want["quantiles"] == [0.025, 0.16, 0.5, 0.84, 0.975] and want["n_bins"] == 40
    for suffix, meta in found.items():
        assert meta == want, suffix
