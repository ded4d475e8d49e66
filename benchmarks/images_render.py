"""Render time of the SDSS galaxies' 5x32x32 stamps (issue 9), 2 worker processes.

    python benchmarks/images_render.py [--out-dir /work/scratch/images] [--size 32] [--jobs 2]

Reads the SDSS sample (galaxies only), gives each galaxy the structure of its type fitted from
its colours (zphot.images.simulate.prepare_catalog) and renders all of them with
zphot.images.simulate.simulate_images (GalSim, seed 0). Equivalent CLI:

    zphot simulate images --catalog /work/shared/data/sdss_galaxy_colors.npy --preset sdss \
        --select spec_class=GALAXY --size 32 --jobs 2 --out sdss_stamps32.h5

Writes benchmarks/results/images_render.json (machine, date, git revision, command, seconds,
stamps/s, load average before and after) and a contact sheet PNG beside the stamps.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SDSS = Path("/work/shared/data/sdss_galaxy_colors.npy")


def machine() -> dict:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {
        "cpu": cpu,
        "cores_available": len(os.sched_getaffinity(0)),
        "python": platform.python_version(),
        "load_average": os.getloadavg(),
    }


def git_revision() -> str:
    out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return out.stdout.strip() + " (+ uncommitted changes)"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out-dir", type=Path, default=Path("/work/scratch/images"))
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--limit", type=int, default=None)
    args = ap.parse_args()

    import numpy as np

    import zphot
    from zphot.images.sheet import contact_sheet
    from zphot.images.simulate import prepare_catalog, simulate_images
    from zphot.images.store import load_stamps

    before = machine()
    cat = zphot.catalog.select(zphot.read_catalog(SDSS, "sdss"), "spec_class", "GALAXY")
    if args.limit:
        cat = cat.take(np.arange(args.limit))
    t0 = time.perf_counter()
    table = prepare_catalog(cat, seed=0)
    t_prep = time.perf_counter() - t0
    out = args.out_dir / f"sdss_stamps{args.size}.h5"
    t0 = time.perf_counter()
    simulate_images(table, "sdss", out, size=args.size, seed=0, n_jobs=args.jobs, overwrite=True)
    t_render = time.perf_counter() - t0
    stamps_cat = zphot.read_catalog(out, "sdss")
    contact_sheet(
        load_stamps(stamps_cat),
        stamps_cat.z,
        stamps_cat.bands,
        args.out_dir / f"sdss_sheet{args.size}.png",
        overwrite=True,
    )
    result = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "git": git_revision(),
        "command": " ".join([sys.executable, *sys.argv]),
        "machine_before": before,
        "load_average_after": os.getloadavg(),
        "n_stamps": len(cat),
        "size": args.size,
        "jobs": args.jobs,
        "prepare_seconds": round(t_prep, 1),
        "render_seconds": round(t_render, 1),
        "stamps_per_second": round(len(cat) / t_render, 1),
        "types": table["type_name"].value_counts().to_dict(),
    }
    dest = ROOT / "benchmarks" / "results" / f"images_render{args.size}.json"
    dest.parent.mkdir(exist_ok=True)
    dest.write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
