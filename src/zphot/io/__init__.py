"""Bytes to tables and back, no science: format registry, atomic writes."""

from . import formats as _formats  # noqa: F401  (registers the built-in formats)
from .atomic import atomic_path, check_writable
from .registry import FORMATS, identify_format, read_table, register_format, write_table

__all__ = [
    "FORMATS",
    "atomic_path",
    "check_writable",
    "identify_format",
    "read_table",
    "register_format",
    "write_table",
]
