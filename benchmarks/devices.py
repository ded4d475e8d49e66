"""image-cnn epoch time on each device this machine has: the CPU, and a GPU when torch sees one.

    python benchmarks/devices.py                      # 16,000 stamps of 5 x 32 x 32
    python benchmarks/devices.py --size 64 --epochs 3 # Pasquet et al.'s 64 x 64

The stamps are Gaussian blobs with sky noise (an epoch's cost depends on the number and shape
of the stamps, not on what they show), fitted with image-cnn's defaults for ``--epochs`` epochs
on each of: the CPU (all its cores), the GPU in float32 and the GPU with bfloat16 autocast
(``mixed_precision=True``). An epoch's time is the median over the epochs after the first
(which holds CUDA's start-up). Results to ``benchmarks/results/devices.json``, keyed by device
(the CPU's by its core count).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import RESULTS, read_json, result_header, write_json

RESULT = RESULTS / "devices.json"


def stamp_catalog(n: int, size: int, folder: Path):  # noqa: ANN201 - Catalog
    """``n`` synthetic galaxies whose stamps carry each band's flux in a blob, with noise."""
    from zphot.images.store import attach_stamps
    from zphot.testing import synthetic_catalog

    cat = synthetic_catalog(n, random_state=0)
    rng = np.random.default_rng([0, 1])
    yy, xx = np.mgrid[:size, :size] - (size - 1) / 2
    cube = np.empty((n, cat.mags.shape[1], size, size), dtype=np.float32)
    for start in range(0, n, 2000):  # blocks keep the float64 temporaries small
        rows = slice(start, start + 2000)
        width = rng.uniform(1.0, 3.0, len(cube[rows]))[:, None, None]
        prof = np.exp(-0.5 * (xx**2 + yy**2) / width**2)
        prof /= prof.sum(axis=(1, 2), keepdims=True)
        flux = 10 ** (-0.4 * (cat.mags[rows] - 22.5))
        noise = rng.normal(0, 0.5, cube[rows].shape)
        cube[rows] = flux[:, :, None, None] * prof[:, None] + noise
    np.save(folder / "stamps.npy", cube)
    return attach_stamps(cat, folder / "stamps.npy")


def time_fit(catalog, device: str, mixed_precision: bool, epochs: int) -> dict:  # noqa: ANN001
    from zphot.images.estimator import ImageCNNEstimator

    est = ImageCNNEstimator(
        max_epochs=epochs, patience=epochs, device=device, mixed_precision=mixed_precision,
        n_jobs=None, random_state=0,
    )  # fmt: skip
    t0 = time.perf_counter()
    est.fit(catalog)
    seconds = est.history_[0]["epoch_seconds"]
    return {
        "fit_s": time.perf_counter() - t0,
        "epoch_s": float(np.median(seconds[1:] if len(seconds) > 1 else seconds)),
        "epoch_seconds": seconds,
        "n_train": round(len(catalog) * (1 - est.validation_fraction)),
    }


def main() -> None:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=16000)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--cpu-epochs", type=int, default=2)
    parser.add_argument("--revision", default="", help="the revision run, for a copied tree")
    args = parser.parse_args()
    runs = [("cpu", False, args.cpu_epochs)]
    if torch.cuda.is_available():
        runs += [("cuda", False, args.epochs), ("cuda", True, args.epochs)]
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    header = result_header(gpu=gpu, torch_threads=torch.get_num_threads())
    header["git_revision"] = args.revision or header["git_revision"]
    previous = read_json(RESULT)
    with tempfile.TemporaryDirectory() as folder:
        catalog = stamp_catalog(args.n, args.size, Path(folder))
        for device, mixed, epochs in runs:
            where = f"cpu{header['machine']['cores_available']}" if device == "cpu" else "cuda"
            key = f"{where}{'_bf16' if mixed else ''}_{args.size}px"
            result = {"device": device, "mixed_precision": mixed, "size": args.size, "n": args.n}
            result |= time_fit(catalog, device, mixed, epochs)
            previous[key] = {**header, **result}
            print(key, json.dumps(result), flush=True)
    write_json(RESULT, previous)


if __name__ == "__main__":
    main()
