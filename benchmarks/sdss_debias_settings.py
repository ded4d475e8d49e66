"""Choose bias-correction settings without touching the test set (issue 8).

    python benchmarks/sdss_debias_settings.py [--settings JSON ...] [--base mlp] [--seed 0]
        [--stamps sdss_stamps32.h5]

The SDSS public split's *training* galaxies are split again (a seeded quarter held out); for
each setting (a JSON object of :class:`~zphot.debias.DebiasedEstimator` parameters, e.g.
``'{"kept_fraction": 0.2}'``) Steps 1-3 are fitted on the other three quarters and the
held-out galaxies give sigma_NMAD, the mean residual per z_spec bin (0.02 on [0.02, 0.20];
bins with >= 100 galaxies count toward the maximum, the held-out set being a third of the
test set's size) and the n(z) fidelity of each step. Step 1 is the same network for every
setting (same seed), so the rows differ only by what Steps 2-3 do. Writes
benchmarks/results/sdss_debias_settings_<base>.json and prints a Markdown table.

``--smoothing 10,20,30`` fits Step 4 too and scores the individual view's z_spec calibration
at each stretch penalty: fitted on the out-of-fold estimates of the inner galaxies, applied to
Step 3's estimates of the held-out ones.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
from _common import DEBIAS_EDGES as EDGES
from _common import RESULTS, SDSS, result_header, sdss_split, write_json

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads

from zphot.catalog import train_test  # noqa: E402
from zphot.debias import DebiasedEstimator  # noqa: E402
from zphot.debias.calibrate import SpecResidualCalibration  # noqa: E402
from zphot.metrics import binned_residuals, dz, max_abs_binned_mean, nz_fidelity, sigma_nmad  # noqa: E402

MIN_COUNT = 100
DEFAULT_SETTINGS = [
    "{}",
    '{"kept_fraction": 0.2}',
    '{"kept_fraction": 0.1}',
    '{"kept_fraction": 0.2, "labels": "soft-shifted"}',
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(SDSS))
    ap.add_argument("--settings", nargs="+", default=DEFAULT_SETTINGS)
    ap.add_argument("--base", default="mlp")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--stamps", type=Path, help="stamp file of the SDSS galaxies (image-cnn)")
    ap.add_argument("--out", type=Path, help="result file (default: by base)")
    ap.add_argument("--smoothing", help="individual_smoothing values to score, e.g. 10,20,30")
    args = ap.parse_args()
    header = result_header()
    train, _ = sdss_split(args.data, stamps=args.stamps)
    inner, held = train_test(train, 0.75, seed=123)
    z = held.require_z()
    rows = []
    for text in args.settings:
        params = json.loads(text)
        t0 = time.perf_counter()
        steps = 4 if args.smoothing else 3
        deb = DebiasedEstimator(base=args.base, steps=steps, random_state=args.seed, **params)
        deb.fit(inner)
        row = {"settings": params, "fit_seconds": round(time.perf_counter() - t0, 1)}
        row["info"] = {k: v for k, v in deb.info_.items() if k != "sigma1"}
        for step in (1, 2, 3):
            row[f"step{step}"] = scores(deb.at_step(step).predict(held), z)
        if args.smoothing:
            raw = deb.predict_raw(held)
            row["smoothing"] = {
                s: scores(
                    SpecResidualCalibration(deb.calibration_bin, float(s))
                    .fit(deb.oof_z_phot_, inner.require_z())
                    .apply(raw),
                    z,
                )
                for s in args.smoothing.split(",")
            }
        rows.append(row)
        print(json.dumps(row, default=float), flush=True)
    result = header | {
        "n_fit": len(inner),
        "n_held_out": len(held),
        "bin_centres": ((EDGES[:-1] + EDGES[1:]) / 2).round(3).tolist(),
        "rows": rows,
    }
    write_json(args.out or RESULTS / f"sdss_debias_settings_{args.base}.json", result)
    print(markdown(result))


def scores(zp: np.ndarray, z: np.ndarray) -> dict:
    """sigma_NMAD, the mean residual per z_spec bin (and its maximum) and the fidelity."""
    by_spec = binned_residuals(z, dz(zp, z), EDGES)
    return {
        "sigma_nmad": sigma_nmad(zp, z),
        "max_dz_by_zspec": max_abs_binned_mean(by_spec, MIN_COUNT),
        "fidelity": nz_fidelity(zp, z),
        "mean_by_zspec": by_spec["mean"].round(5).tolist(),
    }


def markdown(result: dict) -> str:
    """One row per setting: Step 3's held-out metrics and its mean dz at the two ends."""
    lines = [
        "| setting | N_th (subset) | sigma_NMAD Step 1 -> 3 | max mean dz, z_spec bins "
        "| first / last bin (0.03, 0.19) | fidelity |",
        "|---|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        s1, s3 = r["step1"], r["step3"]
        name = json.dumps(r["settings"]) if r["settings"] else "defaults"
        lines.append(
            f"| `{name}` | {r['info']['n_th']} ({r['info']['subset_size']:,}) "
            f"| {s1['sigma_nmad']:.4f} -> {s3['sigma_nmad']:.4f} | {s3['max_dz_by_zspec']:.4f} "
            f"| {s3['mean_by_zspec'][0]:+.4f} / {s3['mean_by_zspec'][-1]:+.4f} "
            f"| {s3['fidelity']:.3f} |"
        )
        for s, sc in r.get("smoothing", {}).items():
            lines.append(
                f"| `{name}` + z_spec calibration, smoothing {s} | | {sc['sigma_nmad']:.4f} "
                f"| {sc['max_dz_by_zspec']:.4f} | {sc['mean_by_zspec'][0]:+.4f} / "
                f"{sc['mean_by_zspec'][-1]:+.4f} | {sc['fidelity']:.3f} |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
