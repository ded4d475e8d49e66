"""Bias correction (Lin et al. 2022) on the SDSS public split: plain mlp vs Steps 1-4.

    python benchmarks/sdss_debias.py [--seeds 0,1,2] [--base mlp] [--labels soft] [--data PATH]
    python benchmarks/sdss_debias.py --base image-cnn --stamps sdss_stamps32.h5 \
        [--net '{"max_epochs": 20}']
    python benchmarks/sdss_debias.py --summarise benchmarks/results/sdss_debias_mlp.json [...]

For each seed: the plain network (PDF mode) and the debiased model are fitted on the 70% train
galaxies; on the test galaxies the script reports the mean residual dz in bins of width 0.02 on
[0.02, 0.20] holding >= 200 galaxies, binned by z_spec (individual view: Step 3's mode, and
that mode after the z_spec calibration the Step 4 model fits) and by z_phot (bulk view: Step
4), sigma_NMAD, the n(z) fidelity index and the PIT KS of the
recalibrated PDFs. Writes benchmarks/results/sdss_debias_<base>.json and prints a Markdown
table of the means over seeds with their standard deviation (``--summarise`` reprints it,
pooling the seeds of several files: seeds run in parallel processes with ``--out``).

``--stamps`` reads the galaxies from a stamp file of the same SDSS galaxies
(``benchmarks/images_render.py``; its catalog keeps their order, so the seed-42 split picks the
same train and test galaxies) for ``--base image-cnn``; ``--net`` sets network parameters of
both the plain network and the debiased one (e.g. fewer epochs).
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

import zphot  # noqa: E402
from zphot.debias import DebiasedEstimator  # noqa: E402
from zphot.metrics import (  # noqa: E402
    binned_residuals,
    dz,
    max_abs_binned_mean,
    nz_fidelity,
    pit,
    pit_ks,
    sigma_nmad,
)


def curves(z_phot: np.ndarray, z_spec: np.ndarray) -> dict:
    d = dz(z_phot, z_spec)
    by_spec = binned_residuals(z_spec, d, EDGES)
    by_phot = binned_residuals(z_phot, d, EDGES)
    return {
        "sigma_nmad": sigma_nmad(z_phot, z_spec),
        "max_dz_by_zspec": max_abs_binned_mean(by_spec, 200),
        "max_dz_by_zphot": max_abs_binned_mean(by_phot, 200),
        "fidelity": nz_fidelity(z_phot, z_spec),
        "curve_zspec": by_spec[["centre", "count", "mean", "sem"]].round(5).to_dict("list"),
        "curve_zphot": by_phot[["centre", "count", "mean", "sem"]].round(5).to_dict("list"),
    }


#: (row label, run key) of the summary table, in the issue's order.
SUMMARY_ROWS = [
    ("plain (mode)", "plain"),
    ("Step 1", "step1"),
    ("Step 2", "step2"),
    ("Step 3 (mode)", "step3"),
    ("individual (Step 3 + z_spec calibration)", "individual_step3"),
    ("bulk (Step 4)", "bulk_step4"),
]
SUMMARY_METRICS = ["sigma_nmad", "max_dz_by_zspec", "max_dz_by_zphot", "fidelity"]


def _mean_sd(values: list[float]) -> str:
    v = np.asarray(values, dtype=float)
    sd = v.std(ddof=1) if len(v) > 1 else 0.0
    return f"{v.mean():.4f} ± {sd:.4f}"


def summary_markdown(result: dict) -> str:
    """Means over seeds (± standard deviation) of every view's metrics, and the PIT KS."""
    runs = result["runs"]
    rows = [
        "| view | sigma_NMAD | max mean dz, z_spec bins | max mean dz, z_phot bins | fidelity |",
        "|---|---|---|---|---|",
    ]
    for label, key in SUMMARY_ROWS:
        if not all(key in r for r in runs):  # a row older result files do not have
            continue
        if key == "individual_step3" and not all("step3" in r for r in runs):
            label = "individual (Step 3 mode; results from before the z_spec calibration)"
        cells = [_mean_sd([r[key][m] for r in runs]) for m in SUMMARY_METRICS]
        rows.append(f"| {label} | " + " | ".join(cells) + " |")
    pits = ", ".join(
        f"{name} {_mean_sd([r[key] for r in runs])}"
        for name, key in [
            ("plain", "pit_ks_plain"),
            ("raw Step 3", "pit_ks_raw_step3"),
            ("recalibrated", "pit_ks_recalibrated"),
        ]
    )
    seeds = ", ".join(str(r["seed"]) for r in runs)
    return "\n".join(rows) + f"\n\nPIT KS: {pits}. Seeds: {seeds}."


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(SDSS))
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--base", default="mlp")
    ap.add_argument("--labels", default="soft", help="Step 3 labels (soft, soft-shifted, ...)")
    ap.add_argument("--stamps", type=Path, help="stamp file of the SDSS galaxies (image-cnn)")
    ap.add_argument("--net", type=json.loads, default=None, help="network parameters, JSON")
    ap.add_argument("--out", type=Path, help="result file (default: by base and labels)")
    ap.add_argument(
        "--summarise", type=Path, nargs="+", help="only print the table of these JSON files"
    )
    args = ap.parse_args()
    if args.summarise:
        runs = [r for f in args.summarise for r in json.loads(f.read_text())["runs"]]
        print(summary_markdown({"runs": runs}))
        return
    header = result_header()
    net = args.net or {}
    train, test = sdss_split(args.data, stamps=args.stamps)
    z = test.require_z()
    runs = []
    for seed in map(int, args.seeds.split(",")):
        t0 = time.perf_counter()
        plain = zphot.get_estimator(
            args.base, **({"n_ensemble": 1} | net), point="mode", random_state=seed
        )
        plain.fit(train)
        t_plain = time.perf_counter() - t0
        t0 = time.perf_counter()
        deb = DebiasedEstimator(
            base=args.base, base_params=net or None, labels=args.labels, random_state=seed
        )
        deb.fit(train)
        t_deb = time.perf_counter() - t0
        individual = deb.predict(test)
        bulk = deb.predict_bulk(test)
        pdf = deb.predict_pdf(test)
        run = {
            "seed": seed,
            "fit_seconds": {"plain": round(t_plain, 1), "debiased": round(t_deb, 1)},
            "info": deb.info_,
            "plain": curves(plain.predict(test), z),
            "step1": curves(deb.at_step(1).predict(test), z),
            "step2": curves(deb.at_step(2).predict(test), z),
            "step3": curves(deb.predict_raw(test), z),
            "individual_step3": curves(individual, z),
            "bulk_step4": curves(bulk, z),
            "pit_ks_plain": pit_ks(pit(plain.predict_pdf(test).probs, plain.grid_.edges, z)),
            "pit_ks_raw_step3": pit_ks(pit(deb.raw_pdf(test).probs, deb.grid_.edges, z)),
            "pit_ks_recalibrated": pit_ks(pit(pdf.probs, pdf.grid.edges, z)),
        }
        runs.append(run)
        print(json.dumps({k: v for k, v in run.items() if k != "info"}, default=float)[:2000])
        result = write_result(args, header, runs)  # after every seed: a stopped run keeps them
    print(summary_markdown(result))


def write_result(args: argparse.Namespace, header: dict, runs: list[dict]) -> dict:
    """Write the runs so far (after the date, command, revision and machine of ``header``)
    atomically; return them."""
    result = header | {"runs": runs}
    suffix = "" if args.labels == "soft" else f"_{args.labels}"
    write_json(args.out or RESULTS / f"sdss_debias_{args.base}{suffix}.json", result)
    return result


if __name__ == "__main__":
    main()
