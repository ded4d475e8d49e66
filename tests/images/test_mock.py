"""Mock catalogs: same galaxies through two filter sets, literature relations, seeds."""

from __future__ import annotations

import numpy as np
import pytest

import zphot
from zphot.sim.mock import simulate_catalog
from zphot.sim.population import shen2003_r50


@pytest.fixture(scope="module")
def lsst_hsc():
    return simulate_catalog(400, "lsst", seed=5), simulate_catalog(400, "hsc", seed=5)


def test_same_galaxies_through_lsst_and_hsc(lsst_hsc):
    lsst, hsc = lsst_hsc
    for col in ("redshift", "type", "bulge_fraction", "r_disk", "r_bulge", "beta"):
        np.testing.assert_array_equal(lsst[col].to_numpy(), hsc[col].to_numpy())
    # Different filters: the g magnitudes differ, but by little (similar passbands).
    dg = lsst["mag_true_g"] - hsc["mag_true_g"]
    assert 0 < dg.abs().median() < 0.2


def test_catalog_reads_with_the_preset(lsst_hsc, tmp_path):
    _, hsc = lsst_hsc
    path = tmp_path / "hsc.parquet"
    zphot.io.write_table(hsc, path)
    cat = zphot.read_catalog(path, "hsc")
    assert cat.bands == ("g", "r", "i", "z", "y")
    assert np.isfinite(cat.mags[:, 2]).mean() > 0.95  # i is the selection band


def test_bulges_are_redder_than_disks(lsst_hsc):
    lsst, _ = lsst_hsc
    spiral = lsst["type_name"].isin(["Sbc", "Scd"]) & (lsst["redshift"] < 1)
    b = -2.5 * np.log10(lsst["flux_bulge_g"] / lsst["flux_bulge_i"])
    d = -2.5 * np.log10(lsst["flux_disk_g"] / lsst["flux_disk_i"])
    assert (b[spiral] > d[spiral]).mean() > 0.95


def test_seed_reproducible_and_sdss_selection():
    a = simulate_catalog(100, "sdss", seed=1)
    b = simulate_catalog(100, "sdss", seed=1)
    c = simulate_catalog(100, "sdss", seed=2)
    assert a.equals(b) and not a.equals(c)
    assert (a["mag_true_r"] <= 17.77 + 1e-6).all()


def test_shen_relation_median_and_scatter():
    rng = np.random.default_rng(0)
    m = np.full(20000, -21.0)
    late = shen2003_r50(m, np.zeros(len(m), bool), rng)
    early = shen2003_r50(m, np.ones(len(m), bool), rng)
    # log R = -0.4*0.21*M + 0.32*log10(1 + 10^(-0.4(M+20.52))) - 1.31 at M = -21: 3.84 kpc.
    assert np.median(late) == pytest.approx(3.84, rel=0.03)
    assert np.median(early) == pytest.approx(10 ** (0.24 * 21 - 4.63), rel=0.03)
    sigma = 0.25 + (0.48 - 0.25) / (1 + 10 ** (-0.8 * (-21 + 20.52)))
    assert np.std(np.log(late)) == pytest.approx(sigma, rel=0.05)


def test_colour_transform_maps_hsc_to_lsst(lsst_hsc):
    from zphot.sim.transform import ColourTransform

    lsst, hsc = lsst_hsc
    cols = [f"mag_true_{b}" for b in "grizy"]
    src, dst = hsc[cols].to_numpy()[:200], lsst[cols].to_numpy()[:200]
    t = ColourTransform().fit(src, dst)
    test_src, test_dst = hsc[cols].to_numpy()[200:], lsst[cols].to_numpy()[200:]
    before = np.abs(test_src - test_dst).mean()
    after = np.abs(t.transform(test_src) - test_dst).mean()
    assert after < 0.5 * before
