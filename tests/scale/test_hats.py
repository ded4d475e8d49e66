"""HATS catalogs through LSDB: predictions equal the single-process path row for row, keep the
source's id, ra, dec and partitions; --column-prefix on every path; detection by metadata."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

lsdb = pytest.importorskip("lsdb")

from zphot.catalog import Catalog, load_survey  # noqa: E402
from zphot.cli.app import app  # noqa: E402
from zphot.estimators.knn import KNNEstimator  # noqa: E402
from zphot.exceptions import FormatError, OverwriteError, ParameterError  # noqa: E402
from zphot.io.columns import quantile_column  # noqa: E402
from zphot.scale import OutputSpec, predict_frame  # noqa: E402
from zphot.scale.hats import is_hats, predict_hats  # noqa: E402
from zphot.scale.parts import work_dir  # noqa: E402
from zphot.testing import synthetic_catalog  # noqa: E402

# The repository's parent holds the shared data folder (tests/scale/ -> repo root -> ..).
SDSS_FILE = (
    Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "sdss_galaxy_colors.npy"
)
# LSDB and nested-pandas call pandas methods deprecated in pandas 3.1; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword")
BANDS = ["u", "g", "r", "i", "z"]
# Outputs of the predictions (pdf=quantiles) that the prefix renames; objid and z_spec are copied.
PREDICTED = ["z_phot", "z_err", "z_lo", "z_hi", "out_of_coverage"] + [
    quantile_column(q) for q in OutputSpec().quantiles
]


def zphot(*args: object):
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


def with_sky(table: pd.DataFrame, seed: int) -> pd.DataFrame:
    """``table`` with an id and made-up positions uniform on the sphere (every HEALPix pixel)."""
    rng = np.random.default_rng(seed)
    n = len(table)
    out = table.reset_index(drop=True)
    out.insert(0, "objid", np.arange(n, dtype=np.int64) + 10_000)
    out["ra"] = rng.uniform(0.0, 360.0, n)
    out["dec"] = np.degrees(np.arcsin(rng.uniform(-1.0, 1.0, n)))
    return out


def write_hats(table: pd.DataFrame, folder: Path) -> Path:
    # Order 0 has 12 pixels: 12 partitions of ~n/12 rows each, all under partition_rows.
    catalog = lsdb.from_dataframe(
        table,
        ra_column="ra",
        dec_column="dec",
        lowest_order=0,
        highest_order=2,
        partition_rows=400,
        catalog_name="galaxies",
        margin_threshold=None,  # a margin cache costs seconds of JIT and is not predicted
    )
    catalog.write_catalog(folder, progress_bar=False)
    return folder


@pytest.fixture(scope="module")
def sdss(tmp_path_factory) -> tuple[Path, Path, pd.DataFrame]:
    if not SDSS_FILE.is_file():
        pytest.skip(f"shared SDSS sample not found at {SDSS_FILE}")
    data = np.load(SDSS_FILE)
    table = pd.DataFrame({c: data[c] for c in [*BANDS, "redshift"]})
    table = table[data["spec_class"] == b"GALAXY"]
    root = tmp_path_factory.mktemp("sdss_hats")
    model = root / "knn.zphot"
    train = Catalog(table.iloc[:2000].reset_index(drop=True), load_survey("sdss"))
    KNNEstimator(k=7).fit(train).save(model)
    rows = with_sky(table.iloc[2000:3500], seed=1)
    return model, write_hats(rows, root / "cat_hats"), rows


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> tuple[Path, Path, pd.DataFrame]:
    root = tmp_path_factory.mktemp("synthetic_hats")
    model = root / "knn.zphot"
    KNNEstimator(k=5).fit(synthetic_catalog(500, random_state=0)).save(model)
    rows = with_sky(synthetic_catalog(900, random_state=1).table, seed=2)
    return model, write_hats(rows, root / "cat_hats"), rows


# The prediction catalog has no margin cache; a join by id needs none.
@pytest.mark.filterwarnings("ignore:Right catalog does not have a margin cache")
def test_hats_equals_single_process(sdss, tmp_path):
    model, source, rows = sdss
    out = tmp_path / "pred_hats"
    zphot(
        "predict",
        "--model",
        model,
        "--catalog",
        source,
        "--out",
        out,
        "--id-column",
        "objid",
        "--pdf",
        "quantiles",
    )
    # The single-process path on the same rows, from a plain Parquet file.
    rows.to_parquet(tmp_path / "rows.parquet", index=False)
    zphot(
        "predict",
        "--model",
        model,
        "--catalog",
        tmp_path / "rows.parquet",
        "--out",
        tmp_path / "single.parquet",
        "--id-column",
        "objid",
        "--pdf",
        "quantiles",
    )
    single = pd.read_parquet(tmp_path / "single.parquet").set_index("objid")

    src = lsdb.read_hats(source)
    pred = lsdb.read_hats(out)
    got = pred.compute()
    assert len(got) == len(rows) and got["objid"].is_unique
    by_id = got.reset_index().set_index("objid").loc[single.index]
    # Every predicted value equal, bit for bit (rows are independent of the partitioning).
    for col in single.columns:
        np.testing.assert_array_equal(
            by_id[col].to_numpy(single[col].dtype), single[col].to_numpy()
        )
    # id, ra and dec are the source's, and so are the partitions and each row's HEALPix index.
    assert list(got.columns[:3]) == ["objid", "ra", "dec"]
    truth = rows.set_index("objid").loc[single.index]
    np.testing.assert_array_equal(by_id["ra"].to_numpy(float), truth["ra"].to_numpy())
    np.testing.assert_array_equal(by_id["dec"].to_numpy(float), truth["dec"].to_numpy())
    assert pred.get_healpix_pixels() == src.get_healpix_pixels()
    src_index = src.compute().reset_index().set_index("objid")["_healpix_29"]
    np.testing.assert_array_equal(by_id["_healpix_29"], src_index.loc[single.index])
    # Joined back to the source by id: each galaxy meets its own redshift.
    joined = src.join(
        pred, left_on="objid", right_on="objid", suffixes=("", "_pz"), suffix_method="all_columns"
    ).compute()
    assert len(joined) == len(rows)
    np.testing.assert_array_equal(joined["redshift"].to_numpy(), joined["z_spec_pz"].to_numpy())
    # The output names the model that made it, in its HATS properties.
    assert is_hats(out)
    properties = "".join(f.read_text() for f in out.rglob("hats.properties"))
    assert "zphot_estimator=knn" in properties


def test_column_prefix_on_every_path(synthetic, tmp_path):
    from zphot import load

    model, source, rows = synthetic
    rows.to_parquet(tmp_path / "rows.parquet", index=False)
    common = ["--model", model, "--id-column", "objid", "--pdf", "quantiles"]
    zphot(
        "predict", *common, "--catalog", tmp_path / "rows.parquet", "--out", tmp_path / "a.parquet"
    )
    zphot(
        "predict",
        *common,
        "--catalog",
        tmp_path / "rows.parquet",
        "--out",
        tmp_path / "b.parquet",
        "--column-prefix",
        "mlp_",
        "--qp",  # its point-estimate ancil reads the prefixed z_phot
        tmp_path / "b.hdf5",
    )
    zphot(
        "predict",
        *common,
        "--catalog",
        source,
        "--out",
        tmp_path / "c_hats",
        "--column-prefix",
        "mlp_",
    )
    plain = pd.read_parquet(tmp_path / "a.parquet")
    renamed = {c: f"mlp_{c}" for c in PREDICTED}
    # Prefixed columns, in the same order, same values; the id and z_spec keep their names.
    assert list(plain.columns) == ["objid", *PREDICTED[:5], "z_spec", *PREDICTED[5:]]
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "b.parquet"), plain.rename(columns=renamed)
    )
    hats = lsdb.read_hats(tmp_path / "c_hats").compute()
    assert list(hats.columns) == ["objid", "ra", "dec", *plain.rename(columns=renamed).columns[1:]]
    # The per-partition function of the Dask engine is the same one.
    frame = predict_frame(load(model), rows, spec=OutputSpec(id_column="objid", column_prefix="x_"))
    assert list(frame.columns) == ["objid"] + [f"x_{c}" for c in PREDICTED[:5]] + ["z_spec"]
    with pytest.raises(ParameterError, match=r"column_prefix must be letters.*got 'mlp-'"):
        OutputSpec(column_prefix="mlp-")


def test_hats_is_detected_from_metadata_not_name(synthetic, tmp_path):
    _, source, rows = synthetic
    assert is_hats(source)  # a collection: collection.properties
    assert is_hats(source / "galaxies")  # the catalog inside: hats.properties + partitions
    assert not is_hats(source / "galaxies" / "dataset")  # Parquet files, no properties
    # A plain Parquet folder called like a HATS catalog, even with a dataset/ folder, is not one.
    plain = tmp_path / "catalog_hats"
    (plain / "dataset").mkdir(parents=True)
    rows.to_parquet(plain / "part-0.parquet", index=False)
    assert not is_hats(plain) and not is_hats(tmp_path / "nothing")
    (plain / "dataset").rmdir()
    # ... and is predicted by the streamed path into one Parquet file.
    model = synthetic[0]
    zphot("predict", "--model", model, "--catalog", plain, "--out", tmp_path / "z.parquet")
    assert len(pd.read_parquet(tmp_path / "z.parquet")) == len(rows)


def test_hats_errors_are_one_line(synthetic, tmp_path, monkeypatch):
    model, source, _ = synthetic
    run = CliRunner().invoke
    args = ["predict", "--model", str(model), "--catalog", str(source), "--out"]
    refused = run(app, [*args, str(tmp_path / "a"), "--resume", "--chunk-size", "10"])
    assert refused.exit_code == 2  # a usage error
    assert refused.stderr.strip() == (
        "error: --resume, --chunk-size: not available for a HATS catalog (its output is a HATS "
        "catalog of the same partitions); leave it out"
    )
    # Looks like HATS from outside (properties + dataset/), but its properties are not HATS's.
    fake = tmp_path / "fake"
    (fake / "dataset").mkdir(parents=True)
    (fake / "hats.properties").write_text("x=1\n")
    with pytest.raises(FormatError, match=r"fake: not a HATS catalog LSDB can read \(.*obs_coll"):
        predict_hats(model, fake, tmp_path / "c")
    monkeypatch.setitem(sys.modules, "lsdb", None)  # import lsdb now raises ImportError
    with pytest.raises(FormatError) as missing:
        predict_hats(model, source, tmp_path / "b")
    assert str(missing.value) == "reading a HATS catalog needs LSDB: pip install 'zphot[hats]'"
    cli = run(app, [*args, str(tmp_path / "b")])
    assert cli.exit_code == 1 and not (tmp_path / "b").exists()
    assert len(cli.stderr.strip().splitlines()) == 1
    assert cli.stderr.startswith("error: reading a HATS catalog needs LSDB: pip install 'zphot")


def test_hats_on_a_dask_cluster_equals_threads(synthetic, tmp_path):
    from distributed import LocalCluster

    model, source, _ = synthetic
    spec = OutputSpec(id_column="objid", pdf="quantiles")
    here = predict_hats(model, source, tmp_path / "threads", spec=spec)
    # Threads, not processes: the same plugin and task path in a fraction of the start-up time.
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        there = predict_hats(
            model, source, tmp_path / "cluster", spec=spec, engine="dask",
            scheduler=cluster.scheduler_address,
        )  # fmt: skip
    assert (there.n_rows, there.n_parts) == (here.n_rows, here.n_parts) == (900, 12)
    pd.testing.assert_frame_equal(
        lsdb.read_hats(there.path).compute(), lsdb.read_hats(here.path).compute()
    )


def test_overwrite_replaces_only_a_hats_output_zphot_wrote(synthetic, tmp_path):
    model, source, _ = synthetic
    out = tmp_path / "pred_hats"
    first = predict_hats(model, source, out)
    with pytest.raises(OverwriteError):  # exists, no --overwrite
        predict_hats(model, source, out)
    again = predict_hats(model, source, out, overwrite=True)
    assert first.n_rows == again.n_rows and not work_dir(out).exists()
    user = tmp_path / "mine"
    user.mkdir()
    (user / "notes.txt").write_text("keep me")
    with pytest.raises(OverwriteError):
        predict_hats(model, source, user, overwrite=True)
    assert (user / "notes.txt").read_text() == "keep me"
    with pytest.raises(ParameterError, match="--out"):
        predict_hats(model, source, source, overwrite=True)
