"""Crossmatch: synthetic positions with known pairs, distances and duplicate claims."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from zphot.catalog import CrossmatchReport, crossmatch
from zphot.exceptions import CatalogError, MissingColumnError

ARCSEC = 1.0 / 3600.0


@pytest.fixture
def phot() -> pd.DataFrame:
    # Offsets in dec (on the equator a dec offset is the true angular separation).
    return pd.DataFrame(
        {
            "ra": [10.0, 20.0, 30.0, 40.0, 40.0],
            "dec": [0.0, 0.0, 0.0, 0.0, 0.6 * ARCSEC],
            "objid": [0, 1, 2, 3, 4],
        }
    )


@pytest.fixture
def spec() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ra": [10.0, 20.0, 30.0, 40.0],
            # s0: 0.5" from p0 (inside 1"); s1: 3" from p1 (outside); s2: 0.2" from p2;
            # s3: 0.5" from p3 and 0.1" from p4: claimed twice, p4 (nearest) keeps it.
            "dec": [0.5 * ARCSEC, 3.0 * ARCSEC, -0.2 * ARCSEC, 0.5 * ARCSEC],
            "z": [0.1, 0.2, 0.3, 0.4],
            "objid": [100, 101, 102, 103],
        }
    )


def test_known_pairs(phot, spec):
    matched, report = crossmatch(phot, spec, radius_arcsec=1.0)
    assert matched["objid"].tolist() == [0, 2, 4]
    assert matched["objid_spec"].tolist() == [100, 102, 103]  # clashing name gets the suffix
    assert matched["z"].tolist() == [0.1, 0.3, 0.4]
    np.testing.assert_allclose(matched["sep_arcsec"], [0.5, 0.2, 0.1], atol=1e-6)
    assert report == CrossmatchReport(
        n_phot=5,
        n_spec=4,
        n_matched=3,
        n_unmatched_phot=2,
        n_unmatched_spec=1,
        n_duplicates_dropped=1,
    )


def test_larger_radius_takes_the_far_pair(phot, spec):
    matched, report = crossmatch(phot, spec, radius_arcsec=5.0)
    assert matched["objid"].tolist() == [0, 1, 2, 4]
    assert report.n_matched == 4 and report.n_unmatched_spec == 0
    assert report.n_duplicates_dropped == 1


def test_radius_is_inclusive_and_exact():
    # Pairs 0.99" and 1.01" apart in dec on the equator (true angular separations): with a 1"
    # radius only the first matches, whatever factor a bug might put on the radius.
    phot = pd.DataFrame({"ra": [10.0, 20.0], "dec": [0.0, 0.0]})
    dec = [0.99 * ARCSEC, 1.01 * ARCSEC]
    spec = pd.DataFrame({"ra": [10.0, 20.0], "dec": dec, "z": [0.1, 0.2]})
    matched, report = crossmatch(phot, spec, radius_arcsec=1.0)
    assert matched["z"].tolist() == [0.1]
    np.testing.assert_allclose(matched["sep_arcsec"], [0.99], atol=1e-6)
    assert report.n_matched == 1 and report.n_unmatched_spec == 1


def test_tiny_radius_matches_nothing(phot, spec):
    matched, report = crossmatch(phot, spec, radius_arcsec=0.05)
    assert len(matched) == 0
    assert report.n_matched == 0 and report.n_unmatched_phot == 5


def test_column_names_and_errors(phot, spec):
    renamed = spec.rename(columns={"ra": "RA", "dec": "DEC"})
    matched, _ = crossmatch(phot, renamed, spec_radec=("RA", "DEC"), suffix="_s")
    assert "objid_s" in matched.columns and "RA" in matched.columns
    with pytest.raises(MissingColumnError, match="'ra' missing"):
        crossmatch(phot, renamed)
    with pytest.raises(CatalogError, match="radius"):
        crossmatch(phot, spec, radius_arcsec=0.0)
    with pytest.raises(CatalogError, match="non-finite"):
        crossmatch(phot.assign(ra=[np.nan, 1, 2, 3, 4]), spec)
