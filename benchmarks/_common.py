"""What the benchmark scripts share, in one place: what every result records (the machine, the
revision, the command), how results are written and read, the SDSS public split, and the
resampled DC2 catalog and 2-core pinning of the speed benchmarks.

Scripts run as ``python benchmarks/NAME.py``, so this folder is on ``sys.path`` and they import
this module as ``_common`` with no path manipulation. Paths are relative to this checkout.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib.metadata
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
#: Where the result files quoted by BENCHMARKS.md live.
RESULTS = ROOT / "benchmarks" / "results"
#: The shared data folder sits beside the checkout (``../shared``), as in CI.
SDSS = ROOT.parent / "shared" / "data" / "sdss_galaxy_colors.npy"
#: Large inputs (catalogs, model files) kept between runs so a re-run does not rebuild them.
SCRATCH = Path(tempfile.gettempdir()) / "zphot-bench"
#: Cores the speed benchmarks pin themselves (and their children) to.
CORES = 2
#: Packages whose versions a result records, where installed (read without importing them).
PACKAGES = ("numpy", "pandas", "pyarrow", "scikit-learn", "torch")
#: Mean-residual bins of the bias-correction benchmarks: width 0.02 on [0.02, 0.20].
DEBIAS_EDGES = np.arange(0.02, 0.2001, 0.02)


# --- what every result records ---------------------------------------------------------------


def machine(**extra: Any) -> dict[str, Any]:
    """CPU, cores, memory, Python, package versions and the load when the run started, plus
    ``extra`` (e.g. ``cores_used``): what a figure needs beside it to be compared."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for name in PACKAGES:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions[name] = importlib.metadata.version(name)
    return {
        "cpu": cpu,
        "cpus_visible": os.cpu_count(),
        "cores_available": len(os.sched_getaffinity(0)),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        **versions,
        "load_average_at_start": os.getloadavg(),
        **extra,
    }


def git_revision(rev: str = "HEAD", where: Path = ROOT) -> str:
    """Short revision ``rev`` of the checkout holding ``where``; for ``HEAD``, with ``+dirty``
    when tracked files below ``where`` differ from it."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=where, capture_output=True, text=True).stdout

    short = git("rev-parse", "--short", rev).strip()
    dirty = rev == "HEAD" and bool(git("status", "--porcelain", "--untracked-files=no", "--", "."))
    return short + ("+dirty" if dirty else "")


def result_header(argv: list[str] | None = None, **machine_extra: Any) -> dict[str, Any]:
    """Date, revision, command and machine: the fields every result JSON starts with."""
    argv = sys.argv if argv is None else argv
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "git_revision": git_revision(),
        "command": "python " + shlex.join(argv),
        "machine": machine(**machine_extra),
    }


def _plain(value: Any) -> Any:  # noqa: ANN401 - whatever json cannot write
    """numpy scalars and arrays as Python numbers and lists; anything else as its text."""
    return value.tolist() if hasattr(value, "tolist") else str(value)


def write_json(path: str | os.PathLike, payload: dict[str, Any]) -> None:
    """Write a result file atomically (zphot's own writer), creating its folder."""
    from zphot.io.atomic import atomic_path

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path, overwrite=True) as tmp:
        tmp.write_text(json.dumps(payload, indent=1, default=_plain) + "\n")
    print(f"wrote {path}", file=sys.stderr)


def read_json(path: str | os.PathLike) -> dict[str, Any]:
    """An earlier result file, or ``{}`` when there is none yet (scripts that add to one)."""
    path = Path(path)
    return json.loads(path.read_text()) if path.exists() else {}


# --- the SDSS public split ---------------------------------------------------------------------


def sdss_galaxies(path: str | os.PathLike = SDSS, stamps: str | os.PathLike | None = None):  # noqa: ANN201 - Catalog
    """The SDSS galaxies (``spec_class == 'GALAXY'``), or the stamp file rendered from them
    (``benchmarks/images_render.py``: same rows, same order, so the same split)."""
    import zphot
    from zphot.catalog import select

    if stamps:
        return zphot.read_catalog(stamps, "sdss")
    return select(zphot.read_catalog(path, "sdss"), "spec_class", "GALAXY")


def public_split(cat, seed: int = 42):  # noqa: ANN001, ANN201 - (train, test) catalogs
    """The public 70/30 split of ``cat`` (a ``default_rng(seed)`` permutation, first 70% to
    train; ``seed=42`` is the public one)."""
    from zphot.catalog import train_test

    return train_test(cat, 0.7, seed=seed)


def sdss_split(path: str | os.PathLike = SDSS, seed: int = 42, stamps=None):  # noqa: ANN001, ANN201
    """The SDSS galaxies' public split (``seed=42``), or the same split with another seed."""
    return public_split(sdss_galaxies(path, stamps), seed)


# --- the speed benchmarks' machine and inputs -------------------------------------------------


def thread_env(cores: int = CORES) -> dict[str, str]:
    """Environment that keeps BLAS, OpenMP (LightGBM) and torch to ``cores`` threads."""
    names = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_MAX_THREADS")
    return os.environ | {n: str(cores) for n in names}


def pin(cores: int = CORES) -> None:
    """Pin this process (and children it starts later) to the first ``cores`` CPUs."""
    os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:cores])


def make_catalog(path: Path, rows: int, seed: int = 0, chunk_rows: int = 1_000_000) -> Path:
    """A 6-band LSST catalog (cached): DC2 validation galaxies resampled, magnitudes perturbed by
    their errors. Chunk k (one row group) draws from the stream (seed, k), so the first rows of
    a bigger catalog are the rows of a smaller one."""
    if path.exists():
        return path
    import pyarrow as pa
    import pyarrow.parquet as pq

    import zphot
    from zphot.datasets import builtin_path
    from zphot.io import atomic_path

    base = zphot.read_catalog(builtin_path("dc2-test"), "lsst").table
    mags = [f"mag_{b}_lsst" for b in "ugrizy"]
    errs = [f"mag_err_{b}_lsst" for b in "ugrizy"]
    m, e = base[mags].to_numpy(), base[errs].to_numpy()
    measured = (m < 90) & (e > 0) & np.isfinite(e)
    print(f"writing {rows:,} rows to {path}", file=sys.stderr)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        writer = None
        for k, lo in enumerate(range(0, rows, chunk_rows)):
            n = min(chunk_rows, rows - lo)
            rng = np.random.default_rng([seed, k])
            pick = rng.integers(0, len(base), n)
            noise = rng.standard_normal((n, len(mags))) * np.where(measured[pick], e[pick], 0)
            cols = {"id": np.arange(lo, lo + n, dtype=np.int64)}
            cols |= {c: m[pick, j] + noise[:, j] for j, c in enumerate(mags)}
            cols |= {c: e[pick, j] for j, c in enumerate(errs)}
            table = pa.table(cols)
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema)
            writer.write_table(table)
        writer.close()
    return path


def train_models(
    names: list[str], folder: Path, params: dict | None = None, tag: str = ""
) -> dict[str, Path]:
    """Model files trained on the DC2 training catalog (cached): defaults, seed 0, plus
    ``params`` (the file name gets ``tag``)."""
    import zphot
    from zphot.datasets import builtin_path

    train = zphot.read_catalog(builtin_path("dc2-train"), "lsst")
    paths = {}
    for name in names:
        path = folder / f"{name}{tag}.zphot"
        if not path.exists():
            t0 = time.perf_counter()
            est = zphot.get_estimator(name, random_state=0, **(params or {}))
            est.fit(train).save(path)
            print(f"trained {name} in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        paths[name] = path
    return paths


def cells_differ(x: Any, y: Any) -> Any:
    """Elementwise: the two columns hold different values (two NaNs count as equal)."""
    import numpy as np

    if x.dtype.kind == "f":
        return ~((x == y) | (np.isnan(x) & np.isnan(y)))
    return x != y


# --- engines compared on one DC2 catalog (dask_vs_local.py, hats_predict.py) -------------------


def engine_arguments(doc: str, rows: int, out: Path) -> Any:  # noqa: ANN401 - ArgumentParser
    """The options every engine comparison takes: the model, its grid, the rows, the folders."""
    import argparse

    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--model", default="knn")
    parser.add_argument("--grid-bins", type=int, default=301)
    parser.add_argument("--rows", type=int, default=rows)
    parser.add_argument("--workdir", type=Path, default=SCRATCH)
    parser.add_argument("--out", type=Path, default=out)
    return parser


def engine_setup(argv: list[str], args: Any) -> tuple[dict[str, Any], Path, Path]:  # noqa: ANN401
    """The result header, then this process (and the workers it starts) pinned to ``CORES``
    cores and threads; the (cached) catalog of ``args.rows`` rows and the model file."""
    started = result_header(argv, cores_used=CORES)
    os.environ.update(thread_env())
    pin()
    args.workdir.mkdir(parents=True, exist_ok=True)
    catalog = make_catalog(args.workdir / f"dc2x_{args.rows}.parquet", args.rows)
    grid = {"grid": (0.0, 3.0, args.grid_bins)}
    model = train_models([args.model], args.workdir, grid, f"-grid{args.grid_bins}")[args.model]
    return started, catalog, model


def timed(label: str, run: Any) -> tuple[float, Any]:  # noqa: ANN401 - any call
    """Wall seconds of ``run()`` (printed with ``label``) and its result."""
    t0 = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - t0
    print(f"{label}: {seconds:.1f} s", file=sys.stderr)
    return seconds, result


def engine_report(
    started: dict[str, Any],
    args: Any,  # noqa: ANN401 - the parsed engine_arguments
    timings: tuple[tuple[str, float], tuple[str, float]],
    outputs: dict[str, Any],
    markdown: Any,  # noqa: ANN401 - the script's table writer, report -> str
    **extra: Any,
) -> dict[str, Any]:
    """The result of comparing two engines ``timings = ((name, seconds), (name, seconds))``:
    each one's seconds and galaxies per second, the second's time over the first's, and how
    their ``outputs`` compare; written to ``args.out`` and printed as ``markdown(result)``."""
    (a, ta), (b, tb) = timings
    started["machine"]["load_average_at_end"] = os.getloadavg()
    report = started | {
        "model": args.model,
        "grid_bins": args.grid_bins,
        "rows": args.rows,
        **extra,
        f"{a}_seconds": round(ta, 1),
        f"{b}_seconds": round(tb, 1),
        f"{a}_galaxies_per_s": round(args.rows / ta),
        f"{b}_galaxies_per_s": round(args.rows / tb),
        f"{b}_over_{a}": round(tb / ta, 3),
        "outputs": outputs,
    }
    write_json(args.out, report)
    print(markdown(report))
    return report
