"""Information ablation on the SDSS stamps (issue 9): what do the images carry beyond the
magnitudes measured from them?

    python benchmarks/images_ablation.py [--stamps /work/scratch/images/sdss_stamps32.h5]
        [--max-epochs 15] [--skip-cnn]

On the public split (galaxies, seed 42, 70% train) of the stamps written by
benchmarks/images_render.py, test-set sigma_NMAD of:

1. ``mags``: LightGBM on magnitudes measured from the stamps (sum inside a circle of radius
   size/2 centred on the stamp: what an aperture catalog of these images would hold);
2. ``oracle``: LightGBM on those magnitudes plus every true simulation parameter it could know
   (bulge and disk half-light radii, axis ratios, bulge fraction, bulge and disk colours);
3. ``cnn``: image-cnn on the stamps (default architecture, 1 torch thread, checkpointed in
   /work/scratch/images/ckpt so a re-run resumes), with its PIT KS.

Both LightGBM runs use the same regressor settings on colours + r magnitude (+ parameters), so
the difference is the information. Writes benchmarks/results/images_ablation.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def aperture_magnitudes(stamps: np.ndarray) -> np.ndarray:
    size = stamps.shape[-1]
    yy, xx = np.mgrid[:size, :size] - (size - 1) / 2
    mask = (xx**2 + yy**2) <= (size / 2) ** 2
    flux = (stamps * mask).sum(axis=(2, 3))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(flux > 0, 22.5 - 2.5 * np.log10(flux), np.nan)


def lgbm_sigma(x_train, z_train, x_test, z_test, seed: int = 0) -> float:
    import lightgbm

    from zphot.metrics import sigma_nmad

    model = lightgbm.LGBMRegressor(
        n_estimators=2000,
        learning_rate=0.03,
        num_leaves=63,
        min_child_samples=20,
        subsample=0.8,
        subsample_freq=1,
        colsample_bytree=0.8,
        random_state=seed,
        n_jobs=2,
        verbose=-1,
    )
    n_val = len(x_train) // 10
    model.fit(
        x_train[n_val:],
        z_train[n_val:],
        eval_set=[(x_train[:n_val], z_train[:n_val])],
        callbacks=[lightgbm.early_stopping(100, verbose=False)],
    )
    return float(sigma_nmad(model.predict(x_test), z_test))


def features(mags: np.ndarray, table, oracle: bool) -> np.ndarray:
    colours = -np.diff(mags, axis=1)
    parts = [mags[:, [2]], colours]
    if oracle:
        bands = "ugriz"
        cols = ["r_bulge", "r_disk", "q_bulge", "q_disk", "bulge_fraction"]
        parts.append(table[cols].to_numpy())
        for comp in ("bulge", "disk"):
            f = table[[f"flux_{comp}_{b}" for b in bands]].to_numpy()
            parts.append(-np.diff(-2.5 * np.log10(np.clip(f, 1e-12, None)), axis=1))
    return np.column_stack(parts)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--stamps", type=Path, default=Path("/work/scratch/images/sdss_stamps32.h5"))
    ap.add_argument("--max-epochs", type=int, default=15)
    ap.add_argument(
        "--part",
        choices=("lgbm", "cnn", "all"),
        default="all",
        help="Run part of it (two processes can share the work); results merge.",
    )
    args = ap.parse_args()

    import zphot
    from zphot.catalog import train_test

    cat = zphot.read_catalog(args.stamps, "sdss")
    train, test = train_test(cat, 0.7, seed=42)
    dest = ROOT / "benchmarks" / "results" / "images_ablation.json"
    result: dict = json.loads(dest.read_text()) if dest.exists() and args.part != "all" else {}
    result |= {
        f"date_{args.part}": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "git": subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        + " (+ uncommitted changes)",
        f"command_{args.part}": " ".join([sys.executable, *sys.argv]),
        f"load_average_{args.part}": os.getloadavg(),
        "n_train": len(train),
        "n_test": len(test),
    }
    if args.part in ("lgbm", "all"):
        run_lgbm(result, train, test)
    if args.part in ("cnn", "all"):
        run_cnn(result, train, test, args.max_epochs)
    # Re-read: the other part may have finished meanwhile.
    if dest.exists() and args.part != "all":
        result = json.loads(dest.read_text()) | result
    if "sigma_nmad_mags" in result and "sigma_nmad_oracle" in result:
        gain = result["sigma_nmad_mags"] - result["sigma_nmad_oracle"]
        result["oracle_gain_fraction"] = gain / result["sigma_nmad_mags"]
        if "sigma_nmad_cnn" in result and gain > 0:
            result["cnn_recovered_fraction_of_oracle_gain"] = (
                result["sigma_nmad_mags"] - result["sigma_nmad_cnn"]
            ) / gain
    dest.write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


def run_lgbm(result: dict, train, test) -> None:  # noqa: ANN001
    from zphot.images.store import load_stamps

    m_tr, m_te = aperture_magnitudes(load_stamps(train)), aperture_magnitudes(load_stamps(test))
    result["catalog_vs_stamp_r_mag_median_offset"] = float(
        np.nanmedian(m_tr[:, 2] - train.mags[:, 2])
    )
    z_tr, z_te = train.require_z(), test.require_z()
    for name, oracle in (("mags", False), ("oracle", True)):
        result[f"sigma_nmad_{name}"] = lgbm_sigma(
            features(m_tr, train.table, oracle), z_tr, features(m_te, test.table, oracle), z_te
        )
        print(name, result[f"sigma_nmad_{name}"], flush=True)
    result["sigma_nmad_catalog_mags"] = lgbm_sigma(
        features(train.mags, train.table, False),
        z_tr,
        features(test.mags, test.table, False),
        z_te,
    )


def run_cnn(result: dict, train, test, max_epochs: int) -> None:  # noqa: ANN001
    from zphot.images.estimator import ImageCNNEstimator
    from zphot.metrics import pdf_metrics, sigma_nmad

    est = ImageCNNEstimator(
        max_epochs=max_epochs, checkpoint="/work/scratch/images/ckpt", random_state=0
    )
    t0 = time.perf_counter()
    est.fit(train)
    fit_s = time.perf_counter() - t0
    pdf = est.predict_pdf(test)
    h = est.history_[0]
    z_te = test.require_z()
    result |= {
        "cnn_max_epochs": max_epochs,
        "cnn_fit_seconds": round(fit_s, 1),
        "cnn_epochs_run": len(h["val_loss"]),
        "cnn_epoch_seconds": h["epoch_seconds"],
        "cnn_best_epoch": h["best_epoch"] + 1,
        "cnn_val_loss": h["val_loss"],
        "sigma_nmad_cnn": float(sigma_nmad(pdf.point("median"), z_te)),
        "cnn_pdf": pdf_metrics(pdf.probs, est.grid_.edges, z_te),
    }


if __name__ == "__main__":
    main()
