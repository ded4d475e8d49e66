"""Every catalog command on corrupted catalogs: one line, the right exit code, nothing changed.

Each generator writes one bad catalog from the clean synthetic one; each command runs on it.
A value that is bad but usable (a few undeclared sentinels) may give exit 0 with a warning
where the command can go on (info, predict), and is refused by train.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from harness import Case, run_case

BANDS = list("ugriz")


def _csv(df: pd.DataFrame, folder: Path, name: str = "cat.csv") -> Path:
    path = folder / name
    df.to_csv(path, index=False)
    return path


def _parquet(df: pd.DataFrame, folder: Path) -> Path:
    path = folder / "cat.parquet"
    df.to_parquet(path)
    return path


def _fits(df: pd.DataFrame, folder: Path) -> Path:
    from astropy.table import Table

    path = folder / "cat.fits"
    Table.from_pandas(df).write(path)
    return path


def _set(df: pd.DataFrame, col: str, values: object) -> pd.DataFrame:
    out = df.copy()
    out[col] = values
    return out


def _frac(df: pd.DataFrame, col: str, value: float, frac: float) -> pd.DataFrame:
    out = df.copy()
    rows = np.arange(len(out)) % int(round(1 / frac)) == 0
    out.loc[rows, col] = value
    return out


def _primary_only(df: pd.DataFrame, folder: Path) -> Path:
    from astropy.io import fits

    path = folder / "cat.fits"
    fits.PrimaryHDU(np.zeros((4, 4))).writeto(path)
    return path


def _truncated(writer: Callable) -> Callable:
    def make(df: pd.DataFrame, folder: Path) -> Path:
        path = writer(df, folder)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
        return path

    return make


def _bytes(name: str, data: bytes) -> Callable:
    def make(df: pd.DataFrame, folder: Path) -> Path:
        path = folder / name
        path.write_bytes(data)
        return path

    return make


def _pickled_npy(df: pd.DataFrame, folder: Path) -> Path:
    path = folder / "cat.npy"
    np.save(path, np.array([{"u": 1}], dtype=object), allow_pickle=True)
    return path


# name -> (writer of the bad file, {command: expected exit codes} where not (1, 2))
WRONG_FILES: dict[str, tuple[Callable, dict]] = {
    "empty csv": (_bytes("cat.csv", b""), {}),
    "empty parquet": (_bytes("cat.parquet", b""), {}),
    "empty fits": (_bytes("cat.fits", b""), {}),
    # An empty catalog predicts to an empty file by design; info and train refuse it.
    "header only": (_bytes("cat.csv", b"u,g,r,i,z,redshift\n"), {"predict": (0,)}),
    "garbage parquet": (_bytes("cat.parquet", b"PAR1" + bytes(range(256)) * 8), {}),
    "garbage hdf5": (_bytes("cat.h5", b"\x89HDF\r\n\x1a\n" + b"\x00" * 100), {}),
    "binary csv": (_bytes("cat.csv", bytes(range(256)) * 20), {}),
    "truncated parquet": (_truncated(_parquet), {}),
    "truncated fits": (_truncated(_fits), {}),
    "fits primary only": (_primary_only, {}),
    "pickled npy": (_pickled_npy, {}),
    "unknown suffix": (lambda df, f: _csv(df, f, "cat.xyz"), {}),
    "all NaN": (lambda df, f: _csv(df.assign(**{b: np.nan for b in BANDS}), f), {}),
    "all -99": (lambda df, f: _csv(df.assign(**{b: -99.0 for b in BANDS}), f), {}),
    "bool band": (lambda df, f: _parquet(_set(df, "g", df["g"] > 20), f), {}),
    "datetime band": (
        lambda df, f: _parquet(_set(df, "r", pd.Timestamp("2020-01-01")), f),
        {},
    ),
    "text band": (lambda df, f: _csv(_set(df, "i", "bright"), f), {}),
    "mixed band": (lambda df, f: _csv(_set(df, "z", ["x"] + list(df["z"][1:])), f), {}),
    "missing band": (lambda df, f: _csv(df.drop(columns="g"), f), {}),
    "one row": (lambda df, f: _csv(df.head(1), f), {"info": (0,), "predict": (0,)}),
    "huge values": (
        lambda df, f: _csv(df.assign(**{b: 1e308 for b in BANDS}), f),
        {},
    ),
    "minus infinity": (lambda df, f: _csv(df.assign(**{b: -np.inf for b in BANDS}), f), {}),
    "1e30 in 5%": (
        lambda df, f: _csv(_frac(df, "r", 1e30, 0.05), f),
        {"info": (0,), "predict": (0,)},
    ),
    "-666 in 10%": (
        lambda df, f: _csv(_frac(df, "u", -666.0, 0.1), f),
        {"info": (0,), "predict": (0,)},
    ),
    "99.99 in 20%": (
        lambda df, f: _csv(_frac(df, "z", 99.99, 0.2), f),
        {"info": (0,), "predict": (0,)},
    ),
    "no redshift": (
        lambda df, f: _csv(df.drop(columns="redshift"), f),
        {"info": (0,), "predict": (0,)},
    ),
    "text redshift": (
        lambda df, f: _csv(_set(df, "redshift", "unknown"), f),
        {},
    ),
}

#: What a usable-but-suspect file must make each command say.
WARNINGS = {"1e30 in 5%": "outside", "-666 in 10%": "-666", "99.99 in 20%": "99.99"}


def _commands(path: Path, folder: Path, model: Path) -> dict[str, Case]:
    out_model, out_pred = folder / "new.zphot", folder / "pred.parquet"
    return {
        "info": Case("info", ["info", "--catalog", path, "--preset", "sdss"]),
        "train": Case(
            "train",
            ["train", "--model", "knn", "--catalog", path, "--out", out_model, "--preset", "sdss"],
            absent=[out_model],
        ),
        "predict": Case(
            "predict",
            ["predict", "--model", model, "--catalog", path, "--out", out_pred],
            absent=[out_pred],
        ),
    }


@pytest.mark.parametrize("command", ["info", "train", "predict"])
@pytest.mark.parametrize("bad", list(WRONG_FILES))
def test_bad_catalog(bad, command, good, tmp_path):
    writer, codes = WRONG_FILES[bad]
    path = writer(pd.read_csv(good["train"]), tmp_path)
    case = _commands(path, tmp_path, good["knn"])[command]
    case.name = f"{command} on {bad}"
    case.codes = codes.get(command, (1, 2))
    if bad in WARNINGS and command != "train":
        case.says = WARNINGS[bad]
    run_case(case, tmp_path)


def test_missing_and_folder_inputs(good, tmp_path):
    (tmp_path / "folder.csv").mkdir()
    for target in (tmp_path / "absent.csv", tmp_path / "folder.csv"):
        for command, case in _commands(target, tmp_path, good["knn"]).items():
            case.name = f"{command} on {target.name}"
            run_case(case, tmp_path)


# --- evaluate ---------------------------------------------------------------------------------


def _pred(**columns: object) -> pd.DataFrame:
    z = np.linspace(0.05, 0.6, 40)
    return pd.DataFrame({"z_spec": z, "z_phot": z + 0.01}).assign(**columns)


EVALUATE: dict[str, tuple[pd.DataFrame | bytes, list[str], tuple[int, ...], str]] = {
    "text z_spec": (_pred(z_spec="n/a"), [], (1,), "z_spec"),
    "numeric text z_spec": (
        _pred(z_spec=[f"{v}" for v in np.linspace(0.05, 0.6, 40)]),
        [],
        (0,),
        "",
    ),
    "bool z_phot": (_pred(z_phot=True), [], (1,), "boolean"),
    "-99 z_spec": (
        _pred(z_spec=[-99.0] * 5 + list(np.linspace(0.1, 0.6, 35))),
        [],
        (0,),
        "5 row(s) not scored",
    ),
    "all -99": (_pred(z_spec=-99.0), [], (1,), "no row"),
    "all NaN": (_pred(z_phot=np.nan), [], (1,), "no row"),
    "negative outlier": (_pred(), ["--outlier", "-1"], (2,), "--outlier"),
    "zero outlier": (_pred(), ["--outlier", "0"], (2,), "--outlier"),
    "nan outlier": (_pred(), ["--outlier", "nan"], (2,), "--outlier"),
    "missing column": (_pred().drop(columns="z_spec"), [], (1,), "z_spec"),
    "empty": (pd.DataFrame({"z_spec": [], "z_phot": []}), [], (1,), "no row"),
    "garbage": (bytes(range(256)) * 4, [], (1,), ""),
}


@pytest.mark.parametrize("bad", list(EVALUATE))
def test_evaluate(bad, tmp_path):
    content, extra, codes, says = EVALUATE[bad]
    path = tmp_path / "pred.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        content.to_csv(path, index=False)
    run_case(
        Case(f"evaluate {bad}", ["evaluate", "--predictions", path, *extra], codes, says), tmp_path
    )


def test_evaluate_fits_primary_only(tmp_path):
    path = _primary_only(None, tmp_path)
    run_case(
        Case("evaluate fits primary", ["evaluate", "--predictions", path], (1,), "no table HDU"),
        tmp_path,
    )
