"""Galaxies per second and peak memory of ``zphot predict`` for every catalog model.

    python benchmarks/throughput.py [--models knn,lgbm] [--rows 10000000] [--max-seconds 1800]

Each model is trained on the built-in DC2 training catalog (defaults, seed 0) and predicts a
6-band LSST catalog built by resampling the DC2 validation galaxies with photometric noise
(10 million rows by default, Parquet). Every figure is one ``zphot predict`` run in its own
process on 2 cores (CPU affinity and thread variables), timed by wall clock, with the peak
resident memory the kernel reports for that process. A run is made at 1 million rows and at
``--rows``; where a model's measured cost would take longer than ``--max-seconds`` at
``--rows``, the larger run is cut to the whole millions that fit (and a model too slow for
even the smaller run within the budget is measured once, on fewer rows); the JSON says so.

Beside the end-to-end figures, one 20,000-row chunk is timed stage by stage (the model's own
computation, PDF normalisation, the point estimate, the 68% interval, the out-of-coverage
KDTree query, Parquet output) to show where the time goes, and ``est.predict`` (point estimates
only, in memory) is timed on the same chunk. For the models of ``--point-models`` (the mlp,
whose point estimates skip the PDF) ``est.predict`` is also timed over the rows of the large
run (``--rows``, or what ``--max-seconds`` allows), reading the Parquet file one row
group (1 million rows) at a time in this process (pinned to 2 cores): the seconds inside the
``predict`` calls and the total with reading.

Writes JSON (machine, date, git revision, command, figures) to ``--out`` and prints a
Markdown table for BENCHMARKS.md. Models measured by an earlier invocation stay in the JSON
(each with its own date, command and machine load) unless ``--fresh`` is given.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from _common import (
    CORES,
    RESULTS,
    SCRATCH,
    make_catalog,
    pin,
    read_json,
    result_header,
    thread_env,
    train_models,
    write_json,
)

# --- measurements -----------------------------------------------------------------------------


def stage_times(model: Path, catalog: Path, rows: int = 20_000) -> dict:
    """Seconds per stage of predicting one in-memory chunk, and of ``est.predict`` alone."""
    import pandas as pd
    import pyarrow.parquet as pq

    import zphot
    from zphot.catalog import Catalog
    from zphot.pdf import PDFBatch
    from zphot.scale.parts import _write_part

    est = zphot.load(model)
    frame = next(pq.ParquetFile(catalog).iter_batches(batch_size=rows)).to_pandas()
    t: dict[str, float] = {}

    def clock(name: str, fn):  # noqa: ANN001, ANN202
        t0 = time.perf_counter()
        value = fn()
        t[name] = time.perf_counter() - t0
        return value

    cat = clock("catalog", lambda: Catalog(frame, est.survey_, "bench"))
    # The same steps as predict_pdf + predict_table, split apart, in sub-batches as the
    # streamed path runs them.
    step = max(64, 2**22 // est.grid_.n_bins)
    parts = {k: 0.0 for k in ("model", "normalise", "point", "interval", "coverage")}
    tables = []
    for lo in range(0, len(cat), step):
        sub = cat.take(np.arange(lo, min(lo + step, len(cat))))
        t0 = time.perf_counter()
        probs = est._predict_probs(sub)
        t1 = time.perf_counter()
        _, valid = est.preprocessing_.complete_magnitudes(sub)
        probs[~valid] = 1.0
        batch = PDFBatch.normalised(probs, est.grid_)
        t2 = time.perf_counter()
        z = batch.point(est.get_params().get("point", "mode"))
        t3 = time.perf_counter()
        lo_, hi_ = batch.interval(0.68)
        t4 = time.perf_counter()
        flag = est.out_of_coverage(sub)
        t5 = time.perf_counter()
        for k, dt_ in zip(parts, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4), strict=True):
            parts[k] += dt_
        tables.append(pd.DataFrame({"z_phot": z, "z_lo": lo_, "z_hi": hi_, "ooc": flag}))
    t |= parts
    table = pd.concat(tables, ignore_index=True)
    out = Path(catalog).parent / "stage-part.parquet"
    clock("parquet_write", lambda: _write_part(table, out, {}))
    out.unlink()
    clock("predict_point_only", lambda: est.predict(cat))
    return {
        "rows": len(frame),
        "grid_bins": int(est.grid_.n_bins),
        "us_per_row": {k: round(v / len(frame) * 1e6, 3) for k, v in t.items()},
    }


def point_throughput(model: Path, catalog: Path, rows: int) -> dict:
    """``est.predict`` (point estimates only, in memory) over the first ``rows`` rows of
    ``catalog``, one Parquet row group at a time: seconds in the ``predict`` calls, and in
    all (reading and building each chunk's Catalog too)."""
    import pyarrow.parquet as pq

    import zphot
    from zphot.catalog import Catalog

    est = zphot.load(model)
    pf = pq.ParquetFile(catalog)
    t0 = time.perf_counter()
    in_predict, done = 0.0, 0
    for g in range(pf.num_row_groups):
        if done >= rows:
            break
        frame = pf.read_row_group(g).to_pandas()[: rows - done]
        cat = Catalog(frame, est.survey_, f"{catalog} row group {g}")
        t1 = time.perf_counter()
        z = est.predict(cat)
        in_predict += time.perf_counter() - t1
        done += len(z)
    total = time.perf_counter() - t0
    return {
        "rows": done,
        "predict_seconds": round(in_predict, 2),
        "total_seconds": round(total, 2),
        "galaxies_per_s": round(done / in_predict),
        "galaxies_per_s_with_reading": round(done / total),
    }


def run_predict(model: Path, catalog: Path, out: Path) -> dict:
    """One ``zphot predict`` in a fresh process pinned to 2 cores: wall time and peak RSS."""
    cmd = [
        sys.executable,
        "-c",
        "from zphot.cli.app import main; main()",
        "-q",
        "predict",
        "--model",
        str(model),
        "--catalog",
        str(catalog),
        "--out",
        str(out),
        "--overwrite",
    ]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=thread_env(), stderr=subprocess.PIPE, preexec_fn=pin)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode()
    if proc.returncode:
        raise RuntimeError(f"zphot predict failed ({proc.returncode}): {err[-2000:]}")
    import pyarrow.parquet as pq

    rows = pq.ParquetFile(out).metadata.num_rows
    out.unlink()
    return {
        "rows": rows,
        "seconds": round(seconds, 2),
        "galaxies_per_s": round(rows / seconds),
        "peak_rss_mib": round(usage.ru_maxrss / 1024),  # Linux reports KiB
    }


def main(argv: list[str]) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default=None, help="comma-separated; default: all")
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--small-rows", type=int, default=1_000_000)
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=1800.0,
        help="cut the large run of a slower model to fit this",
    )
    parser.add_argument("--workdir", type=Path, default=SCRATCH)
    parser.add_argument("--out", type=Path, default=RESULTS / "throughput.json")
    parser.add_argument("--fresh", action="store_true", help="drop models measured earlier")
    parser.add_argument(
        "--point-models",
        default="mlp",
        help="models whose est.predict is also timed over all the large run's rows",
    )
    args = parser.parse_args(argv[1:])

    import zphot

    pin()
    names = args.models.split(",") if args.models else zphot.list_estimators()
    args.workdir.mkdir(parents=True, exist_ok=True)
    big = make_catalog(args.workdir / f"dc2x_{args.rows}.parquet", args.rows)
    small = make_catalog(args.workdir / f"dc2x_{args.small_rows}.parquet", args.small_rows)
    models = train_models(names, args.workdir)
    # Models measured by earlier invocations (other --models, other budgets) are kept: each
    # entry carries its own date, command and machine load.
    report = {} if args.fresh else read_json(args.out)
    report |= {"catalog": "DC2 validation resampled with noise, 6 bands (ugrizy + errors)"}
    report.setdefault("models", {})
    for name, model in models.items():
        print(f"--- {name}", file=sys.stderr)
        entry = {
            "measured": result_header(argv, cores_used=CORES),
            "stages": stage_times(model, small),
        }
        # A model too slow for the budget even at --small-rows is measured on fewer rows (the
        # stage profile gives its cost per row), and only once.
        guess = sum(entry["stages"]["us_per_row"].values()) * 1e-6
        guess -= entry["stages"]["us_per_row"]["predict_point_only"] * 1e-6
        small_rows = args.small_rows
        if guess * small_rows > args.max_seconds:
            small_rows = max(100_000, int(args.max_seconds / guess) // 100_000 * 100_000)
            small = make_catalog(args.workdir / f"dc2x_{small_rows}.parquet", small_rows)
        entry["small"] = run_predict(model, small, args.workdir / "out.parquet")
        per_row = entry["small"]["seconds"] / entry["small"]["rows"]
        rows = args.rows
        if per_row * rows > args.max_seconds:
            rows = max(small_rows, int(args.max_seconds / per_row) // 10**6 * 10**6)
            entry["note"] = (
                f"{args.rows:,} rows would take ~{per_row * args.rows / 60:.0f} min; "
                f"measured on {rows:,}"
            )
        small = make_catalog(args.workdir / f"dc2x_{args.small_rows}.parquet", args.small_rows)
        if rows != small_rows:
            catalog = (
                big
                if rows == args.rows
                else make_catalog(args.workdir / f"dc2x_{rows}.parquet", rows)
            )
            entry["large"] = run_predict(model, catalog, args.workdir / "out.parquet")
            ratio = entry["large"]["peak_rss_mib"] / entry["small"]["peak_rss_mib"]
            entry["rss_ratio_large_over_small"] = round(ratio, 3)
        # est.predict alone over the large run's rows (the first rows of the big catalog are
        # those of every smaller one), for the models named by --point-models: the others
        # compute point estimates through their PDF, so the stage profile already gives it.
        if name in args.point_models.split(","):
            entry["predict_point_only"] = point_throughput(model, big, rows)
        entry["measured"]["machine"]["load_average_at_end"] = os.getloadavg()
        report["models"][name] = entry
        print(json.dumps(entry, indent=1), file=sys.stderr)
        write_json(args.out, report)
    print(markdown(report))
    return report


def markdown(report: dict) -> str:
    lines = [
        "| model | grid bins | rows | galaxies/s | peak RSS (MiB) | est.predict() point only "
        "(gal/s; rows) | coverage share of time | load avg |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, e in report["models"].items():
        runs = [e["small"], *([e["large"]] if "large" in e else [])]
        us = e["stages"]["us_per_row"]
        total = sum(us[k] for k in ("model", "normalise", "point", "interval", "coverage"))
        if "predict_point_only" in e:
            p = e["predict_point_only"]
            point = f"{p['galaxies_per_s']:,}; {p['rows']:,}"
        else:  # measured on the 20,000-row chunk only
            point = f"{1e6 / us['predict_point_only']:,.0f}; {e['stages']['rows']:,}"
        lines.append(
            f"| {name} | {e['stages']['grid_bins']} | "
            + " / ".join(f"{r['rows']:,}" for r in runs)
            + " | "
            + " / ".join(f"{r['galaxies_per_s']:,}" for r in runs)
            + " | "
            + " / ".join(f"{r['peak_rss_mib']:,}" for r in runs)
            + f" | {point} | {us['coverage'] / total:.0%} | "
            f"{e['measured']['machine']['load_average_at_start'][1]:.1f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main(sys.argv)
