"""The Dask engine (LocalCluster, 2 workers) against the single process, on the same catalog.

    python benchmarks/dask_vs_local.py [--model knn] [--grid-bins 301] [--rows 10000000]

Both runs predict the same 6-band catalog (see ``throughput.py``) with the same model file on
the same 2 cores. The model is trained on the DC2 training catalog with a grid of
``--grid-bins`` bins on [0, 3] (default 301, as when it was first measured; the comparison
is about the engines, not the grid):
``predict_catalog`` in one process, then ``predict_dask`` on a LocalCluster of 2
single-threaded worker processes, each writing one merged Parquet file. The wall-time
ratio is reported, and the two outputs are compared value for value, a row group at a time.

The result (machine, date, git revision, command, figures) goes to ``--out`` as JSON and to
the terminal as the Markdown table BENCHMARKS.md quotes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from _common import RESULTS, cells_differ, engine_arguments, engine_report, engine_setup, timed


def compare(a: Path, b: Path) -> dict:
    """Rows, and the number of rows that differ in any column, reading both in step."""
    import pyarrow.parquet as pq

    fa, fb = pq.ParquetFile(a), pq.ParquetFile(b)
    same_schema = fa.schema_arrow.equals(fb.schema_arrow, check_metadata=False)
    rows = differing = 0
    for ta, tb in zip(fa.iter_batches(65536), fb.iter_batches(65536), strict=True):
        bad = np.zeros(ta.num_rows, dtype=bool)
        for name in ta.schema.names:
            x = ta.column(name).to_numpy(zero_copy_only=False)
            y = tb.column(name).to_numpy(zero_copy_only=False)
            bad |= cells_differ(x, y)
        rows += ta.num_rows
        differing += int(bad.sum())
    return {"rows": rows, "rows_differing": differing, "same_schema": same_schema}


def main(argv: list[str]) -> dict:
    args = engine_arguments(__doc__, 10_000_000, RESULTS / "dask_vs_local.json").parse_args(
        argv[1:]
    )

    import zphot
    from zphot.scale import predict_catalog
    from zphot.scale.dask import predict_dask

    # Worker processes inherit the 2-core affinity engine_setup pins.
    started, catalog, model = engine_setup(argv, args)
    local_out, dask_out = args.workdir / "local.parquet", args.workdir / "dask.parquet"
    local_s, _ = timed(
        "local", lambda: predict_catalog(zphot.load(model), catalog, local_out, overwrite=True)
    )
    dask_s, result = timed("dask", lambda: predict_dask(
        model, catalog, dask_out, n_workers=2, threads_per_worker=1, overwrite=True
    ))  # fmt: skip
    same = compare(local_out, dask_out)
    report = engine_report(
        started, args, (("local", local_s), ("dask", dask_s)), same, markdown,
        dask_partitions=result.n_parts,
    )  # fmt: skip
    for path in (local_out, dask_out):
        path.unlink()
    return report


def markdown(r: dict) -> str:
    o = r["outputs"]
    return "\n".join(
        [
            "| model | grid bins | rows | single process (s) | Dask 2 workers (s) | "
            "Dask / single | rows differing |",
            "|---|---|---|---|---|---|---|",
            f"| {r['model']} | {r['grid_bins']} | {r['rows']:,} | {r['local_seconds']} | "
            f"{r['dask_seconds']} | "
            f"{r['dask_over_local']} | {o['rows_differing']} of {o['rows']:,} |",
        ]
    )


if __name__ == "__main__":
    main(sys.argv)
