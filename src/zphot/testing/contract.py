"""The estimator contract as small named checks, in the manner of scikit-learn's check_estimator.

:func:`check_estimator` yields ``(name, check)`` pairs; each ``check()`` raises
``AssertionError`` (or the unexpected error) on a breach and returns ``None`` when the estimator
follows the contract. ``tests/estimators/test_contract.py`` parametrises pytest over every
registered estimator times these checks, so an estimator is tested the moment it is registered.

The checks run on :func:`~zphot.testing.synthetic_catalog` data (1,000 training and 300 test
galaxies by default) whose redshift is a known linear function of colour. One fitted model is
shared by the checks that only predict from it, so the whole suite costs a handful of fits.

Tags
----
An estimator adapts the suite through its class attribute ``tags`` (a dict):

``"synthetic_tolerance"`` : float
    sigma_NMAD the point estimates must reach on the synthetic test sample.
``"fast_params"`` : dict, optional
    Parameters applied with ``set_params`` before any check runs (when ``fast=True``), so that
    training takes seconds: e.g. fewer trees or epochs. They must keep the synthetic tolerance.
``"synthetic_n_train"`` : int, optional
    Training-set size for the suite (default 1000), for methods that need more data.
``"skip_checks"`` : dict, optional
    ``{check_name: reason}``; a skipped check raises :class:`unittest.SkipTest` with the reason
    (pytest reports it as skipped), and a skip without a written reason is an error.
``"recalibrated_pdf"`` : bool, optional
    ``predict_pdf`` returns a recalibrated PDF while point estimates come from ``raw_pdf()``
    (the bias-corrected estimator); the point checks then compare against ``raw_pdf``.

Examples
--------
>>> from zphot.estimators.knn import KNNEstimator
>>> checks = dict(check_estimator(KNNEstimator()))
>>> "check_save_load_round_trip" in checks
True
>>> checks["check_get_set_params_round_trip"]()
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import inspect
import io
import json
import tempfile
import unittest
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sklearn.base import clone

from ..catalog.catalog import Catalog
from ..estimators.base import Interval, Options, PhotoZEstimator
from ..exceptions import (
    MissingBandError,
    ModelFileError,
    NotFittedError,
    OverwriteError,
    ParameterError,
)
from ..pdf.batch import POINT_KINDS, PDFBatch
from .synthetic import synthetic_catalog

__all__ = ["check_estimator"]

# Rows must not depend on their batch. Classical methods agree exactly; the tolerance leaves room
# for float32 networks whose matrix products block differently with batch size, and is far below
# what a real dependence (per-batch normalisation, batch statistics) produces.
BATCH_RTOL, BATCH_ATOL = 1e-6, 1e-9
# predict() and predict_table() may summarise without building the PDF array (the networks go
# from logits to point estimates and quantiles in torch, see PhotoZEstimator._summary). The same
# arithmetic with row sums added in another order differs from predict_pdf(...).point() by a few
# float64 roundings of the bin edges (~1e-16 in z); a real difference of method (another
# interpolation rule, float32 arithmetic, a missed flat PDF) is 1e-7 or more.
SUMMARY_ATOL = 1e-9
N_TEST = 300
# All adjacent colours shifted by this much are far outside any training set of the suite.
FAR_COLOUR_SHIFT = 3.0
PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib", ".pt", ".pth")
MANIFEST_KEYS = (
    "format",
    "format_version",
    "zphot_version",
    "estimator",
    "params",
    "bands",
    "grid",
    "preprocessing",
    "fingerprint",
    "libraries",
)


def _require(condition: bool, message: str) -> None:
    """``assert`` that survives ``python -O``: the suite is library code, not only tests."""
    if not condition:
        raise AssertionError(message)


def _same(a: Any, b: Any) -> bool:
    """Parameter equality; lists and tuples compare alike (JSON manifests hold no tuples)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return bool(np.array_equal(a, b))
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return bool(a == b)


def _raises(exc_type: type[BaseException], func: Callable[[], object], what: str) -> str:
    """Run ``func``, require it to raise ``exc_type``, and return the message."""
    try:
        func()
    except exc_type as exc:
        return str(exc)
    raise AssertionError(f"{what}: expected {exc_type.__name__}, nothing was raised")


def _invalid_values(rule: Interval | Options) -> list[Any]:
    """Values the declared constraint rejects, built from the declaration itself."""
    if isinstance(rule, Options):
        return ["__not_one_of_the_options__"]
    if rule.lo is not None:
        out = [rule.lo - 1]
    elif rule.hi is not None:
        out = [rule.hi + 1]
    else:
        out = ["not a number"]
    if rule.integer:
        out.append((rule.lo if rule.lo is not None else 0) + 0.5)
    return out


def _check_pdf(pdf: PDFBatch, n: int, est: PhotoZEstimator, what: str) -> None:
    """Shape, finiteness, non-negativity and normalisation of a batch on the fitted grid."""
    _require(isinstance(pdf, PDFBatch), f"{what}: predict_pdf returned {type(pdf).__name__}")
    _require(pdf.grid == est.grid_, f"{what}: PDFs on {pdf.grid}, not on grid_ {est.grid_}")
    p = pdf.probs
    _require(
        p.shape == (n, est.grid_.n_bins), f"{what}: shape {p.shape} != {(n, est.grid_.n_bins)}"
    )
    _require(bool(np.isfinite(p).all()), f"{what}: non-finite probabilities")
    _require(bool((p >= 0).all()), f"{what}: negative probabilities")
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-10, err_msg=f"{what}: row sums")


class _Context:
    """The estimator under test (configured, unfitted), the data and one shared fit."""

    def __init__(self, estimator: PhotoZEstimator, n_train: int) -> None:
        self.estimator = estimator
        self.n_train = n_train
        self.cls_name = type(estimator).__name__

    @functools.cached_property
    def train(self) -> Catalog:
        return synthetic_catalog(self.n_train, random_state=0)

    @functools.cached_property
    def test(self) -> Catalog:
        return synthetic_catalog(N_TEST, random_state=1)

    @functools.cached_property
    def fitted(self) -> PhotoZEstimator:
        """Fitted once, lazily; checks only predict from it (never refit or set_params)."""
        return clone(self.estimator).fit(self.train)

    @functools.cached_property
    def test_probs(self) -> NDArray[np.float64]:
        return self.fitted.predict_pdf(self.test).probs


# --- 1. construction and parameters ---------------------------------------------------------


def check_init_is_param_list(ctx: _Context) -> None:
    """Builds with defaults; keyword-only ``__init__`` that stores its arguments, nothing else."""
    cls = type(ctx.estimator)
    est = cls()
    params = est.get_params()
    sig = inspect.signature(cls.__init__)
    for name, p in sig.parameters.items():
        if name != "self":
            _require(
                p.kind is p.KEYWORD_ONLY, f"{cls.__name__}.__init__: '{name}' not keyword-only"
            )
    _require(
        set(vars(est)) == set(params),
        f"{cls.__name__}.__init__ sets {sorted(set(vars(est)) - set(params))} besides its params",
    )
    # The very objects passed must be stored: first the defaults, then opaque stand-ins that
    # any validation or conversion in __init__ would trip over.
    for values in (params, {k: object() for k in params}):
        stored = cls(**values)
        for k, v in values.items():
            _require(
                getattr(stored, k) is v, f"{cls.__name__}.__init__ does not store '{k}' verbatim"
            )
    _require(bool(cls.name) and isinstance(cls.name, str), f"{cls.__name__}.name is not set")
    for tag in ("network", "synthetic_tolerance"):
        _require(tag in cls.tags, f"{cls.__name__}.tags lacks '{tag}'")
    for pname in cls._constraints:
        _require(pname in params, f"{cls.__name__}._constraints names unknown param '{pname}'")
    from ..estimators.registry import estimator_class, list_estimators

    if cls.name in list_estimators(include_special=True):
        _require(estimator_class(cls.name) is cls, f"registry name '{cls.name}' is another class")
    _require(repr(est).startswith(cls.__name__), f"{cls.__name__}: repr {repr(est)!r}")


def check_get_set_params_round_trip(ctx: _Context) -> None:
    """``set_params(**get_params())`` on a default instance reproduces the parameters."""
    params = ctx.estimator.get_params()
    other = type(ctx.estimator)()
    _require(other.set_params(**params) is other, "set_params must return self")
    _require(_same(other.get_params(), params), "get_params after set_params differs")
    _raises(ValueError, lambda: other.set_params(no_such_param=1), "set_params(no_such_param=1)")


def check_clone_is_unfitted(ctx: _Context) -> None:
    """``sklearn.base.clone`` of a fitted estimator: equal params, no fitted state."""
    for source in (ctx.estimator, ctx.fitted):
        c = clone(source)
        _require(_same(c.get_params(), source.get_params()), "clone changed the parameters")
        fitted_attrs = [k for k in vars(c) if k.endswith("_") and not k.startswith("__")]
        _require(not fitted_attrs, f"clone carries fitted attributes {fitted_attrs}")
        _raises(NotFittedError, lambda c=c: c.predict_pdf(ctx.test), "predict_pdf on a clone")


def check_invalid_params_fail_at_fit(ctx: _Context) -> None:
    """Every declared constraint: an invalid value passes ``__init__``, ``fit`` names it."""
    est = ctx.estimator
    params = est.get_params()
    rules = {**est._common_constraints, **est._constraints}
    cases = [(k, bad) for k, r in rules.items() if k in params for bad in _invalid_values(r)]
    if "grid" in params:
        cases.append(("grid", (1.0, 0.5, 10)))  # z_max < z_min
    _require(bool(cases), f"{ctx.cls_name} declares no parameter constraints")
    for pname, bad in cases:
        broken = type(est)(**{**params, pname: bad})  # must not raise
        msg = _raises(
            ParameterError, lambda b=broken: b.fit(ctx.train), f"fit with {pname}={bad!r}"
        )
        _require(pname in msg, f"error for {pname}={bad!r} does not name it: {msg}")


# --- 2-3. fitting ---------------------------------------------------------------------------


def check_fit_returns_self_without_side_effects(ctx: _Context) -> None:
    """``fit`` returns self and changes neither its parameters nor the input catalog."""
    est = clone(ctx.estimator)
    cat = ctx.train
    params = copy.deepcopy(est.get_params())
    table, mags, errs = cat.table.copy(deep=True), cat.mags.copy(), cat.mag_errs.copy()
    _require(est.fit(cat) is est, "fit must return self")
    _require(_same(est.get_params(), params), "fit changed the estimator's parameters")
    pd.testing.assert_frame_equal(cat.table, table, obj="training table after fit")
    _require(np.array_equal(cat.mags, mags, equal_nan=True), "fit changed catalog.mags")
    _require(np.array_equal(cat.mag_errs, errs, equal_nan=True), "fit changed catalog.mag_errs")
    for attr in ("survey_", "bands_", "grid_", "preprocessing_", "coverage_", "n_train_"):
        _require(hasattr(est, attr), f"fit did not set {attr}")
    _require(est.n_train_ == len(cat), f"n_train_ {est.n_train_} != {len(cat)}")


def check_not_fitted_errors(ctx: _Context) -> None:
    """Every prediction method (and save) before ``fit`` raises NotFittedError naming the class."""
    est = clone(ctx.estimator)
    with tempfile.TemporaryDirectory() as tmp:
        calls = {
            "predict_pdf": lambda: est.predict_pdf(ctx.test),
            "predict": lambda: est.predict(ctx.test),
            "predict_table": lambda: est.predict_table(ctx.test),
            "out_of_coverage": lambda: est.out_of_coverage(ctx.test),
            "save": lambda: est.save(Path(tmp) / "model.zphot"),
        }
        for method, call in calls.items():
            msg = _raises(NotFittedError, call, f"{method} before fit")
            _require(
                ctx.cls_name in msg, f"{method}: NotFittedError does not name the class: {msg}"
            )
        _require(not any(Path(tmp).iterdir()), "save before fit wrote a file")


# --- 4-5. predictions -----------------------------------------------------------------------


def check_pdf_valid(ctx: _Context) -> None:
    """Right shape, finite, >= 0, rows sum to 1, points in the grid, mode at the argmax bin."""
    est, n = ctx.fitted, len(ctx.test)
    pdf = est.predict_pdf(ctx.test)
    _check_pdf(pdf, n, est, "predict_pdf")
    g = est.grid_
    for kind in POINT_KINDS:
        z = pdf.point(kind)
        _require(z.shape == (n,), f"point('{kind}') shape {z.shape}")
        _require(bool(((z >= g.z_min) & (z <= g.z_max)).all()), f"point('{kind}') outside grid")
    np.testing.assert_array_equal(pdf.point("mode"), g.centres[np.argmax(pdf.probs, axis=1)])
    point = est.point
    # A recalibrated PDF (tag "recalibrated_pdf") keeps the point estimates of the PDF before
    # recalibration, which the estimator exposes as raw_pdf().
    point_pdf = est.raw_pdf(ctx.test) if type(est).tags.get("recalibrated_pdf") else pdf
    np.testing.assert_allclose(
        est.predict(ctx.test),
        point_pdf.point(point),
        rtol=0,
        atol=SUMMARY_ATOL,
        err_msg="predict() differs from predict_pdf().point()",
    )
    table = est.predict_table(ctx.test)
    for col in ("z_phot", "z_err", "z_lo", "z_hi", "out_of_coverage"):
        _require(col in table.columns, f"predict_table lacks '{col}'")
    _require(len(table) == n, f"predict_table has {len(table)} rows, not {n}")
    np.testing.assert_allclose(
        table["z_phot"].to_numpy(),
        point_pdf.point(point),
        rtol=0,
        atol=SUMMARY_ATOL,
        err_msg="predict_table() z_phot differs from predict_pdf().point()",
    )
    lo, hi = pdf.interval(0.68)
    np.testing.assert_allclose(
        table[["z_lo", "z_hi"]].to_numpy(),
        np.column_stack([lo, hi]),
        rtol=0,
        atol=SUMMARY_ATOL,
        err_msg="predict_table() interval differs from predict_pdf().interval(0.68)",
    )
    _require(bool((table["z_lo"] <= table["z_hi"]).all()), "predict_table: z_lo > z_hi")
    _require(bool((table["z_err"] >= 0).all()), "predict_table: negative z_err")
    np.testing.assert_allclose(
        table["z_err"].to_numpy(),
        0.5 * (table["z_hi"] - table["z_lo"]).to_numpy(),
        rtol=0,
        atol=1e-12,
        err_msg="predict_table() z_err is not half the 68% interval (z_hi - z_lo) / 2",
    )


def check_recovers_synthetic_redshift(ctx: _Context) -> None:
    """sigma_NMAD on held-out synthetic galaxies within ``tags["synthetic_tolerance"]``, and
    their median offset within half of it."""
    from ..metrics import bias, sigma_nmad

    tol = float(type(ctx.estimator).tags["synthetic_tolerance"])
    z_phot, z_spec = ctx.fitted.predict(ctx.test), ctx.test.require_z()
    got = sigma_nmad(z_phot, z_spec)
    _require(got <= tol, f"{ctx.cls_name}: sigma_NMAD {got:.4f} > synthetic_tolerance {tol}")
    # A scatter within tolerance can hide a shifted estimator; half the tolerance bounds the
    # median offset (the synthetic relation is unbiased by construction).
    off = bias(z_phot, z_spec)
    _require(abs(off) <= tol / 2, f"{ctx.cls_name}: bias {off:+.4f} beyond +-{tol / 2:.4f}")


def check_same_seed_same_output(ctx: _Context) -> None:
    """Two fits with the same parameters (seed included) give identical PDFs."""
    again = clone(ctx.estimator).fit(ctx.train)
    np.testing.assert_array_equal(again.predict_pdf(ctx.test).probs, ctx.test_probs)
    np.testing.assert_array_equal(
        again.out_of_coverage(ctx.test), ctx.fitted.out_of_coverage(ctx.test)
    )


def check_rows_independent(ctx: _Context) -> None:
    """A subset's PDFs equal those rows of the full run; chunked prediction equals whole."""
    est, full = ctx.fitted, ctx.test_probs
    rows = np.random.default_rng(0).permutation(len(ctx.test))[:37]
    sub = est.predict_pdf(ctx.test.take(rows)).probs
    np.testing.assert_allclose(
        sub,
        full[rows],
        rtol=BATCH_RTOL,
        atol=BATCH_ATOL,
        err_msg="subset rows differ from the full run",
    )
    bounds = [0, 1, 64, 200, len(ctx.test)]
    chunks = [
        est.predict_pdf(ctx.test.take(np.arange(a, b))).probs
        for a, b in zip(bounds[:-1], bounds[1:], strict=True)
    ]
    np.testing.assert_allclose(
        np.vstack(chunks),
        full,
        rtol=BATCH_RTOL,
        atol=BATCH_ATOL,
        err_msg="chunked prediction differs from the whole",
    )


# --- 7. bands by name -----------------------------------------------------------------------


def check_columns_matched_by_name(ctx: _Context) -> None:
    """Shuffled table columns, or the survey's bands listed in another order: same result."""
    test = ctx.test
    cols = list(test.table.columns)
    shuffled = [cols[i] for i in np.random.default_rng(1).permutation(len(cols))]
    cat = Catalog(test.table[shuffled], test.survey, source=test.source)
    np.testing.assert_array_equal(
        ctx.fitted.predict_pdf(cat).probs,
        ctx.test_probs,
        err_msg="shuffled table columns changed the PDFs",
    )
    reordered = dataclasses.replace(test.survey, bands=test.survey.bands[::-1])
    cat = Catalog(test.table, reordered, source=test.source)
    np.testing.assert_array_equal(
        ctx.fitted.predict_pdf(cat).probs,
        ctx.test_probs,
        err_msg="bands in another survey order changed the PDFs",
    )


def check_missing_band_error(ctx: _Context) -> None:
    """A catalog without a trained band raises MissingBandError naming it, in every method."""
    test, band = ctx.test, ctx.fitted.bands_[1]
    survey = dataclasses.replace(
        test.survey, bands=tuple(b for b in test.survey.bands if b.name != band)
    )
    cat = Catalog(
        test.table.drop(columns=list(test.survey.band(band).columns)), survey, source="dropped.csv"
    )
    est = ctx.fitted
    for method in ("predict_pdf", "predict", "predict_table", "out_of_coverage"):
        msg = _raises(
            MissingBandError,
            lambda m=method: getattr(est, m)(cat),
            f"{method} without band '{band}'",
        )
        _require(f"'{band}'" in msg, f"{method}: MissingBandError does not name '{band}': {msg}")


def check_nan_band_imputed(ctx: _Context) -> None:
    """NaN in one band gives finite, valid output; a row with nothing measured gets a flat PDF."""
    est = ctx.fitted
    cat = ctx.test.take(np.arange(40))
    mags = cat.mags.copy()
    j = cat.bands.index(est.bands_[1])
    mags[:10, j] = np.nan
    mags[10, :] = np.nan
    holed = cat.with_magnitudes(mags)
    pdf = est.predict_pdf(holed)
    _check_pdf(pdf, len(cat), est, "predict_pdf with NaN")
    _require(bool(np.isfinite(est.predict(holed)).all()), "non-finite point estimate with NaN")
    if not type(est).tags.get("recalibrated_pdf"):
        # The summaries without a PDF follow the same rules (flat PDF where nothing is measured).
        table = est.predict_table(holed)
        np.testing.assert_allclose(
            table[["z_phot", "z_lo", "z_hi"]].to_numpy(),
            np.column_stack([pdf.point(est.point), *pdf.interval()]),
            rtol=0,
            atol=SUMMARY_ATOL,
            err_msg="predict_table() with NaN differs from predict_pdf()",
        )
    np.testing.assert_allclose(
        pdf.probs[10],
        1.0 / est.grid_.n_bins,
        rtol=1e-12,
        err_msg="a row with no band measured should have a flat PDF",
    )
    np.testing.assert_allclose(
        pdf.probs[11:],
        ctx.test_probs[11:40],
        rtol=BATCH_RTOL,
        atol=BATCH_ATOL,
        err_msg="NaN in some rows changed other rows",
    )
    _require(bool(est.out_of_coverage(holed)[10]), "a row with no band measured is not flagged")


# --- 8. persistence -------------------------------------------------------------------------


def _rewrite_manifest(src: Path, dst: Path, change: Callable[[dict], None]) -> None:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for name in zin.namelist():
            data = zin.read(name)
            if name == "manifest.json":
                manifest = json.loads(data)
                change(manifest)
                data = json.dumps(manifest).encode()
            zout.writestr(name, data)


def check_save_load_round_trip(ctx: _Context) -> None:
    """save -> load: bitwise predictions, complete manifest, no pickle, overwrite refused."""
    from .._version import __version__
    from ..estimators.persist import FORMAT_NAME, FORMAT_VERSION, load

    est = ctx.fitted
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.zphot"
        est.save(path)
        before = path.read_bytes()
        _raises(OverwriteError, lambda: est.save(path), "saving over an existing model")
        _require(path.read_bytes() == before, "a refused save changed the file")
        loaded = load(path)
        _require(type(loaded) is type(est), f"load gave {type(loaded).__name__}")
        _require(_same(loaded.get_params(), est.get_params()), "load changed the parameters")
        np.testing.assert_array_equal(loaded.predict_pdf(ctx.test).probs, ctx.test_probs)
        np.testing.assert_array_equal(loaded.predict(ctx.test), est.predict(ctx.test))
        pd.testing.assert_frame_equal(loaded.predict_table(ctx.test), est.predict_table(ctx.test))
        with zipfile.ZipFile(path) as zf:
            manifest = json.loads(zf.read("manifest.json"))
            for name in zf.namelist():
                data = zf.read(name)
                _require(not name.lower().endswith(PICKLE_SUFFIXES), f"pickle-type file {name}")
                _require(
                    not (data[:1] == b"\x80" and data[1:2] in b"\x02\x03\x04\x05"),
                    f"{name} is a pickle",
                )
                if name.endswith(".npy"):
                    arr = np.lib.format.read_array(io.BytesIO(data), allow_pickle=False)
                    _require(arr.dtype != object, f"{name} holds Python objects")
    missing = [k for k in MANIFEST_KEYS if k not in manifest]
    _require(not missing, f"manifest lacks {missing}")
    _require(manifest["format"] == FORMAT_NAME, f"manifest format {manifest['format']!r}")
    _require(manifest["format_version"] == FORMAT_VERSION, "manifest format_version")
    _require(manifest["zphot_version"] == __version__, "manifest zphot_version")
    _require(manifest["estimator"] == type(est).name, f"manifest estimator {manifest['estimator']}")
    _require(manifest["bands"] == list(est.bands_), f"manifest bands {manifest['bands']}")
    _require(manifest["grid"] == est.grid_.to_dict(), f"manifest grid {manifest['grid']}")
    _require(_same(manifest["params"], est.get_params()), "manifest params differ")
    _require(
        manifest["preprocessing"] == est.preprocessing_.get_state(),
        "manifest preprocessing differs from preprocessing_",
    )


def check_load_refuses_bad_files(ctx: _Context) -> None:
    """A newer format version, a zip without manifest, or a pickle: ModelFileError."""
    import pickle

    from ..estimators.persist import FORMAT_VERSION, load

    with tempfile.TemporaryDirectory() as tmp:
        good = Path(tmp) / "model.zphot"
        ctx.fitted.save(good)
        newer = Path(tmp) / "newer.zphot"
        _rewrite_manifest(good, newer, lambda m: m.update(format_version=FORMAT_VERSION + 1))
        msg = _raises(ModelFileError, lambda: load(newer), "loading a newer format version")
        _require(str(FORMAT_VERSION + 1) in msg, f"refusal does not name the version: {msg}")
        bare = Path(tmp) / "bare.zphot"
        with zipfile.ZipFile(good) as zin, zipfile.ZipFile(bare, "w") as zout:
            for name in zin.namelist():
                if name != "manifest.json":
                    zout.writestr(name, zin.read(name))
        _raises(ModelFileError, lambda: load(bare), "loading a zip without manifest.json")
        pickled = Path(tmp) / "model.pkl"
        pickled.write_bytes(pickle.dumps({"estimator": type(ctx.fitted).name}))
        _raises(ModelFileError, lambda: load(pickled), "loading a pickle")


# --- 9. edge cases --------------------------------------------------------------------------


def check_empty_and_one_row(ctx: _Context) -> None:
    """An empty catalog gives empty output of the right shape; one row gives a valid PDF."""
    est = ctx.fitted
    empty = ctx.test.take(np.array([], dtype=np.int64))
    _check_pdf(est.predict_pdf(empty), 0, est, "empty catalog")
    _require(est.predict(empty).shape == (0,), "predict on an empty catalog")
    _require(est.out_of_coverage(empty).shape == (0,), "out_of_coverage on an empty catalog")
    table = est.predict_table(empty)
    _require(len(table) == 0 and "z_phot" in table.columns, "predict_table on an empty catalog")
    one = ctx.test.take(np.array([5]))
    pdf = est.predict_pdf(one)
    _check_pdf(pdf, 1, est, "one-row catalog")
    np.testing.assert_allclose(pdf.probs, ctx.test_probs[5:6], rtol=BATCH_RTOL, atol=BATCH_ATOL)


def check_out_of_coverage(ctx: _Context) -> None:
    """Colours far outside the training data are flagged; held-out look-alikes mostly are not."""
    est, test = ctx.fitted, ctx.test
    inside = est.out_of_coverage(test)
    _require(inside.dtype == bool and inside.shape == (len(test),), "out_of_coverage shape/dtype")
    _require(inside.mean() < 0.2, f"{inside.mean():.0%} of in-distribution galaxies flagged")
    shift = FAR_COLOUR_SHIFT * np.arange(len(test.bands))  # every adjacent colour + 3 mag
    far = test.with_magnitudes(test.mags + shift)
    _require(bool(est.out_of_coverage(far).all()), "galaxies with colours +3 mag not flagged")
    _check_pdf(est.predict_pdf(far), len(far), est, "far outside the training data")
    _require(bool(est.predict_table(far)["out_of_coverage"].all()), "predict_table flag")


_CHECKS: tuple[Callable[[_Context], None], ...] = (
    check_init_is_param_list,
    check_get_set_params_round_trip,
    check_clone_is_unfitted,
    check_invalid_params_fail_at_fit,
    check_fit_returns_self_without_side_effects,
    check_not_fitted_errors,
    check_pdf_valid,
    check_recovers_synthetic_redshift,
    check_same_seed_same_output,
    check_rows_independent,
    check_columns_matched_by_name,
    check_missing_band_error,
    check_nan_band_imputed,
    check_save_load_round_trip,
    check_load_refuses_bad_files,
    check_empty_and_one_row,
    check_out_of_coverage,
)


def _skipped(reason: str) -> Callable[[], None]:
    def skip() -> None:
        raise unittest.SkipTest(reason)

    return skip


def check_estimator(
    estimator: PhotoZEstimator, *, fast: bool = True
) -> Iterator[tuple[str, Callable[[], None]]]:
    """Yield the contract's named checks for ``estimator``.

    Parameters
    ----------
    estimator : PhotoZEstimator
        An unfitted instance; it is cloned, never modified.
    fast : bool
        Apply the class's ``tags["fast_params"]`` (small settings that train in seconds) with
        ``set_params`` before checking. ``False`` checks the parameters as given.

    Yields
    ------
    name : str
        The check's name (``check_pdf_valid``...), stable for pytest ids and ``skip_checks``.
    check : callable
        Takes no argument; raises ``AssertionError`` (or the unexpected error) on a breach,
        :class:`unittest.SkipTest` when the tags skip it.

    Raises
    ------
    ParameterError
        A ``skip_checks`` tag names an unknown check or gives no reason.

    Notes
    -----
    The checks share one lazily fitted model, so run them in one process; their order does not
    matter. Files are written only to temporary folders that are removed afterwards.
    """
    tags = type(estimator).tags
    # Rebuilt from its parameters rather than cloned: sklearn's clone raises at once when
    # __init__ alters an argument, and check_init_is_param_list should report that instead.
    est = type(estimator)(**estimator.get_params())
    if fast:
        est.set_params(**tags.get("fast_params", {}))
    ctx = _Context(est, n_train=int(tags.get("synthetic_n_train", 1000)))
    skips = dict(tags.get("skip_checks", {}))
    names = {c.__name__ for c in _CHECKS}
    for name, reason in skips.items():
        if name not in names or not isinstance(reason, str) or not reason.strip():
            raise ParameterError(
                f"{type(estimator).__name__}.tags['skip_checks']: '{name}' needs a known check "
                f"name and a written reason, got {reason!r}"
            )
    for check in _CHECKS:
        name = check.__name__
        if name in skips:
            yield name, _skipped(f"{type(estimator).__name__}: {skips[name]}")
        else:
            yield name, functools.partial(check, ctx)
