"""Render time of the SDSS galaxies' 5x32x32 stamps (issue 9), 2 worker processes.

    python benchmarks/images_render.py [--out-dir results/images] [--size 32] [--jobs 2]

Reads the SDSS sample (galaxies only), gives each galaxy the structure of its type fitted from
its colours (zphot.images.simulate.prepare_catalog) and renders all of them with
zphot.images.simulate.simulate_images (GalSim, seed 0). Equivalent CLI:

    zphot simulate images --catalog ../shared/data/sdss_galaxy_colors.npy --preset sdss \
        --select spec_class=GALAXY --size 32 --jobs 2 --out sdss_stamps32.h5

Writes benchmarks/results/images_render.json (machine, date, git revision, command, seconds,
stamps/s, load average before and after) and a contact sheet PNG beside the stamps.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from _common import RESULTS, ROOT, result_header, sdss_galaxies, write_json


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out-dir", type=Path, default=ROOT / "results" / "images")
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--limit", type=int, default=None)
    args = ap.parse_args()

    import numpy as np

    import zphot
    from zphot.images.sheet import contact_sheet
    from zphot.images.simulate import prepare_catalog, simulate_images
    from zphot.images.store import load_stamps

    header = result_header()
    cat = sdss_galaxies()
    if args.limit:
        cat = cat.take(np.arange(args.limit))
    t0 = time.perf_counter()
    table = prepare_catalog(cat, seed=0)
    t_prep = time.perf_counter() - t0
    args.out_dir.mkdir(parents=True, exist_ok=True)
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
        "date": header["date"],
        "git": header["git_revision"],
        "command": header["command"],
        "machine_before": header["machine"],
        "load_average_after": os.getloadavg(),
        "n_stamps": len(cat),
        "size": args.size,
        "jobs": args.jobs,
        "prepare_seconds": round(t_prep, 1),
        "render_seconds": round(t_render, 1),
        "stamps_per_second": round(len(cat) / t_render, 1),
        "types": table["type_name"].value_counts().to_dict(),
    }
    write_json(RESULTS / f"images_render{args.size}.json", result)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
