"""Catalog -> model inputs: imputation, colours, size, scaling, saved with the model.

Each estimator owns one :class:`Preprocessor`, fitted on its training catalog, so prediction
applies the training set's imputation colours and scaling to any later catalog.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler

from ..catalog.catalog import Catalog
from ..catalog.impute import AdjacentColourImputer
from ..exceptions import ParameterError

__all__ = ["Preprocessor", "INPUT_KINDS", "SCALERS", "build_features"]

INPUT_KINDS = ("colours", "magnitudes", "both")
SCALERS = {"standard": StandardScaler, "minmax": MinMaxScaler, "robust": RobustScaler, "none": None}


def build_features(
    mags: NDArray[np.float64], ref_index: int, kind: str, size: NDArray | None = None
) -> NDArray[np.float64]:
    """Feature matrix from complete magnitudes.

    ``colours``: reference magnitude + adjacent colours (what carries redshift, with the
    brightness that sets the depth); ``magnitudes``: the magnitudes themselves; ``both``:
    magnitudes + adjacent colours. A size column is appended (as log10) when given.
    """
    colours = np.diff(mags, axis=1)
    if kind == "colours":
        parts = [mags[:, [ref_index]], colours]
    elif kind == "magnitudes":
        parts = [mags]
    elif kind == "both":
        parts = [mags, colours]
    else:
        raise ParameterError(f"inputs must be one of {INPUT_KINDS}, got {kind!r}")
    if size is not None:
        parts.append(np.log10(np.clip(size, 1e-3, None))[:, None])
    return np.column_stack(parts)


class Preprocessor:
    """Fit on a training catalog; turn any catalog with the same bands into scaled features.

    Attributes
    ----------
    bands_ : tuple of str
    imputer_ : AdjacentColourImputer
    use_size_ : bool
        Whether the training catalog had a size column (then prediction needs one too).
    size_fill_ : float
        Median training size, used where a size is missing.
    scale_, offset_ : ndarray
        Affine map ``x * scale_ + offset_`` of the fitted scaler (stored as two arrays so a
        saved model needs no pickled scikit-learn object).
    """

    def __init__(self, inputs: str = "colours", scaler: str = "standard") -> None:
        self.inputs = inputs
        self.scaler = scaler

    def fit(self, cat: Catalog) -> Preprocessor:
        if self.scaler not in SCALERS:
            raise ParameterError(f"scaler must be one of {sorted(SCALERS)}, got {self.scaler!r}")
        self.bands_ = cat.bands
        self.ref_index_ = self.bands_.index(cat.survey.reference_band)
        self.imputer_ = AdjacentColourImputer().fit(cat.mags, source=cat.source)
        size = cat.size
        self.use_size_ = size is not None
        self.size_fill_ = float(np.nanmedian(size)) if size is not None else 1.0
        raw = self._raw_features(cat)
        ok = np.isfinite(raw).all(axis=1)
        cls = SCALERS[self.scaler]
        if cls is None:
            self.scale_, self.offset_ = np.ones(raw.shape[1]), np.zeros(raw.shape[1])
        else:
            sk = cls().fit(raw[ok])
            x0, x1 = sk.transform(np.zeros((1, raw.shape[1])))[0], None
            x1 = sk.transform(np.ones((1, raw.shape[1])))[0]
            self.scale_, self.offset_ = x1 - x0, x0
        self.n_features_ = raw.shape[1]
        return self

    def complete_magnitudes(self, cat: Catalog) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
        """Imputed magnitudes in training band order, and a mask of rows with any band measured."""
        mags, _ = self.imputer_.transform(cat.magnitudes(self.bands_))
        valid = np.isfinite(mags).all(axis=1)
        return mags, valid

    def sizes(self, cat: Catalog) -> NDArray[np.float64] | None:
        if not self.use_size_:
            return None
        size = cat.size
        if size is None:
            from ..exceptions import MissingColumnError

            raise MissingColumnError(
                cat.source,
                cat.survey.size or "size",
                list(map(str, cat.table.columns)),
                "the model was trained with a size column",
            )
        return np.where(np.isfinite(size), size, self.size_fill_)

    def _raw_features(self, cat: Catalog) -> NDArray[np.float64]:
        mags, _ = self.complete_magnitudes(cat)
        return build_features(mags, self.ref_index_, self.inputs, self.sizes(cat))

    def transform(self, cat: Catalog) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
        """Scaled features (rows with no measured band are zeros) and the valid-row mask."""
        raw = self._raw_features(cat)
        valid = np.isfinite(raw).all(axis=1)
        x = raw * self.scale_ + self.offset_
        x[~valid] = 0.0
        return x, valid

    def get_state(self) -> dict:
        return {
            "inputs": self.inputs,
            "scaler": self.scaler,
            "bands": list(self.bands_),
            "ref_index": self.ref_index_,
            "imputer": self.imputer_.get_state(),
            "use_size": self.use_size_,
            "size_fill": self.size_fill_,
            "scale": self.scale_.tolist(),
            "offset": self.offset_.tolist(),
        }

    @classmethod
    def from_state(cls, state: dict) -> Preprocessor:
        p = cls(state["inputs"], state["scaler"])
        p.bands_ = tuple(state["bands"])
        p.ref_index_ = int(state["ref_index"])
        p.imputer_ = AdjacentColourImputer.from_state(state["imputer"])
        p.use_size_ = bool(state["use_size"])
        p.size_fill_ = float(state["size_fill"])
        p.scale_ = np.asarray(state["scale"], dtype=np.float64)
        p.offset_ = np.asarray(state["offset"], dtype=np.float64)
        p.n_features_ = len(p.scale_)
        return p
