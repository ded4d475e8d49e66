"""Point estimates and intervals without the PDF array: the same numbers as the PDF route."""

import numpy as np
import pytest
import torch

from zphot.estimators.base import INTERVAL_68, PhotoZEstimator
from zphot.estimators.mlp import MLPEstimator
from zphot.estimators.nn.summary import summarise_probs
from zphot.exceptions import ParameterError
from zphot.pdf import PDFBatch, RedshiftGrid
from zphot.testing import synthetic_catalog

LEVELS = (0.025, *INTERVAL_68, 0.5, 0.975)
ATOL = 1e-9  # float64 rounding of the row sums; see SUMMARY_ATOL in zphot.testing.contract


def _reference(w, invalid, grid, kind, levels):
    w = w.copy()
    w[invalid] = 1.0
    pdf = PDFBatch.normalised(w, grid)
    return pdf.point(kind), pdf.quantiles(levels)


@pytest.mark.parametrize("kind", ["mode", "mean", "median"])
def test_summarise_probs_matches_pdfbatch(kind):
    rng = np.random.default_rng(3)
    grid = RedshiftGrid(0.0, 3.0, 400)
    n = 500
    logits = rng.normal(0, 4, (n, grid.n_bins))
    w = np.exp(logits - logits.max(axis=1, keepdims=True))
    w /= w.sum(axis=1, keepdims=True)
    w[1] = 0.0  # nothing: flat
    w[2, 7] = np.nan  # non-finite weights count as 0
    w[3, 9] = np.inf
    w[4, :50] = np.inf
    w[5] = np.nan
    w[6] = 0.0
    w[6, 123] = 1.0  # all mass in one bin
    w[8] = 1e-300  # tiny but positive
    invalid = np.zeros(n, dtype=bool)
    invalid[[10, 11, 5]] = True
    got = summarise_probs(
        torch.from_numpy(w.copy()), torch.from_numpy(invalid), grid, kind, LEVELS
    ).numpy()
    z, q = _reference(w, invalid, grid, kind, LEVELS)
    np.testing.assert_allclose(got[:, 0], z, rtol=0, atol=ATOL)
    np.testing.assert_allclose(got[:, 1:], q, rtol=0, atol=ATOL)
    if kind == "mode":
        np.testing.assert_array_equal(got[:, 0], z)
    # Clean rows alone take the quick route; the answers do not change.
    clean = np.setdiff1d(np.arange(n), [1, 2, 3, 4, 5, 6, 8])
    part = summarise_probs(
        torch.from_numpy(w[clean].copy()), torch.from_numpy(invalid[clean]), grid, kind, LEVELS
    ).numpy()
    np.testing.assert_array_equal(part, got[clean])


def test_summarise_probs_refuses_unknown_point():
    with pytest.raises(ParameterError, match="point"):
        summarise_probs(
            torch.ones(2, 4, dtype=torch.float64),
            torch.zeros(2, dtype=torch.bool),
            RedshiftGrid(0, 1, 4),
            "peak",
        )


@pytest.fixture(scope="module")
def data():
    train = synthetic_catalog(800, random_state=0)
    test = synthetic_catalog(700, random_state=1)
    mags = test.mags.copy()
    mags[3] = np.nan  # nothing measured: flat PDF
    mags[4, 0] = np.nan
    return train, test.with_magnitudes(mags)


FAST = {"hidden": (32, 32), "max_epochs": 3, "n_jobs": 1, "batch_size": 64}


@pytest.mark.parametrize(
    "params",
    [
        {"n_ensemble": 1, "point": "median"},
        {"n_ensemble": 2, "point": "mode"},
        {"n_ensemble": 2, "point": "mean"},
        {"loss": "regression", "point": "median"},
        {"output": "magnitude", "point": "median"},
    ],
    ids=["one", "ensemble-mode", "ensemble-mean", "regression", "magnitude"],
)
def test_networks_summaries_match_their_pdfs(data, params):
    train, test = data
    est = MLPEstimator(**FAST, **params).fit(train)
    fast = est._summarises_logits()
    assert fast == (params.get("loss") != "regression" and "output" not in params)
    pdf = est.predict_pdf(test)
    kind = params["point"]
    np.testing.assert_allclose(est.predict(test), pdf.point(kind), rtol=0, atol=ATOL)
    table = est.predict_table(test)
    lo, hi = pdf.interval(0.68)
    np.testing.assert_allclose(table["z_lo"], lo, rtol=0, atol=ATOL)
    np.testing.assert_allclose(table["z_hi"], hi, rtol=0, atol=ATOL)
    np.testing.assert_allclose(table["z_phot"], pdf.point(kind), rtol=0, atol=ATOL)
    z, q = est._summary(test, kind, LEVELS)
    np.testing.assert_allclose(q, pdf.quantiles(LEVELS), rtol=0, atol=ATOL)
    # Rows never depend on the block they come in.
    bounds = [0, 1, 64, 65, 300, len(test)]
    parts = [
        est._summary(test.take(np.arange(a, b)), kind, LEVELS)
        for a, b in zip(bounds[:-1], bounds[1:], strict=True)
    ]
    np.testing.assert_array_equal(np.concatenate([p[0] for p in parts]), z)
    np.testing.assert_array_equal(np.vstack([p[1] for p in parts]), q)
    empty = est.predict_table(test.take(np.arange(0)))
    assert len(empty) == 0 and "z_lo" in empty.columns


def test_a_subclass_with_its_own_pdf_takes_the_pdf_route(data):
    train, test = data

    class Sharpened(MLPEstimator):
        def _predict_probs(self, catalog):
            return super()._predict_probs(catalog) ** 2

    est = Sharpened(**FAST).fit(train)
    assert not est._summarises_logits()
    np.testing.assert_array_equal(est.predict(test), est.predict_pdf(test).point("median"))
    z, _ = PhotoZEstimator._summary(est, test, "median")
    np.testing.assert_array_equal(est.predict(test), z)
