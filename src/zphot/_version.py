"""The installed distribution's version: the one place zphot reads it (package metadata)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("zphot")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
