"""Adjacent-colour imputation against a case worked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from zphot.catalog import AdjacentColourImputer
from zphot.exceptions import CatalogError, NotFittedError

NAN = np.nan

# Two complete rows: adjacent colours m[j+1] - m[j] average to (-1.0, -0.5, -0.2, -0.1), so the
# cumulative colours from the first band are C = (0, -1.0, -1.5, -1.7, -1.8).
COMPLETE = np.array(
    [
        [20.0, 19.0, 18.6, 18.4, 18.3],
        [21.0, 20.0, 19.4, 19.2, 19.1],
    ]
)
INCOMPLETE = np.array(
    [
        # Gap of two adjacent bands. From the left (u=22): g = 21.0, r = 20.5. From the right
        # (i=20.5, so offset 20.5 + 1.7 = 22.2): g = 21.2, r = 20.7. Averages: 21.1, 20.6.
        [22.0, NAN, NAN, 20.5, 20.4],
        # First band missing: only the right side, u = g + 1.0.
        [NAN, 19.0, 18.5, 18.3, 18.2],
        # Last band missing: only the left side, z = i - 0.1.
        [20.0, 19.0, 18.5, 18.3, NAN],
        # Nothing measured: nothing to impute from.
        [NAN, NAN, NAN, NAN, NAN],
    ]
)
EXPECTED = np.array(
    [
        [22.0, 21.1, 20.6, 20.5, 20.4],
        [20.0, 19.0, 18.5, 18.3, 18.2],
        [20.0, 19.0, 18.5, 18.3, 18.2],
        [NAN, NAN, NAN, NAN, NAN],
    ]
)


@pytest.fixture
def imputer() -> AdjacentColourImputer:
    return AdjacentColourImputer().fit(np.vstack([COMPLETE, INCOMPLETE]))


def test_learns_mean_adjacent_colours_from_complete_rows_only(imputer):
    np.testing.assert_allclose(imputer.mean_colours_, [-1.0, -0.5, -0.2, -0.1], atol=1e-12)
    assert imputer.n_complete_ == 2


def test_incomplete_rows_off_the_mean_colours_do_not_move_them():
    # This incomplete row's measured colours (g-r = -2.0, r-i = +1.0, i-z = -3.0) are far from
    # the complete rows' means; learning from it would shift every mean colour it touches.
    odd = np.array([[NAN, 19.0, 17.0, 18.0, 15.0]])
    fitted = AdjacentColourImputer().fit(np.vstack([COMPLETE, odd]))
    np.testing.assert_allclose(fitted.mean_colours_, [-1.0, -0.5, -0.2, -0.1], atol=1e-12)
    # Its missing u is then g - (mean u->g colour) = 19.0 + 1.0.
    filled, _ = fitted.transform(odd)
    assert filled[0, 0] == pytest.approx(20.0)


def test_fills_the_hand_worked_case(imputer):
    filled, counts = imputer.transform(INCOMPLETE)
    np.testing.assert_allclose(filled, EXPECTED, atol=1e-12)
    assert np.isnan(filled[3]).all()
    # Values imputed per band (the empty row counts nowhere): u, g, r, i, z.
    assert counts.tolist() == [1, 1, 1, 0, 1]
    assert counts.dtype == np.int64


def test_measured_values_are_never_changed(imputer):
    filled, _ = imputer.transform(INCOMPLETE)
    measured = ~np.isnan(INCOMPLETE)
    np.testing.assert_array_equal(filled[measured], INCOMPLETE[measured])
    assert np.isnan(INCOMPLETE[0, 1])  # the input is not modified


def test_complete_input_is_returned_unchanged(imputer):
    filled, counts = imputer.transform(COMPLETE)
    np.testing.assert_array_equal(filled, COMPLETE)
    assert counts.tolist() == [0, 0, 0, 0, 0]
    assert filled is not COMPLETE


def test_rows_are_independent(imputer):
    filled, _ = imputer.transform(INCOMPLETE)
    for i in range(len(INCOMPLETE)):
        one, _ = imputer.transform(INCOMPLETE[i : i + 1])
        np.testing.assert_array_equal(one[0], filled[i])


def test_state_round_trip(imputer):
    again = AdjacentColourImputer.from_state(imputer.get_state())
    np.testing.assert_array_equal(again.mean_colours_, imputer.mean_colours_)
    assert again.n_complete_ == 2
    np.testing.assert_array_equal(again.transform(INCOMPLETE)[0], imputer.transform(INCOMPLETE)[0])


def test_errors():
    with pytest.raises(NotFittedError, match="not fitted"):
        AdjacentColourImputer().transform(COMPLETE)
    with pytest.raises(CatalogError, match="cat.csv: no row has every band measured"):
        AdjacentColourImputer().fit(INCOMPLETE, source="cat.csv")
    imp = AdjacentColourImputer().fit(COMPLETE)
    with pytest.raises(CatalogError, match="5 bands, got 4"):
        imp.transform(COMPLETE[:, :4])
