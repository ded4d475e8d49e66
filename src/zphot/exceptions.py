"""The zphot error tree.

Each class also subclasses the builtin it refines, so ``except ValueError`` in user code keeps
working, and carries the offending value so callers (and the CLI) can report it in one line.
"""

from __future__ import annotations

__all__ = [
    "ZphotError",
    "CatalogError",
    "MissingColumnError",
    "MissingBandError",
    "FormatError",
    "NotFittedError",
    "ParameterError",
    "ModelFileError",
    "OverwriteError",
    "InputTypeError",

    "OutputLockedError",
]


class ZphotError(Exception):
    """Base of every error zphot raises on purpose; the CLI prints these as one line."""

    exit_code = 1


class CatalogError(ZphotError, ValueError):
    """A catalog's content is unusable (no rows, only missing values, bad types)."""


class MissingColumnError(CatalogError, KeyError):
    """A column the survey description maps is not in the file."""

    def __init__(self, source: str, column: str, have: list[str], hint: str = "") -> None:
        self.source, self.column, self.have = source, column, list(have)
        shown = ", ".join(self.have[:12]) + (" ..." if len(self.have) > 12 else "")
        msg = f"{source}: column '{column}' missing (have {shown})"
        super().__init__(msg + (f"; {hint}" if hint else ""))

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0])


class MissingBandError(CatalogError, KeyError):
    """A catalog lacks a band that a fitted model needs."""

    def __init__(self, band: str, source: str, have: list[str]) -> None:
        self.band, self.source, self.have = band, source, list(have)
        super().__init__(
            f"{source}: band '{band}' missing (have bands {', '.join(self.have) or 'none'}); "
            "the model was trained with it: map it with --survey FILE"
        )

    def __str__(self) -> str:
        return str(self.args[0])


class FormatError(ZphotError, ValueError):
    """A file's format is unknown, ambiguous or its optional reader is not installed."""


class NotFittedError(ZphotError, ValueError, AttributeError):
    """An estimator was used for prediction before ``fit``."""


class ParameterError(ZphotError, ValueError):
    """An estimator or command parameter is outside its allowed values."""

    exit_code = 2


class ModelFileError(ZphotError, ValueError):
    """A saved model cannot be loaded (not a zphot model, unknown format, newer version)."""


class OverwriteError(ZphotError, FileExistsError):
    """An output exists and overwriting was not asked for."""

    exit_code = 2

    def __init__(self, path: str, message: str | None = None) -> None:
        self.path = path
        super().__init__(message or f"{path}: already exists; not overwriting (pass --overwrite)")


class InputTypeError(ParameterError, TypeError):
    """An argument is of a type zphot does not take (the message names the types it takes)."""


class OutputLockedError(ZphotError, FileExistsError):
    """Another zphot run holds the output's lock (or died holding it)."""

    exit_code = 2

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        super().__init__(message)
