"""Templates, filter curves and synthetic photometry, against cases known by hand."""

from __future__ import annotations

import numpy as np
import pytest

from zphot.catalog import load_survey
from zphot.exceptions import FormatError, ParameterError
from zphot.sed import (
    SED,
    Filter,
    load_filter,
    load_sed,
    load_templates,
    madau_transmission,
    survey_filters,
    synthetic_fluxes,
    synthetic_magnitudes,
)

SDSS = [f"sdss2010-{b}" for b in "ugriz"]
C_ANGSTROM = 2.99792458e18


def flat_fnu(fnu_cgs: float = 3631e-23) -> SED:
    """A spectrum of constant f_nu (written as f_lambda = f_nu c / lambda^2)."""
    wl = np.geomspace(50.0, 40000.0, 5000)
    return SED("flat_fnu", wl, fnu_cgs * C_ANGSTROM / wl**2)


def test_flat_fnu_has_zero_colours_and_ab_zero_point():
    mags = synthetic_magnitudes(flat_fnu(), [load_filter(f) for f in SDSS], [0.0])[0, 0]
    np.testing.assert_allclose(mags, 0.0, atol=1e-4)  # 3631 Jy is AB magnitude 0
    # f_nu = 1 microJy is AB 23.9 in every band.
    mags = synthetic_magnitudes(flat_fnu(1e-29), [load_filter(f) for f in SDSS], [0.0])[0, 0]
    np.testing.assert_allclose(mags, 23.9, atol=1e-3)


def test_flat_fnu_stays_flat_when_redshifted_without_igm():
    filters = [load_filter(f) for f in SDSS]
    mags = synthetic_magnitudes(flat_fnu(), filters, [0.0, 0.5, 2.0], igm=False)[0]
    np.testing.assert_allclose(np.diff(mags, axis=1), 0.0, atol=1e-4)
    # Without distance dimming f_nu,obs(nu) = (1+z) f_nu(nu (1+z)): brighter by 2.5 log(1+z).
    expected = np.broadcast_to(-2.5 * np.log10([[1.0], [1.5], [3.0]]), mags.shape)
    np.testing.assert_allclose(mags, expected, atol=1e-4)


@pytest.mark.parametrize("amplitude", [0.1, 3.0, 1e4])
def test_amplitude_shifts_magnitudes_by_known_amount(amplitude):
    el = load_sed("El_B2004a")
    scaled = SED(el.name, el.wavelength, el.flux * amplitude)
    filters = [load_filter(f) for f in SDSS]
    z = [0.1, 0.7]
    delta = synthetic_magnitudes(scaled, filters, z) - synthetic_magnitudes(el, filters, z)
    np.testing.assert_allclose(delta, -2.5 * np.log10(amplitude), atol=1e-10)


def test_redshift_moves_break_redward():
    # A step at 4000 A: no flux bluewards. At z=0 the g band (~4000-5500 A) straddles it;
    # at z=0.5 the break sits at 6000 A, inside r, and g sees nothing.
    step = SED("step", [100.0, 3999.0, 4000.0, 40000.0], [0.0, 0.0, 1.0, 1.0])
    assert step.redshifted(0.5).wavelength[2] == pytest.approx(6000.0)
    g, r, i = (load_filter(f"sdss2010-{b}") for b in "gri")
    f = synthetic_fluxes(step, [g, r, i], [0.0, 0.25, 0.5, 1.0])[0]
    assert f[0, 0] > 0 and f[2, 0] == 0  # g loses all its flux once the break passes it
    assert f[0, 1] > f[2, 1] > 0  # r is partly cut at z=0.5
    assert f[3, 1] == 0 and f[3, 2] > 0  # at z=1 the break (8000 A) is past r, inside i
    gr = synthetic_magnitudes(step, [g, r], np.linspace(0.0, 0.3, 7))[0]
    assert np.all(np.diff(gr[:, 0] - gr[:, 1]) > 0)  # g-r reddens steadily


def test_igm_dims_only_bluewards_of_lyman_alpha():
    wl = np.array([800.0, 3000.0, 3647.0, 3649.0, 5000.0])
    t = madau_transmission(wl, [0.0, 2.0])
    assert np.all(t[0, 1:] == 1.0)  # nothing to absorb at z=0 above the Lyman limit
    assert t[1, 3] == 1.0 and t[1, 4] == 1.0  # redwards of 1216 A * 3 = 3648 A
    assert np.all(np.diff(t[1]) >= 0)  # transmission never recovers bluewards
    assert 0 < t[1, 1] < 1 and t[1, 0] < t[1, 1]


def test_filter_forms(tmp_path):
    speclite = load_filter("lsst2023-i")
    assert 7000 < speclite.pivot_wavelength < 8000
    hsc = load_filter("hsc2017-g")
    assert 4500 < hsc.pivot_wavelength < 5000
    bpz = load_filter("bpz:DC2LSST_r")
    assert 6000 < bpz.pivot_wavelength < 6500
    np.testing.assert_array_equal(load_filter("bpz:DC2LSST_r.res").response, bpz.response)
    path = tmp_path / "box.dat"
    path.write_text("# wavelength(A) throughput\n4000 0\n4001 1\n5000 1\n5001 0\n")
    box = load_filter(path)
    assert box.pivot_wavelength == pytest.approx(np.sqrt(4000.5 * 5000.5), rel=1e-3)
    assert load_filter(str(path)) == box


def test_filter_errors(tmp_path):
    with pytest.raises(ParameterError, match="unknown filter 'nosuch-r'"):
        load_filter("nosuch-r")
    with pytest.raises(ParameterError, match="desc-bpz has no FILTER file 'NOPE.res'"):
        load_filter("bpz:NOPE")
    with pytest.raises(ParameterError, match="no such filter file"):
        load_filter(tmp_path / "missing.dat")
    bad = tmp_path / "bad.dat"
    bad.write_text("4000 a\n5000 b\n")
    with pytest.raises(FormatError, match="two-column filter"):
        load_filter(bad)
    with pytest.raises(ParameterError, match="not all zero"):
        Filter("dark", [1.0, 2.0], [0.0, 0.0])


def test_survey_filters_follow_band_order():
    sdss = survey_filters(load_survey("sdss"), ("r", "u"))
    assert [f.name for f in sdss] == ["sdss2010-r", "sdss2010-u"]
    lsst = survey_filters(load_survey("lsst"))
    assert [f.name for f in lsst] == [f"bpz:DC2LSST_{b}" for b in "ugrizy"]


def test_templates_load_in_list_order_and_are_values():
    seds = load_templates()
    assert [s.name for s in seds] == [
        "El_B2004a",
        "Sbc_B2004a",
        "Scd_B2004a",
        "Im_B2004a",
        "SB3_B2004a",
        "SB2_B2004a",
        "ssp_25Myr_z008",
        "ssp_5Myr_z008",
    ]
    assert load_sed("El_B2004a") == seds[0] and hash(load_sed("El_B2004a")) == hash(seds[0])
    assert load_templates(["Sbc_B2004a", "El_B2004a"])[1] == seds[0]
    with pytest.raises(AttributeError):
        seds[0].name = "x"
    with pytest.raises(ValueError):
        seds[0].flux[0] = 1.0  # read-only samples
    with pytest.raises(ParameterError, match="no SED file 'nope.sed'"):
        load_sed("nope")


def test_sed_validation_and_coverage():
    with pytest.raises(ParameterError, match="must increase"):
        SED("x", [2.0, 1.0], [1.0, 1.0])
    with pytest.raises(ParameterError, match=">= 0"):
        SED("x", [1.0, 2.0], [1.0, -1.0])
    short = SED("short", [3000.0, 8000.0], [1.0, 1.0])
    with pytest.raises(ParameterError, match="covers 3000-8000 A"):
        synthetic_fluxes(short, load_filter("sdss2010-z"), [0.0])


def test_synthetic_fluxes_shape_and_chunking_invariance():
    seds = load_templates()[:3]
    filters = [load_filter(f) for f in SDSS]
    z = np.linspace(0.0, 3.0, 61)
    full = synthetic_fluxes(seds, filters, z)
    assert full.shape == (3, 61, 5) and np.all(full >= 0)
    np.testing.assert_array_equal(synthetic_fluxes(seds, filters, z[10:12]), full[:, 10:12])
