"""zphot's RAIL stages on the full DC2 test data: RAIL's pipeline against zphot's own CLI.

    python benchmarks/rail_dc2.py [--grids rail,zphot] [--out PATH]

For each grid, ``ZphotInformer`` trains the default mlp (seed 0) on pz-rail-base's DC2
training file (10,225 galaxies), ``ZphotEstimator`` writes the qp Ensemble of the validation
file (20,449) and RAIL's ``PointToPointEvaluator`` scores its ``zmode`` (sigma_MAD, computed
exactly). The same model file then goes through ``zphot predict --qp`` (the console script, in
a subprocess) and ``zphot.metrics`` scores that file's ``zmode``: the JSON records the largest
difference between the two sets of PDFs (bin probabilities) and both sigma_NMADs.

Grids: ``rail`` is RAIL's default (``zmin=0, zmax=3, nzbins=301``: 300 bins of 0.01), what a
RAIL user gets without options; ``zphot`` is zphot's own (``model_params={"grid": None}``: bins
of 0.002 up to 400 over the training redshifts), what ``zphot train`` uses.

Writes JSON (machine, date, git revision, command, results) to ``--out``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads: see sdss_networks.py

ROOT = Path(__file__).resolve().parents[1]
TRAIN = "examples_data/testdata/test_dc2_training_9816.hdf5"
TEST = "examples_data/testdata/test_dc2_validation_9816.hdf5"
GRIDS = {"rail": {}, "zphot": {"grid": None}}


def provenance(argv: list[str]) -> dict:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout

    import torch

    dirty = git("status", "--porcelain").strip()
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "git_revision": git("rev-parse", "--short", "HEAD").strip() + ("+dirty" if dirty else ""),
        "command": " ".join(["python", *argv]),
        "machine": {
            "cpus_visible": os.cpu_count(),
            "os": platform.platform(),
            "python": platform.python_version(),
            "torch": torch.__version__,
            "load_average_at_start": os.getloadavg(),
        },
    }


def rail_run(folder: Path, model_params: dict) -> dict:
    """Inform, estimate and evaluate through RAIL; the timings and RAIL's sigma_MAD of zmode."""
    import tables_io
    from rail.evaluation.point_to_point_evaluator import PointToPointEvaluator
    from rail.utils.path_utils import find_rail_file

    from rail.estimation.algos.zphot import ZphotEstimator, ZphotInformer

    train, test = tables_io.read(find_rail_file(TRAIN)), tables_io.read(find_rail_file(TEST))
    t0 = time.perf_counter()
    handle = ZphotInformer.make_stage(
        name="inform_zphot", model=str(folder / "mlp.zphot"), model_params=model_params, seed=0
    ).inform(train)
    t1 = time.perf_counter()
    ensemble = (
        ZphotEstimator.make_stage(
            name="estimate_zphot", model=handle, output=str(folder / "rail_pz.hdf5"), id_col="id"
        )
        .estimate(test)
        .data
    )
    t2 = time.perf_counter()
    summary = (
        PointToPointEvaluator.make_stage(
            name="evaluate_zphot",
            metrics=["point_stats_sigma_mad"],
            force_exact=True,
            output=str(folder / "eval.hdf5"),
            summary=str(folder / "summary.hdf5"),
            single_distribution_summary=str(folder / "single.hdf5"),
        )
        .evaluate(ensemble, test)["summary"]
        .data
    )
    return {
        "ensemble": ensemble,
        "inform_seconds": round(t1 - t0, 1),
        "estimate_seconds": round(t2 - t1, 1),
        "rail_sigma_mad_zmode": float(np.ravel(summary["point_stats_sigma_mad"])[0]),
    }


def cli_run(folder: Path) -> tuple[list[str], float]:
    """``zphot predict --qp`` of the informer's model file, as a user would type it."""
    from rail.utils.path_utils import find_rail_file

    command = [
        str(Path(sys.executable).with_name("zphot")),
        "predict",
        "--model",
        str(folder / "mlp.zphot"),
        "--catalog",
        find_rail_file(TEST),
        "--out",
        str(folder / "cli.parquet"),
        "--qp",
        str(folder / "cli_pz.hdf5"),
    ]
    t0 = time.perf_counter()
    subprocess.run(command, check=True)
    return command, time.perf_counter() - t0


def compare(grid: str, folder: Path) -> dict:
    import tables_io
    from rail.utils.path_utils import find_rail_file

    import zphot
    from zphot.metrics.point import outlier_fraction, sigma_nmad
    from zphot.pdf.qp import from_qp, read_qp

    rail = rail_run(folder, GRIDS[grid])
    command, cli_seconds = cli_run(folder)
    cli, ancil = read_qp(folder / "cli_pz.hdf5")
    ours = from_qp(rail.pop("ensemble"))
    truth = tables_io.read(find_rail_file(TEST))["photometry"]["redshift"]
    model = zphot.load(folder / "mlp.zphot")
    return {
        "grid": grid,
        "model": "mlp",
        "model_params": model.get_params(),
        "zphot_grid": model.grid_.to_dict(),
        "n_train": model.n_train_,
        "n_test": len(truth),
        **rail,
        "cli_command": " ".join(["zphot", *command[1:]]),
        "cli_seconds": round(cli_seconds, 1),
        "same_grid_edges": bool(np.array_equal(ours.grid.edges, cli.grid.edges)),
        "max_abs_prob_difference": float(np.abs(ours.probs - cli.probs).max()),
        "zphot_sigma_nmad_zmode": sigma_nmad(ancil["zmode"], truth),
        "zphot_sigma_nmad_zmedian": sigma_nmad(ancil["zmedian"], truth),
        "zphot_outliers_015_zmode": outlier_fraction(ancil["zmode"], truth),
    }


def main(argv: list[str]) -> None:
    from zphot.io.atomic import atomic_path

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grids", default="rail,zphot")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/rail_dc2.json")
    args = parser.parse_args(argv[1:])
    results = []
    for grid in args.grids.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            results.append(compare(grid, Path(tmp)))
        print(json.dumps(results[-1], indent=1, default=str))
    report = provenance(argv) | {"results": results}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(args.out, overwrite=True) as tmp:
        tmp.write_text(json.dumps(report, indent=1, default=str))


if __name__ == "__main__":
    main(sys.argv)
