"""RedshiftGrid.for_redshifts: 0.002-wide bins, at most max_bins of them."""

import numpy as np
import pytest

from zphot.exceptions import ParameterError
from zphot.pdf import RedshiftGrid


def test_low_redshift_survey_keeps_fine_bins():
    # An SDSS-like range: 0.002-wide bins, well under max_bins.
    z = np.linspace(0.0, 0.5, 1001)
    assert RedshiftGrid.for_redshifts(z) == RedshiftGrid(0.0, 0.55, 275)
    # Negative redshifts (measurement scatter around 0) extend the grid below 0.
    z = np.concatenate([[-0.01], np.linspace(0.0, 0.5, 1000)])
    g = RedshiftGrid.for_redshifts(z)
    assert (g.z_min, g.z_max, g.n_bins) == (pytest.approx(-0.06), 0.55, 305)
    assert g.width == pytest.approx(0.002)


def test_wide_range_is_capped_at_max_bins():
    z = np.linspace(0.05, 2.8, 5000)
    g = RedshiftGrid.for_redshifts(z)
    assert g == RedshiftGrid(0.0, 2.85, 400)
    assert g.width == pytest.approx(0.007125)
    # The cap is what changes: without it the same range gets 0.002-wide bins, as before.
    assert RedshiftGrid.for_redshifts(z, max_bins=10_000) == RedshiftGrid(0.0, 2.85, 1425)
    assert RedshiftGrid.for_redshifts(z, max_bins=100) == RedshiftGrid(0.0, 2.85, 100)
    # A coarser bin_width than range / max_bins wins.
    assert RedshiftGrid.for_redshifts(z, bin_width=0.01) == RedshiftGrid(0.0, 2.85, 285)


def test_cap_boundary():
    # 0 to 0.80 is exactly 400 bins of 0.002; 0 to 0.81 would be 405, so 400 wider ones.
    assert RedshiftGrid.for_redshifts(np.array([0.05, 0.75])) == RedshiftGrid(0.0, 0.8, 400)
    g = RedshiftGrid.for_redshifts(np.array([0.05, 0.76]))
    assert g == RedshiftGrid(0.0, 0.81, 400)
    assert g.width == pytest.approx(0.002025)


def test_builtin_dc2_grid():
    from zphot import read_catalog
    from zphot.datasets import builtin_path

    z = read_catalog(builtin_path("dc2-train"), "lsst").require_z()
    assert RedshiftGrid.for_redshifts(z) == RedshiftGrid(0.0, 2.87, 400)


def test_max_bins_must_allow_two_bins():
    with pytest.raises(ParameterError, match="max_bins"):
        RedshiftGrid.for_redshifts(np.array([0.1, 0.5]), max_bins=1)
