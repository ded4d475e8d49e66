"""Checks of a model file's content, before any of it reaches native code.

A model file is data from anywhere: a truncated copy, a hand-edited manifest, a zip entry that
inflates to gigabytes. Every check here names the file and the field (or zip entry) at fault
in one line, so LightGBM, torch or a KD-tree only ever see arrays whose shapes and types the
manifest implies. Files written since the ``arrays`` table and ``checksums`` were added are
checked exactly (sizes, shapes, dtypes and SHA-256 of every array, a checksum per manifest
field); older files get the schema, shape and size-cap checks.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..exceptions import ModelFileError

__all__ = [
    "CHECKED_FIELDS",
    "fail",
    "check_params",
    "array_record",
    "check_entry_size",
    "check_arrays",
    "check_checksums",
    "check_schema",
    "field_checksum",
    "check_lightgbm_string",
]

#: Manifest fields whose checksums are saved with the model.
CHECKED_FIELDS = (
    "estimator",
    "params",
    "survey",
    "bands",
    "grid",
    "preprocessing",
    "coverage",
    "n_train",
    "fingerprint",
    "state",
)
#: Largest manifest.json read; real ones are a few hundred kB at most.
MAX_MANIFEST_BYTES = 64 * 2**20
#: Without an ``arrays`` table (older files): the largest entry, and the largest inflation ratio
#: of a compressed entry (``.npy`` arrays of measured data compress by a few times at most).
LEGACY_MAX_ENTRY_BYTES = 1024 * 2**20
MAX_INFLATION = 50
#: An ``.npy`` header is at most this long (numpy pads it to 64-byte multiples).
_NPY_HEADER_MAX = 4096
_MAX_BINS = 100_000

_REQUIRED: dict[str, type | tuple[type, ...]] = {
    "format": str,
    "format_version": int,
    "estimator": str,
    "params": dict,
    "survey": dict,
    "bands": list,
    "grid": dict,
    "preprocessing": dict,
    "coverage": dict,
    "n_train": int,
    "fingerprint": str,
    "state": dict,
}


def _type_name(t: type | tuple[type, ...]) -> str:
    names = {dict: "an object", list: "a list", str: "a string", int: "an integer"}
    return names.get(t, getattr(t, "__name__", str(t)))


def fail(path: Path | None, field: str, message: str) -> ModelFileError:
    """The one-line error: file, field, what is wrong and what to do.

    Without ``path`` (raised inside an estimator's ``_set_state``) the loader adds it.
    """
    where = f"{path}: " if path is not None else ""
    return ModelFileError(
        f"{where}field '{field}' {message}; the model file is damaged or was edited: "
        "re-train it or use the original file"
    )


def field_checksum(value: Any) -> str:
    """SHA-256 of a manifest field's canonical JSON (sorted keys, no spaces)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def array_record(arr: NDArray) -> dict:
    """What the manifest's ``arrays`` table records of one array."""
    data = np.ascontiguousarray(arr)
    return {
        "dtype": data.dtype.str,
        "shape": list(data.shape),
        "sha256": hashlib.sha256(data.tobytes()).hexdigest(),
    }


def check_schema(path: Path, manifest: object) -> dict:
    """The manifest as a dict holding every required field with its JSON type."""
    if not isinstance(manifest, dict):
        raise ModelFileError(
            f"{path}: manifest.json holds {_type_name(type(manifest))}, not an object; "
            "not a zphot model"
        )
    for key, kind in _REQUIRED.items():
        if key not in manifest:
            raise fail(path, key, "is missing from manifest.json")
        value = manifest[key]
        if isinstance(value, bool) or not isinstance(value, kind):
            raise fail(path, key, f"must be {_type_name(kind)}, got {value!r:.60}")
    grid = manifest["grid"]
    if set(grid) != {"z_min", "z_max", "n_bins"}:
        raise fail(path, "grid", f"needs exactly z_min, z_max, n_bins, got {sorted(grid)}")
    for key in ("z_min", "z_max"):
        if isinstance(grid[key], bool) or not isinstance(grid[key], int | float):
            raise fail(path, f"grid.{key}", f"must be a number, got {grid[key]!r}")
    n_bins = grid["n_bins"]
    if isinstance(n_bins, bool) or not isinstance(n_bins, int) or not 2 <= n_bins <= _MAX_BINS:
        raise fail(path, "grid.n_bins", f"must be an integer in [2, {_MAX_BINS}], got {n_bins!r}")
    if manifest["n_train"] < 1:
        raise fail(path, "n_train", f"must be positive, got {manifest['n_train']}")
    if not all(isinstance(b, str) for b in manifest["bands"]) or not manifest["bands"]:
        raise fail(path, "bands", "must be a non-empty list of band names")
    return manifest


def check_checksums(path: Path, manifest: dict) -> None:
    """Each field listed in ``checksums`` still has the checksum saved with it."""
    sums = manifest.get("checksums")
    if sums is None:
        return
    if not isinstance(sums, dict):
        raise fail(path, "checksums", "must be an object")
    for key, expected in sums.items():
        if key not in manifest:
            raise fail(path, key, "is missing from manifest.json but has a checksum")
        if field_checksum(manifest[key]) != expected:
            raise fail(path, key, "differs from the checksum saved with it")


def check_entry_size(path: Path, info: zipfile.ZipInfo, record: dict | None) -> None:
    """Refuse an entry whose inflated size is not what its record (or a sane cap) allows.

    Checked on the zip directory, before a byte is inflated: a 0.5 MB entry declaring 512 MiB
    is refused without reading it.
    """
    name = info.filename
    if record is not None:
        nbytes = int(np.dtype(record["dtype"]).itemsize) * int(
            np.prod(record["shape"], dtype=np.int64)
        )
        if not nbytes <= info.file_size <= nbytes + _NPY_HEADER_MAX:
            raise ModelFileError(
                f"{path}: entry '{name}' inflates to {info.file_size:,} bytes where its array "
                f"{record['dtype']} {record['shape']} needs {nbytes:,}; the file is damaged"
            )
        return
    ratio_cap = MAX_INFLATION * max(info.compress_size, 1) + 2**20
    if info.file_size > LEGACY_MAX_ENTRY_BYTES or info.file_size > ratio_cap:
        raise ModelFileError(
            f"{path}: entry '{name}' inflates to {info.file_size:,} bytes from "
            f"{info.compress_size:,}; refused (a zphot model array is never that large)"
        )


def _check_record(path: Path, name: str, record: object) -> dict:
    if not isinstance(record, dict) or set(record) != {"dtype", "shape", "sha256"}:
        raise fail(path, f"arrays.{name}", "must hold dtype, shape and sha256")
    shape = record["shape"]
    if not isinstance(shape, list) or not all(
        isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape
    ):
        raise fail(path, f"arrays.{name}.shape", f"must be a list of sizes, got {shape!r:.60}")
    try:
        dtype = np.dtype(record["dtype"])
    except (TypeError, ValueError):
        raise fail(
            path, f"arrays.{name}.dtype", f"is not a dtype: {record['dtype']!r:.40}"
        ) from None
    if dtype.kind not in "biuf":
        raise fail(path, f"arrays.{name}.dtype", f"must be numeric, got {dtype}")
    return record


def check_arrays(path: Path, zf: zipfile.ZipFile, manifest: dict) -> dict[str, NDArray]:
    """Read every ``arrays/*.npy`` entry after checking its size; match it to its record."""
    table = manifest.get("arrays")
    if table is not None and not isinstance(table, dict):
        raise fail(path, "arrays", "must be an object")
    entries = {
        info.filename[7:-4]: info
        for info in zf.infolist()
        if info.filename.startswith("arrays/") and info.filename.endswith(".npy")
    }
    if table is not None:
        records = {name: _check_record(path, name, rec) for name, rec in table.items()}
        for name in sorted(set(records) ^ set(entries)):
            where = (
                "in the manifest but not in the file" if name in records else "not in the manifest"
            )
            raise fail(path, f"arrays.{name}", f"is {where}")
    arrays = {}
    for name, info in entries.items():
        record = None if table is None else records[name]
        check_entry_size(path, info, record)
        try:
            with zf.open(info) as fh:
                arr = np.lib.format.read_array(fh, allow_pickle=False)
        except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
            raise ModelFileError(
                f"{path}: entry '{info.filename}' is not a readable array ({exc})"
            ) from None
        if arr.dtype.kind not in "biuf":
            raise fail(path, f"arrays.{name}", f"must be numeric, got {arr.dtype}")
        if record is not None:
            got = array_record(arr)
            for key in ("dtype", "shape", "sha256"):
                if got[key] != record[key]:
                    raise fail(
                        path,
                        f"arrays.{name}.{key}",
                        f"is {record[key]!r:.70} but the array has {got[key]!r:.70}",
                    )
        arrays[name] = arr
    return arrays


def check_params(path: Path, params: dict, valid: dict) -> None:
    """Every saved parameter is one the estimator has (a typo names the closest)."""
    for key in params:
        if key not in valid:
            close = difflib.get_close_matches(key, sorted(valid), n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"valid: {', '.join(sorted(valid))}"
            raise fail(path, f"params.{key}", f"is not a parameter of this estimator ({hint})")


def check_lightgbm_string(path: Path | None, name: str, text: str, n_features: int) -> None:
    """A LightGBM model string whose header, tree sizes and end markers agree.

    LightGBM aborts the whole process on some malformed strings (a C++ fatal error), so the
    string's structure is checked here: every tree block has the size the header lists,
    blocks are followed by ``end of trees``, and the feature count is the model's.
    """

    def bad(what: str) -> ModelFileError:
        return fail(path, f"arrays.state.{name}", f"is not a complete LightGBM model ({what})")

    head, sep, body = text.partition("\n\n")
    if not sep or not head.startswith("tree\n"):
        raise bad("no header")
    header = dict(line.split("=", 1) for line in head.splitlines()[1:] if "=" in line)
    if header.get("num_class") != "1" or header.get("num_tree_per_iteration") != "1":
        raise bad("not a single-output regression")
    if header.get("max_feature_idx") != str(n_features - 1):
        raise bad(f"max_feature_idx {header.get('max_feature_idx')} for {n_features} features")
    try:
        sizes = [int(s) for s in header.get("tree_sizes", "").split()]
    except ValueError:
        raise bad("tree_sizes is not a list of integers") from None
    if not sizes:
        raise bad("no trees")
    pos = 0
    for i, size in enumerate(sizes):
        block = body[pos : pos + size]
        if len(block) != size or not block.startswith(f"Tree={i}\n"):
            raise bad(f"tree {i} is cut or misplaced")
        pos += size
    if not body[pos:].lstrip("\n").startswith("end of trees") or "end of parameters" not in body:
        raise bad("no 'end of trees'/'end of parameters' after the trees")


def _common_arrays(arrays: dict[str, NDArray], n_bands: int) -> None:
    """The coverage model's arrays: (m, n_bands) training points, mean and std per column."""
    train = arrays.get("coverage.train")
    if train is None or train.ndim != 2 or train.shape[1] != n_bands or len(train) < 1:
        shape = None if train is None else list(train.shape)
        raise fail(None, "arrays.coverage.train", f"must have shape (m, {n_bands}), got {shape}")
    for name in ("coverage.mean", "coverage.std"):
        arr = arrays.get(name)
        if arr is None or arr.shape != (n_bands,):
            shape = None if arr is None else list(arr.shape)
            raise fail(None, f"arrays.{name}", f"must have shape ({n_bands},), got {shape}")
    if not np.isfinite(train).all():
        raise fail(None, "arrays.coverage.train", "holds non-finite values")


def _grid_as_asked(grid: Any, asked: Any, estimator: str) -> bool:
    """The saved grid is the one the parameters ask for; a bias-corrected model's is Step 3's
    extension of it: the same bin width, whole bins added beyond both ends."""
    if grid == asked:
        return True
    if estimator != "debiased":
        return False
    width = (asked.z_max - asked.z_min) / asked.n_bins
    same_width = math.isclose((grid.z_max - grid.z_min) / grid.n_bins, width, rel_tol=1e-9)
    below = (asked.z_min - grid.z_min) / width
    above = (grid.z_max - asked.z_max) / width
    whole = all(v >= -1e-6 and abs(v - round(v)) < 1e-6 for v in (below, above))
    return same_width and whole


def check_common(manifest: dict, arrays: dict[str, NDArray]) -> None:
    """The fields every estimator shares: survey, bands, grid, preprocessing, coverage.

    Checked before the estimator is rebuilt, each against the others: the bands are the
    survey's, the grid is the one the parameters ask for, the feature count agrees with the
    bands and the coverage arrays have one column per band.
    """
    from ..catalog.survey import survey_from_dict
    from ..exceptions import ParameterError
    from ..features.preprocess import Preprocessor, build_features
    from ..pdf.grid import RedshiftGrid

    try:
        survey = survey_from_dict(manifest["survey"], source="survey")
    except ParameterError as exc:
        raise fail(None, "survey", f"is not a valid survey ({exc})") from None
    if list(survey.band_names) != manifest["bands"]:
        raise fail(None, "bands", f"{manifest['bands']} are not the survey's {survey.band_names}")
    try:
        grid = RedshiftGrid(**manifest["grid"])
    except ParameterError as exc:
        raise fail(None, "grid", str(exc)) from None
    asked = manifest["params"].get("grid")
    if asked is not None and not _grid_as_asked(grid, RedshiftGrid(*asked), manifest["estimator"]):
        raise fail(None, "grid", f"{manifest['grid']} is not params.grid {asked}")
    state = manifest["preprocessing"]
    try:
        pre = Preprocessor.from_state(state)
        size = np.ones(1) if pre.use_size_ else None
        row = np.full((1, len(survey.bands)), 20.0)
        width = build_features(row, pre.ref_index_, pre.inputs, size).shape[1]
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise fail(None, "preprocessing", f"is not valid ({type(exc).__name__}: {exc})") from None
    if pre.scale_.shape != (width,) or pre.offset_.shape != (width,):
        raise fail(None, "preprocessing", f"scale/offset must have {width} values for its inputs")
    if not 0 <= pre.ref_index_ < len(survey.bands) or list(pre.bands_) != manifest["bands"]:
        raise fail(None, "preprocessing", "bands or ref_index do not match the model's bands")
    if pre.imputer_.mean_colours_.shape != (len(survey.bands) - 1,):
        raise fail(None, "preprocessing.imputer", "needs one mean colour per adjacent band pair")
    _common_arrays(arrays, len(survey.bands))
