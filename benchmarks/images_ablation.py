"""Information ablation on the SDSS stamps (issue 9): what do the images carry beyond the
magnitudes measured from them?

    python benchmarks/images_ablation.py [--stamps results/images/sdss_stamps32.h5]
        [--max-epochs 15] [--skip-cnn]

On the public split (galaxies, seed 42, 70% train) of the stamps written by
benchmarks/images_render.py, test-set sigma_NMAD of:

1. ``mags``: LightGBM on magnitudes measured from the stamps (sum inside a circle of radius
   size/2 centred on the stamp: what an aperture catalog of these images would hold);
2. ``oracle``: LightGBM on those magnitudes plus every true simulation parameter it could know
   (bulge and disk half-light radii, axis ratios, bulge fraction, bulge and disk colours);
3. ``measured`` (``--part measured``): the oracle as far as the pixels allow. Every true
   parameter of the shapes (radii, axis ratios, position angle, centring) is given, but the
   bulge and disk flux of each band are *measured* on the noisy stamp: a linear least-squares
   fit of the two noiseless, PSF-convolved unit-flux profiles (rendered with the stamp's own
   centring). The literal oracle gets noise-free component colours, which a two-SED model turns
   into an almost exact redshift no image analysis could reach; this one is what a perfect
   bulge + disk decomposition of these stamps would know (fluxes in asinh magnitudes, so a
   negative measured flux stays usable). Rendering the profiles takes as long as the stamps
   did; the fluxes are cached beside the stamps.
4. ``cnn``: image-cnn on the stamps (default architecture, 1 torch thread, checkpointed in
   ``ckpt`` beside the stamps so a re-run resumes), with its PIT KS.

Both LightGBM runs use the same regressor settings on colours + r magnitude (+ parameters), so
the difference is the information. Writes benchmarks/results/images_ablation.json.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
from _common import RESULTS, ROOT, read_json, result_header, sdss_split, write_json


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
    ap.add_argument("--stamps", type=Path, default=ROOT / "results" / "images" / "sdss_stamps32.h5")
    ap.add_argument("--max-epochs", type=int, default=15)
    ap.add_argument(
        "--part",
        choices=("lgbm", "measured", "cnn", "all"),
        default="all",
        help="Run part of it (two processes can share the work); results merge.",
    )
    args = ap.parse_args()

    header = result_header()
    train, test = sdss_split(stamps=args.stamps)
    dest = RESULTS / "images_ablation.json"
    result: dict = read_json(dest) if args.part != "all" else {}
    result |= {
        f"date_{args.part}": header["date"],
        "git": header["git_revision"],
        f"command_{args.part}": header["command"],
        f"load_average_{args.part}": os.getloadavg(),
        "machine": header["machine"],
        "n_train": len(train),
        "n_test": len(test),
    }
    if args.part in ("lgbm", "all"):
        run_lgbm(result, train, test)
    if args.part in ("measured", "all"):
        run_measured(result, args.stamps, train, test)
    if args.part in ("cnn", "all"):
        run_cnn(result, train, test, args.max_epochs, str(args.stamps.parent / "ckpt"))
    # Re-read: the other part may have finished meanwhile.
    if args.part != "all":
        result = read_json(dest) | result
    for oracle, suffix in (("oracle", ""), ("measured", "_measured")):
        if "sigma_nmad_mags" not in result or f"sigma_nmad_{oracle}" not in result:
            continue
        gain = result["sigma_nmad_mags"] - result[f"sigma_nmad_{oracle}"]
        result[f"oracle{suffix}_gain_fraction"] = gain / result["sigma_nmad_mags"]
        if "sigma_nmad_cnn" in result and gain > 0:
            result[f"cnn_recovered_fraction_of_oracle{suffix}_gain"] = (
                result["sigma_nmad_mags"] - result["sigma_nmad_cnn"]
            ) / gain
    write_json(dest, result)
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


SHAPE_COLUMNS = ["r_bulge", "r_disk", "q_bulge", "q_disk", "beta"]
#: asinh magnitude softening (nanomaggies): about the 1-sigma sky noise of a 16 px aperture.
ASINH_SOFTENING = 0.3


def _fit_components(args: tuple) -> np.ndarray:
    """Bulge and disk flux per band of each stamp: least squares on the two unit-flux profiles."""
    import h5py

    from zphot.images.render import render_galaxy

    path, records, obs, seed, start = args
    with h5py.File(path, "r") as fh:
        stamps = fh["stamps/pixels"][start : start + len(records)]
    bands = obs.bands
    size = stamps.shape[-1]
    out = np.zeros((len(records), 2, len(bands)))
    for i, rec in enumerate(records):
        comps = []
        for comp in ("bulge", "disk"):
            unit = dict(rec)
            for b in bands:
                has = rec[f"flux_{comp}_{b}"] > 0
                other = "disk" if comp == "bulge" else "bulge"
                unit[f"flux_{comp}_{b}"] = 1.0 if has else 0.0
                unit[f"flux_{other}_{b}"] = 0.0
            # Same stream (seed, "galaxy", row) as the stamp: the same sub-pixel centring.
            comps.append(render_galaxy(unit, obs, bands, size, seed, start + i, noise=False))
        for k in range(len(bands)):
            a = np.stack([comps[0][k].ravel(), comps[1][k].ravel()], axis=1).astype(float)
            used = np.abs(a).sum(axis=0) > 0
            coef, *_ = np.linalg.lstsq(a[:, used], stamps[i, k].ravel().astype(float), rcond=None)
            out[i, used, k] = coef
    return out


def measured_components(stamps_path: Path, table, n_jobs: int = 2) -> tuple[np.ndarray, bool]:  # noqa: ANN001
    """(n, 2, bands) bulge and disk fluxes measured on every stamp (cached beside the file),
    and whether they were computed now rather than read from the cache."""
    import multiprocessing

    import h5py

    from zphot.catalog.survey import load_survey

    with h5py.File(stamps_path, "r") as fh:
        # Keyed by the stamps' configuration digest: a re-rendered file gets a fresh fit.
        digest = str(fh["stamps"].attrs["digest"])[:12]
        cache = stamps_path.with_name(f"{stamps_path.stem}_components_{digest}.npy")
        if cache.exists():
            return np.load(cache), False
        config = json.loads(fh["stamps"].attrs["config"])
        obs = load_survey(config["survey"]).require_observing()
        cols = SHAPE_COLUMNS + [f"flux_{c}_{b}" for b in obs.bands for c in ("bulge", "disk")]
        records = table[cols].to_dict("records")
        chunk = 512
        jobs = [
            (stamps_path, records[s : s + chunk], obs, config["seed"], s)
            for s in range(0, len(records), chunk)
        ]
    with multiprocessing.get_context("fork").Pool(n_jobs) as pool:
        out = np.concatenate(pool.map(_fit_components, jobs))
    np.save(cache, out)
    return out, True


def measured_features(mags: np.ndarray, table, comps: np.ndarray) -> np.ndarray:  # noqa: ANN001
    """Stamp magnitudes + true radii and axis ratios + each component's measured r magnitude
    and colours."""
    asinh_mag = -2.5 / np.log(10) * np.arcsinh(comps / (2 * ASINH_SOFTENING))
    parts = [features(mags, table, False), table[SHAPE_COLUMNS[:4]].to_numpy()]
    for c in range(2):
        parts += [asinh_mag[:, c, [2]], -np.diff(asinh_mag[:, c], axis=1)]
    return np.column_stack(parts)


def run_measured(result: dict, stamps_path: Path, train, test) -> None:  # noqa: ANN001
    import pandas as pd
    from scipy.stats import median_abs_deviation

    from zphot.images.store import load_stamps

    rows_tr = train.table["stamp_row"].to_numpy()
    rows_te = test.table["stamp_row"].to_numpy()
    table = pd.concat([train.table, test.table]).sort_values("stamp_row")
    if not np.array_equal(table["stamp_row"].to_numpy(), np.arange(len(table))):
        raise SystemExit(f"{stamps_path}: the split does not cover every stamp row once")
    t0 = time.perf_counter()
    comps, computed = measured_components(stamps_path, table)
    if computed:
        result["measured_components_seconds"] = round(time.perf_counter() - t0, 1)
    m_tr, m_te = aperture_magnitudes(load_stamps(train)), aperture_magnitudes(load_stamps(test))
    result["sigma_nmad_measured"] = lgbm_sigma(
        measured_features(m_tr, train.table, comps[rows_tr]),
        train.require_z(),
        measured_features(m_te, test.table, comps[rows_te]),
        test.require_z(),
    )
    true_r = table[["flux_bulge_r", "flux_disk_r"]].to_numpy()
    rel = (comps[:, :, 2] - true_r) / np.maximum(true_r.sum(axis=1, keepdims=True), 1e-9)
    result["measured_r_flux_error_over_total_nmad"] = median_abs_deviation(
        rel, axis=0, scale="normal"
    ).tolist()
    print("measured", result["sigma_nmad_measured"], flush=True)


def run_cnn(result: dict, train, test, max_epochs: int, checkpoint: str) -> None:  # noqa: ANN001
    from zphot.images.estimator import ImageCNNEstimator
    from zphot.metrics import pdf_metrics, sigma_nmad

    est = ImageCNNEstimator(max_epochs=max_epochs, checkpoint=checkpoint, random_state=0)
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
