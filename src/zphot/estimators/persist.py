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

from ..exceptions import ModelFileError
from ..io.atomic import atomic_path

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
    path = Path(path)
    with atomic_path(path, overwrite=overwrite) as tmp, zipfile.ZipFile(tmp, "w") as zf:
        zf.writestr("manifest.json", json.dumps(manifest, indent=1))
        for name, arr in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(arr), allow_pickle=False)
            zf.writestr(f"arrays/{name}.npy", buf.getvalue())
    return path


def read_model_file(path: str | os.PathLike) -> tuple[dict, dict[str, np.ndarray]]:
    """The manifest and arrays of a model file, after checking its format and version."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file")
    if not zipfile.is_zipfile(path):
        raise ModelFileError(f"{path}: not a zphot model (expected a zip with manifest.json)")
    with zipfile.ZipFile(path) as zf:
        if "manifest.json" not in zf.namelist():
            raise ModelFileError(f"{path}: not a zphot model (no manifest.json)")
        manifest = json.loads(zf.read("manifest.json"))
        if manifest.get("format") != FORMAT_NAME:
            raise ModelFileError(f"{path}: unknown format {manifest.get('format')!r}")
        written = manifest.get("format_version")
        if not isinstance(written, int) or written > FORMAT_VERSION:
            raise ModelFileError(
                f"{path}: written by zphot {manifest.get('zphot_version')} in model format "
                f"version {written}; this zphot reads up to version {FORMAT_VERSION}: upgrade zphot"
            )
        arrays = {}
        for name in zf.namelist():
            if name.startswith("arrays/") and name.endswith(".npy"):
                with zf.open(name) as fh:
                    arrays[name[7:-4]] = np.lib.format.read_array(
                        io.BytesIO(fh.read()), allow_pickle=False
                    )
    return manifest, arrays


def load(path: str | os.PathLike):  # noqa: ANN201 - returns a fitted PhotoZEstimator
    """Load a model saved with ``save``: same predictions, bit for bit."""
    from .registry import estimator_class

    manifest, arrays = read_model_file(path)
    cls = estimator_class(manifest["estimator"])
    params = manifest["params"]
    if isinstance(params.get("grid"), list):
        params["grid"] = tuple(params["grid"])
    est = cls(**params)
    est._restore_common(manifest, arrays)
    own = {k[6:]: v for k, v in arrays.items() if k.startswith("state.")}
    est._set_state(manifest["state"], own)
    return est
