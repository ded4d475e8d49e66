"""The Dask engine on a LocalCluster equals the single-process path, row for row."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

pytest.importorskip("distributed")

from distributed import Client, LocalCluster  # noqa: E402

from zphot.estimators.knn import KNNEstimator  # noqa: E402
from zphot.exceptions import OverwriteError, ParameterError  # noqa: E402
from zphot.scale import OutputSpec, predict_catalog  # noqa: E402
from zphot.scale.dask import PLUGIN_PREFIX, predict_dask  # noqa: E402
from zphot.testing import synthetic_catalog  # noqa: E402

N_ROWS = 900
# dask's own Parquet reader calls a pandas method deprecated in pandas 3.1; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword in DataFrame.reset_index")


@pytest.fixture(scope="module")
def cluster():
    # Threads, not processes: the same plugin and task path in a fraction of the start-up time.
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def setup(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("dask")
    model = root / "knn.zphot"
    KNNEstimator(k=7).fit(synthetic_catalog(600, random_state=0)).save(model)
    table = synthetic_catalog(N_ROWS, random_state=1).table
    table.insert(0, "objid", np.arange(N_ROWS, dtype=np.int64) + 100)
    dataset = root / "cat"
    dataset.mkdir()
    for k, lo in enumerate(range(0, N_ROWS, 250)):  # four files: four partitions
        table.iloc[lo : lo + 250].to_parquet(dataset / f"part-{k}.parquet", index=False)
    return model, dataset


def test_dask_equals_single_process(cluster, setup, tmp_path):
    from zphot import load

    model, dataset = setup
    spec = OutputSpec(pdf="quantiles", id_column="objid")
    local = predict_catalog(load(model), dataset, tmp_path / "local.parquet", spec=spec)
    merged = predict_dask(
        model, dataset, tmp_path / "dask.parquet", scheduler=cluster.scheduler_address, spec=spec
    )
    assert merged.n_rows == N_ROWS and merged.n_parts == 4
    assert pq.read_table(merged.path).equals(pq.read_table(local.path))
    metadata = [json.loads(pq.read_schema(p).metadata[b"zphot"]) for p in (merged.path, local.path)]
    for meta in metadata:
        meta.pop("created")  # when each run started
    assert metadata[0] == metadata[1]
    folder = predict_dask(
        model,
        dataset,
        tmp_path / "parts",
        scheduler=cluster.scheduler_address,
        spec=spec,
        partitioned=True,
    ).path
    assert len(list(folder.glob("part-*.parquet"))) == 4
    pd.testing.assert_frame_equal(pd.read_parquet(folder), pd.read_parquet(local.path))

    # The model went to each worker once, as a plugin, and is loaded there.
    with Client(cluster) as client:
        held = client.run(
            lambda dask_worker: [
                (type(p.estimator).__name__, p.data)
                for name, p in dask_worker.plugins.items()
                if name.startswith(PLUGIN_PREFIX)
            ]
        )
    assert list(held.values()) == [[("KNNEstimator", b"")]] * 2


def test_dask_refusals(cluster, setup, tmp_path):
    model, dataset = setup
    out = tmp_path / "z.parquet"
    out.write_text("old")
    with pytest.raises(OverwriteError):
        predict_dask(model, dataset, out, scheduler=cluster.scheduler_address)
    csv = tmp_path / "cat.csv"
    pd.read_parquet(dataset).to_csv(csv, index=False)
    with pytest.raises(ParameterError, match="Parquet"):
        predict_dask(model, csv, tmp_path / "y.parquet", scheduler=cluster.scheduler_address)
