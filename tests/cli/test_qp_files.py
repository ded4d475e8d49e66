"""``zphot evaluate`` and ``zphot info`` on qp Ensemble files written by qp's own writer."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from cli_helpers import one_error_line, zphot

qp = pytest.importorskip("qp")

EDGES = np.linspace(0.0, 1.0, 5)  # four bins of width 0.25
TRUTH = np.array([0.125, 0.375, 0.625, 0.875])  # the centre of bin k for object k
ZMODE = TRUTH + 0.01 * (1 + TRUTH)  # dz = (zmode - z) / (1 + z) = 0.01 for every object


def _metrics(stdout: str) -> dict[str, float]:
    """The metric table printed by zphot evaluate, as numbers."""
    rows = re.findall(r"│\s*(\w+)\s*│\s*([-\d.,]+)\s*│", stdout)
    return {name: float(value.replace(",", "")) for name, value in rows}


def _ensemble(ancil: dict | None):
    """Object k puts all its probability in bin k: density 1 / 0.25 = 4 there, 0 elsewhere."""
    return qp.hist.create_ensemble(bins=EDGES, pdfs=4.0 * np.eye(4), ancil=ancil)


@pytest.fixture
def qp_file(tmp_path):
    path = tmp_path / "rail.hdf5"
    _ensemble({"redshift": TRUTH, "zmode": ZMODE, "id": np.arange(4) + 100}).write_to(str(path))
    return path


def test_evaluate_scores_a_qp_file_from_qps_own_writer(qp_file):
    result = zphot("evaluate", "--predictions", qp_file)
    assert result.exit_code == 0, result.output
    got = _metrics(result.stdout)
    assert got["n"] == 4
    # Point metrics of zmode against the ancil "redshift": every dz is 0.01.
    assert got["mean_dz"] == pytest.approx(0.01, abs=1e-5)
    assert got["std_dz"] == pytest.approx(0.0, abs=1e-5)
    assert got["mse"] == pytest.approx(np.mean((0.01 * (1 + TRUTH)) ** 2), abs=1e-5)
    # Each truth sits mid-way through a uniform PDF of width w = 0.25: PIT = 0.5 for all, so
    # the KS distance to U(0, 1) is 0.5; CRPS of a uniform at its centre is w / 12; the truth
    # is always inside the 68% and 95% HDI.
    assert got["pit_ks"] == pytest.approx(0.5, abs=1e-5)
    assert got["crps"] == pytest.approx(0.25 / 12, abs=1e-5)
    assert got["hdi68"] == 1.0 and got["hdi95"] == 1.0


def test_evaluate_qp_truth_from_a_catalog_and_mode_from_the_pdfs(tmp_path):
    path = tmp_path / "pz.hdf5"
    _ensemble({"id": np.array([7, 5, 3, 1])}).write_to(str(path))
    truth = tmp_path / "truth.csv"
    # Rows in another order than the ensemble's: matched by id, not position.
    pd.DataFrame({"id": [1, 3, 5, 7], "z_spec": TRUTH[::-1]}).to_csv(truth, index=False)
    result = zphot("evaluate", "--predictions", path, "--truth", truth, "--id-column", "id")
    assert result.exit_code == 0, result.output
    got = _metrics(result.stdout)
    # Without a zmode ancil the estimate is the PDFs' mode: the centre of bin k, the truth.
    assert got["n"] == 4 and got["mse"] == pytest.approx(0.0, abs=1e-9)
    # row order: reversed truths
    by_order = zphot("evaluate", "--predictions", path, "--truth", truth)
    assert by_order.exit_code == 0 and _metrics(by_order.stdout)["mse"] > 0.1


def test_evaluate_qp_without_truth_says_how_to_give_it(tmp_path):
    path = tmp_path / "pz.hdf5"
    _ensemble({"zmode": ZMODE}).write_to(str(path))
    result = zphot("evaluate", "--predictions", path)
    assert result.exit_code == 1
    line = one_error_line(result)
    assert "pz.hdf5: column 'z_spec or redshift" in line and "--truth CATALOG" in line
    assert "key=" not in line


def test_evaluate_interp_pdfs_on_their_own_points(tmp_path):
    path = tmp_path / "interp.hdf5"
    x = np.linspace(0.0, 1.0, 11)
    ens = qp.interp.create_ensemble(xvals=x, yvals=np.ones((4, 11)), ancil={"redshift": TRUTH})
    ens.write_to(str(path))
    result = zphot("evaluate", "--predictions", path)
    assert result.exit_code == 0, result.output
    got = _metrics(result.stdout)["crps"]
    # Scored on the grid of the file's own 11 points (10 bins on [0, 1]) ...
    from zphot.metrics import pdf_metrics
    from zphot.pdf.grid import RedshiftGrid
    from zphot.pdf.qp import from_qp

    batch = from_qp(ens, RedshiftGrid(0.0, 1.0, 10))
    assert got == pytest.approx(pdf_metrics(batch.probs, batch.grid.edges, TRUTH)["crps"], abs=1e-5)
    # ... close to a flat PDF on [0, 1], whose CRPS is z^3/3 + (1 - z)^3/3 for truth z (qp's
    # interp CDF is not exactly linear at the ends: 0.05 at z = 0).
    assert got == pytest.approx(np.mean(TRUTH**3 / 3 + (1 - TRUTH) ** 3 / 3), abs=2e-3)


def test_info_describes_a_qp_file(qp_file):
    result = zphot("info", "--catalog", qp_file)
    assert result.exit_code == 0, result.output
    assert "PDFs: 4 on 4 bins, z 0 .. 1" in result.stdout
    assert "zmode" in result.stdout and "redshift" in result.stdout
