"""Out-of-coverage flags: the bounded cKDTree search gives the exact k-th-distance rule."""

import numpy as np
import pytest

from zphot.features.coverage import CoverageModel


def _fitted(seed: int = 0) -> tuple[CoverageModel, np.random.Generator]:
    rng = np.random.default_rng(seed)
    train = rng.normal(size=(3000, 6)) * [1.0, 0.5, 0.3, 0.3, 0.2, 0.2] + 20.0
    return CoverageModel(max_train=2000, random_state=seed).fit(train), rng


def _old_rule(cov: CoverageModel, x: np.ndarray) -> np.ndarray:
    return cov.distance(x) > cov.threshold_


def test_flags_equal_the_distance_rule_on_random_points():
    cov, rng = _fitted()
    x = 20.0 + rng.normal(size=(20000, 6)) * rng.uniform(0.2, 3.0, (20000, 1)) * cov.std_
    x[::97, 2] = np.nan  # missing features: flagged
    flags = cov.flag(x)
    np.testing.assert_array_equal(flags, _old_rule(cov, x))
    assert 0.1 < flags.mean() < 0.9  # both sides of the threshold are exercised
    assert flags[::97].all()


def test_flags_equal_the_distance_rule_next_to_the_threshold():
    """Points whose k-th neighbour sits at the threshold to within rounding (found by bisection
    along rays out of the training cloud), and points 1e-12 and 1e-9 either side of it."""
    cov, rng = _fitted(1)
    t = cov.threshold_
    points = []
    for _ in range(40):
        start = cov.mean_ + rng.normal(size=6) * cov.std_ * 0.1
        step = rng.normal(size=6) * cov.std_
        lo, hi = 0.0, 1.0
        while cov.distance((start + hi * step)[None])[0] <= t:
            hi *= 2
        for _ in range(80):
            mid = 0.5 * (lo + hi)
            if cov.distance((start + mid * step)[None])[0] <= t:
                lo = mid
            else:
                hi = mid
        for s in (lo, hi, lo * (1 - 1e-12), hi * (1 + 1e-12), lo * (1 - 1e-9), hi * (1 + 1e-9)):
            points.append(start + s * step)
    x = np.array(points)
    d = cov.distance(x)
    assert np.abs(d[0::6] / t - 1).max() < 1e-12  # really at the threshold
    flags = cov.flag(x)
    np.testing.assert_array_equal(flags, d > t)
    assert flags.any() and not flags.all()


def test_state_round_trip_keeps_flags():
    cov, rng = _fitted(2)
    meta, arrays = cov.get_state()
    back = CoverageModel.from_state(meta, arrays)
    x = 20.0 + rng.normal(size=(5000, 6)) * 2 * cov.std_
    np.testing.assert_array_equal(back.flag(x), cov.flag(x))
    np.testing.assert_array_equal(back.distance(x), cov.distance(x))
    assert cov.flag(np.empty((0, 6))).shape == (0,)
    assert cov.flag(np.full((3, 6), np.nan)).all()


def test_threshold_and_flags_on_a_line_with_known_neighbour_distances():
    """Training galaxies at 0, 1, ..., 999 on one axis, the default k = 10 and quantile 0.99.

    A training galaxy's 10th nearest *other* galaxy is 5 away in the interior (two at each
    distance 1..5) and 10 - j away for the j-th galaxy from either end (j < 5). So the 1000
    distances are 990 fives and two each of 6, 7, 8, 9, 10; numpy's linear quantile at 0.99
    sits at position 0.99 * 999 = 989.01, between the last 5 and the first 6: 5.01. Features
    are standardised by the training std, so every distance is divided by it.
    """
    x = np.arange(1000.0)[:, None]
    cov = CoverageModel().fit(x)
    std = x.std()
    assert cov.threshold_ == pytest.approx(5.01 / std, rel=1e-9)
    # Query distances to the 10th training neighbour: at 500.5 four pairs at 0.5..3.5, then
    # 4.5 twice -> 4.5; at -1 the galaxies 0..9 -> 10; at 2.5 the 10th is 6.5 (0..9 and 10).
    queries = np.array([[500.5], [-1.0], [2.5]])
    np.testing.assert_allclose(cov.distance(queries), np.array([4.5, 10.0, 6.5]) / std)
    assert cov.flag(queries).tolist() == [False, True, True]
