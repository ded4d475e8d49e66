"""The estimator contract every zphot method follows.

scikit-learn's ``BaseEstimator`` supplies ``get_params``/``set_params``/``clone``/repr from the
constructor signature, so each estimator's ``__init__`` only stores its keyword arguments;
validation and all work start in ``fit``. Fitted state ends in ``_``.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sklearn.base import BaseEstimator

from ..catalog.bands import Survey
from ..catalog.catalog import Catalog
from ..catalog.survey import survey_from_dict
from ..exceptions import CatalogError, MissingBandError, NotFittedError, ParameterError
from ..features.coverage import CoverageModel
from ..features.preprocess import INPUT_KINDS, SCALERS, Preprocessor
from ..pdf.batch import POINT_KINDS, PDFBatch
from ..pdf.grid import RedshiftGrid

__all__ = ["PhotoZEstimator", "Interval", "Options"]


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
    redshifts, or ``(z_min, z_max, n_bins)``), ``point`` (``mode``, ``mean`` or ``median``),
    ``inputs``, ``scaler`` and ``random_state``.

    ``tags`` adapt the contract suite (:func:`zphot.testing.check_estimator`):
    ``synthetic_tolerance`` (sigma_NMAD to reach on synthetic data), ``fast_params`` (set with
    ``set_params`` so the suite trains in seconds), ``synthetic_n_train`` and ``skip_checks``
    (``{check: reason}``); see :mod:`zphot.testing.contract`.

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

    def _check_bands(self, cat: Catalog) -> None:
        for band in self.bands_:
            if band not in cat.bands:
                raise MissingBandError(band, cat.source, list(cat.bands))

    # --- fitting -------------------------------------------------------------------------

    def fit(self, catalog: Catalog, *, validation: Catalog | None = None) -> PhotoZEstimator:
        """Fit on a catalog with redshifts; ``validation`` (optional) drives early stopping."""
        self._validate_params()
        if len(catalog) < 2:
            raise CatalogError(f"{catalog.source}: need at least 2 rows to fit, got {len(catalog)}")
        z = catalog.require_z()
        self.survey_: Survey = catalog.survey
        self.bands_ = catalog.bands
        self.preprocessing_ = Preprocessor(
            self.get_params().get("inputs", "colours"), self.get_params().get("scaler", "standard")
        )
        self.preprocessing_.fit(catalog)
        grid = self.get_params().get("grid")
        self.grid_ = (
            RedshiftGrid(float(grid[0]), float(grid[1]), int(grid[2]))
            if grid
            else RedshiftGrid.for_redshifts(z)
        )
        self.coverage_ = CoverageModel(random_state=self._seed()).fit(self._coverage_x(catalog))
        self.n_train_ = len(catalog)
        self.fingerprint_ = hashlib.sha256(
            np.ascontiguousarray(catalog.mags).tobytes() + np.ascontiguousarray(z).tobytes()
        ).hexdigest()
        self._fit(catalog, z, validation)
        return self

    def _seed(self) -> int:
        return int(self.get_params().get("random_state", 0) or 0)

    def _coverage_x(self, cat: Catalog) -> NDArray[np.float64]:
        """Reference magnitude + colours, NaN for rows with no measured band."""
        mags, valid = self.preprocessing_.complete_magnitudes(cat)
        ref = self.preprocessing_.ref_index_
        x = np.column_stack([mags[:, [ref]], np.diff(mags, axis=1)])
        x[~valid] = np.nan
        return x

    # --- prediction ----------------------------------------------------------------------

    def predict_pdf(self, catalog: Catalog) -> PDFBatch:
        """Per-galaxy PDFs on ``grid_`` (rows sum to 1; flat where no band is measured)."""
        self._check_fitted()
        self._check_bands(catalog)
        if len(catalog) == 0:
            return PDFBatch(np.empty((0, self.grid_.n_bins)), self.grid_)
        probs = self._predict_probs(catalog)
        _, valid = self.preprocessing_.complete_magnitudes(catalog)
        probs[~valid] = 1.0
        return PDFBatch.normalised(probs, self.grid_)

    def predict(self, catalog: Catalog) -> NDArray[np.float64]:
        """Point estimates, as chosen by the ``point`` parameter."""
        return self.predict_pdf(catalog).point(self.get_params().get("point", "mode"))

    def out_of_coverage(self, catalog: Catalog) -> NDArray[np.bool_]:
        """True where a galaxy lies outside the training colour-magnitude coverage."""
        self._check_fitted()
        self._check_bands(catalog)
        return self.coverage_.flag(self._coverage_x(catalog))

    def predict_table(self, catalog: Catalog, pdf: PDFBatch | None = None) -> pd.DataFrame:
        """id (if any), z_phot, z_err (half the 68% interval), z_lo, z_hi, out_of_coverage."""
        pdf = self.predict_pdf(catalog) if pdf is None else pdf
        lo, hi = pdf.interval(0.68)
        out = {}
        if catalog.ids is not None:
            out[catalog.survey.id] = catalog.ids
        out |= {
            "z_phot": pdf.point(self.get_params().get("point", "mode")),
            "z_err": 0.5 * (hi - lo),
            "z_lo": lo,
            "z_hi": hi,
            "out_of_coverage": self.out_of_coverage(catalog),
        }
        return pd.DataFrame(out)

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
