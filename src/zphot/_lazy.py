"""Package attributes imported on first use, so ``import zphot`` loads no science stack.

A package lists its public names by the submodule that defines them; the first access of a name
imports that submodule (with its numpy, pandas, scikit-learn ... imports) and caches the value in
the package, so later accesses cost nothing. ``from zphot import Catalog`` works as before.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping, Sequence

__all__ = ["attach"]


def attach(
    package: str, exports: Mapping[str, Sequence[str]]
) -> tuple[list[str], Callable[[str], object], Callable[[], list[str]]]:
    """``__all__``, ``__getattr__`` and ``__dir__`` for ``package``.

    Parameters
    ----------
    package
        The package's ``__name__``.
    exports
        Submodule (relative, e.g. ``".catalog"``) -> the public names it defines, in the order
        ``__all__`` should list them.
    """
    where = {name: module for module, names in exports.items() for name in names}

    def __getattr__(name: str) -> object:  # noqa: N807 - the module-level hook of PEP 562
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(where[name], package), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:  # noqa: N807
        return sorted(set(vars(sys.modules[package])) | set(where))

    return list(where), __getattr__, __dir__
