"""Out-of-coverage flags on the real SDSS sample: quasars vs test galaxies.

    python benchmarks/sdss_coverage.py [--data PATH] [--model knn]

A model trained on the public split's galaxies (default_rng(42) permutation, first 70%) flags
the SDSS quasars (spec_class QSO) and the held-out test galaxies; the issue asks for at least 40%
of quasars and at most 2% of test galaxies. Writes benchmarks/results/sdss_coverage.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import subprocess
from pathlib import Path

import zphot
from zphot.catalog import select, train_test

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared/data/sdss_galaxy_colors.npy"))
    ap.add_argument("--model", default="knn")
    args = ap.parse_args()
    cat = zphot.read_catalog(args.data, "sdss")
    train, test = train_test(select(cat, "spec_class", "GALAXY"), 0.7, seed=42)
    quasars = select(cat, "spec_class", "QSO")
    est = zphot.get_estimator(args.model).fit(train)
    result = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": f"python benchmarks/sdss_coverage.py --model {args.model}",
        "git_revision": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip(),
        "machine": {"platform": platform.platform(), "python": platform.python_version()},
        "rule": "10th-neighbour distance (standardised r + colours) > training 99th percentile",
        "quasars_flagged": float(est.out_of_coverage(quasars).mean()),
        "test_galaxies_flagged": float(est.out_of_coverage(test).mean()),
        "n_quasars": len(quasars),
        "n_test_galaxies": len(test),
    }
    out = ROOT / "benchmarks/results/sdss_coverage.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
