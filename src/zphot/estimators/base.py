"""The estimator contract every zphot method follows.

scikit-learn's ``BaseEstimator`` supplies ``get_params``/``set_params``/``clone``/repr from the
constructor signature, so each estimator's ``__init__`` only stores its keyword arguments;
validation and all work start in ``fit``. Fitted state ends in ``_``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sklearn.base import BaseEstimator

from ..catalog.bands import Survey
from ..catalog.catalog import Catalog
from ..catalog.coerce import as_catalog, like_input
from ..catalog.survey import survey_from_dict
from ..exceptions import CatalogError, MissingBandError, NotFittedError, ParameterError
from ..features.coverage import CoverageModel
from ..features.preprocess import INPUT_KINDS, SCALERS, Preprocessor
from ..pdf.batch import POINT_KINDS, PDFBatch
from ..pdf.grid import RedshiftGrid

__all__ = ["PhotoZEstimator", "Interval", "Options", "INTERVAL_68", "training_fingerprint"]

#: Quantile levels of the central 68% interval, as :meth:`PDFBatch.interval` computes them.
INTERVAL_68 = ((1 - 0.68) / 2, (1 + 0.68) / 2)

#: A survey as the entry points take it: a Survey, a preset name or a TOML path (None: default).
SurveySpec = Survey | str | os.PathLike | None


def training_fingerprint(catalog: Catalog) -> str:
    """SHA-256 of a catalog's magnitudes and redshifts: ``fingerprint_`` of an estimator fitted
    on it, so a catalog can be recognised as a model's own training set."""
    return hashlib.sha256(
        np.ascontiguousarray(catalog.mags).tobytes()
        + np.ascontiguousarray(catalog.require_z()).tobytes()
    ).hexdigest()


class Interval:
    """A numeric parameter constraint (closed bounds; ``None`` is unbounded)."""

    def __init__(self, lo: float | None, hi: float | None, integer: bool = False) -> None:
        self.lo, self.hi, self.integer = lo, hi, integer

    def ok(self, v: Any) -> bool:
        if isinstance(v, bool) or not isinstance(v, int | float | np.integer | np.floating):
            return False
        if self.integer and int(v) != v:
            return False
        return (self.lo is None or v >= self.lo) and (self.hi is None or v <= self.hi)

    def __str__(self) -> str:
        kind = "an integer" if self.integer else "a number"
        return (
            f"{kind} in [{self.lo if self.lo is not None else '-inf'}, "
            f"{self.hi if self.hi is not None else 'inf'}]"
        )


class Options:
    """A parameter that takes one of a fixed set of values."""

    def __init__(self, *values: Any) -> None:
        self.values = values

    def ok(self, v: Any) -> bool:
        return v in self.values

    def __str__(self) -> str:
        return "one of " + ", ".join(repr(v) for v in self.values)


class PhotoZEstimator(BaseEstimator):
    """Base class: fit on a catalog with redshifts, predict PDFs on a grid and point estimates.

    Subclasses declare ``name`` and ``_constraints`` and implement ``_fit``,
    ``_predict_probs``, ``_get_state`` and ``_set_state``. Common parameters (each subclass
    lists them in its own ``__init__``): ``grid`` (``None`` to size it from the training
    redshifts, bins of 0.002 but at most 400 of them, see
    :meth:`~zphot.pdf.grid.RedshiftGrid.for_redshifts`; or ``(z_min, z_max, n_bins)``),
    ``point`` (``mode``, ``mean`` or ``median``), ``inputs``, ``scaler`` and ``random_state``.

    ``tags`` adapt the contract suite (:func:`zphot.testing.check_estimator`):
    ``synthetic_tolerance`` (sigma_NMAD to reach on synthetic data), ``fast_params`` (set with
    ``set_params`` so the suite trains in seconds), ``synthetic_n_train`` and ``skip_checks``
    (``{check: reason}``); see :mod:`zphot.testing.contract`. Networks may add
    ``factorised_params``: defaults of their magnitude-factorised version in
    :class:`~zphot.debias.DebiasedEstimator` (where ``base_params`` does not set them).

    Attributes
    ----------
    survey_ : Survey
        The training catalog's survey (bands and columns), reused to read prediction files.
    bands_ : tuple of str
    grid_ : RedshiftGrid
    preprocessing_ : Preprocessor
    coverage_ : CoverageModel
    n_train_ : int
    fingerprint_ : str
        SHA-256 of the training magnitudes and redshifts (provenance of a saved model).
    """

    name: ClassVar[str] = ""
    tags: ClassVar[dict[str, Any]] = {"network": False, "synthetic_tolerance": 0.02}
    _common_constraints: ClassVar[dict[str, Any]] = {
        "point": Options(*POINT_KINDS),
        "inputs": Options(*INPUT_KINDS),
        "scaler": Options(*SCALERS),
        "random_state": Interval(0, None, integer=True),
    }
    _constraints: ClassVar[dict[str, Any]] = {}
    #: Whether ``fit`` accepts ``sample_weight``.
    takes_sample_weight: ClassVar[bool] = False

    # The common parameters, stored by every subclass's ``__init__`` (declared here, without
    # values, so the base class reads them as attributes with each subclass's own defaults).
    grid: tuple[float, float, int] | None
    point: str
    inputs: str
    scaler: str
    random_state: int

    # --- validation ----------------------------------------------------------------------

    def _validate_params(self) -> None:
        params = self.get_params()
        for pname, rule in {**self._common_constraints, **self._constraints}.items():
            if pname in params and not rule.ok(params[pname]):
                raise ParameterError(
                    f"{type(self).__name__}: parameter '{pname}' must be {rule}, "
                    f"got {params[pname]!r}"
                )
        grid = params.get("grid")
        if grid is not None:
            if not (isinstance(grid, list | tuple) and len(grid) == 3):
                raise ParameterError(
                    f"{type(self).__name__}: parameter 'grid' must be None or "
                    f"(z_min, z_max, n_bins), got {grid!r}"
                )
            RedshiftGrid(float(grid[0]), float(grid[1]), int(grid[2]))

    def _check_fitted(self) -> None:
        if not hasattr(self, "grid_"):
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet; call fit(catalog) first"
            )

    def _input(self, catalog: Any, survey: SurveySpec) -> Catalog:
        """Check the model is fitted, then read ``catalog`` (any input type) with ``survey``,
        by default the training survey, whose id/ra/dec columns may then be absent."""
        self._check_fitted()
        return as_catalog(catalog, survey, default=self.survey_)

    def _check_bands(self, cat: Catalog) -> None:
        for band in self.bands_:
            if band not in cat.bands:
                raise MissingBandError(band, cat.source, list(cat.bands))

    # --- fitting -------------------------------------------------------------------------

    def fit(
        self,
        catalog: Any,
        *,
        validation: Any = None,
        survey: SurveySpec = None,
        sample_weight: NDArray[np.float64] | None = None,
    ) -> PhotoZEstimator:
        """Fit on a catalog with redshifts; ``validation`` (optional) drives early stopping.

        ``catalog`` and ``validation`` may be any input :func:`~zphot.catalog.as_catalog`
        takes (Catalog, DataFrame, astropy Table, structured array, path, ``builtin:NAME``),
        their columns mapped by ``survey`` (a Survey, preset name or TOML file; by default a
        built-in catalog's preset or the preset whose columns the table has).

        ``sample_weight`` (one non-negative number per row; estimators whose
        ``takes_sample_weight`` is true) weights each galaxy's loss, e.g. the colour-space
        weights that make a bright spec-z sample resemble fainter sources
        (:func:`zphot.lensing.reweight_catalog`).
        """
        self._validate_params()
        catalog = as_catalog(catalog, survey)
        if validation is not None:
            validation = as_catalog(validation, survey, default=catalog.survey, what="validation")
        if len(catalog) < 2:
            raise CatalogError(f"{catalog.source}: need at least 2 rows to fit, got {len(catalog)}")
        self._sample_weight = self._check_weight(catalog, sample_weight)
        z = catalog.require_z()
        self.survey_: Survey = catalog.survey
        self.bands_ = catalog.bands
        self.preprocessing_ = Preprocessor(self.inputs, self.scaler)
        self.preprocessing_.fit(catalog)
        grid = self.grid
        self.grid_ = (
            RedshiftGrid(float(grid[0]), float(grid[1]), int(grid[2]))
            if grid
            else RedshiftGrid.for_redshifts(z)
        )
        self.coverage_ = CoverageModel(random_state=self._seed()).fit(self._coverage_x(catalog))
        self.n_train_ = len(catalog)
        self.fingerprint_ = training_fingerprint(catalog)
        try:
            self._fit(catalog, z, validation)
        finally:
            del self._sample_weight
        return self

    def _check_weight(self, catalog: Catalog, weight: NDArray | None) -> NDArray | None:
        if weight is None:
            return None
        if not self.takes_sample_weight:
            raise ParameterError(
                f"{type(self).__name__} does not take sample weights; use a network (e.g. mlp)"
            )
        w = np.asarray(weight, dtype=np.float64)
        if w.shape != (len(catalog),) or not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
            raise ParameterError(
                f"{catalog.source}: sample_weight needs {len(catalog)} finite non-negative "
                "values with a positive sum"
            )
        return w

    def _seed(self) -> int:
        return int(self.random_state or 0)

    def _coverage_x(self, cat: Catalog) -> NDArray[np.float64]:
        """Reference magnitude + colours, NaN for rows with no measured band."""
        mags, valid = self.preprocessing_.complete_magnitudes(cat)
        ref = self.preprocessing_.ref_index_
        x = np.column_stack([mags[:, [ref]], np.diff(mags, axis=1)])
        x[~valid] = np.nan
        return x

    # --- prediction ----------------------------------------------------------------------

    def predict_pdf(self, catalog: Any, *, survey: SurveySpec = None) -> PDFBatch:
        """Per-galaxy PDFs on ``grid_`` (rows sum to 1; flat where no band is measured).

        ``catalog``: any input :func:`~zphot.catalog.as_catalog` takes; its columns are mapped
        by ``survey`` if given, else by the survey the model was trained with.
        """
        catalog = self._input(catalog, survey)
        self._check_bands(catalog)
        if len(catalog) == 0:
            return PDFBatch(np.empty((0, self.grid_.n_bins)), self.grid_)
        probs = self._predict_probs(catalog)
        _, valid = self.preprocessing_.complete_magnitudes(catalog)
        probs[~valid] = 1.0
        return PDFBatch.normalised(probs, self.grid_)

    def predict(self, catalog: Any, *, survey: SurveySpec = None) -> NDArray[np.float64]:
        """Point estimates, as chosen by the ``point`` parameter (inputs as for
        :meth:`predict_pdf`)."""
        catalog = self._input(catalog, survey)
        z, _ = self._summary(catalog, self.point)
        return z

    def out_of_coverage(self, catalog: Any, *, survey: SurveySpec = None) -> NDArray[np.bool_]:
        """True where a galaxy lies outside the training colour-magnitude coverage."""
        catalog = self._input(catalog, survey)
        self._check_bands(catalog)
        return self.coverage_.flag(self._coverage_x(catalog))

    def predict_table(
        self, catalog: Any, pdf: PDFBatch | None = None, *, survey: SurveySpec = None
    ) -> Any:
        """id (if any), z_phot, z_err (half the 68% interval), z_lo, z_hi, out_of_coverage.

        ``catalog``: any input :func:`~zphot.catalog.as_catalog` takes (see
        :meth:`predict_pdf`); the result has its type: an astropy Table (with units and
        descriptions) for a Table, a structured array for one, else a DataFrame.
        ``pdf``: the catalog's PDFs when the caller has them already; without it the summaries
        come from :meth:`_summary` (equal to those of ``predict_pdf`` up to float64 rounding).
        """
        cat = self._input(catalog, survey)
        return like_input(self._prediction_frame(cat, pdf), catalog, cat.survey.id)

    def _prediction_frame(self, catalog: Catalog, pdf: PDFBatch | None) -> pd.DataFrame:
        """The rows of :meth:`predict_table` as a DataFrame (subclasses add columns here)."""
        kind = self.point
        if pdf is None:
            z, q = self._summary(catalog, kind, INTERVAL_68)
            lo, hi = q[:, 0], q[:, 1]
        else:
            z = pdf.point(kind)
            lo, hi = pdf.interval(0.68)
        out = {}
        if catalog.ids is not None:
            out[catalog.survey.id] = catalog.ids
        out |= {
            "z_phot": z,
            "z_err": 0.5 * (hi - lo),
            "z_lo": lo,
            "z_hi": hi,
            "out_of_coverage": self.out_of_coverage(catalog),
        }
        return pd.DataFrame(out)

    def _summary(
        self, catalog: Catalog, kind: str, quantiles: Sequence[float] = ()
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Point estimate ``kind`` and the PDF quantiles at ``quantiles``, shape (n, len(q)).

        What :meth:`predict` and :meth:`predict_table` (and streamed prediction without PDF
        columns) report, computed here as ``predict_pdf(catalog).point(kind)`` and
        ``.quantiles(quantiles)``. It is a method of the estimator rather than of
        :class:`PDFBatch` so that an estimator able to summarise without first building the
        (n, n_bins) float64 PDF array can override it: the torch networks go from logits to
        summaries block by block, which is most of their prediction time saved. An override
        must agree with this definition up to float64 rounding (the contract suite checks it,
        see :func:`zphot.testing.contract.check_pdf_valid`) and keep rows independent; an
        estimator that changes ``predict_pdf`` itself (a recalibration) gets this default.
        """
        pdf = self.predict_pdf(catalog)
        q = pdf.quantiles(quantiles) if len(quantiles) else np.empty((len(pdf), 0))
        return pdf.point(kind), q

    def prediction_columns(self, available: Sequence[str], path: str) -> dict[str, Any]:
        """Catalog columns beyond the survey's mapping that prediction reads (none here).

        Streamed and Dask prediction (:mod:`zphot.scale`) read only the survey's columns (plus
        id and redshift) so chunks stay narrow; an estimator whose inputs live in other
        columns lists them here. A value of ``None`` reads that column from the file; any other
        value is a constant put in every chunk, for inputs that depend on the file itself (a
        stamp file's rows point into that file). ``available`` are the file's columns and
        ``path`` the file. The image CNN overrides it to read its stamp pointers.
        """
        return {}

    # --- persistence ---------------------------------------------------------------------

    def save(self, path: str | os.PathLike, overwrite: bool = False) -> None:
        """Write the fitted model to one file (zip: manifest.json + arrays), atomically."""
        from .persist import save_model

        self._check_fitted()
        save_model(self, path, overwrite=overwrite)

    def _common_state(self) -> tuple[dict, dict[str, NDArray]]:
        cov_meta, cov_arrays = self.coverage_.get_state()
        meta = {
            "survey": self.survey_.to_dict(),
            "bands": list(self.bands_),
            "grid": self.grid_.to_dict(),
            "preprocessing": self.preprocessing_.get_state(),
            "coverage": cov_meta,
            "n_train": self.n_train_,
            "fingerprint": self.fingerprint_,
        }
        return meta, {f"coverage.{k}": v for k, v in cov_arrays.items()}

    def _restore_common(self, meta: dict, arrays: dict[str, NDArray]) -> None:
        self.survey_ = survey_from_dict(meta["survey"], source="saved model")
        self.bands_ = tuple(meta["bands"])
        self.grid_ = RedshiftGrid(**meta["grid"])
        self.preprocessing_ = Preprocessor.from_state(meta["preprocessing"])
        cov = {k.split(".", 1)[1]: v for k, v in arrays.items() if k.startswith("coverage.")}
        self.coverage_ = CoverageModel.from_state(meta["coverage"], cov)
        self.n_train_ = int(meta["n_train"])
        self.fingerprint_ = meta["fingerprint"]

    # --- for subclasses ------------------------------------------------------------------

    def _fit(self, catalog: Catalog, z: NDArray[np.float64], validation: Catalog | None) -> None:
        raise NotImplementedError

    def _predict_probs(self, catalog: Catalog) -> NDArray[np.float64]:
        """Non-negative weights (n, n_bins); the base class normalises them."""
        raise NotImplementedError

    def _get_state(self) -> tuple[dict, dict[str, NDArray]]:
        """Estimator-specific fitted state: JSON-ready metadata and named arrays."""
        return {}, {}

    def _set_state(self, meta: dict, arrays: dict[str, NDArray]) -> None:
        """Restore what ``_get_state`` returned."""
