"""Save and load fitted estimators without pickle.

A model file is a zip holding ``manifest.json`` (format name and version, zphot version, class,
parameters, bands, survey, grid, preprocessing, provenance, library versions) and one ``.npy``
per array, read with ``allow_pickle=False``. Inspect one with ``unzip -p MODEL manifest.json``.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from ..exceptions import ModelFileError, ZphotError
from ..io.atomic import atomic_path
from .modelcheck import (
    CHECKED_FIELDS,
    MAX_MANIFEST_BYTES,
    array_record,
    check_arrays,
    check_checksums,
    check_common,
    check_params,
    check_schema,
    fail,
    field_checksum,
)

__all__ = ["save_model", "load", "FORMAT_NAME", "FORMAT_VERSION"]

FORMAT_NAME = "zphot-model"
FORMAT_VERSION = 1


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _jsonable(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return list(value)
    return value


def save_model(est, path: str | os.PathLike, overwrite: bool = False) -> Path:  # noqa: ANN001
    from .._version import __version__

    common_meta, common_arrays = est._common_state()
    own_meta, own_arrays = est._get_state()
    manifest = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "zphot_version": __version__,
        "estimator": est.name,
        "params": {k: _jsonable(v) for k, v in est.get_params().items()},
        **common_meta,
        "state": own_meta,
        "libraries": {d: _version(d) for d in ("numpy", "scikit-learn", "torch", "lightgbm")},
    }
    arrays = {**common_arrays, **{f"state.{k}": v for k, v in own_arrays.items()}}
    arrays = {name: np.ascontiguousarray(arr) for name, arr in arrays.items()}
    # Normalised through JSON so the checksums are those a reader recomputes from the file.
    manifest = json.loads(json.dumps(manifest))
    manifest["arrays"] = {name: array_record(arr) for name, arr in arrays.items()}
    manifest["checksums"] = {k: field_checksum(manifest[k]) for k in CHECKED_FIELDS}
    path = Path(path)
    with atomic_path(path, overwrite=overwrite) as tmp, zipfile.ZipFile(tmp, "w") as zf:
        zf.writestr("manifest.json", json.dumps(manifest, indent=1))
        for name, arr in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, arr, allow_pickle=False)
            zf.writestr(f"arrays/{name}.npy", buf.getvalue())
    return path


def _read_manifest(path: Path, zf: zipfile.ZipFile) -> dict:
    try:
        info = zf.getinfo("manifest.json")
    except KeyError:
        raise ModelFileError(f"{path}: not a zphot model (no manifest.json)") from None
    if info.file_size > MAX_MANIFEST_BYTES:
        raise ModelFileError(f"{path}: manifest.json inflates to {info.file_size:,} bytes; refused")
    try:
        manifest = json.loads(zf.read(info))
    except (ValueError, zipfile.BadZipFile, OSError) as exc:  # JSON, UTF-8, CRC errors
        raise ModelFileError(f"{path}: manifest.json is not valid JSON ({exc})") from None
    if isinstance(manifest, dict) and manifest.get("format") != FORMAT_NAME:
        raise ModelFileError(f"{path}: unknown format {manifest.get('format')!r:.60}")
    if isinstance(manifest, dict):
        written = manifest.get("format_version")
        if not isinstance(written, int) or isinstance(written, bool) or written > FORMAT_VERSION:
            raise ModelFileError(
                f"{path}: written by zphot {manifest.get('zphot_version')!s:.20} in model format "
                f"version {written!r:.20}; this zphot reads up to version {FORMAT_VERSION}: "
                "upgrade zphot"
            )
    manifest = check_schema(path, manifest)
    check_checksums(path, manifest)
    return manifest


def read_model_file(path: str | os.PathLike) -> tuple[dict, dict[str, np.ndarray]]:
    """The manifest and arrays of a model file, after checking its format, version and sizes.

    Every entry's size is checked on the zip directory before it is inflated, and each array
    against the manifest's record of it (see :mod:`zphot.estimators.modelcheck`).
    """
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file")
    if not zipfile.is_zipfile(path):
        raise ModelFileError(f"{path}: not a zphot model (expected a zip with manifest.json)")
    try:
        with zipfile.ZipFile(path) as zf:
            manifest = _read_manifest(path, zf)
            arrays = check_arrays(path, zf, manifest)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError) as exc:
        raise ModelFileError(f"{path}: not a readable zip ({exc})") from None
    return manifest, arrays


class _Tracked(dict):
    """A dict that remembers which keys were read, to find arrays a model does not use."""

    def __init__(self, *args: object) -> None:
        super().__init__(*args)
        self.used: set[str] = set()

    def __getitem__(self, key: str) -> np.ndarray:
        self.used.add(key)
        return super().__getitem__(key)

    def get(self, key: str, default: object = None) -> object:
        self.used.add(key)
        return super().get(key, default)

    def items(self):  # noqa: ANN201 - iterating hands every array to the estimator
        self.used.update(self.keys())
        return super().items()

    def values(self):  # noqa: ANN201
        self.used.update(self.keys())
        return super().values()


def _new_estimator(path: Path, manifest: dict):  # noqa: ANN202 - an unfitted PhotoZEstimator
    from ..exceptions import ParameterError
    from .registry import estimator_class

    try:
        cls = estimator_class(manifest["estimator"])
    except ParameterError as exc:
        raise fail(path, "estimator", f"names no estimator here ({exc})") from None
    params = dict(manifest["params"])
    check_params(path, params, cls().get_params())
    if isinstance(params.get("grid"), list):
        params["grid"] = tuple(params["grid"])
    est = cls(**params)
    try:
        est._validate_params()
    except ParameterError as exc:
        raise fail(path, "params", f"are not valid ({exc})") from None
    return est


def load(path: str | os.PathLike):  # noqa: ANN201 - returns a fitted PhotoZEstimator
    """Load a model saved with ``save``: same predictions, bit for bit.

    Raises :class:`~zphot.exceptions.ModelFileError`, naming the file and the field, for any
    file whose content does not make a working model of its kind.
    """
    path = Path(path)
    manifest, arrays = read_model_file(path)
    est = _new_estimator(path, manifest)
    own = _Tracked({k[6:]: v for k, v in arrays.items() if k.startswith("state.")})
    field = "coverage"
    try:
        check_common(manifest, arrays)
        est._restore_common(manifest, arrays)
        field = "state"
        est._set_state(manifest["state"], own)
        unused = sorted(set(own) - own.used)
        if unused:
            raise fail(None, f"arrays.state.{unused[0]}", f"is not part of a {est.name} model")
    except ModelFileError as exc:
        raise ModelFileError(f"{path}: {exc}") from None
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        # The manifest's fields did not hold what this estimator wrote into them.
        raise fail(
            path, field, f"does not fit a {est.name} model ({type(exc).__name__}: {exc})"
        ) from None
    _self_test(path, est)
    return est


def _self_test(path: Path, est) -> None:  # noqa: ANN001 - a fitted PhotoZEstimator
    """Predict one plausible galaxy: arrays that passed every check but still do not fit
    together (a matrix of the wrong width in a template table) fail here, at load, as one
    line naming the file, not later in the middle of a prediction run."""
    from ..catalog.catalog import Catalog
    from ..catalog.photometry import mag_to_flux

    if est.name == "image-cnn":  # predicts from stamps a plain catalog row does not have
        return
    survey = est.survey_
    row: dict[str, list[float]] = {}
    for band in survey.bands:
        if band.mag:
            row[band.mag] = [21.0]
            if band.mag_err:
                row[band.mag_err] = [0.05]
        else:
            flux = float(mag_to_flux(21.0, band.flux_unit))
            row[band.flux] = [flux]
            if band.flux_err:
                row[band.flux_err] = [0.05 * flux]
    for role in ("id", "size", "ra", "dec"):
        if getattr(survey, role):
            row[getattr(survey, role)] = [1.0]
    if est.prediction_columns(list(row), str(path)):  # needs inputs beyond the photometry
        return
    try:
        est.predict_table(Catalog(pd.DataFrame(row), survey, source=str(path)))
    except ZphotError:  # the row lacks what this model reads (stamps): no verdict on the file
        return
    except (ValueError, IndexError, KeyError, TypeError, RuntimeError) as exc:
        raise fail(
            path, "arrays", f"do not make a working {est.name} model ({type(exc).__name__}: {exc})"
        ) from None
