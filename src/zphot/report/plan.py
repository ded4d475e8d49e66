"""What ``zphot compare`` compares, and on which split: the planning before any training.

``--models`` is ``all`` or a comma list of estimator names (trained here) and model files or
folders of them (``zphot train``, ``zphot debias --out``: scored as they are, never refitted);
:func:`plan_comparison` builds every estimator and loads every trained model first, so an
unknown model or parameter fails before data are read. :func:`choose_split` is the split
policy: with only trained models the whole catalog is the test set; with a test catalog the
catalog trains; else the catalog is split (``train_test``), and trained models scored on that
split draw a warning, since the report cannot know they did not train on it.
"""

from __future__ import annotations

import logging
import os
import re
import zipfile
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

from ..catalog.bands import Survey
from ..catalog.catalog import Catalog
from ..catalog.split import train_test
from ..estimators import PhotoZEstimator, estimator_class, get_estimator, list_estimators, load
from ..estimators.settings import parse_settings
from ..exceptions import ModelFileError, ParameterError
from .results import BIN_WIDTH, Trained

__all__ = [
    "ComparisonPlan",
    "ModelEntry",
    "check_inputs_kept",
    "choose_split",
    "model_entries",
    "per_model_settings",
    "plan_comparison",
]

log = logging.getLogger(__name__)


@dataclass
class ModelEntry:
    """One model of --models: a registry name to train, or a model file to score as it is."""

    label: str
    name: str | None = None
    path: Path | None = None


def _is_name(entry: str) -> bool:
    """An estimator name of the registry (a file called like one is written ``./knn``)."""
    try:
        estimator_class(entry)
    except ParameterError:
        return False
    return True


def _is_model_file(path: Path) -> bool:
    """A zphot model: a zip with ``manifest.json`` (checked without reading its arrays)."""
    if not path.is_file() or not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as zf:
        return "manifest.json" in zf.namelist()


def _natural_key(path: Path) -> list[Any]:
    """``step2`` before ``step10``."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path.name)]


def _model_files(entry: str) -> list[Path]:
    """A model file, or the model files of a folder (``zphot debias --out``) in natural order."""
    path = Path(entry)
    if path.is_dir():
        files = sorted((p for p in path.iterdir() if _is_model_file(p)), key=_natural_key)
        if not files:
            raise ModelFileError(f"{path}: a folder with no zphot model files")
        return files
    if not path.exists():
        raise ModelFileError(f"{path}: no such model file or folder")
    if not _is_model_file(path):
        raise ModelFileError(f"{path}: not a zphot model (expected a file from zphot train)")
    return [path]


def model_entries(spec: str) -> list[ModelEntry]:
    """``all`` or a comma list of names, model files and folders of model files, in order.

    A file is labelled by its name without suffix (``knn.zphot`` -> ``knn``, ``DIR/step2`` ->
    ``step2``); a label taken already gets its folder's name in front (``DIR/step2``), then a
    number.
    """
    if spec.strip() == "all":
        return [ModelEntry(label=name, name=name) for name in list_estimators()]
    items = list(dict.fromkeys(n.strip() for n in spec.split(",") if n.strip()))
    if not items:
        raise ParameterError(
            f"--models needs a comma list of names or model files, or 'all', got {spec!r}"
        )
    entries: list[ModelEntry] = []
    for item in items:
        if _is_name(item):
            entries.append(ModelEntry(label=item, name=item))
        elif Path(item).exists() or "/" in item or os.sep in item or item.endswith(".zphot"):
            entries.extend(ModelEntry(label="", path=p) for p in _model_files(item))
        else:
            raise ParameterError(
                f"unknown model '{item}': neither an estimator name (zphot models) nor a "
                "model file or folder"
            )
    taken = {e.label for e in entries if e.name}
    for e in entries:
        if e.path is None:
            continue
        label = e.path.stem if e.path.suffix == ".zphot" else e.path.name
        if label in taken:
            label = f"{e.path.resolve().parent.name}/{label}"
        base, k = label, 2
        while label in taken:
            label, k = f"{base} #{k}", k + 1
        e.label = label
        taken.add(label)
    return entries


def per_model_settings(
    items: list[str] | None, names: list[str], trained: dict[str, Path] | None = None
) -> dict[str, dict[str, Any]]:
    """``--set`` values grouped by model (``MODEL.PARAM=VALUE``; ``PARAM=VALUE`` with one
    model); the model must be one compared and not one trained beforehand."""
    role = f"compared (--models: {', '.join(names)})"
    grouped = parse_settings(items, names, role=role)
    for model, path in (trained or {}).items():
        if grouped[model]:
            param = next(iter(grouped[model]))
            raise ParameterError(
                f"--set {model}.{param}: '{model}' is trained already ({path}); "
                "its parameters are fixed"
            )
    return grouped


#: What the report writes in --out (see ``Comparison.write``).
_REPORT_FILES = ("results.csv", "results.md", "report.html", "predictions_*", "binned_*")


def check_inputs_kept(out_dir: Path, inputs: dict[str, Any]) -> None:
    """Refuse an input that the report would replace: a file in --out named like a report
    file, or one under --out/figures (checked with or without --overwrite)."""
    real_out = Path(os.path.realpath(out_dir))
    for label, src in inputs.items():
        if src is None:
            continue
        real = Path(os.path.realpath(src))
        named = real.parent == real_out and any(fnmatch(real.name, p) for p in _REPORT_FILES)
        if named or real_out / "figures" in real.parents:
            raise ParameterError(
                f"{src}: the report written to --out {out_dir} would replace this input "
                f"({label}); choose another --out"
            )


@dataclass
class ComparisonPlan:
    """The models of a comparison, built and checked: ``estimators`` maps each label to an
    unfitted estimator or a :class:`Trained` model, in ``--models`` order; ``trained`` the
    trained ones' files; ``to_fit`` the labels fitted here."""

    estimators: dict[str, PhotoZEstimator | Trained]
    trained: dict[str, Path] = field(default_factory=dict)
    to_fit: list[str] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return list(self.estimators)

    @property
    def known_survey(self) -> Survey | None:
        """The first trained model's survey: how to read the catalog when none is given."""
        trained = (e for e in self.estimators.values() if isinstance(e, Trained))
        return next((t.estimator.survey_ for t in trained), None)


def plan_comparison(
    models: str,
    settings: list[str] | None = None,
    *,
    seed: int = 0,
    bin_width: float = BIN_WIDTH,
    test: str | None = None,
) -> ComparisonPlan:
    """Build every estimator of ``models`` (``--set`` ``settings``, ``random_state=seed``) and
    load every trained one, before any data is read.

    Raises
    ------
    ParameterError
        An unknown model or parameter, a ``--set`` for a trained model, a ``bin_width`` that
        is not positive, or a ``test`` catalog when every model is trained already.
    ModelFileError
        A model file or folder that is not zphot's.
    """
    entries = model_entries(models)
    names = [e.label for e in entries]
    trained = {e.label: e.path for e in entries if e.path is not None}
    per_model = per_model_settings(settings, names, trained)
    estimators: dict[str, PhotoZEstimator | Trained] = {}
    for e in entries:
        if e.path is not None:
            estimators[e.label] = Trained(load(e.path), str(e.path))
        else:
            assert e.name is not None
            params = {"random_state": seed} | per_model[e.label]
            estimators[e.label] = get_estimator(e.name, **params)
    if not bin_width > 0:
        raise ParameterError(f"--bin-width must be positive, got {bin_width}")
    to_fit = [e.label for e in entries if e.path is None]
    if not to_fit and test:
        raise ParameterError(
            "every model is trained already, so nothing is fitted on --catalog: give the test "
            "catalog as --catalog, without --test"
        )
    return ComparisonPlan(estimators, trained, to_fit)


def choose_split(
    plan: ComparisonPlan,
    cat: Catalog,
    test_cat: Catalog | None = None,
    *,
    test: str | None = None,
    train_fraction: float = 0.7,
    split_seed: int = 42,
) -> tuple[Catalog | None, Catalog, str]:
    """The training catalog (None when nothing is fitted), the test catalog, and a line that
    says how they were chosen (see the module docstring).

    ``test_cat`` is the catalog named ``test``, read when ``plan.to_fit`` is not empty.
    """
    if not plan.to_fit:
        split = "none: every model was trained beforehand, so all of --catalog is the test set"
        return None, cat, split
    if test:
        assert test_cat is not None
        train, held_out = cat, test_cat
        split = f"--catalog for training, --test {test} for testing"
    else:
        train, held_out = train_test(cat, train_fraction, seed=split_seed)
        split = f"{train_fraction:.0%} / {1 - train_fraction:.0%} of --catalog, seed {split_seed}"
    if plan.trained:
        split += f"; {', '.join(plan.trained)} trained beforehand, scored on the same test galaxies"
        if not test:
            log.warning(
                "trained models are scored on a split of --catalog: check they were not "
                "trained on it (--test names a separate test catalog)"
            )
    return train, held_out, split
