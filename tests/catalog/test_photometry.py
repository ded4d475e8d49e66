"""Flux <-> AB magnitude conversions and missing values, against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from astropy import units as u

from zphot.catalog import clean_magnitudes, flux_err_to_mag_err, flux_to_mag, mag_to_flux
from zphot.catalog.photometry import parse_unit
from zphot.exceptions import ParameterError

# m_AB = -2.5 log10(f / 3631 Jy); astropy's zero point is 10**(-0.4 * 48.6) erg/s/cm2/Hz
# = 3630.78 Jy, so "3631 Jy = 0 mag" holds to 7e-5 mag.
AB_TOL = 1e-4


def test_zero_point_is_zero_mag():
    assert flux_to_mag([3631.0], "Jy")[0] == pytest.approx(0.0, abs=AB_TOL)
    assert flux_to_mag([3631e9], "nJy")[0] == pytest.approx(0.0, abs=AB_TOL)


def test_one_nanojansky_is_31_4():
    # 2.5 * log10(3631e9) = 31.40007
    assert flux_to_mag([1.0], "nJy")[0] == pytest.approx(31.4, abs=AB_TOL)
    assert flux_to_mag([1.0])[0] == pytest.approx(31.4, abs=AB_TOL)  # nJy is the default


def test_factor_of_100_is_five_magnitudes():
    m = flux_to_mag([1.0, 100.0, 1e4], "uJy")
    np.testing.assert_allclose(np.diff(m), [-5.0, -5.0], atol=1e-12)
    assert m[0] == pytest.approx(23.9, abs=AB_TOL)  # 1 uJy = 23.9 AB


def test_nanomaggy_is_22_5():
    # SDSS: 1 nanomaggy is 1e-9 of the AB zero point, i.e. exactly 22.5 mag.
    for name in ("nanomaggy", "nanomaggies", "nmgy", "NMGY"):
        assert flux_to_mag([1.0], name)[0] == pytest.approx(22.5, abs=1e-12)
    assert flux_to_mag([1e9], "nanomaggy")[0] == pytest.approx(0.0, abs=1e-12)
    assert mag_to_flux([22.5], "nanomaggy")[0] == pytest.approx(1.0, rel=1e-12)


def test_mag_to_flux_inverts_flux_to_mag():
    flux = np.array([0.5, 12.0, 3.7e4, 1e7])
    np.testing.assert_allclose(mag_to_flux(flux_to_mag(flux, "nJy"), "nJy"), flux, rtol=1e-12)
    assert mag_to_flux([0.0], "Jy")[0] == pytest.approx(3631.0, rel=1e-4)
    assert np.isnan(mag_to_flux([np.nan])[0])


def test_astropy_unit_objects_are_accepted():
    assert flux_to_mag([1.0], u.uJy)[0] == pytest.approx(23.9, abs=AB_TOL)
    assert parse_unit(u.nJy) is u.nJy


@pytest.mark.parametrize("flux", [0.0, -5.0, np.nan, np.inf, -np.inf])
def test_non_detections_are_nan(flux):
    out = flux_to_mag([flux, 1.0], "nJy")
    assert np.isnan(out[0])
    assert np.isfinite(out[1])


def test_shape_is_kept():
    out = flux_to_mag(np.array([[1.0, -1.0], [10.0, 100.0]]))
    assert out.shape == (2, 2)
    assert np.isnan(out[0, 1])


def test_bad_units_are_parameter_errors():
    with pytest.raises(ParameterError, match="unknown flux unit 'bogus'"):
        flux_to_mag([1.0], "bogus")
    with pytest.raises(ParameterError, match="not a flux density"):
        flux_to_mag([1.0], "erg")


def test_flux_error_to_mag_error():
    # sigma_m = 2.5 / ln(10) * sigma_f / f: a 10% flux error is 0.10857 mag.
    out = flux_err_to_mag_err([100.0, 50.0, 0.0, -1.0, np.nan], [10.0, -5.0, 1.0, 1.0, 1.0])
    k = 2.5 / math.log(10.0)
    np.testing.assert_allclose(out[:2], [0.1 * k, 0.1 * k], rtol=1e-14)
    assert out[0] == pytest.approx(0.108574, abs=1e-6)
    assert np.isnan(out[2:]).all()


def test_sentinels_and_non_finite_become_nan():
    m = clean_magnitudes([99.0, -99.0, 20.0, np.inf, -np.inf, np.nan, -9999.0, 0.0])
    assert np.isnan(m[[0, 1, 3, 4, 5]]).all()
    assert m[[2, 6, 7]].tolist() == [20.0, -9999.0, 0.0]
    custom = clean_magnitudes([-9999.0, 99.0], sentinels=(-9999.0,))
    assert np.isnan(custom[0])
    assert custom[1] == 99.0


def test_clean_magnitudes_copies_its_input():
    raw = np.array([99.0, 20.0])
    clean_magnitudes(raw)
    assert raw.tolist() == [99.0, 20.0]
