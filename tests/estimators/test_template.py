"""TemplateFitEstimator on catalogs made from its own templates, where the answer is known."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

import zphot
from zphot.catalog import Catalog, load_survey
from zphot.estimators.template import BPZ_HDFN_PRIOR, TemplateFitEstimator, _fit_prior
from zphot.exceptions import ParameterError
from zphot.metrics import point_metrics
from zphot.sed import SED, load_filter, load_templates, survey_filters, synthetic_magnitudes

GRID = (0.0, 1.2, 240)
# A noiseless template galaxy would be recovered exactly; with 0.02 mag of noise in ugriz the
# CWW set's colour degeneracies leave a scatter of about 0.01 in dz/(1+z).
TOLERANCE = 0.02


def template_catalog(n: int, seed: int, mag_noise: float = 0.02, bump: float = 0.0) -> Catalog:
    """Galaxies drawn from the CWWSB4 templates at known z, through the SDSS filters; with
    ``bump``, every template first gains a Gaussian bump of that relative height at 3500 A."""
    rng = np.random.default_rng(seed)
    survey = load_survey("sdss")
    z = rng.uniform(0.05, 1.0, n)
    t = rng.integers(0, 8, n)
    seds = [
        SED(
            s.name,
            s.wavelength,
            s.flux * (1 + bump * np.exp(-0.5 * ((s.wavelength - 3500) / 400) ** 2)),
        )
        for s in load_templates()
    ]
    table = synthetic_magnitudes(seds, survey_filters(survey), z)  # (T, n, B)
    mags = table[t, np.arange(n)]
    mags += rng.uniform(16.0, 19.0, n)[:, None] - mags[:, [2]]  # r in [16, 19]
    mags += rng.normal(0.0, mag_noise, mags.shape)
    frame = pd.DataFrame(mags, columns=list("ugriz")).assign(redshift=z)
    return Catalog(frame, survey, source="<templates>")


@pytest.fixture(scope="module")
def train() -> Catalog:
    return template_catalog(300, seed=1)


@pytest.fixture(scope="module")
def test_cat() -> Catalog:
    return template_catalog(300, seed=2)


@pytest.fixture(scope="module")
def fitted(train: Catalog) -> TemplateFitEstimator:
    return TemplateFitEstimator(grid=GRID, prior="none").fit(train)


def test_recovers_redshift_of_template_galaxies(fitted, test_cat):
    m = point_metrics(fitted.predict(test_cat), test_cat.z)
    assert m["sigma_nmad"] < TOLERANCE
    assert m["outlier_015"] < 0.05
    pdf = fitted.predict_pdf(test_cat)
    assert np.all(np.isfinite(pdf.probs)) and np.allclose(pdf.probs.sum(axis=1), 1.0)


def test_zero_points_are_near_zero_for_calibrated_data(fitted):
    # The catalog comes from the same templates and filters: nothing to correct.
    assert np.all(np.abs(fitted.zp_offsets_) < 0.01)
    assert fitted.zp_offsets_[fitted.bands_.index("r")] == 0.0  # anchored on the reference band


def test_zero_points_recover_an_injected_offset(train, test_cat):
    shifted = train.with_magnitudes(train.mags + np.array([0.0, 0.1, 0.0, 0.0, 0.0]))
    est = TemplateFitEstimator(grid=GRID, prior="none").fit(shifted)
    # Observed g is 0.1 mag too faint: the correction brightens it back.
    assert est.zp_offsets_[1] == pytest.approx(-0.1, abs=0.02)
    shifted_test = test_cat.with_magnitudes(test_cat.mags + np.array([0, 0.1, 0, 0, 0]))
    calibrated = point_metrics(est.predict(shifted_test), test_cat.z)["sigma_nmad"]
    raw = TemplateFitEstimator(grid=GRID, prior="none", zero_points=False).fit(shifted)
    assert calibrated < point_metrics(raw.predict(shifted_test), test_cat.z)["sigma_nmad"]


def test_template_correction_learns_a_distortion():
    # The "real" galaxies have 40% more flux than the templates around 3500 A rest frame: a
    # feature that crosses u, g and r as z grows, so zero points alone cannot absorb it.
    bumped = template_catalog(600, seed=4, bump=0.4)
    bumped_test = template_catalog(300, seed=2, bump=0.4)
    params = {"grid": GRID, "prior": "none", "n_interp": 1}
    raw = TemplateFitEstimator(template_correction=0, **params).fit(bumped)
    fixed = TemplateFitEstimator(template_correction=3, **params).fit(bumped)
    before = point_metrics(raw.predict(bumped_test), bumped_test.z)["sigma_nmad"]
    after = point_metrics(fixed.predict(bumped_test), bumped_test.z)["sigma_nmad"]
    assert after < 0.75 * before
    knots = fixed.correction_wavelengths_
    u_pivot = load_filter("sdss2010-u").pivot_wavelength
    assert knots[0] == pytest.approx(u_pivot / (1 + bumped.z.max()))  # u at the highest z
    peak = knots[np.argmax(fixed.template_corrections_, axis=1)]
    assert np.median(peak) == pytest.approx(3500, rel=0.1)  # found where it was put


def test_missing_band_drops_out(fitted, train, test_cat):
    mags = test_cat.mags.copy()
    mags[::2, 0] = np.nan  # u missing for half the galaxies
    holed = test_cat.with_magnitudes(mags)
    pdf = fitted.predict_pdf(holed)
    assert np.all(np.isfinite(pdf.probs))
    m = point_metrics(pdf.point("median")[::2], test_cat.z[::2])
    assert m["sigma_nmad"] < 2 * TOLERANCE  # u carries the 4000 A break at low z
    # A missing band contributes nothing: the PDF equals that of a fit without the band.
    griz = dataclasses.replace(holed.survey, bands=holed.survey.bands[1:])
    no_u = Catalog(holed.table.drop(columns="u"), griz, source="<griz>")
    params = {"grid": GRID, "prior": "none", "zero_points": False, "template_correction": 0}
    five = TemplateFitEstimator(**params).fit(train)
    four = TemplateFitEstimator(**params).fit(Catalog(train.table, griz, source="<griz>"))
    np.testing.assert_allclose(
        five.predict_pdf(holed).probs[::2], four.predict_pdf(no_u).probs[::2], rtol=1e-9, atol=1e-15
    )
    # Rows measured in every band are unaffected by their neighbours' holes.
    full = fitted.predict_pdf(test_cat)
    np.testing.assert_array_equal(pdf.probs[1::2], full.probs[1::2])


def test_rows_are_independent_of_batch_and_threads(train, test_cat):
    # A fine grid makes many chunks, so threads and chunk edges are exercised.
    params = {"grid": (0.0, 1.2, 1200), "prior": "none", "template_correction": 0}
    one = TemplateFitEstimator(n_jobs=1, **params).fit(train)
    full = one.predict_pdf(test_cat).probs
    rows = np.array([5, 0, 123, 299])
    np.testing.assert_array_equal(one.predict_pdf(test_cat.take(rows)).probs, full[rows])
    two = TemplateFitEstimator(n_jobs=2, **params).fit(train)
    np.testing.assert_array_equal(two.predict_pdf(test_cat).probs, full)


def test_save_load_identical(train, test_cat, tmp_path):
    est = TemplateFitEstimator(grid=GRID, prior="fit", n_interp=1).fit(train)
    path = tmp_path / "template.zphot"
    est.save(path)
    loaded = zphot.load(path)
    np.testing.assert_array_equal(
        loaded.predict_pdf(test_cat).probs, est.predict_pdf(test_cat).probs
    )
    np.testing.assert_array_equal(loaded.zp_offsets_, est.zp_offsets_)
    assert loaded.prior_params_ == est.prior_params_


def test_amplitude_is_free_and_bpz_prior_pushes_faint_galaxies_to_high_z(train, test_cat):
    fainter = test_cat.with_magnitudes(test_cat.mags + 6.0)  # r 16-19 -> 22-25, same colours
    flat = TemplateFitEstimator(grid=GRID, prior="none").fit(train)
    # Without a prior only colours matter (the errors are the survey floor in both).
    np.testing.assert_allclose(
        flat.predict_pdf(fainter).probs, flat.predict_pdf(test_cat).probs, atol=1e-12
    )
    bpz = TemplateFitEstimator(grid=GRID, prior="bpz").fit(train)
    bright_z = bpz.predict_pdf(test_cat).point("mean")
    faint_z = bpz.predict_pdf(fainter).point("mean")
    assert np.mean(faint_z > bright_z) > 0.9
    assert np.median(faint_z - bright_z) > 0.0


def test_bpz_prior_matches_published_form(fitted):
    est = TemplateFitEstimator(grid=(0.0, 6.0, 600), prior="bpz").fit(template_catalog(50, seed=3))
    prior = est._class_prior(np.array([20.0, 24.0]))
    width = est.grid_.width
    # At m0 = 20 the class fractions are the published 35% / 50% / 15% ...
    np.testing.assert_allclose(prior[0].sum(axis=1) * width, [0.35, 0.50, 0.15], atol=2e-3)
    # ... and the elliptical p(z) peaks at z_m = 0.431 (z^a exp(-(z/z_m)^a) peaks at z_m).
    assert est.grid_.centres[np.argmax(prior[0, 0])] == pytest.approx(0.431, abs=0.01)
    # Fainter: fewer ellipticals, peaks move to higher z.
    assert prior[1, 0].sum() < prior[0, 0].sum()
    assert np.argmax(prior[1, 1]) > np.argmax(prior[0, 1])


def test_prior_fit_recovers_known_parameters():
    # Draw magnitudes, classes and redshifts from a BPZ-form prior, then fit it back.
    rng = np.random.default_rng(5)
    truth = {
        "a": (2.0, 1.8, 1.2),
        "z0": (0.3, 0.4, 0.2),
        "km": (0.08, 0.06, 0.1),
        "ft": (0.4, 0.45),
        "kt": (0.3, 0.1),
    }
    n = 20000
    m0 = rng.uniform(18.0, 25.0, n)
    dm = m0 - 18.0
    f = np.array(truth["ft"]) * np.exp(-np.array(truth["kt"]) * dm[:, None])
    f = np.column_stack([f, 1 - f.sum(axis=1)])
    cls = (rng.random(n)[:, None] > np.cumsum(f, axis=1)).sum(axis=1)
    # z^a exp(-(z/zm)^a) is z = zm u^(1/a) for u ~ Gamma(1 + 1/a).
    a, z0, km = (np.array(truth[k])[cls] for k in ("a", "z0", "km"))
    z = (z0 + km * dm) * rng.gamma(1 + 1 / a) ** (1 / a)
    fitted = _fit_prior(m0, z, np.eye(3)[cls], BPZ_HDFN_PRIOR)
    assert fitted["m_range"][0] == pytest.approx(18.0, abs=0.05)
    for key in ("a", "z0", "km"):
        np.testing.assert_allclose(fitted[key], truth[key], rtol=0.1, atol=0.01)
    for key in ("ft", "kt"):
        np.testing.assert_allclose(fitted[key], truth[key], rtol=0.15, atol=0.02)


def test_parameters_are_checked_at_fit(train):
    with pytest.raises(ParameterError, match="'prior'"):
        TemplateFitEstimator(prior="hdfn").fit(train)
    with pytest.raises(ParameterError, match="'template_types'"):
        TemplateFitEstimator(grid=GRID, template_types=(1, 2, 3)).fit(train)
    with pytest.raises(ParameterError, match="'prior_band'"):
        TemplateFitEstimator(grid=GRID, prior_band="y").fit(train)
    with pytest.raises(ParameterError, match="'n_interp'"):
        TemplateFitEstimator(n_interp=-1).fit(train)


def test_registered():
    assert isinstance(zphot.get_estimator("template"), TemplateFitEstimator)
