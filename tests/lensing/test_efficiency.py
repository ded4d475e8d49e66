"""β and Σcrit⁻¹ from PDFs against astropy distances computed here another way."""

from __future__ import annotations

import numpy as np
import pytest
from astropy import constants, units
from astropy.cosmology import WMAP9, Planck18

from zphot.exceptions import ParameterError
from zphot.lensing import beta, effective_redshift, galaxy_columns, get_cosmology, sigma_crit_inv
from zphot.pdf.grid import RedshiftGrid


def flat_beta(cosmo, z_lens: float, z_s: np.ndarray) -> np.ndarray:
    """In a flat universe D_ls / D_s = 1 - D_C(z_l) / D_C(z_s) (comoving distances): an
    independent route to β from the one zphot takes (angular-diameter distances)."""
    d_l = cosmo.comoving_distance(z_lens)
    d_s = cosmo.comoving_distance(z_s)
    return np.where(z_s > z_lens, 1.0 - (d_l / d_s).decompose().value, 0.0)


def delta_pdfs(grid: RedshiftGrid, bins: list[int]) -> np.ndarray:
    probs = np.zeros((len(bins), grid.n_bins))
    probs[np.arange(len(bins)), bins] = 1.0
    return probs


def test_beta_of_delta_pdfs_matches_astropy() -> None:
    grid = RedshiftGrid(0.0, 3.0, 300)
    bins = [5, 40, 41, 100, 250]  # centres 0.055 (in front), 0.405, 0.415, 1.005, 2.505
    cols = galaxy_columns(delta_pdfs(grid, bins), grid, z_lens=0.4)
    expected = flat_beta(Planck18, 0.4, grid.centres[bins])
    np.testing.assert_allclose(cols["beta"], expected, rtol=1e-6, atol=1e-12)
    assert cols["beta"].iloc[0] == 0.0


def test_sigma_crit_inv_of_delta_pdfs_matches_definition() -> None:
    grid = RedshiftGrid(0.0, 3.0, 300)
    bins = [60, 150]
    z_s = grid.centres[bins]
    cols = galaxy_columns(delta_pdfs(grid, bins), grid, z_lens=0.3, cosmology="WMAP9")
    # Σcrit = c² / (4πG) · D_s / (D_l D_ls), with D_ls from the flat-universe relation.
    d_l = WMAP9.angular_diameter_distance(0.3)
    d_s = WMAP9.angular_diameter_distance(z_s)
    d_ls = flat_beta(WMAP9, 0.3, z_s) * d_s
    sigma_crit = constants.c**2 / (4 * np.pi * constants.G) * d_s / (d_l * d_ls)
    expected = (1 / sigma_crit).to(units.pc**2 / units.Msun).value
    np.testing.assert_allclose(cols["sigma_crit_inv"], expected, rtol=1e-6)


def test_pdf_average_is_linear_in_the_probabilities() -> None:
    grid = RedshiftGrid(0.0, 2.0, 200)
    probs = np.zeros((1, grid.n_bins))
    probs[0, [80, 150]] = [0.25, 0.75]
    got = galaxy_columns(probs, grid, 0.5)["beta"].iloc[0]
    b = flat_beta(Planck18, 0.5, grid.centres[[80, 150]])
    assert got == pytest.approx(0.25 * b[0] + 0.75 * b[1], rel=1e-6)


def test_effective_redshift_round_trip() -> None:
    target = float(beta(0.5, np.array([1.3]))[0])
    assert effective_redshift(target, 0.5) == pytest.approx(1.3, abs=1e-5)
    assert np.isnan(effective_redshift(0.0, 0.5))


def test_sigma_crit_inv_is_zero_in_front_of_the_lens() -> None:
    assert sigma_crit_inv(0.5, np.array([0.2, 0.5]))[:2].tolist() == [0.0, 0.0]


def test_unknown_cosmology_is_one_clear_error() -> None:
    with pytest.raises(ParameterError, match="unknown cosmology 'Planck99': use one of"):
        get_cosmology("Planck99")
