"""``zphot predict`` with corrupted model files: every manifest field mutated, entries cut,
zip bombs, arrays of the wrong shape or another model's. Each must be one line naming the
file (exit 1), never a traceback or an abort, and the catalog and model must be unchanged.

Each mutation runs on the file as saved (with checksums and an arrays table) and on a
"legacy" copy without them (as written before those were added), so the structural checks
are exercised as well as the checksums. LightGBM cases run in a subprocess: a malformed model
string can abort the interpreter, which must fail the case, not the test run.
"""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from harness import Case, run_case

Entries = dict[str, bytes]


def _rewrite(src: Path, dst: Path, change: Callable[[dict, Entries], object]) -> None:
    """Copy a model file, letting ``change`` edit the manifest (a dict) and the entries."""
    with zipfile.ZipFile(src) as zf:
        entries = {name: zf.read(name) for name in zf.namelist()}
    manifest = json.loads(entries.pop("manifest.json"))
    manifest = change(manifest, entries) or manifest
    with zipfile.ZipFile(dst, "w") as zf:
        text = manifest if isinstance(manifest, bytes) else json.dumps(manifest).encode()
        zf.writestr("manifest.json", text)
        for name, data in entries.items():
            zf.writestr(name, data)


def _npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, arr, allow_pickle=False)
    return buf.getvalue()


def _load(data: bytes) -> np.ndarray:
    return np.lib.format.read_array(io.BytesIO(data), allow_pickle=False)


def _legacy(manifest: dict, entries: Entries) -> None:
    manifest.pop("arrays", None)
    manifest.pop("checksums", None)


def _arrays(entries: Entries) -> list[str]:
    return sorted(n for n in entries if n.startswith("arrays/"))


def _state_arrays(entries: Entries) -> list[str]:
    return [n for n in _arrays(entries) if n.startswith("arrays/state.")]


def _set(path: str, value: object) -> Callable:
    def change(manifest: dict, entries: Entries) -> None:
        *parents, last = path.split(".")
        node = manifest
        for key in parents:
            node = node[key]
        node[last] = value

    return change


def _drop(key: str) -> Callable:
    return lambda manifest, entries: manifest.pop(key, None) and None


def _half_arrays(manifest: dict, entries: Entries) -> None:
    """Every state array cut to its first half, as valid .npy files (what issue 20 did)."""
    for name in _state_arrays(entries):
        arr = _load(entries[name])
        entries[name] = _npy(arr[: max(1, len(arr) // 2)])


def _truncate_entries(manifest: dict, entries: Entries) -> None:
    for name in _arrays(entries):
        entries[name] = entries[name][: len(entries[name]) // 2]


def _transpose(manifest: dict, entries: Entries) -> None:
    name = "arrays/coverage.train.npy"
    entries[name] = _npy(np.ascontiguousarray(_load(entries[name]).T))


def _retype(manifest: dict, entries: Entries) -> None:
    for name in _state_arrays(entries):
        entries[name] = _npy(_load(entries[name]).astype(np.int8))


def _delete_state(manifest: dict, entries: Entries) -> None:
    for name in _state_arrays(entries)[:1]:
        del entries[name]


def _extra_entry(manifest: dict, entries: Entries) -> None:
    entries["arrays/state.intruder.npy"] = _npy(np.zeros(3))


def _nan_arrays(manifest: dict, entries: Entries) -> None:
    for name in _arrays(entries):
        arr = _load(entries[name])
        if arr.dtype.kind == "f":
            entries[name] = _npy(np.full_like(arr, np.nan))


def _bad_json(manifest: dict, entries: Entries) -> bytes:
    return b'{"format": "zphot-model", "format_version": 1, '


MUTATIONS: dict[str, Callable] = {
    "manifest not json": _bad_json,
    "manifest binary": lambda m, e: bytes(range(256)),
    "manifest is a list": lambda m, e: [m],
    "manifest is a number": lambda m, e: 42,
    "grid edited to [1, 2]": lambda m, e: m["grid"].update(z_min=1.0, z_max=2.0),
    "grid n_bins 3": lambda m, e: m["grid"].update(n_bins=3),
    "grid n_bins huge": lambda m, e: m["grid"].update(n_bins=10**9),
    "grid inverted": lambda m, e: m["grid"].update(z_min=2.0, z_max=1.0),
    "grid extra key": lambda m, e: m["grid"].update(step=0.1),
    "unknown parameter": lambda m, e: m["params"].update(colour="blue"),
    "bad parameter value": lambda m, e: m["params"].update(random_state=-5),
    "estimator unknown": _set("estimator", "magic"),
    "bands not the survey's": _set("bands", ["a", "b"]),
    "n_train negative": _set("n_train", -1),
    "preprocessing scale short": lambda m, e: m["preprocessing"].update(scale=[1.0]),
    "preprocessing ref_index out": lambda m, e: m["preprocessing"].update(ref_index=99),
    "survey empty": _set("survey", {}),
    "survey unknown key": lambda m, e: m["survey"].update(colour=1),
    "state emptied": _set("state", {}),
    "coverage emptied": _set("coverage", {}),
    "format_version string": _set("format_version", "1"),
    "format_version newer": _set("format_version", 99),
    "format other": _set("format", "other"),
    "half arrays": _half_arrays,
    "truncated entries": _truncate_entries,
    "transposed coverage": _transpose,
    "retyped state arrays": _retype,
    "state array deleted": _delete_state,
    "extra array": _extra_entry,
    "nan arrays": _nan_arrays,
}
#: Fields every model shares: their schema is checked before the estimator is known, so
#: these run on one kind (knn); the mutations above touch what each kind loads its own way.
SCHEMA: dict[str, Callable] = {}
for _key, _kind in (
    ("estimator", "str"),
    ("params", "dict"),
    ("survey", "dict"),
    ("bands", "list"),
    ("grid", "dict"),
    ("preprocessing", "dict"),
    ("coverage", "dict"),
    ("n_train", "int"),
    ("fingerprint", "str"),
    ("state", "dict"),
):
    SCHEMA[f"no {_key}"] = _drop(_key)
    SCHEMA[f"{_key} wrong type"] = _set(_key, [] if _kind != "list" else "x")
    SCHEMA[f"{_key} null"] = _set(_key, None)

#: What LightGBM itself would parse: run in a subprocess, where an abort fails only the case.
NATIVE = {"half arrays", "truncated entries", "retyped state arrays", "state array deleted"}
#: Known limit: without checksums (files saved before them), a grid's range edited while its
#: bin count is kept cannot be told from arrays that do not hold redshifts (networks' bins,
#: LightGBM's trees); knn's saved redshifts catch it, checksums catch it in every newer file.
UNDETECTABLE = {("lgbm", "grid edited to [1, 2]"), ("mlp", "grid edited to [1, 2]")}
UNDETECTABLE |= {("lgbm", "grid n_bins 3")}  # LightGBM's arrays do not depend on the bins

MODEL_KINDS = ("knn", "lgbm", "mlp")


def _predict(model: Path, good: dict, folder: Path, in_subprocess: bool) -> Case:
    catalog = folder / "test.csv"
    if not catalog.exists():
        shutil.copy(good["test"], catalog)
    out = folder / "pred.parquet"
    args = ["predict", "--model", model, "--catalog", catalog, "--out", out]
    return Case(f"predict with {model.name}", args, (1,), str(model), in_subprocess, [out])


def _run_mutation(kind: str, name: str, change: Callable, legacy: bool, good: dict, folder: Path):
    model = folder / f"{kind}.zphot"

    def edit(manifest: dict, entries: Entries) -> object:
        if legacy:
            _legacy(manifest, entries)
        return change(manifest, entries)

    _rewrite(good[kind], model, edit)
    case = _predict(model, good, folder, in_subprocess=kind == "lgbm" and name in NATIVE)
    case.name = f"{kind} {'legacy ' if legacy else ''}{name}"
    run_case(case, folder)


@pytest.mark.parametrize("legacy", [False, True], ids=["saved", "legacy"])
@pytest.mark.parametrize("mutation", list(MUTATIONS))
@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_mutated_model(kind, mutation, legacy, good, tmp_path):
    if legacy and (kind, mutation) in UNDETECTABLE:
        pytest.skip("a legacy file's grid range is not recorded in its arrays (see UNDETECTABLE)")
    _run_mutation(kind, mutation, MUTATIONS[mutation], legacy, good, tmp_path)


@pytest.mark.parametrize("legacy", [False, True], ids=["saved", "legacy"])
@pytest.mark.parametrize("mutation", list(SCHEMA))
def test_manifest_schema(mutation, legacy, good, tmp_path):
    _run_mutation("knn", mutation, SCHEMA[mutation], legacy, good, tmp_path)


def test_legacy_file_still_loads(good, tmp_path):
    """Without the arrays table and checksums (older files) a sound model still predicts."""
    for kind in MODEL_KINDS:
        model = tmp_path / f"{kind}.zphot"
        _rewrite(good[kind], model, _legacy)
        run_case(
            Case(f"legacy {kind}", _predict(model, good, tmp_path, False).args, (0,)), tmp_path
        )
        (tmp_path / "pred.parquet").unlink()


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A 64 MiB .npy of zeros deflated to about 64 kB (a zip bomb's ratio of 1000)."""
    raw = _npy(np.zeros(8 * 2**20))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("x", raw)
    return buf.getvalue()


@pytest.mark.parametrize("legacy", [False, True], ids=["saved", "legacy"])
@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_zip_bomb_entry(kind, legacy, good, bomb, tmp_path):
    model = tmp_path / f"{kind}.zphot"
    with zipfile.ZipFile(io.BytesIO(bomb)) as zb:
        info = zb.infolist()[0]
        payload = zb.read(info)
    with zipfile.ZipFile(good[kind]) as zin, zipfile.ZipFile(model, "w") as zout:
        for name in zin.namelist():
            data = zin.read(name)
            if legacy and name == "manifest.json":
                manifest = json.loads(data)
                _legacy(manifest, {})
                data = json.dumps(manifest).encode()
            if name == "arrays/coverage.train.npy":
                zout.writestr(name, payload, compress_type=zipfile.ZIP_DEFLATED)
            else:
                zout.writestr(name, data)
    case = _predict(model, good, tmp_path, in_subprocess=False)
    case.name = f"{kind} zip bomb"
    case.says = "inflates to"
    run_case(case, tmp_path)


NOT_MODELS: dict[str, Callable[[Path], None]] = {
    "empty file": lambda p: p.write_bytes(b""),
    "text file": lambda p: p.write_text("not a model"),
    "pickle": lambda p: p.write_bytes(b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00K\x01."),
    "truncated zip": lambda p: p.write_bytes(b"PK\x03\x04" + b"\x00" * 40),
    "zip without manifest": lambda p: zipfile.ZipFile(p, "w").writestr("a.txt", "x"),
    "folder": lambda p: p.mkdir(),
}


@pytest.mark.parametrize("bad", list(NOT_MODELS))
def test_not_a_model(bad, good, tmp_path):
    model = tmp_path / "model.zphot"
    NOT_MODELS[bad](model)
    case = _predict(model, good, tmp_path, in_subprocess=False)
    case.name = f"model {bad}"
    run_case(case, tmp_path)


def test_absent_model(good, tmp_path):
    run_case(_predict(tmp_path / "absent.zphot", good, tmp_path, False), tmp_path)


def test_arrays_from_another_model(good, tmp_path):
    """A knn manifest over lgbm's and mlp's arrays, and every other pairing."""
    for target in MODEL_KINDS:
        for donor in MODEL_KINDS:
            if donor == target:
                continue
            with zipfile.ZipFile(good[donor]) as zf:
                donated = {n: zf.read(n) for n in zf.namelist() if n.startswith("arrays/")}

            def swap(manifest: dict, entries: Entries, donated: Entries = donated) -> None:
                _legacy(manifest, entries)
                for name in _arrays(entries):
                    del entries[name]
                entries.update(donated)

            model = tmp_path / f"{target}_with_{donor}.zphot"
            _rewrite(good[target], model, swap)
            case = _predict(model, good, tmp_path, in_subprocess=target == "lgbm")
            case.codes = (1,)
            case.name = f"{target} manifest with {donor} arrays"
            run_case(case, tmp_path)
