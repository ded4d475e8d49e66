"""Cutouts of a simulated field against stamps rendered directly, and the image CNN on both.

    python benchmarks/images_cutouts.py data     # field, cutouts, direct stamps, their checks
    python benchmarks/images_cutouts.py train --stamps direct    # image-cnn on each stamp set,
    python benchmarks/images_cutouts.py train --stamps cutouts   # same galaxies, same split
    python benchmarks/images_cutouts.py train --stamps direct --seed 1   # more seeds
    python benchmarks/images_cutouts.py compare  # per seed, and mean and spread

``data`` takes the first ``--n`` SDSS galaxies (real colours and redshifts; structure fitted
from their colours), renders them into a field (``zphot simulate field``: bands on grids of two
pixel scales, rotated and dithered, a masked square, 5% on the edge), cuts them out
(``zphot cutouts``) and renders the same galaxies directly (``zphot simulate images``). Per
band, on unflagged galaxies: the median ratio of aperture fluxes (cutout / direct), the scatter
of their difference in units of its expected sky noise (1 when the two differ by noise only),
and the median centroid offset of bright cutouts from the stamp centre (the catalog position).
``train`` fits ``image-cnn`` (same seed, epochs and split) on each stamp set, unflagged galaxies
only, and compares sigma_NMAD on the same test galaxies. Files go under ``--work``; results
to ``benchmarks/results/images_cutouts.json``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from _common import RESULTS, ROOT, SDSS, public_split, read_json, result_header, write_json

RESULT = RESULTS / "images_cutouts.json"


def _zphot(*args: object) -> float:
    t0 = time.perf_counter()
    zphot = Path(sys.executable).with_name("zphot")
    subprocess.run([str(zphot), *map(str, args)], check=True)
    return time.perf_counter() - t0


def _aperture(stamps: np.ndarray, centres: np.ndarray, radius: float) -> np.ndarray:
    """Flux within ``radius`` pixels of each stamp's own centre (x, y): the galaxy's true
    position, so a sub-pixel offset of one rendering does not cut its light differently. SEP's
    exact circle overlap: counting whole pixels inside the circle would change the aperture's
    area with the centre's sub-pixel position (by about 1% of an extended galaxy's flux)."""
    import sep

    flux = np.empty(len(stamps))
    for i, (stamp, (x, y)) in enumerate(zip(stamps, centres, strict=True)):
        data = np.ascontiguousarray(stamp, dtype=np.float64)
        flux[i] = sep.sum_circle(data, [x], [y], radius, subpix=0)[0][0]
    return flux


def _nmad(x: np.ndarray) -> float:
    return float(1.4826 * np.median(np.abs(x - np.median(x))))


def _centroid_offsets(stamps: np.ndarray, true_xy: np.ndarray, box: int = 6) -> np.ndarray:
    """(dx, dy) of the light's centroid (a box around the centre) from the true position.
    Pixels are not clipped at 0: clipping noise would pull every centroid toward the box."""
    size = stamps.shape[-1]
    c = (size - 1) / 2
    lo, hi = int(c) - box + 1, int(c) + box + 1
    sub = stamps[..., lo:hi, lo:hi]
    yy, xx = np.mgrid[lo:hi, lo:hi]
    total = sub.sum(axis=(-1, -2))
    dx = (sub * xx).sum(axis=(-1, -2)) / total - true_xy[:, 0]
    dy = (sub * yy).sum(axis=(-1, -2)) / total - true_xy[:, 1]
    return np.stack([dx, dy], axis=1)


def _centroids(cutouts: np.ndarray, direct: np.ndarray, at: tuple) -> dict[str, float]:
    """Per-galaxy centroid errors (median distance; noise-limited in a faint band, as the same
    measurement on the direct stamps shows) and the cutouts' systematic offset, the mean
    (dx, dy) over the galaxies, which is what a misplaced cutout would show."""
    off_a, off_b = _centroid_offsets(cutouts, at[0]), _centroid_offsets(direct, at[1])
    mean = np.median(off_a, axis=0)  # robust to the odd blend
    return {
        "median_centroid_error_px_bright_cutouts": float(np.median(np.hypot(*off_a.T))),
        "median_centroid_error_px_bright_direct": float(np.median(np.hypot(*off_b.T))),
        "centroid_systematic_offset_px": float(np.hypot(*mean)),
    }


def _flags_against_truth(cut: Any) -> dict[str, Any]:
    """How the edge galaxies (truth column ``on_edge``: placed on band u's image edge) were
    flagged in band u: all of them partial or off the edge, and no other galaxy partial."""
    table = cut.table
    if "on_edge" not in table:
        return {}
    edge = table["on_edge"].to_numpy(bool)
    u = table["cutout_flags_u"].to_numpy()
    bits = _bits()
    off = (u & (bits["partial"] | bits["off_edge"])) > 0
    return {
        "edge_galaxies": int(edge.sum()),
        "edge_galaxies_flagged_in_u": int((edge & off).sum()),
        "other_galaxies_flagged_partial_in_u": int((~edge & off).sum()),
    }


def _direct_offsets(rows: np.ndarray, seed: int, size: int) -> np.ndarray:
    """Where render_galaxy put each galaxy: the centre plus its sub-pixel offset, the first
    draw of its stream (seed, "galaxy", row)."""
    from zphot._rng import child_generator

    offsets = np.array(
        [child_generator(seed, "galaxy", int(i)).uniform(-0.5, 0.5, size=2) for i in rows]
    )
    return (size - 1) / 2 + offsets


def _checks(work: Path) -> dict:
    """Per band, on unflagged galaxies: cutout / direct aperture-flux ratio (median, galaxies
    above 20 sigma); the scatter of (cutout - direct) / its expected noise (1 when they differ
    by noise alone: each aperture's variance is the sky's Poisson noise over its area plus the
    galaxy's own, twice, in nanomaggies; the sky per arcsec^2 is the same on every grid); and
    centroid errors."""
    import zphot
    from zphot.catalog.survey import load_survey
    from zphot.images.store import load_stamps

    cut = zphot.read_catalog(work / "cutouts.h5", "sdss")
    # Unflagged and isolated: a direct stamp has no neighbour, a cutout has what the sky holds
    # (galaxies closer than the stamp's half-width put their light in its aperture).
    ok = np.flatnonzero((cut.table["cutout_flags"].to_numpy() == 0) & _isolated(cut.table))
    a = load_stamps(cut)[ok]
    b = load_stamps(zphot.read_catalog(work / "direct.h5", "sdss"))[ok]
    size, radius = a.shape[-1], 8.0
    at_a = np.full((len(ok), 2), (size - 1) / 2)
    at_b = _direct_offsets(ok, 0, size)
    obs = load_survey("sdss").require_observing()
    bands = {}
    for k, band in enumerate(obs.bands):
        fa, fb = _aperture(a[:, k], at_a, radius), _aperture(b[:, k], at_b, radius)
        gain = obs.counts_per_nanomaggy(band)
        sky_var = np.pi * radius**2 * obs.sky_counts(band) / gain**2
        sigma = np.sqrt(2 * (sky_var + np.clip(fb, 0, None) / gain))
        bright = fb > 20 * sigma / np.sqrt(2)
        pull = (fa - fb) / sigma
        bands[band] = {
            "median_flux_ratio_bright": float(np.median(fa[bright] / fb[bright])),
            "n_bright": int(bright.sum()),
            "pull_median": float(np.median(pull)),
            "pull_scatter_nmad": _nmad(pull),
            **_centroids(a[bright, k], b[bright, k], (at_a[bright], at_b[bright])),
        }
    flags = cut.table["cutout_flags"].to_numpy()
    return {
        "n": len(cut),
        "n_unflagged_isolated": len(ok),
        "isolation_arcsec": ISOLATION,
        "flag_counts": {name: int((flags & bit > 0).sum()) for name, bit in _bits().items()},
        **_flags_against_truth(cut),
        "bands": bands,
    }


#: Nearest neighbour farther than this (arcsec) for a galaxy to count as isolated: the half-
#: width of a 32-pixel SDSS stamp plus the largest galaxies' light.
ISOLATION = 14.0


def _isolated(table: Any) -> np.ndarray:
    from scipy.spatial import cKDTree

    dec = np.radians(table["dec"].to_numpy())
    xy = np.column_stack([table["ra"].to_numpy() * np.cos(dec), table["dec"].to_numpy()]) * 3600
    distance, _ = cKDTree(xy).query(xy, k=2)
    return distance[:, 1] >= ISOLATION


def _bits() -> dict[str, int]:
    from zphot.images.cutouts import CUTOUT_FLAGS

    return CUTOUT_FLAGS


def data(args: argparse.Namespace) -> dict:
    """Each product is made unless ``--reuse`` finds it already in ``--work`` (the field of
    20,000 galaxies takes about 20 minutes to render); a reused step's time is recorded as None."""
    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    field, truth = work / "field", work / "field" / "truth.parquet"
    steps = {
        "simulate_field_s": (truth, (
            "simulate", "field", "--catalog", SDSS, "--preset", "sdss",
            "--select", "spec_class=GALAXY", "--limit", args.n, "--seed", 0,
            "--out", field, "--overwrite",
        )),
        "cutouts_s": (work / "cutouts.h5", (
            "cutouts", "--images", field / "field.toml", "--catalog", truth, "--size", 32,
            "--jobs", 2, "--out", work / "cutouts.h5", "--overwrite",
        )),
        "simulate_images_s": (work / "direct.h5", (
            "simulate", "images", "--catalog", truth, "--preset", "sdss", "--size", 32,
            "--jobs", 2, "--seed", 0, "--out", work / "direct.h5", "--overwrite",
        )),
    }  # fmt: skip
    times = {
        key: None if args.reuse and product.exists() else _zphot(*command)
        for key, (product, command) in steps.items()
    }
    if times["cutouts_s"]:
        times["cutouts_per_s"] = args.n / times["cutouts_s"]
    return {"stage": "data", **times, **_checks(work)}


def train(args: argparse.Namespace) -> dict:
    """image-cnn on one stamp set (``--stamps``), unflagged galaxies only, the public split's
    rule on them; run once per stamp set (two processes use the two cores), then ``compare``."""
    import zphot
    from zphot.images.estimator import ImageCNNEstimator
    from zphot.metrics import sigma_nmad

    cut = zphot.read_catalog(args.work / "cutouts.h5", "sdss")
    keep = np.flatnonzero(cut.table["cutout_flags"].to_numpy() == 0)
    cat = zphot.read_catalog(args.work / f"{args.stamps}.h5", "sdss").take(keep)
    tr, te = public_split(cat)
    t0 = time.perf_counter()
    est = ImageCNNEstimator(max_epochs=args.epochs, random_state=args.seed, n_jobs=1).fit(tr)
    seconds = time.perf_counter() - t0
    epochs = len(est.history_[0]["val_loss"])
    return {
        "stage": f"train_{args.stamps}" + (f"_seed{args.seed}" if args.seed else ""),
        "seed": args.seed,
        "max_epochs": args.epochs,
        "n_unflagged": len(keep),
        "sigma_nmad": sigma_nmad(est.predict(te), te.require_z()),
        "train_s": seconds,
        "epochs_run": epochs,
        "epoch_s": seconds / epochs,
        "n_train": len(tr),
        "n_test": len(te),
    }


def compare(args: argparse.Namespace) -> dict:
    """The two trainings side by side, per seed run on both stamp sets: sigma_NMAD on cutouts
    over that on direct stamps, and the mean and spread (standard deviation) over the seeds."""
    results = read_json(RESULT)
    ratios = {}
    for key, direct in results.items():
        if key.startswith("train_direct"):
            cutouts = results.get(key.replace("train_direct", "train_cutouts"))
            if cutouts is not None:
                ratios[direct.get("seed", 0)] = cutouts["sigma_nmad"] / direct["sigma_nmad"]
    values = np.array(list(ratios.values()))
    return {
        "stage": "compare",
        "ratio_cutouts_to_direct_per_seed": ratios,
        "ratio_mean": float(values.mean()),
        "ratio_std": float(values.std(ddof=1)) if len(values) > 1 else None,
        "within_5_percent": bool(values.mean() <= 1.05),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stage", choices=["data", "train", "compare"])
    parser.add_argument("--stamps", choices=["direct", "cutouts"], default="direct")
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0, help="image-cnn's random_state (train)")
    parser.add_argument("--reuse", action="store_true", help="keep products already in --work")
    parser.add_argument("--key-suffix", default="", help="store as STAGE+SUFFIX (another field)")
    parser.add_argument("--work", type=Path, default=ROOT / "results" / "images_cutouts")
    args = parser.parse_args()
    result = {"data": data, "train": train, "compare": compare}[args.stage](args)
    # Read just before writing: the two trainings run side by side and finish apart.
    previous = read_json(RESULT)
    key = result["stage"] + args.key_suffix
    previous[key] = {**result_header(), **result}
    write_json(RESULT, previous)
    print(json.dumps(previous[key], indent=2, default=str))


if __name__ == "__main__":
    main()
