"""Plant known bugs in a copy of the code and check that the test suite notices each one.

The bugs are the eight that an independent review planted (issue 23): each changes a definition
the package promises (the NMAD constant, the imputer's training rows, the coverage rule, the
crossmatch radius, z_err, the Step 4 recalibrations) without breaking anything that merely runs.
For every bug this script copies ``src/`` to a temporary folder, applies the one-line change
there, runs the tests that cover that module against the copy, and records whether they failed
("killed") or passed ("survived"). A surviving bug means the tests do not pin that definition.

    python benchmarks/mutants.py                       # the tests in this checkout
    python benchmarks/mutants.py --tests OTHER/tests   # another checkout's tests, same bugs
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from _common import RESULTS, ROOT, result_header, write_json


@dataclass(frozen=True)
class Mutant:
    name: str
    path: str  # under src/
    old: str
    new: str
    tests: tuple[str, ...]  # pytest arguments, relative to the tests folder


MUTANTS = (
    Mutant(
        "NMAD constant 1.4826 -> 1.5",
        "zphot/metrics/point.py",
        "NMAD_SCALE = 1.4826",
        "NMAD_SCALE = 1.5",
        ("metrics/test_point.py",),
    ),
    Mutant(
        "imputer learns colours from all rows",
        "zphot/catalog/impute.py",
        "np.diff(mags[complete], axis=1).mean(axis=0)",
        "np.nanmean(np.diff(mags, axis=1), axis=0)",
        ("catalog/test_impute.py",),
    ),
    Mutant(
        "coverage quantile 0.99 -> 1.0",
        "zphot/features/coverage.py",
        "quantile: float = 0.99",
        "quantile: float = 1.0",
        ("features/test_coverage.py",),
    ),
    Mutant(
        "coverage k + 1 -> k",
        "zphot/features/coverage.py",
        "k = min(self.k + 1, len(self.train_))",
        "k = min(self.k, len(self.train_))",
        ("features/test_coverage.py",),
    ),
    Mutant(
        "crossmatch radius x 1.5",
        "zphot/catalog/crossmatch.py",
        "within = sep_arcsec <= radius_arcsec",
        "within = sep_arcsec <= 1.5 * radius_arcsec",
        ("catalog/test_crossmatch.py",),
    ),
    Mutant(
        "z_err = hi - lo",
        "zphot/estimators/base.py",
        '"z_err": 0.5 * (hi - lo),',
        '"z_err": (hi - lo),',
        ("estimators/test_contract.py", "-k", "pdf_valid"),
    ),
    Mutant(
        "Step 4 PIT recalibration fitted on random numbers",
        "zphot/debias/estimator.py",
        "PITRecalibration().fit(pit_oof)",
        "PITRecalibration().fit(np.random.default_rng(0).uniform(size=len(pit_oof)))",
        ("debias/test_debiased.py",),
    ),
    Mutant(
        "z_spec calibration fitted on z + 0.05",
        "zphot/debias/estimator.py",
        ").fit(z_oof, z)",
        ").fit(z_oof, z + 0.05)",
        ("debias/test_debiased.py",),
    ),
)


def _plant(src: Path, mutant: Mutant) -> None:
    """Apply one mutant to the copy, refusing if the original line is not there exactly once."""
    path = src / mutant.path
    text = path.read_text()
    if text.count(mutant.old) != 1:
        raise SystemExit(f"{mutant.path}: {mutant.old!r} found {text.count(mutant.old)} times")
    path.write_text(text.replace(mutant.old, mutant.new))


def _run(mutant: Mutant, tests: Path) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        shutil.copytree(ROOT / "src", src, ignore=shutil.ignore_patterns("__pycache__"))
        _plant(src, mutant)
        env = {**os.environ, "PYTHONPATH": str(src), "OMP_NUM_THREADS": "1"}
        args = [str(tests / mutant.tests[0]), *mutant.tests[1:]]
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *args],
            env=env,
            capture_output=True,
            text=True,
            cwd=tmp,
        )
    summary = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr[-200:]
    return {
        "mutant": mutant.name,
        "killed": proc.returncode != 0,
        "pytest": summary,
        "seconds": round(time.perf_counter() - t0, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=Path, default=ROOT / "tests", help="tests folder to run")
    parser.add_argument("--out", type=Path, default=RESULTS / "mutants.json")
    args = parser.parse_args()
    rows = []
    for mutant in MUTANTS:
        row = _run(mutant, args.tests.resolve())
        print(f"{'killed  ' if row['killed'] else 'SURVIVED'} {row['mutant']}  ({row['pytest']})")
        rows.append(row)
    killed = sum(r["killed"] for r in rows)
    print(f"{killed} of {len(rows)} planted bugs make a test fail")
    write_json(args.out, {**result_header(), "tests": str(args.tests), "mutants": rows})


if __name__ == "__main__":
    main()
