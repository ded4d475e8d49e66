"""Predict a Parquet dataset on a Dask cluster: the streamed path's chunk function per partition.

``dask.dataframe`` reads the dataset's partitions, :func:`zphot.scale.rows.predict_frame` maps
over them, and ``to_parquet`` writes one part per partition. The model travels once per worker,
not once per task: its file's bytes ride in a ``WorkerPlugin`` that each worker (including one
that joins later) loads into memory at registration, so workers need no shared filesystem for
the model, and tasks carry only the plugin's name. Without a scheduler address a
``LocalCluster`` on this machine is started and closed around the run.

Rows are independent, so the partitioning does not change any value: the result equals the
single-process :func:`~zphot.scale.stream.predict_catalog` row for row. Dask and its
``distributed`` scheduler are the optional extra ``zphot[dask]``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from ..catalog.bands import Survey
from ..estimators import load
from ..exceptions import ParameterError
from ..io.atomic import MARKER, atomic_path, check_not_input, check_writable
from ..io.chunks import ChunkedTable, open_chunked, parquet_files
from ..io.lock import OutputLock, claim_folder, release_on_error
from .parts import (
    METADATA_KEY,
    OWN_FILES,
    PART_NAME,
    StreamResult,
    check_output,
    clear_work,
    file_metadata,
    finish_parts,
    work_dir,
)
from .rows import OutputSpec, predict_frame, source_columns

try:
    import dask.dataframe as dd
    from distributed import Client, LocalCluster, WorkerPlugin, get_worker
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ImportError("zphot's Dask engine needs the extra: pip install 'zphot[dask]'") from exc

__all__ = ["ModelPlugin", "predict_dask"]

logger = logging.getLogger(__name__)

PLUGIN_PREFIX = "zphot-model-"


class ModelPlugin(WorkerPlugin):
    """Ship a saved model to every worker once and keep it loaded there.

    Parameters
    ----------
    data : bytes
        The model file's content (what :meth:`PhotoZEstimator.save` wrote).

    Attributes
    ----------
    name : str
        ``zphot-model-`` + the content's SHA-256 prefix: registering the same model again on
        a long-lived cluster is a no-op (``idempotent``).
    estimator : PhotoZEstimator
        Set on each worker by :meth:`setup`.
    """

    idempotent = True

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.name = PLUGIN_PREFIX + hashlib.sha256(data).hexdigest()[:16]

    def setup(self, worker: Any) -> None:
        # ``load`` reads a file (zip + manifest checks), so the bytes land in the worker's own
        # scratch folder first; the copy in memory is dropped once the model is loaded.
        path = Path(worker.local_directory) / f"{self.name}.zphot"
        path.write_bytes(self.data)
        self.estimator = load(path)
        self.data = b""


def _predict_partition(
    frame: pd.DataFrame, plugin: str, survey: Survey, spec: OutputSpec, source: str
) -> pd.DataFrame:
    estimator = get_worker().plugins[plugin].estimator
    return predict_frame(estimator, frame.reset_index(drop=True), survey, spec, source)


def _model_bytes(model: Any) -> bytes:
    """The bytes of a model file, or of a fitted estimator saved to a temporary file."""
    if isinstance(model, str | os.PathLike):
        return Path(model).read_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.zphot"
        model.save(path)
        return path.read_bytes()


@release_on_error
def predict_dask(
    model: Any,
    source: str | os.PathLike,
    out: str | os.PathLike,
    *,
    scheduler: str | None = None,
    n_workers: int | None = None,
    threads_per_worker: int | None = None,
    survey: Survey | None = None,
    spec: OutputSpec | None = None,
    partitioned: bool = False,
    overwrite: bool = False,
) -> StreamResult:
    """Predict every row of a Parquet file or dataset folder on a Dask cluster.

    Start a cluster with Dask's tools (``dask ssh``, ``dask-kubernetes``, ``dask-jobqueue``) and
    pass its scheduler address; workers must import the same zphot version and see ``source``
    and the output folder (a shared filesystem or object store).

    Parameters
    ----------
    model : str, PathLike or PhotoZEstimator
        A saved model file, or a fitted estimator (saved to a temporary file to be shipped).
    source : str or PathLike
        Parquet file or folder of Parquet files, readable from every worker.
    out : str or PathLike
        Parquet file to write, or with ``partitioned`` a dataset folder of one part per input
        partition (the way to go for billions of rows).
    scheduler : str, optional
        Address of a running scheduler (``tcp://host:8786``); a ``LocalCluster`` otherwise.
    n_workers, threads_per_worker : int, optional
        Size of the ``LocalCluster`` (Dask's defaults follow the machine's cores).
    survey, spec : Survey, OutputSpec, optional
        Column mapping of ``source`` (the model's training survey by default); output columns.
    partitioned, overwrite : bool
        Keep the parts as a dataset folder, not one file; replace an existing output.

    Returns
    -------
    StreamResult
    """
    t0 = time.perf_counter()
    spec = spec or OutputSpec()
    data = _model_bytes(model)
    estimator = load(model) if isinstance(model, str | os.PathLike) else model
    survey = survey or estimator.survey_
    out = Path(out)
    check_output(out, partitioned)
    table = _open_parquet(source)
    columns, constants = source_columns(estimator, table.columns, str(table.path), survey, spec)
    files = [str(f) for f in parquet_files(table.path)]
    check_not_input({"--out": out}, {"--catalog": table.path})
    check_writable(out, overwrite, folder_files=OWN_FILES)
    work, lock = _work_folder(out, table.path, overwrite)
    metadata = file_metadata(estimator, spec, table.path)
    with _client(scheduler, n_workers, threads_per_worker) as client:
        plugin = ModelPlugin(data)
        client.register_plugin(plugin, name=plugin.name)
        frames = dd.read_parquet(files, columns=columns)
        if constants:
            frames = frames.assign(**constants)
        meta = predict_frame(estimator, frames._meta, survey, spec, str(table.path))
        predicted = frames.map_partitions(
            _predict_partition, plugin.name, survey, spec, str(table.path), meta=meta
        )
        predicted.to_parquet(
            work,
            write_index=False,
            name_function=PART_NAME.format,
            custom_metadata={METADATA_KEY: json.dumps(metadata).encode()},
            write_metadata_file=False,
        )
    parts = parquet_files(work)
    n_rows = sum(_rows(p) for p in parts)
    finish_parts(work, parts, out, partitioned, metadata, lock)
    seconds = time.perf_counter() - t0
    logger.debug("%d rows in %d partitions -> %s (%.1f s)", n_rows, len(parts), out, seconds)
    return StreamResult(out, n_rows, len(parts), 0, seconds)


def _open_parquet(source: str | os.PathLike) -> ChunkedTable:
    """The source, which must be Parquet: every worker reads its own partitions."""
    table = open_chunked(source)
    if table.format != "parquet":
        raise ParameterError(
            f"{table.path}: the Dask engine reads Parquet files or dataset folders, not "
            f"{table.format}; convert it or use the local engine"
        )
    return table


def _work_folder(out: Path, source: Path, overwrite: bool) -> tuple[Path, OutputLock]:
    """Lock the folder the parts are written in; an earlier run's parts are cleared only with
    ``overwrite`` (the Dask engine does not resume)."""
    work = work_dir(out)
    marker = {"format": "zphot-dask-parts", "source": str(source.resolve())}
    hint = "the Dask engine does not resume: pass --overwrite to start again"
    lock, created = claim_folder(work, marker, str(out), takeover=overwrite, hint=hint)
    if not created:
        if not overwrite:
            raise ParameterError(f"{work}: an earlier run's parts are here; {hint}")
        clear_work(work)
        with atomic_path(work / MARKER) as tmp:
            tmp.write_text(json.dumps(marker))
    return work, lock


@contextlib.contextmanager
def _client(
    scheduler: str | None, n_workers: int | None, threads_per_worker: int | None
) -> Iterator[Client]:
    """A client of the scheduler at ``scheduler``, or of a ``LocalCluster`` started (and closed
    afterwards) for the run."""
    cluster = None
    if scheduler is None:
        cluster = LocalCluster(
            n_workers=n_workers, threads_per_worker=threads_per_worker, dashboard_address=":0"
        )
    client = Client(scheduler or cluster)
    try:
        logger.info("Dask dashboard: %s", client.dashboard_link)
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows
