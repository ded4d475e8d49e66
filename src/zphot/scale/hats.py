"""Predict a HATS catalog through LSDB: one task per HEALPix partition, a HATS catalog out.

Rubin serves its catalogs (and its photo-z tables) as HATS: Parquet files partitioned by
HEALPix pixel, with the partitioning and the sky coordinates described by the catalog's own
metadata. :func:`predict_hats` opens one with ``lsdb.read_hats``, maps the streamed path's
per-chunk function (:func:`zphot.scale.rows.predict_frame`) over its partitions with
``Catalog.map_partitions``, and writes the predictions with ``Catalog.write_catalog``: a HATS
catalog with the same partitions, the same ``_healpix_29`` index and the source's id, ra and
dec, which ``lsdb.read_hats(out)`` joins back to the source. Rows are independent, so every row
equals the single-process prediction of the same row.

The source's margin cache is not predicted (a prediction catalog is joined by id, not
cross-matched). Dask runs the partitions on its current scheduler: threads in this process, or
the cluster of an active ``distributed.Client``. LSDB is the optional extra ``zphot[hats]``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from ..catalog.bands import Survey
from ..exceptions import FormatError, ParameterError
from ..io.atomic import MARKER, atomic_path, check_not_input, check_writable, replace_path
from ..io.lock import LOCK, claim_folder, release_on_error
from .parts import StreamResult, work_dir
from .rows import OutputSpec, predict_frame, source_columns

__all__ = ["is_hats", "predict_hats", "refuse_options"]

# A catalog folder holds one of these property files beside its partition list or data folder;
# a collection (a catalog with its margins and indexes) holds collection.properties.
_PROPERTY_FILES = ("hats.properties", "properties")
_COLLECTION_FILE = "collection.properties"
# What a HATS output of zphot holds (LSDB writes a collection: its properties file and the
# catalog's folder, named after the output), so --overwrite replaces only such a folder.
_HATS_OUTPUT = (MARKER, _COLLECTION_FILE, *_PROPERTY_FILES, "partition_info.csv", "dataset")
_NO_RESUME = "a HATS run does not resume: pass --overwrite to start again"


def is_hats(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a HATS catalog or collection folder, judged by its own metadata.

    A catalog folder has ``hats.properties`` (or the older ``properties``) and
    ``partition_info.csv`` or a ``dataset/`` folder; a collection has ``collection.properties``.
    A plain folder of Parquet files has none of these, whatever it is called.
    """
    path = Path(path)
    if not path.is_dir():
        return False
    if (path / _COLLECTION_FILE).is_file():
        return True
    has_properties = any((path / name).is_file() for name in _PROPERTY_FILES)
    has_partitions = (path / "partition_info.csv").is_file() or (path / "dataset").is_dir()
    return has_properties and has_partitions


def refuse_options(**given: bool) -> None:
    """Raise for options of the Parquet paths that a HATS run does not have.

    ``given`` maps an option's name (``chunk_size`` for ``--chunk-size``) to whether it was used.
    """
    used = ["--" + name.replace("_", "-") for name, on in given.items() if on]
    if used:
        raise ParameterError(
            f"{', '.join(used)}: not available for a HATS catalog (its output is a HATS "
            "catalog of the same partitions); leave it out"
        )


def _lsdb() -> Any:
    try:
        import lsdb
    except ImportError as exc:
        raise FormatError("reading a HATS catalog needs LSDB: pip install 'zphot[hats]'") from exc
    return lsdb


def _predict_pixel(
    frame: pd.DataFrame,
    pixel: Any,
    estimator: Any,
    columns: list[str],
    constants: dict[str, Any],
    carried: list[str],
    survey: Survey,
    spec: OutputSpec,
    source: str,
) -> pd.DataFrame:
    """One partition's predictions, indexed like the partition, with ``carried`` copied.

    ``estimator`` is the fitted estimator, or on a Dask cluster the name of the
    :class:`~zphot.scale.dask.ModelPlugin` that holds it on every worker.
    """
    import pyarrow as pa

    if isinstance(estimator, str):
        from distributed import get_worker

        estimator = get_worker().plugins[estimator].estimator

    # LSDB hands pyarrow-backed columns; the Parquet reader of the streamed path gives NumPy
    # ones (missing values as NaN). The same conversion makes the same input, hence the same rows.
    rows = pa.Table.from_pandas(frame[columns], preserve_index=False).to_pandas()
    if constants:
        rows = rows.assign(**constants)
    table = predict_frame(estimator, rows, survey, spec, f"{source} pixel {pixel}")
    for col in carried:
        if col not in table.columns:
            table[col] = rows[col].to_numpy()
    first = [c for c in carried if c in table.columns]
    table = table[first + [c for c in table.columns if c not in first]]
    table.index = frame.index
    return table


@release_on_error
def predict_hats(
    model: Any,
    source: str | os.PathLike,
    out: str | os.PathLike,
    *,
    survey: Survey | None = None,
    spec: OutputSpec | None = None,
    overwrite: bool = False,
    engine: str = "local",
    scheduler: str | None = None,
) -> StreamResult:
    """Predict every row of a HATS catalog and write the predictions as a HATS catalog.

    Parameters
    ----------
    model : str, PathLike or PhotoZEstimator
        A saved model file or a fitted estimator.
    source : str or PathLike
        A HATS catalog or collection folder (see :func:`is_hats`).
    out : str or PathLike
        Folder of the HATS catalog to write: [id], ra, dec, then the columns of
        :func:`~zphot.scale.rows.predict_frame`, indexed by the source's ``_healpix_29``,
        partitioned as the source.
    survey : Survey, optional
        Column mapping of ``source``; the estimator's training survey by default.
    spec : OutputSpec, optional
        PDF columns, carried id column and column prefix, as for the streamed path.
    overwrite : bool
        Replace an existing ``out``.
    engine : {"local", "dask"}
        ``local``: Dask's current scheduler (threads here, or an active ``distributed.Client``'s
        cluster). ``dask``: a cluster at ``scheduler`` (a ``LocalCluster`` without one), the
        model shipped once per worker as for :func:`~zphot.scale.dask.predict_dask`.
    scheduler : str, optional
        Address of a running Dask scheduler, for ``engine="dask"``.

    Returns
    -------
    StreamResult
        ``n_parts`` is the number of HEALPix partitions.

    Raises
    ------
    FormatError
        LSDB is not installed, or ``source`` is not a HATS catalog it can read.
    OverwriteError
        ``out`` exists and ``overwrite`` is not set.
    ParameterError
        ``out`` is ``source``, or an earlier run's partial output is there without ``overwrite``.
    """
    from ..estimators import load

    lsdb = _lsdb()
    t0 = time.perf_counter()
    spec = spec or OutputSpec()
    estimator = load(model) if isinstance(model, str | os.PathLike) else model
    survey = survey or estimator.survey_
    source, out = Path(source), Path(out)
    check_not_input({"--out": out}, {"--catalog": source})
    check_writable(out, overwrite, folder_files=(*_HATS_OUTPUT, out.name))
    catalog, args = _open_source(lsdb, source, estimator, survey, spec)
    meta = _predict_pixel(catalog.meta, "(schema)", estimator, *args)  # checks model vs file
    work, lock = _work_folder(out, source, overwrite)
    with _workers(engine, scheduler, model) as plugin:
        predicted = catalog.map_partitions(
            _predict_pixel, plugin or estimator, *args, meta=meta, include_pixel=True
        )
        predicted.write_catalog(
            work / "catalog",
            catalog_name=out.name,
            addl_hats_properties=_properties(estimator, spec),
            progress_bar=False,
            overwrite=True,
        )
    n_rows = int(lsdb.read_hats(work / "catalog").hc_structure.catalog_info.total_rows)
    _move_into_place(work, lock, source, out)
    n_parts = len(predicted.get_healpix_pixels())
    return StreamResult(out, n_rows, n_parts, 0, time.perf_counter() - t0)


def _open_source(
    lsdb: Any, source: Path, estimator: Any, survey: Survey, spec: OutputSpec
) -> tuple[Any, list[Any]]:
    """The source catalog with the columns prediction reads plus those copied to the output
    (id, ra, dec), and the arguments :func:`_predict_pixel` takes after the estimator."""
    try:
        whole = lsdb.read_hats(source, columns="all")  # metadata only: LSDB reads lazily
        info, available = whole.hc_structure.catalog_info, whole.columns
    except (ValueError, KeyError, NotImplementedError) as exc:  # what hats raises on bad metadata
        why = "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())
        raise FormatError(f"{source}: not a HATS catalog LSDB can read ({why})") from exc
    columns, constants = source_columns(estimator, available, str(source), survey, spec)
    carried = [c for c in (spec.id_column, survey.id) if c is not None and c in available]
    carried = list(dict.fromkeys(carried + [info.ra_column, info.dec_column]))
    columns = list(dict.fromkeys(columns + carried))
    catalog = lsdb.read_hats(source, columns=columns)
    catalog.margin = None  # joined back by id, never cross-matched: no margin to predict
    return catalog, [columns, constants, carried, survey, spec, str(source)]


def _properties(estimator: Any, spec: OutputSpec) -> dict[str, Any]:
    """zphot's provenance among the output catalog's HATS properties."""
    from .._version import __version__

    return {
        "zphot_version": __version__,
        "zphot_estimator": estimator.name,
        "zphot_training_fingerprint": estimator.fingerprint_,
        "zphot_column_prefix": spec.column_prefix,
    }


def _move_into_place(work: Path, lock: Any, source: Path, out: Path) -> None:
    """Mark the written catalog as zphot's (so a later ``overwrite`` may replace it), move it
    to ``out`` whole, then release and remove the work folder."""
    with atomic_path(work / "catalog" / MARKER) as tmp:
        tmp.write_text(json.dumps({"format": "zphot-hats", "source": str(source.resolve())}))
    replace_path(work / "catalog", out)
    (work / MARKER).unlink()
    lock.release()
    with contextlib.suppress(OSError):  # another run may have claimed it meanwhile
        work.rmdir()


def _work_folder(out: Path, source: Path, overwrite: bool) -> tuple[Path, Any]:
    """The locked folder the catalog is written in (``work/catalog``) before it is moved to
    ``out`` whole; an earlier run's leftovers are cleared only with ``overwrite``."""
    work = work_dir(out)
    marker = {"format": "zphot-hats-work", "source": str(source.resolve())}
    lock, created = claim_folder(work, marker, str(out), takeover=overwrite, hint=_NO_RESUME)
    if not created:
        if not overwrite:
            lock.release()
            raise ParameterError(f"{work}: an earlier run's partial catalog is here; {_NO_RESUME}")
        leftovers = [e for e in work.iterdir() if e.name not in (MARKER, LOCK, "catalog")]
        if leftovers:
            lock.release()
            raise ParameterError(f"{work}: holds {leftovers[0].name}, not zphot's; move it away")
        shutil.rmtree(work / "catalog", ignore_errors=True)
    return work, lock


@contextlib.contextmanager
def _workers(engine: str, scheduler: str | None, model: Any) -> Iterator[str | None]:
    """Dask's scheduler for the run; on a cluster, yield the name of the model's plugin."""
    if engine == "local":
        yield None
        return
    if engine != "dask":
        raise ParameterError(f"engine must be 'local' or 'dask', got {engine!r}")
    from .dask import Client, LocalCluster, ModelPlugin, _model_bytes

    cluster = None if scheduler else LocalCluster(dashboard_address=":0")
    with Client(scheduler or cluster) as client:
        plugin = ModelPlugin(_model_bytes(model))
        client.register_plugin(plugin, name=plugin.name)
        try:
            yield plugin.name
        finally:
            if cluster is not None:
                cluster.close()
