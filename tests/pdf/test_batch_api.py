"""PDFBatch for people at a Python prompt: repr, qp round trip, plotting a few PDFs."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from zphot.exceptions import ParameterError
from zphot.pdf import PDFBatch, RedshiftGrid

GRID = RedshiftGrid(0.0, 1.0, 4)  # bins of 0.25, centres 0.125 0.375 0.625 0.875
PROBS = np.array(
    [
        [0.1, 0.6, 0.2, 0.1],  # mode 0.375
        [0.7, 0.1, 0.1, 0.1],  # mode 0.125
        [0.0, 0.1, 0.2, 0.7],  # mode 0.875
        [0.1, 0.2, 0.6, 0.1],  # mode 0.625
    ]
)


def test_repr_gives_size_grid_and_first_modes():
    batch = PDFBatch(PROBS, GRID)
    assert repr(batch) == (
        "<PDFBatch: 4 objects, z in [0, 1] in 4 bins of 0.25; modes [0.375, 0.125, 0.875, ...]>"
    )
    assert repr(batch.take([1])) == (
        "<PDFBatch: 1 object, z in [0, 1] in 4 bins of 0.25; modes [0.125]>"
    )
    assert repr(batch.take([])) == "<PDFBatch: 0 objects, z in [0, 1] in 4 bins of 0.25>"


def test_to_qp_from_qp_round_trip():
    pytest.importorskip("qp")
    rng = np.random.default_rng(3)
    grid = RedshiftGrid(0.02, 1.5, 50)
    batch = PDFBatch.normalised(rng.random((7, 50)), grid)
    ens = batch.to_qp()
    assert int(ens.npdf) == 7
    back = PDFBatch.from_qp(ens)
    assert back.grid == grid
    np.testing.assert_allclose(back.probs, batch.probs, rtol=0, atol=1e-6)
    # An interp ensemble needs a target grid; its mass per bin still sums to one.
    again = PDFBatch.from_qp(batch.to_qp("interp"), grid)
    np.testing.assert_allclose(again.probs.sum(axis=1), 1.0)


def test_plot_draws_one_line_per_pdf_and_a_dashed_truth_each():
    batch = PDFBatch(PROBS, GRID)
    truth = np.array([0.3, 0.1, 0.9, 0.6])
    fig = batch.plot(indices=[0, 2, 3], truth=truth)
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    pdfs = [line for line in ax.lines if line.get_linestyle() == "-"]
    marks = [line for line in ax.lines if line.get_linestyle() == "--"]
    assert len(pdfs) == 3 and len(marks) == 3
    # Densities are probabilities / bin width (0.25); each truth line sits at its object's z.
    assert np.allclose(pdfs[1].get_ydata(), PROBS[2] / 0.25)
    assert [m.get_xdata()[0] for m in marks] == [0.3, 0.9, 0.6]
    assert [m.get_color() for m in marks] == [p.get_color() for p in pdfs]
    # The view spans the drawn PDFs' mass (all four bins here) and truths, padded by one bin.
    assert ax.get_xlim() == (0.0, 1.0)


def test_plot_zooms_on_narrow_pdfs():
    grid = RedshiftGrid(0.0, 2.0, 200)  # bins of 0.01
    probs = np.zeros((1, 200))
    probs[0, 50] = 1.0  # all mass in [0.50, 0.51]
    fig = PDFBatch(probs, grid).plot(truth=[0.6])
    # 0.1% and 99.9% quantiles 0.50001 and 0.50999; with the truth, [0.50001, 0.6]; the pad
    # is one bin (0.01 > 5% of the span).
    np.testing.assert_allclose(fig.axes[0].get_xlim(), (0.49001, 0.61))


def test_plot_defaults_and_given_axes():
    batch = PDFBatch(np.tile(PROBS, (2, 1)), GRID)  # 8 objects: the first five are drawn
    assert len(batch.plot().axes[0].lines) == 5
    fig = Figure()
    ax = fig.add_subplot()
    assert batch.plot(indices=[1], ax=ax) is fig and len(ax.lines) == 1


def test_plot_refuses_bad_indices_and_truth():
    batch = PDFBatch(PROBS, GRID)
    with pytest.raises(ParameterError) as exc:
        batch.plot(truth=[0.1, 0.2])
    assert str(exc.value) == "truth must hold one redshift per object (4), got 2"
    with pytest.raises(ParameterError) as exc:
        batch.plot(indices=[4])
    assert str(exc.value) == "indices must be in [0, 4), got [4]"
