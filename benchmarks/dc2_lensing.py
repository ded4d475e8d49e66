"""Lensing-ready redshifts when the spec-z sample is brighter than the sources (issue 21).

    python benchmarks/dc2_lensing.py [--seeds 0 1 2] [--out benchmarks/results/dc2_lensing.json]

Realistic case: an mlp (defaults, one thread) trained on the brighter half of
``builtin:dc2-train`` (i < 24.38); the sources are the faint half of ``builtin:dc2-test``
(i >= 24.38). Background selection P(z > z_l + 0.1) > 0.9 at z_l = 0.3, 0.5, 0.7 (Planck18).
Configurations: ``plain``; ``covered`` (only sources the training set covers, by the models'
out-of-coverage rule); ``reweighted`` (trained with Lima et al. 2008 weights toward the faint
sources, ``zphot train --reweight-to``); ``reweighted+covered``; ``lima-nz`` (the covered
selection of the plain model, its n(z) taken as the training redshifts weighted toward the
selected sources); and ``representative`` (trained on all of dc2-train, sources all of
dc2-test). Per configuration and lens: ⟨β⟩ bias against β at the true redshifts,
contamination (true z < z_l + 0.02), completeness. Per model: the stacked mean z of covered
faint sources per z_phot bin holding >= 200 of them against the true mean, in units of
1 + z, with the covered fraction per bin. Means and spreads (std) over seeds.

Writes JSON (machine, date, git revision, command, figures) and prints Markdown tables.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from _common import RESULTS, result_header, write_json

LENSES = (0.3, 0.5, 0.7)
I_CUT = 24.38
DZ, P_MIN, DELTA = 0.1, 0.9, 0.02
ZBINS = (0.0, 0.4, 0.8, 1.2, 1.6, 2.0, 3.0)
MIN_BIN = 200


def load() -> dict:
    from zphot.cli.options import open_catalog

    train, test = open_catalog("builtin:dc2-train"), open_catalog("builtin:dc2-test")
    i_train, i_test = train.magnitudes(["i"])[:, 0], test.magnitudes(["i"])[:, 0]
    return {
        "train": train,
        "test": test,
        "bright": train.take(np.flatnonzero(i_train < I_CUT)),
        "faint": test.take(np.flatnonzero(~(i_test < I_CUT))),
    }


def lens_rows(probs, grid, z_true, keep, z_lens) -> dict:
    """Selection summary of the rows in ``keep`` behind ``z_lens``."""
    from zphot.lensing import prob_above, select_background, summarise_selection

    p = probs[keep]
    sel = select_background(
        prob_above(p, grid, z_lens + DZ), np.full(len(p), np.nan), z_lens + DZ, "probability", P_MIN
    )
    s = summarise_selection(
        p, grid, sel, z_lens, dz=DZ, p_min=P_MIN, z_true=z_true[keep], delta=DELTA
    )
    return {"n_selected": s.n_selected, "beta_mean": s.beta_mean, **s.truth}, sel


def lima_nz_rows(data, probs, grid, covered, z_lens, est) -> dict:
    """⟨β⟩ of the covered selection from training redshifts weighted toward it."""
    from zphot.lensing import beta
    from zphot.lensing.reweight import reweight_catalog, weighted_nz

    z_true = data["faint"].require_z()
    keep = np.flatnonzero(covered)
    row, sel = lens_rows(probs, grid, z_true, covered, z_lens)
    chosen = data["faint"].take(keep[sel])
    w = reweight_catalog(est, data["bright"], chosen, k=10)
    nz, n_eff = weighted_nz(data["bright"].require_z(), w, grid)
    b = float(nz @ beta(z_lens, grid.centres))
    return row | {"beta_mean": b, "beta_bias": b / row["beta_true"] - 1, "n_eff": n_eff}


def mean_z_bins(pdf, z_point, z_true, covered) -> list[dict]:
    """Stacked mean z of covered sources per z_phot bin vs the true mean, in units of 1 + z."""
    mean_pdf = pdf.point("mean")
    rows = []
    for lo, hi in zip(ZBINS[:-1], ZBINS[1:], strict=True):
        inside = (z_point >= lo) & (z_point < hi)
        use = inside & covered
        row = {
            "bin": [lo, hi],
            "n_covered": int(use.sum()),
            "covered_fraction": float(use.sum() / max(inside.sum(), 1)),
        }
        if use.sum() >= MIN_BIN:
            zt = float(z_true[use].mean())
            row["offset_1pz"] = (float(mean_pdf[use].mean()) - zt) / (1 + zt)
        rows.append(row)
    return rows


def run_seed(data: dict, seed: int) -> dict:
    from zphot.estimators.mlp import MLPEstimator
    from zphot.lensing.reweight import reweight_catalog

    faint, bright = data["faint"], data["bright"]
    t0 = time.perf_counter()
    plain = MLPEstimator(random_state=seed, n_jobs=1).fit(bright)
    w = reweight_catalog(plain, bright, faint, k=10)
    rew = MLPEstimator(random_state=seed, n_jobs=1).fit(bright, sample_weight=w)
    rep = MLPEstimator(random_state=seed, n_jobs=1).fit(data["train"])
    z_true = faint.require_z()
    out: dict = {
        "seconds_train": time.perf_counter() - t0,
        "n_eff_weights": float(w.sum() ** 2 / (w**2).sum()),
        "lens": {},
        "mean_z": {},
    }
    covered = ~plain.out_of_coverage(faint)
    out["covered_fraction"] = float(covered.mean())
    everyone = np.ones(len(faint), dtype=bool)
    for name, est in (("plain", plain), ("reweighted", rew)):
        pdf = est.predict_pdf(faint)
        out["mean_z"][name] = mean_z_bins(pdf, pdf.point("mode"), z_true, covered)
        for zl in LENSES:
            out["lens"].setdefault(name, {})[zl] = lens_rows(
                pdf.probs, pdf.grid, z_true, everyone, zl
            )[0]
            out["lens"].setdefault(f"{name}+covered", {})[zl] = lens_rows(
                pdf.probs, pdf.grid, z_true, covered, zl
            )[0]
            if name == "plain":
                out["lens"].setdefault("lima-nz", {})[zl] = lima_nz_rows(
                    data, pdf.probs, pdf.grid, covered, zl, plain
                )
    test = data["test"]
    pdf = rep.predict_pdf(test)
    zt = test.require_z()
    out["mean_z"]["representative"] = mean_z_bins(
        pdf, pdf.point("mode"), zt, ~rep.out_of_coverage(test)
    )
    for zl in LENSES:
        out["lens"].setdefault("representative", {})[zl] = lens_rows(
            pdf.probs, pdf.grid, zt, np.ones(len(test), dtype=bool), zl
        )[0]
    return out


def aggregate(runs: list[dict]) -> dict:
    """Mean and std over seeds of each lens figure and each mean-z offset."""
    agg: dict = {"lens": {}, "mean_z": {}}
    for config in runs[0]["lens"]:
        agg["lens"][config] = {}
        for zl in LENSES:
            keys = ("beta_bias", "contamination", "completeness", "n_selected")
            agg["lens"][config][zl] = {
                k: [float(np.mean(v := [r["lens"][config][zl][k] for r in runs])), float(np.std(v))]
                for k in keys
            }
    for model in runs[0]["mean_z"]:
        rows = []
        for j, row in enumerate(runs[0]["mean_z"][model]):
            offs = [r["mean_z"][model][j].get("offset_1pz") for r in runs]
            cov = [r["mean_z"][model][j]["covered_fraction"] for r in runs]
            n = [r["mean_z"][model][j]["n_covered"] for r in runs]
            ok = [o for o in offs if o is not None]
            rows.append(
                {
                    "bin": row["bin"],
                    "n_covered": float(np.mean(n)),
                    "covered_fraction": float(np.mean(cov)),
                    "offset_1pz": [float(np.mean(ok)), float(np.std(ok))] if ok else None,
                    "seeds_with_200": len(ok),
                }
            )
        agg["mean_z"][model] = rows
    return agg


def markdown(agg: dict) -> str:
    lines = [
        "| configuration | z_l | ⟨β⟩ bias (%) | contamination (%) | completeness (%) | "
        "n selected |",
        "|---|---|---|---|---|---|",
    ]
    for config, per in agg["lens"].items():
        for zl, v in per.items():
            b, c, m, n = (
                v[k] for k in ("beta_bias", "contamination", "completeness", "n_selected")
            )
            lines.append(
                f"| {config} | {zl} | {100 * b[0]:+.2f} ± {100 * b[1]:.2f} | "
                f"{100 * c[0]:.2f} ± {100 * c[1]:.2f} | {100 * m[0]:.1f} ± "
                f"{100 * m[1]:.1f} | {n[0]:,.0f} |"
            )
    lines += [
        "",
        "| model | z_mode bin | covered n | covered fraction | (⟨z⟩_stack − ⟨z⟩_true)/(1+z) |",
        "|---|---|---|---|---|",
    ]
    for model, rows in agg["mean_z"].items():
        for r in rows:
            off = (
                f"{r['offset_1pz'][0]:+.4f} ± {r['offset_1pz'][1]:.4f}"
                if r["offset_1pz"] and r["seeds_with_200"] == 3
                else "< 200 galaxies"
            )
            lines.append(
                f"| {model} | [{r['bin'][0]}, {r['bin'][1]}) | {r['n_covered']:,.0f} "
                f"| {r['covered_fraction']:.3f} | {off} |"
            )
    return "\n".join(lines)


def main(argv: list[str]) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--out", type=Path, default=RESULTS / "dc2_lensing.json")
    args = parser.parse_args(argv[1:])
    data = load()
    runs = [run_seed(data, s) for s in args.seeds]
    agg = aggregate(runs)
    result = result_header(argv) | {
        "setup": {
            "i_cut": I_CUT,
            "n_bright": len(data["bright"]),
            "n_faint": len(data["faint"]),
            "dz": DZ,
            "p_min": P_MIN,
            "delta": DELTA,
            "cosmology": "Planck18",
            "model": "mlp defaults, n_jobs=1",
            "seeds": args.seeds,
        },
        "aggregate": agg,
        "runs": runs,
    }
    write_json(args.out, result)
    print(markdown(agg))
    return result


if __name__ == "__main__":
    main(sys.argv)
