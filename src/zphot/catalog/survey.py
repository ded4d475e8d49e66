"""Survey descriptions from TOML files (data only, never evaluated) and the built-in presets."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from ..exceptions import ParameterError
from .bands import Band, Survey
from .observing import observing_from_dict

__all__ = ["load_survey", "resolve_survey", "survey_from_dict", "list_presets"]

_BAND_KEYS = {"name", "mag", "mag_err", "flux", "flux_err", "flux_unit", "filter", "wavelength"}
_COLUMN_KEYS = {"id", "redshift", "size", "ra", "dec"}
_TOP_KEYS = {"name", "bands", "columns", "missing", "reference_band", "mag_err_floor", "observing"}


def list_presets() -> list[str]:
    """Names of the built-in survey presets (``sdss``, ``lsst``...)."""
    folder = resources.files("zphot.catalog") / "surveys"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def survey_from_dict(data: dict, source: str = "<dict>") -> Survey:
    """Validate a survey description; errors name the file and the offending key."""

    def bad(msg: str) -> ParameterError:
        return ParameterError(f"{source}: {msg}")

    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise bad(f"unknown key(s) {sorted(unknown)} (allowed: {sorted(_TOP_KEYS)})")
    raw_bands = data.get("bands")
    if not isinstance(raw_bands, list) or not raw_bands:
        raise bad("'bands' must be a non-empty list of [[bands]] tables")
    bands = []
    for i, rb in enumerate(raw_bands):
        if not isinstance(rb, dict) or "name" not in rb:
            raise bad(f"bands[{i}] needs a 'name'")
        extra = set(rb) - _BAND_KEYS
        if extra:
            raise bad(f"bands[{i}] ('{rb['name']}'): unknown key(s) {sorted(extra)}")
        if not rb.get("mag") and not rb.get("flux"):
            raise bad(f"bands[{i}] ('{rb['name']}'): give 'mag' or 'flux' (a column name)")
        wl = rb.get("wavelength")
        if wl is not None and (not isinstance(wl, int | float) or wl <= 0):
            raise bad(f"bands[{i}] ('{rb['name']}'): 'wavelength' must be a positive number (A)")
        bands.append(Band(**rb))
    names = [b.name for b in bands]
    if len(set(names)) != len(names):
        raise bad(f"band names repeat: {names}")
    columns = data.get("columns", {})
    extra = set(columns) - _COLUMN_KEYS
    if extra:
        raise bad(f"[columns]: unknown key(s) {sorted(extra)} (allowed: {sorted(_COLUMN_KEYS)})")
    sentinels = data.get("missing", {}).get("sentinels", [99.0, -99.0])
    if not all(isinstance(s, int | float) for s in sentinels):
        raise bad("[missing] sentinels must be numbers")
    ref = data.get("reference_band", "r" if "r" in names else names[len(names) // 2])
    if ref not in names:
        raise bad(f"reference_band '{ref}' is not one of the bands {names}")
    floor = data.get("mag_err_floor", 0.02)
    if not isinstance(floor, int | float) or floor < 0:
        raise bad("'mag_err_floor' must be a number >= 0")
    name = str(data.get("name", Path(source).stem))
    observing = data.get("observing")
    if observing is not None:
        observing = observing_from_dict(observing, name, tuple(names), bad)
    return Survey(
        name=name,
        bands=tuple(bands),
        sentinels=tuple(float(s) for s in sentinels),
        reference_band=ref,
        mag_err_floor=float(floor),
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
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
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
