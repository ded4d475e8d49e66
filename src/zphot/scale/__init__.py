"""Catalogs of any size: streamed prediction on one machine, and on a Dask cluster.

:func:`predict_catalog` reads a catalog in chunks and writes Parquet parts with a manifest, so a
run of any length keeps constant memory and resumes where it stopped. :func:`predict_dask` (extra
``zphot[dask]``) maps the same per-chunk function over a Parquet dataset's partitions on a Dask
cluster; both give the same rows, bit for bit. Names load on first use (:mod:`zphot._lazy`).
"""

from .._lazy import attach

__all__, __getattr__, __dir__ = attach(
    __name__,
    {
        ".rows": ["PDF_DTYPES", "PDF_KINDS", "OutputSpec", "auto_chunk_size", "predict_frame"],
        ".parts": ["StreamResult"],
        ".stream": ["predict_catalog"],
        ".dask": ["predict_dask"],
    },
)
