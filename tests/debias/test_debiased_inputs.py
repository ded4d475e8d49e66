"""The bias-corrected estimator takes the same inputs as every estimator (its own predict,
predict_bulk and predict_table included) and returns a Table with units for a Table."""

import numpy as np
import pytest
from astropy import units as u
from astropy.table import Table

from zphot.debias import DebiasedEstimator
from zphot.testing import synthetic_catalog


@pytest.fixture(scope="module")
def fitted():
    train = synthetic_catalog(400, random_state=0)
    est = DebiasedEstimator(
        base_params={"hidden": (16,), "max_epochs": 2, "batch_size": 64},
        head_epochs=2,
        n_folds=2,
        kept_fraction=0.5,
        calibration_bin=0.1,
    )
    return est.fit(train.table, survey="sdss"), synthetic_catalog(50, random_state=1)


def test_dataframe_and_table_give_the_catalog_result(fitted):
    est, test = fitted
    table = Table.from_pandas(test.table)
    for obj in (test.table, table):
        assert np.array_equal(est.predict(obj), est.predict(test))
        assert np.array_equal(est.predict_bulk(obj), est.predict_bulk(test))
        assert np.array_equal(est.raw_pdf(obj).probs, est.raw_pdf(test).probs)
    out = est.predict_table(table)
    expected = est.predict_table(test)
    assert out.colnames == list(expected.columns)  # z_phot_bulk included at Step 4
    assert out["z_phot_bulk"].unit == u.dimensionless_unscaled
    assert out["z_phot_bulk"].description.startswith("bulk redshift")
    for col in expected.columns:
        assert np.array_equal(np.asarray(out[col]), expected[col].to_numpy())
