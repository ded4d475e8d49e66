"""Rendering physics: fluxes, PSF width, and pixels independent of the process count."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("galsim")

import galsim  # noqa: E402

from zphot.catalog.survey import load_survey  # noqa: E402
from zphot.images.render import psf_profile, render_galaxy  # noqa: E402
from zphot.sim.mock import simulate_catalog  # noqa: E402


@pytest.fixture(scope="module")
def mock():
    return simulate_catalog(40, "sdss", seed=3)


@pytest.mark.parametrize("survey", ["sdss", "lsst", "hsc"])
def test_psf_fwhm_matches_setting(survey):
    obs = load_survey(survey).require_observing()
    for band in obs.bands:
        fwhm = obs.psf_fwhm[obs.band_index(band)]
        # Oversampled by 20 and drawn without the pixel response: the PSF itself.
        image = psf_profile(obs, band).drawImage(nx=400, ny=400, scale=fwhm / 20, method="no_pixel")
        measured = image.calculateFWHM()
        assert abs(measured / fwhm - 1) < 0.02, (survey, band, measured, fwhm)


def test_stamp_flux_matches_noiseless_and_catalog(mock):
    obs = load_survey("sdss").require_observing()
    for i in range(8):
        params = mock.iloc[i].to_dict()
        noisy = render_galaxy(params, obs, obs.bands, 64, seed=1, index=i)
        clean = render_galaxy(params, obs, obs.bands, 64, seed=1, index=i, noise=False)
        for k, band in enumerate(obs.bands):
            # Noise of the summed stamp: sky over all pixels plus the source's Poisson term.
            gain = obs.counts_per_nanomaggy(band)
            var = (obs.sky_counts(band) * noisy[k].size + gain * max(clean[k].sum(), 0)) / gain**2
            assert abs(noisy[k].sum() - clean[k].sum()) < 5 * np.sqrt(var), (i, band)
            # The noiseless stamp holds the catalog flux minus what falls outside it.
            total = params[f"flux_bulge_{band}"] + params[f"flux_disk_{band}"]
            captured = clean[k].sum() / total
            assert 0.0 < captured <= 1.0 + 1e-3, (i, band, captured)
            big = render_galaxy(params, obs, (band,), 256, seed=1, index=i, noise=False)
            assert big.sum() / total == pytest.approx(1.0, abs=0.01), (i, band)


def test_small_stamps_lose_flux_of_large_galaxies(mock):
    """The pitfall the issue names: a 32 px SDSS stamp misses part of a big galaxy."""
    obs = load_survey("sdss").require_observing()
    i = int(np.argmax(mock["r_disk"].to_numpy()))
    params = mock.iloc[i].to_dict()
    s32 = render_galaxy(params, obs, ("r",), 32, seed=0, index=i, noise=False).sum()
    s64 = render_galaxy(params, obs, ("r",), 64, seed=0, index=i, noise=False).sum()
    assert s32 < s64


def test_render_is_seeded_per_galaxy(mock):
    obs = load_survey("sdss").require_observing()
    params = mock.iloc[0].to_dict()
    a = render_galaxy(params, obs, obs.bands, 32, seed=7, index=0)
    b = render_galaxy(params, obs, obs.bands, 32, seed=7, index=0)
    c = render_galaxy(params, obs, obs.bands, 32, seed=7, index=1)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_moffat_is_galsim_moffat():
    obs = load_survey("lsst").require_observing()
    psf = psf_profile(obs, "r")
    assert isinstance(psf, galsim.Moffat)
    assert psf.beta == obs.moffat_beta
