"""A HATS catalog through LSDB against the streamed single process, on the same rows.

    python benchmarks/hats_predict.py [--model knn] [--grid-bins 301] [--rows 200000]
        [--partition-rows 20000]

The rows are the 6-band catalog of ``throughput.py`` (DC2 validation galaxies resampled with
photometric noise) with made-up sky positions, uniform on the sphere (seed 0); the HATS
catalog is built from them with ``lsdb.from_dataframe`` (at most ``--partition-rows`` rows per
HEALPix partition, no margin cache) and the same rows are written as one Parquet file. The
model is trained on the DC2 training catalog (a ``--grid-bins`` grid on [0, 3]). Then, in this
process pinned to 2 cores: ``predict_catalog`` on the Parquet file, and ``predict_hats`` on the
HATS catalog (Dask's threaded scheduler, 2 threads), each timed by wall clock including its
output (one Parquet file; a HATS catalog). The two outputs are joined by id and compared value
for value.

Writes JSON (machine, date, git revision, command, figures) to ``--out`` and prints a Markdown
table for BENCHMARKS.md.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
from _common import RESULTS, cells_differ, engine_arguments, engine_report, engine_setup, timed


def make_hats(parquet: Path, folder: Path, partition_rows: int) -> tuple[Path, Path]:
    """The rows of ``parquet`` with sky positions: as a HATS catalog and as one Parquet file."""
    import lsdb
    import pandas as pd

    rows = pd.read_parquet(parquet)
    rng = np.random.default_rng(0)
    rows["ra"] = rng.uniform(0.0, 360.0, len(rows))
    rows["dec"] = np.degrees(np.arcsin(rng.uniform(-1.0, 1.0, len(rows))))
    flat = folder / "sky.parquet"
    rows.to_parquet(flat, index=False)
    hats = folder / "sky_hats"
    shutil.rmtree(hats, ignore_errors=True)
    lsdb.from_dataframe(
        rows,
        ra_column="ra",
        dec_column="dec",
        partition_rows=partition_rows,
        margin_threshold=None,
        catalog_name="sky",
    ).write_catalog(hats, progress_bar=False)
    return flat, hats


def compare(flat: Path, hats: Path) -> dict:
    """Rows of each, and rows of the Parquet output that differ from the HATS row of their id."""
    import lsdb
    import pandas as pd

    a = pd.read_parquet(flat).set_index("id")
    b = lsdb.read_hats(hats).compute().reset_index(drop=True).set_index("id")
    common = a.index.intersection(b.index)
    b = b.loc[common]
    a = a.loc[common]
    bad = np.zeros(len(common), dtype=bool)
    for name in a.columns:
        x = a[name].to_numpy()
        y = b[name].to_numpy(x.dtype)
        bad |= cells_differ(x, y)
    return {"rows": len(a), "rows_hats": len(b), "ids_in_both": len(common),
            "rows_differing": int(bad.sum())}  # fmt: skip


def main(argv: list[str]) -> dict:
    parser = engine_arguments(__doc__, 200_000, RESULTS / "hats_predict.json")
    parser.add_argument("--partition-rows", type=int, default=20_000)
    args = parser.parse_args(argv[1:])

    import zphot
    from zphot.scale import OutputSpec, predict_catalog
    from zphot.scale.hats import predict_hats

    started, catalog, model = engine_setup(argv, args)
    flat, hats = make_hats(catalog, args.workdir, args.partition_rows)
    est = zphot.load(model)
    spec = OutputSpec(id_column="id")
    flat_out, hats_out = args.workdir / "stream.parquet", args.workdir / "pred_hats"
    stream_s, _ = timed("stream", lambda: predict_catalog(est, flat, flat_out, spec=spec,
                                                          overwrite=True))  # fmt: skip
    hats_s, result = timed(
        "hats", lambda: predict_hats(est, hats, hats_out, spec=spec, overwrite=True)
    )
    same = compare(flat_out, hats_out)
    report = engine_report(
        started, args, (("stream", stream_s), ("hats", hats_s)), same, markdown,
        partition_rows=args.partition_rows, hats_partitions=result.n_parts,
    )  # fmt: skip
    flat_out.unlink()
    shutil.rmtree(hats_out)
    return report


def markdown(r: dict) -> str:
    o = r["outputs"]
    return "\n".join(
        [
            "| path | wall time | galaxies/s |",
            "|---|---|---|",
            f"| streamed, one process (`predict_catalog`, Parquet file) | "
            f"{r['stream_seconds']} s | {r['stream_galaxies_per_s']:,} |",
            f"| HATS through LSDB (`predict_hats`, {r['hats_partitions']} partitions, "
            f"2 threads) | {r['hats_seconds']} s | {r['hats_galaxies_per_s']:,} |",
            "",
            f"HATS / streamed: **{r['hats_over_stream']}**; joined by id: "
            f"{o['ids_in_both']:,} of {o['rows']:,} rows, **{o['rows_differing']} differing**.",
        ]
    )


if __name__ == "__main__":
    main(sys.argv)
