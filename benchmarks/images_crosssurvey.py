"""Cross-survey degradation and remedies (issue 9): a model trained on the LSST mock applied to
the same galaxies observed by HSC.

    python benchmarks/images_crosssurvey.py [--n 30000] [--seed 1]

Equivalent mocks from the CLI: ``zphot simulate catalog --survey lsst --n 30000 --seed 1 --out
lsst.parquet`` and the same with ``--survey hsc``: one seed, the same galaxies (redshift, type,
structure), observed through each survey's filters with its depth. Bands g r i z y (HSC has no
u). Halves by row: first half trains, second half tests. LightGBM (zphot ``lgbm``, defaults) is
trained on LSST grizy and evaluated on

- ``lsst``: the LSST test half (the model's own survey);
- ``hsc_naive``: the HSC test half, magnitudes used as if they were LSST's (the first users'
  worry: same band names, other filters);
- ``hsc_transformed`` (remedy 1): HSC magnitudes mapped to LSST filters with a
  :class:`zphot.sim.transform.ColourTransform` fitted on the noiseless mock photometry of the
  training half through both filter sets;
- ``noiseless_*``: the same three on the test half's noiseless magnitudes, which isolates
  the filter mismatch from HSC's shallower depth;
- ``hsc_retrained`` (remedy 2): a model retrained on the HSC mock's training half (mock
  photometry through the target filters) -- the reference for what HSC data allow.

Writes benchmarks/results/images_crosssurvey.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import os

import numpy as np
from _common import RESULTS, result_header, write_json

BANDS = ("g", "r", "i", "z", "y")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=30000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    header = result_header()

    import zphot
    from zphot.catalog import Catalog, load_survey
    from zphot.metrics import point_metrics
    from zphot.sim.mock import simulate_catalog
    from zphot.sim.transform import ColourTransform

    lsst_s = load_survey("lsst")
    lsst_s = dataclasses.replace(lsst_s, bands=tuple(b for b in lsst_s.bands if b.name in BANDS))
    hsc_s = load_survey("hsc")
    lsst = simulate_catalog(args.n, "lsst", args.seed)
    hsc = simulate_catalog(args.n, "hsc", args.seed)
    half = args.n // 2
    lsst_cat, hsc_cat = Catalog(lsst, lsst_s), Catalog(hsc, hsc_s)
    l_tr, l_te = lsst_cat.take(np.arange(half)), lsst_cat.take(np.arange(half, args.n))
    h_tr, h_te = hsc_cat.take(np.arange(half)), hsc_cat.take(np.arange(half, args.n))
    z_te = l_te.require_z()

    def as_lsst(mags: np.ndarray) -> Catalog:
        table = l_te.table.copy()
        for k, b in enumerate(BANDS):
            table[lsst_s.band(b).mag] = mags[:, k]
        return Catalog(table, lsst_s, source="hsc-as-lsst")

    model = zphot.get_estimator("lgbm", random_state=0).fit(l_tr)
    results = {}
    results["lsst"] = point_metrics(model.predict(l_te), z_te)
    h_mags = h_te.magnitudes(BANDS)
    results["hsc_naive"] = point_metrics(model.predict(as_lsst(h_mags)), z_te)
    true_l = lsst.iloc[:half][[f"mag_true_{b}" for b in BANDS]].to_numpy()
    true_h = hsc.iloc[:half][[f"mag_true_{b}" for b in BANDS]].to_numpy()
    transform = ColourTransform().fit(true_h, true_l)
    results["hsc_transformed"] = point_metrics(
        model.predict(as_lsst(transform.transform(h_mags))), z_te
    )
    # The filter effect alone: noiseless magnitudes of the test half through each filter set.
    te_true_l = lsst.iloc[half:][[f"mag_true_{b}" for b in BANDS]].to_numpy()
    te_true_h = hsc.iloc[half:][[f"mag_true_{b}" for b in BANDS]].to_numpy()
    results["noiseless_lsst"] = point_metrics(model.predict(as_lsst(te_true_l)), z_te)
    results["noiseless_hsc_naive"] = point_metrics(model.predict(as_lsst(te_true_h)), z_te)
    results["noiseless_hsc_transformed"] = point_metrics(
        model.predict(as_lsst(transform.transform(te_true_h))), z_te
    )
    retrained = zphot.get_estimator("lgbm", random_state=0).fit(h_tr)
    results["hsc_retrained"] = point_metrics(retrained.predict(h_te), z_te)
    out = {
        "date": header["date"],
        "git": header["git_revision"],
        "command": header["command"],
        "machine": header["machine"],
        "load_average": os.getloadavg(),
        "n_train": half,
        "n_test": args.n - half,
        "results": results,
    }
    write_json(RESULTS / "images_crosssurvey.json", out)
    for k, v in results.items():
        print(
            f"{k:16s} sigma_nmad {v['sigma_nmad']:.4f}  outliers(0.15) {v['outlier_015']:.4f}"
            f"  bias {v['bias']:+.4f}"
        )


if __name__ == "__main__":
    main()
