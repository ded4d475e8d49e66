"""Survey descriptions from TOML files (data only, never evaluated) and the built-in presets."""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import numpy as np

from ..exceptions import ParameterError
from .bands import DEFAULT_MAG_RANGE, DEFAULT_MAX_BAD_FRACTION, Band, Survey
from .observing import observing_from_dict

__all__ = ["load_survey", "resolve_survey", "survey_from_dict", "list_presets"]

_BAND_KEYS = {"name", "mag", "mag_err", "flux", "flux_err", "flux_unit", "filter", "wavelength"}
_COLUMN_KEYS = {"id", "redshift", "size", "ra", "dec"}
_MISSING_KEYS = {"sentinels"}
_VALIDATION_KEYS = {"mag_range", "max_bad_fraction"}
_TOP_KEYS = {
    "name",
    "bands",
    "columns",
    "missing",
    "validation",
    "reference_band",
    "mag_err_floor",
    "observing",
}


def list_presets() -> list[str]:
    """Names of the built-in survey presets (``sdss``, ``lsst``...)."""
    folder = resources.files("zphot.catalog") / "surveys"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def _check_keys(table: object, allowed: set[str], where: str, bad: Callable) -> dict:
    """``table`` as a dict whose keys are all in ``allowed``; a typo names the closest key."""
    if not isinstance(table, dict):
        raise bad(f"{where} must be a table, got {type(table).__name__}")
    for key in table:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), sorted(allowed), n=1, cutoff=0.6)
            hint = (
                f"did you mean '{close[0]}'?" if close else f"allowed: {', '.join(sorted(allowed))}"
            )
            raise bad(f"unknown key '{key}' in {where} ({hint})")
    return table


def _number(value: object, what: str, bad: Callable, lo: float = -np.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= lo:
        raise bad(f"{what} must be a number >= {lo:g}, got {value!r}")
    return float(value)


def _band(i: int, rb: object, bad: Callable) -> Band:
    rb = _check_keys(rb, _BAND_KEYS, f"bands[{i}]", bad)
    if not isinstance(rb.get("name"), str) or not rb["name"]:
        raise bad(f"bands[{i}] needs a 'name' (a string)")
    where = f"bands[{i}] ('{rb['name']}')"
    for key in _BAND_KEYS - {"wavelength"}:
        if key in rb and not isinstance(rb[key], str):
            raise bad(f"{where}: '{key}' must be a string, got {rb[key]!r}")
    if not rb.get("mag") and not rb.get("flux"):
        raise bad(f"{where}: give 'mag' or 'flux' (a column name)")
    wl = rb.get("wavelength")
    if wl is not None and (isinstance(wl, bool) or not isinstance(wl, int | float) or wl <= 0):
        raise bad(f"{where}: 'wavelength' must be a positive number (A)")
    return Band(**rb)


def _validation(data: dict, bad: Callable) -> dict:
    """``[validation]``: the plausible magnitude range and the training refusal threshold."""
    raw = _check_keys(data.get("validation", {}), _VALIDATION_KEYS, "[validation]", bad)
    rng = raw.get("mag_range", list(DEFAULT_MAG_RANGE))
    if not (isinstance(rng, list | tuple) and len(rng) == 2):
        raise bad(f"[validation] mag_range must be [low, high], got {rng!r}")
    lo, hi = (_number(v, "[validation] mag_range", bad) for v in rng)
    if not lo < hi:
        raise bad(f"[validation] mag_range needs low < high, got {rng!r}")
    frac = _number(
        raw.get("max_bad_fraction", DEFAULT_MAX_BAD_FRACTION), "max_bad_fraction", bad, 0
    )
    if frac > 1:
        raise bad(f"[validation] max_bad_fraction must be in [0, 1], got {frac!r}")
    return {"mag_range": (lo, hi), "max_bad_fraction": frac}


def survey_from_dict(data: dict, source: str = "<dict>") -> Survey:
    """Validate a survey description; errors name the file and the offending key.

    Every key is checked at every level, so a typo (``[missing] sentinel``) is an error that
    names the closest valid key rather than a setting silently ignored.
    """

    def bad(msg: str) -> ParameterError:
        return ParameterError(f"{source}: {msg}")

    data = _check_keys(data, _TOP_KEYS, "the survey", bad)
    raw_bands = data.get("bands")
    if not isinstance(raw_bands, list) or not raw_bands:
        raise bad("'bands' must be a non-empty list of [[bands]] tables")
    bands = [_band(i, rb, bad) for i, rb in enumerate(raw_bands)]
    names = [b.name for b in bands]
    if len(set(names)) != len(names):
        raise bad(f"band names repeat: {names}")
    columns = _check_keys(data.get("columns", {}), _COLUMN_KEYS, "[columns]", bad)
    for key, value in columns.items():
        if not isinstance(value, str):
            raise bad(f"[columns] '{key}' must be a column name (a string), got {value!r}")
    missing = _check_keys(data.get("missing", {}), _MISSING_KEYS, "[missing]", bad)
    sentinels = missing.get("sentinels", [99.0, -99.0])
    if not isinstance(sentinels, list) or not all(
        isinstance(s, int | float) and not isinstance(s, bool) for s in sentinels
    ):
        raise bad("[missing] sentinels must be a list of numbers")
    ref = data.get("reference_band", "r" if "r" in names else names[len(names) // 2])
    if ref not in names:
        raise bad(f"reference_band '{ref}' is not one of the bands {names}")
    floor = _number(data.get("mag_err_floor", 0.02), "'mag_err_floor'", bad, 0)
    name = str(data.get("name", Path(source).stem))
    observing = data.get("observing")
    if observing is not None:
        observing = observing_from_dict(observing, name, tuple(names), bad)
    return Survey(
        name=name,
        bands=tuple(bands),
        sentinels=tuple(float(s) for s in sentinels),
        reference_band=ref,
        mag_err_floor=floor,
        **_validation(data, bad),
        observing=observing,
        **columns,
    )


def load_survey(name_or_path: str | os.PathLike | Survey) -> Survey:
    """Return a preset by name (``"sdss"``, ``"lsst"``) or read a user's survey TOML file."""
    if isinstance(name_or_path, Survey):
        return name_or_path
    text_name = str(name_or_path)
    path = Path(text_name)
    if path.suffix.lower() != ".toml":
        if text_name not in list_presets():
            raise ParameterError(
                f"unknown survey preset '{text_name}' (presets: {', '.join(list_presets())}; "
                "or pass a .toml file)"
            )
        source = resources.files("zphot.catalog") / "surveys" / f"{text_name}.toml"
        return survey_from_dict(tomllib.loads(source.read_text()), source=f"preset {text_name}")
    if not path.is_file():
        raise ParameterError(f"{path}: no such survey file")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ParameterError(f"{path}: not valid TOML ({exc})") from exc
    return survey_from_dict(data, source=str(path))


def resolve_survey(
    preset: str | None,
    survey: str | os.PathLike | None,
    fallback: Survey | Callable[[], Survey] | None = None,
) -> Survey:
    """The one rule for ``--preset NAME`` / ``--survey FILE.toml``, shared by every command.

    Both given is a usage error (which one was meant is unknowable); one given is loaded; with
    neither, ``fallback`` decides (a fitted model's survey, the built-in catalog's preset, the
    preset whose columns a file has: each command knows its own), called when it is a function
    so that its work (reading a file's columns) is done only when needed.

    Raises
    ------
    ParameterError
        Both are given, or neither and there is no fallback.
    """
    if preset is not None and survey is not None:
        raise ParameterError("give --preset or --survey, not both")
    if preset is not None or survey is not None:
        return load_survey(preset if preset is not None else survey)
    if fallback is None:
        raise ParameterError(
            f"give --preset NAME ({', '.join(list_presets())}) or --survey FILE.toml"
        )
    return fallback() if callable(fallback) else fallback
