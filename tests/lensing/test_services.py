"""Spec-z from NED and SDSS on recorded responses (astroquery patched; never the network)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from astropy.table import MaskedColumn, Table

pytest.importorskip("astroquery")

from astroquery.ipac.ned import Ned  # noqa: E402
from astroquery.sdss import SDSS  # noqa: E402

from zphot.exceptions import ParameterError  # noqa: E402
from zphot.lensing.services import attach_specz, query_specz  # noqa: E402

ARCSEC = 1 / 3600


def ned_response() -> Table:
    """What Ned.query_region returns (columns of astroquery 0.4), four objects near (150, 2)."""
    return Table(
        {
            "No.": [1, 2, 3, 4],
            "Object Name": ["GAL A", "GAL B", "STAR C", "GAL D"],
            "RA": [150.0, 150.01, 150.02, 150.03],
            "DEC": [2.0, 2.01, 2.02, 2.03],
            "Type": ["G", "G", "*", "G"],
            "Redshift": MaskedColumn([0.31, 0.52, 0.0, 0.9], mask=[False, False, False, False]),
            "Redshift Flag": ["", "", "", "PHOT"],
        }
    )


def sdss_response() -> Table:
    """What SDSS.query_region(spectro=True) returns: GAL A again (0.5" away), a star, a new
    galaxy and one with a bad-fit warning."""
    return Table(
        {
            "ra": [150.0 + 0.5 * ARCSEC, 150.04, 150.05, 150.06],
            "dec": [2.0, 2.04, 2.05, 2.06],
            "z": [0.3102, 0.0001, 0.45, 0.7],
            "zErr": [1e-4, 1e-5, 2e-4, 1e-4],
            "zWarning": [0, 0, 0, 4],
            "class": ["GALAXY", "STAR", "GALAXY", "GALAXY"],
            "specObjID": [11, 12, 13, 14],
        }
    )


@pytest.fixture
def recorded(monkeypatch):
    calls = []

    def ned(coord, radius):  # noqa: ANN001
        calls.append("ned")
        return ned_response()

    def sdss(coord, radius, spectro, specobj_fields):  # noqa: ANN001
        calls.append("sdss")
        assert spectro and "z" in specobj_fields
        return sdss_response()

    monkeypatch.setattr(Ned, "query_region", ned)
    monkeypatch.setattr(SDSS, "query_region", sdss)
    return calls


def test_query_keeps_spectroscopic_galaxies_once(recorded, tmp_path) -> None:
    table = query_specz(150.0, 2.0, 5.0, cache=tmp_path / "field.parquet")
    # NED: A and B (C is a star, D photometric); SDSS: A (kept from SDSS) and the new galaxy.
    assert sorted(table["name"]) == ["11", "13", "GAL B"]
    a = table[table["name"] == "11"].iloc[0]
    assert a["service"] == "sdss" and a["z_spec"] == pytest.approx(0.3102)
    assert np.isnan(table[table["name"] == "GAL B"]["z_err"].iloc[0])
    assert recorded == ["ned", "sdss"]


def test_cache_is_read_back_and_guards_its_query(recorded, tmp_path) -> None:
    cache = tmp_path / "field.parquet"
    first = query_specz(150.0, 2.0, 5.0, cache=cache)
    again = query_specz(150.0, 2.0, 5.0, cache=cache)
    assert recorded == ["ned", "sdss"]  # the second call asked no service
    pd.testing.assert_frame_equal(first, again)
    with pytest.raises(ParameterError, match="holds another spec-z query"):
        query_specz(150.0, 2.0, 6.0, cache=cache)


def test_crossmatch_with_a_photometric_catalog(recorded) -> None:
    specz = query_specz(150.0, 2.0, 5.0, services=("sdss",))
    phot = pd.DataFrame(
        {
            "ra": [150.0, 150.05 + 0.3 * ARCSEC, 151.0],
            "dec": [2.0, 2.05, 2.0],
            "mag_i": [20, 21, 22],
        }
    )
    matched = attach_specz(phot, specz, radius_arcsec=1.0)
    assert matched["mag_i"].tolist() == [20, 21]
    np.testing.assert_allclose(matched["z_spec"], [0.3102, 0.45])
    assert (matched["sep_arcsec"] < 1).all()


def test_unknown_service_is_refused() -> None:
    with pytest.raises(ParameterError, match="services must be among ned, sdss"):
        query_specz(150.0, 2.0, 5.0, services=("simbad",))
