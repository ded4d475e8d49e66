"""Fit several estimators on one train/test split and score them side by side.

Everything a comparison report needs is collected here, as plain data: one metrics row per
model, its predictions, PIT values and loss curves. Drawing (:mod:`~zphot.report.plots`) and
HTML (:mod:`~zphot.report.html`) only read these results, so they can be re-rendered without
training again, and this module never prints: long loops report through a ``progress``
callback.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sklearn.base import clone

from ..catalog.catalog import Catalog
from ..estimators.base import PhotoZEstimator
from ..exceptions import CatalogError, OverwriteError
from ..io import atomic_path, write_table
from ..metrics import crps, nz_fidelity, pit, pit_ks, point_metrics

__all__ = [
    "COLUMNS",
    "Column",
    "Comparison",
    "ModelResult",
    "Progress",
    "compare",
    "loss_history",
    "prepare_output_dir",
]

log = logging.getLogger(__name__)

#: ``progress(description, steps_done, steps_total)``; two steps (fit, predict) per model.
Progress = Callable[[str, int, int], None]

#: Rows scored at once: PIT and CRPS build several (rows, bins) temporaries, and a DC2 test set
#: on a 0.002-wide grid would otherwise need gigabytes per model.
_CHUNK = 4096


@dataclass(frozen=True)
class Column:
    """One column of the results table: where the value comes from and how to show it.

    ``better`` is ``"low"``, ``"high"``, ``"zero"`` (closest to 0 wins) or ``""`` (not ranked);
    the HTML report uses it to mark the best model in each column.
    """

    key: str
    label: str
    fmt: str
    better: str
    help: str

    def format(self, value: float) -> str:
        """``value`` as text, ``-`` where it is missing (a metric that could not be computed)."""
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            return "-"
        return format(value, self.fmt)


COLUMNS: tuple[Column, ...] = (
    Column("mse", "MSE", ".5f", "low", "mean squared error of z_phot - z_spec"),
    Column("r2", "R²", ".4f", "high", "coefficient of determination of z_phot against z_spec"),
    Column("bias", "bias", "+.5f", "zero", "median of dz = (z_phot - z_spec) / (1 + z_spec)"),
    Column("sigma_nmad", "σ_NMAD", ".4f", "low", "1.4826 × median |dz - median dz|: core scatter"),
    Column("outlier_015", "out>0.15", ".2%", "low", "fraction of galaxies with |dz| > 0.15"),
    Column("outlier_005", "out>0.05", ".2%", "low", "fraction of galaxies with |dz| > 0.05"),
    Column("pit_ks", "PIT KS", ".4f", "low", "KS distance of the PIT values from U(0, 1)"),
    Column("crps", "CRPS", ".4f", "low", "mean continuous ranked probability score (units of z)"),
    Column(
        "cover68", "in 68%", ".1%", "", "truths in the central 68% interval of the PDF (ideal 68%)"
    ),
    Column(
        "nz_fidelity",
        "n(z) TV",
        ".4f",
        "low",
        "total-variation distance of n(z_phot) from n(z_spec) smeared by σ_NMAD",
    ),
    Column(
        "out_of_coverage", "off-cover", ".2%", "", "test galaxies outside the training coverage"
    ),
    Column("train_s", "train s", ".1f", "low", "wall-clock seconds to fit"),
    Column(
        "predict_rate", "gal/s", ",.0f", "high", "galaxies per second: PDFs, points and coverage"
    ),
)


@dataclass
class ModelResult:
    """One fitted estimator with everything the report shows about it.

    Attributes
    ----------
    name : str
        Label of the model in tables and figures (the registry name from the CLI).
    estimator : PhotoZEstimator
        The fitted estimator (a clone of the one passed to :func:`compare`).
    params : dict
        ``get_params()`` of the estimator.
    changed : dict
        The parameters that differ from the class defaults: what this run chose.
    metrics : dict
        Values for every :data:`COLUMNS` key (NaN where one could not be computed).
    predictions : pandas.DataFrame
        ``predict_table`` output plus ``z_spec``, row-aligned with the test catalog.
    pit : ndarray, shape (n_test,)
        PIT values of the test galaxies.
    history : list of dict
        Loss curves per ensemble member (``{"train": [...], "val": [...]}``); empty for models
        that are not networks.
    """

    name: str
    estimator: PhotoZEstimator
    params: dict[str, Any]
    changed: dict[str, Any]
    metrics: dict[str, float]
    predictions: pd.DataFrame
    pit: NDArray[np.float64]
    history: list[dict[str, list[float]]] = field(default_factory=list)

    @property
    def z_spec(self) -> NDArray[np.float64]:
        return self.predictions["z_spec"].to_numpy(np.float64)

    @property
    def z_phot(self) -> NDArray[np.float64]:
        return self.predictions["z_phot"].to_numpy(np.float64)

    def settings_text(self) -> str:
        """The non-default parameters as ``name=value`` pairs, ``defaults`` if there are none."""
        return ", ".join(f"{k}={v!r}" for k, v in self.changed.items()) or "defaults"


@dataclass
class Comparison:
    """The outcome of :func:`compare`: one :class:`ModelResult` per estimator, in input order.

    Attributes
    ----------
    results : list of ModelResult
    train_source, test_source : str
        Where the training and test galaxies came from (catalog ``source`` strings).
    n_train, n_test : int
    survey : str
        Survey name of the catalogs (bands and columns used).
    """

    results: list[ModelResult]
    train_source: str
    test_source: str
    n_train: int
    n_test: int
    survey: str

    def table(self) -> pd.DataFrame:
        """One row per model: ``model``, every :data:`COLUMNS` key, then ``settings``."""
        rows = [
            {
                "model": r.name,
                **{c.key: r.metrics.get(c.key, np.nan) for c in COLUMNS},
                "settings": r.settings_text(),
            }
            for r in self.results
        ]
        return pd.DataFrame(rows, columns=["model", *(c.key for c in COLUMNS), "settings"])

    def markdown(self) -> str:
        """The results table as GitHub-flavoured markdown, values formatted as in the report."""
        header = ["model", *(c.label for c in COLUMNS), "settings"]
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for r in self.results:
            cells = [r.name, *(c.format(r.metrics.get(c.key, np.nan)) for c in COLUMNS)]
            cells.append(r.settings_text().replace("|", "\\|"))
            lines.append("| " + " | ".join(cells) + " |")
        notes = [f"- **{c.label}**: {c.help}" for c in COLUMNS]
        caption = (
            f"Trained on {self.n_train:,} galaxies ({self.train_source}), "
            f"tested on {self.n_test:,} ({self.test_source}); survey {self.survey}."
        )
        return "\n".join([caption, "", *lines, "", *notes]) + "\n"

    def write(
        self,
        out_dir: str | os.PathLike,
        *,
        overwrite: bool = False,
        context: Mapping[str, str] | None = None,
    ) -> Path:
        """Write tables, predictions, figures and ``report.html`` into ``out_dir``.

        Files: ``results.md``, ``results.csv``, ``predictions_<model>.parquet`` (``zphot
        evaluate`` reads them), ``figures/*.png`` and ``report.html`` (last, so its presence
        means the run finished). Each file is written atomically.

        Parameters
        ----------
        out_dir : path
            Output folder; created if needed.
        overwrite : bool
            Allow a non-empty existing folder (files of the same name are replaced; others are
            left alone).
        context : mapping, optional
            Extra header lines for the report, e.g. ``{"command": ..., "split": ...}``.

        Returns
        -------
        Path
            The path of ``report.html``.

        Raises
        ------
        OverwriteError
            ``out_dir`` is a file, or a non-empty folder and ``overwrite`` is false.
        """
        from .html import render_html
        from .plots import all_figures, png_bytes

        out = prepare_output_dir(out_dir, overwrite)
        write_table(self.table(), out / "results.csv", format="csv", overwrite=True)
        _write_text(out / "results.md", self.markdown())
        for r in self.results:
            cols = ["z_spec", *(c for c in r.predictions.columns if c != "z_spec")]
            write_table(
                r.predictions[cols],
                out / f"predictions_{r.name}.parquet",
                format="parquet",
                overwrite=True,
            )
        images = {}
        (out / "figures").mkdir(exist_ok=True)
        for key, fig in all_figures(self).items():
            images[key] = png_bytes(fig)
            with atomic_path(out / "figures" / f"{key}.png", overwrite=True) as tmp:
                tmp.write_bytes(images[key])
        html_path = out / "report.html"
        _write_text(html_path, render_html(self, images, context or {}))
        return html_path


def _write_text(path: Path, text: str) -> None:
    with atomic_path(path, overwrite=True) as tmp:
        tmp.write_text(text, encoding="utf-8")


def prepare_output_dir(path: str | os.PathLike, overwrite: bool) -> Path:
    """Create the report folder, refusing a file or (without ``overwrite``) a non-empty folder.

    Checked before any training, so that a long run never ends in a refusal to write.
    """
    out = Path(path)
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not overwrite)):
        raise OverwriteError(str(out))
    out.mkdir(parents=True, exist_ok=True)
    return out


def loss_history(estimator: object) -> list[dict[str, list[float]]]:
    """The loss curves of a fitted network as one ``{curve name: values}`` dict per member.

    ``history_`` may be one member's ``{"train": [...], "val": [...]}``, a list of those (an
    ensemble), a mapping from member name to such dicts, or a bare list of losses. Entries that
    are not sequences of numbers (a best epoch, a flag) are skipped, so a network that records
    extra information still gets its curves drawn.

    Examples
    --------
    >>> class Net:
    ...     history_ = [{"train": [1.0, 0.5], "val": [1.1, 0.7], "best_epoch": 1}]
    >>> loss_history(Net())
    [{'train': [1.0, 0.5], 'val': [1.1, 0.7]}]
    """
    raw = getattr(estimator, "history_", None)
    if raw is None:
        return []
    if isinstance(raw, Mapping):
        members = (
            list(raw.values())
            if raw and all(isinstance(v, Mapping) for v in raw.values())
            else [raw]
        )
    elif _numeric_sequence(raw):
        members = [{"loss": raw}]
    elif isinstance(raw, Sequence):
        members = list(raw)
    else:
        members = []
    curves = []
    for member in members:
        if not isinstance(member, Mapping):
            member = {"loss": member} if _numeric_sequence(member) else {}
        kept = {str(k): [float(x) for x in v] for k, v in member.items() if _numeric_sequence(v)}
        if kept:
            curves.append(kept)
    if not curves:
        log.warning("%s: history_ has no loss curves I can read", type(estimator).__name__)
    return curves


def _numeric_sequence(value: object) -> bool:
    """True for a non-empty 1-D list, tuple or array of real numbers."""
    if isinstance(value, str | bytes | Mapping) or not hasattr(value, "__len__"):
        return False
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):
        return False
    return arr.ndim == 1 and arr.size > 0 and np.issubdtype(arr.dtype, np.number)


def _changed_params(est: PhotoZEstimator) -> dict[str, Any]:
    """Parameters that differ from a default instance of the same class."""
    defaults = type(est)().get_params()
    params = est.get_params()
    return {k: v for k, v in params.items() if k not in defaults or not _same(v, defaults[k])}


def _same(a: Any, b: Any) -> bool:
    """Equal values of the same type (``1`` and ``1.0`` differ: the user typed a new value)."""
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and bool(a == b)


def _score(
    est: PhotoZEstimator, test: Catalog, z: NDArray[np.float64], train_seconds: float
) -> tuple[dict[str, float], pd.DataFrame, NDArray[np.float64]]:
    """Predict the test catalog once and compute every table metric from that one prediction."""
    t0 = time.perf_counter()
    batch = est.predict_pdf(test)
    table = est.predict_table(test, batch)
    seconds = time.perf_counter() - t0
    table["z_spec"] = z
    edges = batch.grid.edges
    pit_values = np.empty(len(z))
    crps_values = np.empty(len(z))
    for start in range(0, len(z), _CHUNK):
        rows = slice(start, start + _CHUNK)
        probs, zs = batch.probs[rows], z[rows]
        pit_values[rows] = pit(probs, edges, zs)
        crps_values[rows] = crps(probs, edges, zs)
    zp = table["z_phot"].to_numpy(np.float64)
    ok = np.isfinite(zp)
    if not ok.any():
        raise CatalogError(f"{type(est).__name__}: no finite z_phot on {test.source}")
    metrics = point_metrics(zp[ok], z[ok], outlier_threshold=0.05)
    metrics |= {
        "pit_ks": pit_ks(pit_values),
        "crps": float(np.mean(crps_values)),
        # The central interval's coverage follows from the PIT values: no second pass.
        "cover68": float(np.mean((pit_values >= 0.16) & (pit_values <= 0.84))),
        "nz_fidelity": nz_fidelity(zp[ok], z[ok]),
        "out_of_coverage": float(np.mean(table["out_of_coverage"])),
        "train_s": train_seconds,
        "predict_rate": len(z) / max(seconds, 1e-9),
        "predict_s": seconds,
    }
    return metrics, table, pit_values


def compare(
    estimators: Mapping[str, PhotoZEstimator],
    train: Catalog,
    test: Catalog,
    *,
    validation: Catalog | None = None,
    progress: Progress | None = None,
) -> Comparison:
    """Fit each estimator on ``train`` and score it on ``test``, with identical data for all.

    Each estimator is cloned before fitting, so the ones passed in stay unfitted. The test set
    is predicted once per model; the same prediction gives the metrics, the PIT values, the
    throughput and the predictions table, so the numbers in a report always agree.

    Parameters
    ----------
    estimators : mapping of str to PhotoZEstimator
        Label -> unfitted estimator, in the order the report lists them.
    train, test : Catalog
        Catalogs with redshifts, read with the same survey.
    validation : Catalog, optional
        Passed to every ``fit`` (networks use it for early stopping). Never the test set:
        early stopping on it would leak the test redshifts into training.
    progress : callable, optional
        ``progress(description, steps_done, steps_total)`` before each step and once at the
        end; there are two steps (fit, predict) per model.

    Returns
    -------
    Comparison

    Raises
    ------
    CatalogError
        A catalog has no (or missing) redshifts, or an estimator produced no finite estimate.
    ParameterError
        An estimator's parameters are invalid (raised by its ``fit``).

    Examples
    --------
    >>> from zphot.estimators import get_estimator
    >>> from zphot.testing import synthetic_catalog
    >>> train, test = synthetic_catalog(400, random_state=0), synthetic_catalog(100, random_state=1)
    >>> result = compare({"knn": get_estimator("knn", k=10)}, train, test)
    >>> table = result.table()
    >>> table.loc[0, "model"], bool(table.loc[0, "sigma_nmad"] < 0.05)
    ('knn', True)
    """
    z_test = test.require_z()
    train.require_z()
    total = 2 * len(estimators)
    report = progress or (lambda *_: None)
    results = []
    for i, (name, template) in enumerate(estimators.items()):
        est = clone(template)
        report(f"fitting {name}", 2 * i, total)
        log.debug("fitting %s on %d galaxies", name, len(train))
        t0 = time.perf_counter()
        est.fit(train, validation=validation)
        train_seconds = time.perf_counter() - t0
        report(f"predicting {name}", 2 * i + 1, total)
        metrics, predictions, pit_values = _score(est, test, z_test, train_seconds)
        log.debug("%s: sigma_NMAD %.4f in %.1f s", name, metrics["sigma_nmad"], train_seconds)
        results.append(
            ModelResult(
                name=name,
                estimator=est,
                params=est.get_params(),
                changed=_changed_params(est),
                metrics=metrics,
                predictions=predictions,
                pit=pit_values,
                history=loss_history(est),
            )
        )
    report("done", total, total)
    return Comparison(
        results=results,
        train_source=train.source,
        test_source=test.source,
        n_train=len(train),
        n_test=len(test),
        survey=train.survey.name,
    )
