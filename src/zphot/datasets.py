"""Built-in catalogs, found in installed packages (no downloads, no pickles).

``builtin:dc2-train`` and ``builtin:dc2-test`` are the LSST DESC DC2 test catalogs that
pz-rail-base installs (10,225 and 20,449 galaxies, ugrizy with errors and true redshifts).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from .exceptions import FormatError

__all__ = ["BUILTIN", "builtin_path", "resolve_catalog"]

# name -> (package, relative path, survey preset)
BUILTIN: dict[str, tuple[str, str, str]] = {
    "dc2-train": ("rail", "examples_data/testdata/test_dc2_training_9816.hdf5", "lsst"),
    "dc2-test": ("rail", "examples_data/testdata/test_dc2_validation_9816.hdf5", "lsst"),
}


def builtin_path(name: str) -> Path:
    """Path of a built-in catalog, or a clear error naming the package that ships it."""
    if name not in BUILTIN:
        raise FormatError(f"unknown built-in catalog '{name}' (have: {', '.join(BUILTIN)})")
    package, rel, _ = BUILTIN[name]
    try:
        node = resources.files(package)
        # One part at a time: "rail" is a namespace package (zphot ships rail/ too), whose
        # joinpath finds a child in any portion but puts a multi-part path in the first one.
        for part in rel.split("/"):
            node = node / part
        path = Path(str(node))
    except ModuleNotFoundError as exc:
        raise FormatError(
            f"built-in catalog '{name}' comes with the package pz-rail-base: pip install it"
        ) from exc
    if not path.is_file():
        raise FormatError(f"built-in catalog '{name}': {path} not found in pz-rail-base")
    return path


def resolve_catalog(spec: str) -> tuple[Path, str | None]:
    """Turn ``builtin:NAME`` or a path into (path, default preset or None)."""
    if spec.startswith("builtin:"):
        name = spec.split(":", 1)[1]
        return builtin_path(name), BUILTIN[name][2]
    return Path(spec), None
