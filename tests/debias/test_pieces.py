"""The numerical pieces of the bias correction, each against a known answer."""

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter1d

from zphot.debias.balance import balance_weights, balanced_subset, threshold_for_fraction
from zphot.debias.calibrate import (
    PITRecalibration,
    ResidualCalibration,
    SpecResidualCalibration,
)
from zphot.debias.labels import (
    fit_sigma1,
    fit_sigma_from_histograms,
    local_sigma2,
    shifted_labels,
    soft_labels,
)
from zphot.features.cells import MagnitudeCells
from zphot.metrics import pit, pit_ks
from zphot.pdf import PDFBatch, RedshiftGrid


def test_balanced_subset_caps_dense_cells_and_keeps_sparse_ones():
    rng = np.random.default_rng(1)
    z_bin = np.concatenate([np.zeros(500, int), np.ones(30, int), np.full(80, 2)])
    cell = rng.integers(0, 2, len(z_bin))
    rows, n_th = balanced_subset(z_bin, cell, n_th=50, random_state=3)
    for zb in range(3):
        for c in range(2):
            in_cell = (z_bin == zb) & (cell == c)
            kept = np.isin(np.flatnonzero(in_cell), rows).sum()
            assert kept == min(in_cell.sum(), 50)
    assert n_th == 50
    again, _ = balanced_subset(z_bin, cell, n_th=50, random_state=3)
    assert np.array_equal(rows, again)


def test_balance_weights_give_each_dense_cell_the_threshold_in_total():
    z_bin = np.concatenate([np.zeros(500, int), np.ones(30, int), np.full(80, 2)])
    cell = np.tile([0, 1], len(z_bin) // 2)
    w = balance_weights(z_bin, cell, n_th=50)
    for zb in range(3):
        for c in range(2):
            sel = (z_bin == zb) & (cell == c)
            assert w[sel].sum() == pytest.approx(min(sel.sum(), 50))
            assert np.ptp(w[sel]) == 0  # every galaxy of a cell counts the same
    assert w.max() == 1.0


def test_threshold_keeps_the_target_fraction():
    counts = np.array([1000, 300, 50, 5, 5])
    n_th = threshold_for_fraction(counts, 1 / 3)
    kept = np.minimum(counts, n_th).sum()
    assert kept >= counts.sum() / 3 > np.minimum(counts, n_th - 1).sum()


def test_cells_assign_every_galaxy_and_interlace():
    cells = MagnitudeCells(12.5, 18.0, 11, cells_per_head=2)
    c = cells.cell([10.0, 14.0, 25.0, np.nan])
    assert c.tolist() == [0, 3, 10, 10]
    member = cells.membership(np.arange(11))
    assert member.sum(axis=1).tolist() == [1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1]
    assert cells.head(np.arange(11)).tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5]


@pytest.mark.parametrize("sigma", [0.004, 0.012])
def test_soft_label_fit_recovers_a_known_blur(sigma):
    grid = RedshiftGrid(0.0, 0.4, 200)
    c = grid.centres
    p_photo = np.exp(-0.5 * ((c - 0.12) / 0.01) ** 2) + 0.5 * np.exp(
        -0.5 * ((c - 0.25) / 0.005) ** 2
    )
    p_spec = gaussian_filter1d(p_photo, sigma / grid.width, mode="constant")
    fitted = fit_sigma_from_histograms(p_photo, p_spec, grid.width)
    assert fitted == pytest.approx(sigma, rel=0.1)


def test_sigma1_from_samples():
    rng = np.random.default_rng(0)
    grid = RedshiftGrid(0.0, 0.5, 250)
    z_photo = rng.gamma(4, 0.03, 200_000)
    z_spec = z_photo + rng.normal(0, 0.015, z_photo.size)
    assert fit_sigma1(z_photo, z_spec, grid) == pytest.approx(0.015, rel=0.1)


def test_sigma2_is_robust_to_outliers():
    rng = np.random.default_rng(0)
    grid = RedshiftGrid(0.0, 0.4, 40)
    z_spec = rng.uniform(0, 0.4, 40_000)
    resid = rng.normal(0, 0.01, z_spec.size)
    resid[:2000] = rng.uniform(-0.2, 0.2, 2000)  # 5% catastrophic outliers
    s2 = local_sigma2(z_spec + resid, z_spec, grid, sigma1=0.0)
    assert np.allclose(s2[5:-5], 0.0107, atol=0.0015)  # MAD of the mixture, not its std (0.02)


def test_label_shift_is_zero_in_a_flat_middle_and_outward_at_an_edge():
    grid = RedshiftGrid(-0.2, 0.6, 400)
    density = ((grid.centres >= 0) & (grid.centres <= 0.4)).astype(float)
    z_spec = np.array([0.2, 0.005, 0.395])
    z_ad = shifted_labels(z_spec, density, np.full(3, 0.02), grid)
    assert z_ad[0] == pytest.approx(0.2, abs=1e-6)
    assert z_ad[1] < z_spec[1] - 0.005  # pushed below the lower edge
    assert z_ad[2] > z_spec[2] + 0.005  # pushed above the upper edge


def test_soft_labels_are_normalised_gaussians():
    grid = RedshiftGrid(0.0, 1.0, 100)
    p = soft_labels(np.array([0.5, 2.0]), 0.05, grid)
    assert np.allclose(p.sum(axis=1), 1)
    assert (p[0] @ grid.centres) == pytest.approx(0.5, abs=1e-3)
    assert p[1].argmax() == 99  # beyond the grid: all mass in the last bin


def test_step4_removes_an_injected_residual():
    rng = np.random.default_rng(2)
    n = 60_000
    z_spec = rng.uniform(0.02, 0.3, n)
    cell = rng.integers(0, 3, n)
    z_photo = z_spec + rng.normal(0, 0.01, n)
    injected = 0.01 * (cell - 1) + 0.05 * (z_photo - 0.15)
    biased = z_photo + injected
    cal = ResidualCalibration(bin_width=0.01).fit(biased, z_spec, cell, n_cells=3)
    fixed = cal.apply(biased, cell)
    bins = np.floor(fixed / 0.02).astype(int)
    for c in range(3):
        for b in np.unique(bins[(fixed > 0.04) & (fixed < 0.28)]):
            sel = (cell == c) & (bins == b)
            if sel.sum() > 300:
                assert abs(np.mean(fixed[sel] - z_spec[sel])) < 0.002
    before = np.abs(np.mean((biased - z_spec)[cell == 2]))
    assert before > 0.008


def test_pit_recalibration_fixes_overconfident_pdfs():
    rng = np.random.default_rng(0)
    grid = RedshiftGrid(-0.5, 1.5, 400)
    n = 4000
    z_true = rng.uniform(0.2, 0.8, n)
    centre = z_true + rng.normal(0, 0.05, n)  # real scatter 0.05, PDFs claim 0.02
    probs = np.exp(-0.5 * ((grid.centres - centre[:, None]) / 0.02) ** 2)
    pdf = PDFBatch.normalised(probs, grid)
    before = pit_ks(pit(pdf.probs, grid.edges, z_true))
    half = n // 2
    rec = PITRecalibration().fit(pit(pdf.probs[:half], grid.edges, z_true[:half]))
    after_pdf = rec.apply(pdf.take(np.arange(half, n)))
    after = pit_ks(pit(after_pdf.probs, grid.edges, z_true[half:]))
    assert before > 0.2 and after < 0.04
    assert np.allclose(after_pdf.probs.sum(axis=1), 1)


def _regressed(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """An estimator pulled toward the middle of the range, as a finite-precision one is."""
    rng = np.random.default_rng(seed)
    z_spec = rng.uniform(0.02, 0.3, n)
    return 0.16 + 0.85 * (z_spec - 0.16) + rng.normal(0, 0.01, n), z_spec


def _max_binned_dz(z_photo: np.ndarray, z_spec: np.ndarray) -> float:
    d = (z_photo - z_spec) / (1 + z_spec)
    b = np.floor((z_spec - 0.02) / 0.02).astype(int)
    return max(abs(d[b == k].mean()) for k in range(14))


def test_spec_calibration_flattens_residuals_binned_by_z_spec():
    z_photo, z_spec = _regressed(20000, 0)
    test_photo, test_spec = _regressed(20000, 1)
    before = _max_binned_dz(test_photo, test_spec)
    assert before > 0.015
    gentle = SpecResidualCalibration(smoothing=30.0).fit(z_photo, z_spec)
    close = SpecResidualCalibration(smoothing=0.1).fit(z_photo, z_spec)
    after_gentle = _max_binned_dz(gentle.apply(test_photo), test_spec)
    after_close = _max_binned_dz(close.apply(test_photo), test_spec)
    assert after_close < 0.003
    # A larger penalty leaves more residual but stretches the estimates less.
    assert after_close < after_gentle < before / 2
    b = np.floor((test_spec - 0.02) / 0.02).astype(int)
    spread = [
        np.mean([np.std(c.apply(test_photo)[b == k]) for k in range(14)]) for c in (close, gentle)
    ]
    assert spread[0] > spread[1] > np.mean([np.std(test_photo[b == k]) for k in range(14)])


def test_spec_calibration_leaves_an_unbiased_estimator_alone():
    rng = np.random.default_rng(2)
    z_spec = rng.uniform(0.0, 0.4, 20000)
    z_photo = z_spec + rng.normal(0, 0.002, len(z_spec))
    cal = SpecResidualCalibration().fit(z_photo, z_spec)
    assert np.abs(cal.shift_).max() < 0.001
    again = SpecResidualCalibration.from_state(*cal.get_state())
    assert np.array_equal(again.apply(z_photo), cal.apply(z_photo))
