"""Catalogs of any size: streamed prediction on one machine, and on a Dask cluster.

:func:`predict_catalog` reads a catalog in chunks and writes Parquet parts with a manifest, so a
run of any length keeps constant memory and resumes where it stopped. :func:`predict_dask` (extra
``zphot[dask]``) maps the same per-chunk function over a Parquet dataset's partitions on a Dask
cluster; both give the same rows, bit for bit.
"""

from typing import Any

from .stream import (
    PDF_DTYPES,
    PDF_KINDS,
    OutputSpec,
    StreamResult,
    auto_chunk_size,
    predict_catalog,
    predict_frame,
)

__all__ = [
    "PDF_DTYPES",
    "PDF_KINDS",
    "OutputSpec",
    "StreamResult",
    "auto_chunk_size",
    "predict_catalog",
    "predict_dask",
    "predict_frame",
]


def __getattr__(name: str) -> Any:
    # Dask is an optional extra: import it only when its entry point is asked for.
    if name == "predict_dask":
        from .dask import predict_dask

        return predict_dask
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
