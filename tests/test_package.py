"""Package-level promises: public names exist, ``import zphot`` stays light."""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import zphot

# Every subpackage and top-level module, found rather than listed, so new ones are covered.
SUBPACKAGES = sorted(
    f"zphot.{m.name}" for m in pkgutil.iter_modules(zphot.__path__) if not m.name.startswith("_")
)
# Optional or heavy dependencies that only the modules using them may import.
HEAVY = ("torch", "torch_geometric", "galsim", "dask", "qp")


def test_every_public_name_exists():
    for name in zphot.__all__:
        assert hasattr(zphot, name), name
    assert len(set(zphot.__all__)) == len(zphot.__all__)


@pytest.mark.parametrize("module", SUBPACKAGES)
def test_every_subpackage_name_exists(module):
    try:
        mod = importlib.import_module(module)
    except ImportError as exc:
        assert not (exc.name or "").startswith("zphot"), f"{module}: {exc}"
        pytest.skip(f"{module} needs an optional dependency that is not installed: {exc}")
    for name in getattr(mod, "__all__", ()):
        try:
            assert hasattr(mod, name), f"{module}.{name}"
        except ImportError as exc:
            # A name imported lazily from an optional extra may be unavailable here; a missing
            # zphot module behind it is a bug.
            assert not (exc.name or "").startswith("zphot"), f"{module}.{name}: {exc}"


def test_version_is_a_string():
    assert isinstance(zphot.__version__, str) and zphot.__version__


def test_error_classes_refine_builtins():
    from zphot import exceptions as e

    assert issubclass(e.CatalogError, ValueError)
    assert issubclass(e.NotFittedError, ValueError) and issubclass(e.NotFittedError, AttributeError)
    assert issubclass(e.MissingBandError, KeyError)
    assert issubclass(e.OverwriteError, FileExistsError)
    for name in e.__all__:
        assert issubclass(getattr(e, name), e.ZphotError)


def test_import_zphot_does_not_import_heavy_dependencies():
    src = str(Path(zphot.__file__).resolve().parents[1])
    env = os.environ | {"PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    code = f"import sys, zphot; print([m for m in {HEAVY!r} if m in sys.modules])"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]", out.stdout


def _loaded_after(statement: str, modules: tuple[str, ...]) -> list[str]:
    """Which of ``modules`` a fresh interpreter has loaded after running ``statement``."""
    src = str(Path(zphot.__file__).resolve().parents[1])
    env = os.environ | {"PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    code = (
        f"import json, sys\n{statement}\n"
        f"print(json.dumps([m for m in {modules!r} if m in sys.modules]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


# The science stack: what makes an import take seconds, loaded only by the code that uses it.
SCIENCE = ("sklearn", "torch", "lightgbm", "matplotlib", "scipy", "pandas", "astropy")


def test_import_zphot_loads_no_science_stack():
    assert _loaded_after("import zphot", SCIENCE) == []


@pytest.mark.parametrize(
    ("statement", "absent"),
    [
        # A survey TOML is read without pandas or astropy (the CLI's option help needs it).
        ("from zphot.catalog import load_survey; load_survey('lsst')", SCIENCE),
        # The estimator registry answers without importing any estimator.
        ("from zphot.estimators import estimator_class", SCIENCE),
        # Bias-correction pieces need no torch.
        ("from zphot.debias import soft_labels", ("torch", "sklearn")),
        ("from zphot.pdf import RedshiftGrid", SCIENCE),
    ],
)
def test_subpackages_load_only_what_the_name_needs(statement, absent):
    assert _loaded_after(statement, absent) == []


def test_lazy_names_are_the_objects_of_their_modules():
    from zphot.catalog.catalog import Catalog
    from zphot.catalog.crossmatch import crossmatch
    from zphot.estimators.registry import get_estimator

    assert zphot.Catalog is Catalog and zphot.get_estimator is get_estimator
    assert zphot.catalog.crossmatch is crossmatch  # the function, not its submodule
    assert {"Catalog", "load", "__version__"} <= set(dir(zphot))
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        zphot.nope  # noqa: B018
