"""Fit several estimators on one train/test split and score them side by side.

Everything a comparison report needs is collected here, as plain data: one metrics row per
model, its predictions, PIT values, loss curves and residuals binned in z_spec and in z_phot.
Drawing (:mod:`~zphot.report.plots`) and HTML (:mod:`~zphot.report.html`) only read these
results, so they can be re-rendered without training again, and this module never prints: long
loops report through a ``progress`` callback.

Models already trained (:class:`Trained`, e.g. loaded from the files of ``zphot debias``) are
scored on the same test set without fitting. A model whose predictions carry a bulk estimate
(``z_phot_bulk``, Step 4 of the bias correction) gets a second row, ``NAME (bulk)``, scoring
that estimate.
"""

from __future__ import annotations

import logging
import math
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sklearn.base import clone

from ..catalog.catalog import Catalog
from ..estimators.base import PhotoZEstimator, training_fingerprint
from ..exceptions import CatalogError, OverwriteError, ParameterError
from ..io import atomic_path, write_table
from ..metrics import (
    FULL_RANGE_BINS,
    binned_residuals,
    crps,
    dz,
    full_range_residuals,
    max_abs_binned_mean,
    nz_fidelity,
    pit,
    pit_ks,
    point_metrics,
)

__all__ = [
    "BIN_WIDTH",
    "COLUMNS",
    "SUMMARY_MIN_COUNT",
    "Column",
    "Comparison",
    "ModelResult",
    "Progress",
    "Trained",
    "compare",
    "loss_history",
    "prepare_output_dir",
]

log = logging.getLogger(__name__)

#: ``progress(description, steps_done, steps_total)``; two steps (fit, predict) per model to
#: train, one (predict) per model trained beforehand.
Progress = Callable[[str, int, int], None]

#: Default width in redshift of the bins of the binned-residual tables and curves.
BIN_WIDTH = 0.02
#: Default least number of test galaxies in a bin for it to count toward the max |mean dz|
#: columns: the standard error of a bin mean is about sigma / sqrt(n), so 200 galaxies keep it
#: several times below typical biases.
SUMMARY_MIN_COUNT = 200
#: More bins than this is a mistyped --bin-width, not a diagnostic.
_MAX_BINS = 10_000

#: Rows scored at once: PIT and CRPS build several (rows, bins) temporaries, and a large test
#: set on a fine grid (up to 400 bins by default, more with an explicit ``grid``) would
#: otherwise need gigabytes per model.
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


_COLUMN_TEMPLATES: tuple[Column, ...] = (
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
        "max_dz_zspec",
        "max|⟨dz⟩| z_spec",
        ".4f",
        "low",
        f"largest |mean dz| over {FULL_RANGE_BINS} equal-count bins of z_spec covering every test "
        "galaxy, the ends of the range included: the conditional bias an individual estimate "
        "shows",
    ),
    Column(
        "max_dz_zphot",
        "max|⟨dz⟩| z_phot",
        ".4f",
        "low",
        f"largest |mean dz| over {FULL_RANGE_BINS} equal-count bins of z_phot covering every test "
        "galaxy: the bias of a sample selected on its estimate (the bulk view)",
    ),
    Column(
        "slope_zspec",
        "dz slope",
        "+.4f",
        "zero",
        "slope of the least-squares line of dz against z_spec: negative when estimates are "
        "pulled toward the middle of the range",
    ),
    Column(
        "max_dz_zspec_fixed",
        "max|⟨dz⟩| z_spec (fixed)",
        ".4f",
        "low",
        "largest |mean dz| over bins of z_spec (width {width}) holding at least {count} test "
        "galaxies; sparse ends left out (- if no bin is that full)",
    ),
    Column(
        "max_dz_zphot_fixed",
        "max|⟨dz⟩| z_phot (fixed)",
        ".4f",
        "low",
        "largest |mean dz| over bins of z_phot (width {width}) holding at least {count} test "
        "galaxies; sparse ends left out (- if no bin is that full)",
    ),
    Column(
        "out_of_coverage", "off-cover", ".2%", "", "test galaxies outside the training coverage"
    ),
    Column(
        "train_s", "train s", ".1f", "low", "wall-clock seconds to fit (- if trained beforehand)"
    ),
    Column(
        "predict_rate", "gal/s", ",.0f", "high", "galaxies per second: PDFs, points and coverage"
    ),
)
_BINNED_KEYS = {"max_dz_zspec_fixed": "z_spec", "max_dz_zphot_fixed": "z_phot"}


def _columns(width: float, count: int) -> tuple[Column, ...]:
    """The results table's columns, the binned ones described with these bins."""
    return tuple(
        replace(c, help=c.help.format(width=f"{width:g}", count=f"{count:,}"))
        if c.key in _BINNED_KEYS
        else c
        for c in _COLUMN_TEMPLATES
    )


#: The results table's columns (the binned ones described with the default bins; a
#: :class:`Comparison`'s ``columns`` describe its own).
COLUMNS: tuple[Column, ...] = _columns(BIN_WIDTH, SUMMARY_MIN_COUNT)
#: Columns of a bulk row that belong to the model's PDF, shown on the model's own row only.
_PDF_KEYS = ("pit_ks", "crps", "cover68", "train_s", "predict_rate")


@dataclass(frozen=True)
class Trained:
    """An estimator fitted beforehand, for :func:`compare`: scored as it is, never refitted.

    Attributes
    ----------
    estimator : PhotoZEstimator
        The fitted estimator (e.g. from :func:`zphot.load`).
    source : str
        Where it came from (a model file), shown in the report's settings column.
    """

    estimator: PhotoZEstimator
    source: str = ""


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
    source : str
        Where a model trained beforehand came from (its file); empty when :func:`compare`
        fitted it.
    bulk_of : str or None
        For a bulk row: the name of the model whose ``z_phot_bulk`` it scores (its
        ``predictions["z_phot"]`` holds that estimate; its PDF is the model's, so ``pit`` is
        empty and the PDF columns are NaN).
    """

    name: str
    estimator: PhotoZEstimator
    params: dict[str, Any]
    changed: dict[str, Any]
    metrics: dict[str, float]
    predictions: pd.DataFrame
    pit: NDArray[np.float64]
    history: list[dict[str, list[float]]] = field(default_factory=list)
    source: str = ""
    bulk_of: str | None = None

    @property
    def z_spec(self) -> NDArray[np.float64]:
        return self.predictions["z_spec"].to_numpy(np.float64)

    @property
    def z_phot(self) -> NDArray[np.float64]:
        return self.predictions["z_phot"].to_numpy(np.float64)

    def settings_text(self) -> str:
        """The non-default parameters as ``name=value`` pairs, ``defaults`` if there are none.

        A model trained beforehand is prefixed with its source; a bulk row names its model.
        """
        if self.bulk_of is not None:
            return f"z_phot_bulk of {self.bulk_of}"
        text = ", ".join(f"{k}={v!r}" for k, v in self.changed.items()) or "defaults"
        return f"{self.source}: {text}" if self.source else text


@dataclass
class Comparison:
    """The outcome of :func:`compare`: one :class:`ModelResult` per estimator, in input order.

    Attributes
    ----------
    results : list of ModelResult
    train_source, test_source : str
        Where the training and test galaxies came from (catalog ``source`` strings).
    n_train, n_test : int
        ``n_train`` is 0 (and ``train_source`` empty) when every model was trained beforehand.
    survey : str
        Survey name of the catalogs (bands and columns used).
    bin_width : float
        Width in redshift of the binned-residual bins (:meth:`binned`).
    min_bin_count : int
        Least number of galaxies in a bin for it to count toward the ``max_dz_*`` columns.
    notes : list of str
        Warnings about the run shown with the results (e.g. a trained model tested on its own
        training catalog).
    """

    results: list[ModelResult]
    train_source: str
    test_source: str
    n_train: int
    n_test: int
    survey: str
    bin_width: float = BIN_WIDTH
    min_bin_count: int = SUMMARY_MIN_COUNT
    notes: list[str] = field(default_factory=list)

    @property
    def columns(self) -> tuple[Column, ...]:
        """:data:`COLUMNS` with the help of the binned columns stating this run's bins."""
        return _columns(self.bin_width, self.min_bin_count)

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

    def caption(self) -> str:
        """Where the training and test galaxies came from, in one sentence."""
        trained = [r.name for r in self.results if r.source and r.bulk_of is None]
        tested = f"tested on {self.n_test:,} galaxies ({self.test_source}); survey {self.survey}."
        if not self.n_train:
            return f"Every model was trained beforehand (file in settings); {tested}"
        fitted = f"Trained on {self.n_train:,} galaxies ({self.train_source})"
        if trained:
            fitted += f", except {', '.join(trained)} (trained beforehand, file in settings)"
        return f"{fitted}; {tested}"

    def markdown(self) -> str:
        """The results table as GitHub-flavoured markdown, values formatted as in the report."""
        columns = self.columns
        header = ["model", *(c.label.replace("|", "\\|") for c in columns), "settings"]
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for r in self.results:
            cells = [r.name, *(c.format(r.metrics.get(c.key, np.nan)) for c in columns)]
            cells.append(r.settings_text().replace("|", "\\|"))
            lines.append("| " + " | ".join(cells) + " |")
        notes = [f"- **{c.label}**: {c.help}" for c in columns]
        if any(r.bulk_of for r in self.results):
            notes.append(f"- **(bulk)** rows: {BULK_NOTE}")
        notes.append(
            f"- binned_MODEL.csv: count, mean dz and its standard error per bin of z_spec and "
            f"of z_phot (width {self.bin_width:g}) for each model"
        )
        warnings = [f"**Warning**: {n}" for n in self.notes]
        return "\n".join([self.caption(), *warnings, "", *lines, "", *notes]) + "\n"

    def bin_edges(self) -> NDArray[np.float64]:
        """Edges of the residual bins: multiples of ``bin_width`` spanning the test z_spec."""
        return _bin_edges(self.results[0].z_spec, self.bin_width)

    def binned(self, result: ModelResult, min_count: int = 1) -> pd.DataFrame:
        """Residuals of one model binned in z_spec and in z_phot, as one long table.

        Columns ``by`` (``"z_spec"`` or ``"z_phot"``), then those of
        :func:`~zphot.metrics.binned_residuals`: ``lo``, ``hi``, ``centre``, ``count``,
        ``mean`` and ``sem`` (standard error of the mean dz) and ``median``. Both views share
        :meth:`bin_edges`, over the test set's z_spec range; a galaxy whose z_phot falls outside
        it (or is not finite) is in no z_phot bin. ``min_count`` masks the statistics of bins
        with fewer galaxies (their count stays).
        """
        zs, zp = result.z_spec, result.z_phot
        ok = np.isfinite(zp)
        d = dz(zp[ok], zs[ok])
        edges = self.bin_edges()
        parts = [
            binned_residuals(x, d, edges, min_count=min_count).assign(by=by)
            for by, x in (("z_spec", zs[ok]), ("z_phot", zp[ok]))
        ]
        table = pd.concat(parts, ignore_index=True)
        return table[["by", *(c for c in table.columns if c != "by")]]

    def file_stems(self) -> dict[str, str]:
        """A distinct, file-name-safe stem per model name (``step4 (bulk)`` -> ``step4_bulk``)."""
        stems: dict[str, str] = {}
        for r in self.results:
            stem = re.sub(r"[^\w.-]+", "_", r.name).strip("_.") or "model"
            base, k = stem, 2
            while stem in stems.values():
                stem, k = f"{base}_{k}", k + 1
            stems[r.name] = stem
        return stems

    def write(
        self,
        out_dir: str | os.PathLike,
        *,
        overwrite: bool = False,
        context: Mapping[str, str] | None = None,
    ) -> Path:
        """Write tables, predictions, figures and ``report.html`` into ``out_dir``.

        Files: ``results.md``, ``results.csv``, ``predictions_<model>.parquet`` (``zphot
        evaluate`` reads them; a Step 4 model's file has ``z_phot_bulk`` too, so its bulk row
        has no file of its own), ``binned_<model>.csv`` (:meth:`binned`, every bin, sparse ones
        included), ``figures/*.png`` and ``report.html`` (last, so its presence means the run
        finished). Each file is written atomically; ``<model>`` is the name made file-safe
        (:meth:`file_stems`).

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
        stems = self.file_stems()
        for r in self.results:
            stem = stems[r.name]
            write_table(self.binned(r), out / f"binned_{stem}.csv", format="csv", overwrite=True)
            if r.bulk_of is not None:
                continue
            cols = ["z_spec", *(c for c in r.predictions.columns if c != "z_spec")]
            write_table(
                r.predictions[cols],
                out / f"predictions_{stem}.parquet",
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


BULK_NOTE = (
    "the bulk estimate z_phot_bulk of a Step 4 bias-corrected model (flat in z_phot, for "
    "samples selected on their estimate); its PDF is the one of the model's own row, so the "
    "PDF columns are left blank"
)


def _bin_edges(z: NDArray[np.float64], width: float) -> NDArray[np.float64]:
    """Multiples of ``width`` from below ``min(z)`` to at least ``max(z)``."""
    if not (math.isfinite(width) and width > 0):
        raise ParameterError(f"bin width must be a positive number, got {width!r}")
    lo_z, hi_z = float(np.min(z)), float(np.max(z))
    first = math.floor(lo_z / width + 1e-9)
    n = max(math.ceil(hi_z / width - 1e-9) - first, 1)
    if n > _MAX_BINS:
        raise ParameterError(
            f"bin width {width:g} makes {n:,} bins over z = [{lo_z:g}, {hi_z:g}]; "
            f"at most {_MAX_BINS:,}"
        )
    edges = np.round((first + np.arange(n + 1)) * width, 12)
    # Rounding must not drop the smallest or the largest redshift.
    edges[0], edges[-1] = min(edges[0], lo_z), max(edges[-1], hi_z)
    return edges


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
    extra information still gets its curves drawn. Timings (keys ending in ``seconds``, such as
    zphot's ``epoch_seconds``) are skipped too: they are not losses, and drawn on the loss axis
    they stretch it until the loss curves look flat (the table's ``train s`` reports the time).

    Examples
    --------
    >>> class Net:
    ...     history_ = [{"train": [1.0, 0.5], "val": [1.1, 0.7], "best_epoch": 1,
    ...                  "epoch_seconds": [0.8, 0.8]}]
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
        kept = {
            str(k): [float(x) for x in v]
            for k, v in member.items()
            if _numeric_sequence(v) and not str(k).endswith("seconds")
        }
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
    metrics = _point_scores(zp, z, f"{type(est).__name__}: no finite z_phot on {test.source}")
    metrics |= {
        "pit_ks": pit_ks(pit_values),
        "crps": float(np.mean(crps_values)),
        # The central interval's coverage follows from the PIT values: no second pass.
        "cover68": float(np.mean((pit_values >= 0.16) & (pit_values <= 0.84))),
        "out_of_coverage": float(np.mean(table["out_of_coverage"])),
        "train_s": train_seconds,
        "predict_rate": len(z) / max(seconds, 1e-9),
        "predict_s": seconds,
    }
    return metrics, table, pit_values


def _point_scores(zp: NDArray[np.float64], z: NDArray[np.float64], empty: str) -> dict[str, float]:
    """Point metrics and n(z) fidelity of the finite estimates; ``empty`` is the error if none."""
    ok = np.isfinite(zp)
    if not ok.any():
        raise CatalogError(empty)
    metrics = point_metrics(zp[ok], z[ok], outlier_threshold=0.05)
    metrics["nz_fidelity"] = nz_fidelity(zp[ok], z[ok])
    return metrics


def _bulk_result(parent: ModelResult, z: NDArray[np.float64]) -> ModelResult:
    """The row of a model's bulk estimate: its ``z_phot_bulk`` scored as a point estimate."""
    table = parent.predictions
    keep = [c for c in table.columns if c in ("id", "out_of_coverage")]
    predictions = table[keep].assign(z_phot=table["z_phot_bulk"], z_spec=z)
    predictions = predictions[["z_phot", *keep, "z_spec"]]
    metrics = _point_scores(
        predictions["z_phot"].to_numpy(np.float64), z, f"{parent.name}: no finite z_phot_bulk"
    )
    metrics |= {k: np.nan for k in _PDF_KEYS}
    metrics["out_of_coverage"] = parent.metrics["out_of_coverage"]
    return replace(
        parent,
        name=f"{parent.name} (bulk)",
        metrics=metrics,
        predictions=predictions,
        pit=np.empty(0),
        history=[],
        bulk_of=parent.name,
    )


def compare(
    estimators: Mapping[str, PhotoZEstimator | Trained],
    train: Catalog | None,
    test: Catalog,
    *,
    validation: Catalog | None = None,
    progress: Progress | None = None,
    bin_width: float = BIN_WIDTH,
    min_bin_count: int = SUMMARY_MIN_COUNT,
) -> Comparison:
    """Fit each estimator on ``train`` and score it on ``test``, with identical data for all.

    Each estimator is cloned before fitting, so the ones passed in stay unfitted; those wrapped
    in :class:`Trained` are scored as they are, without fitting (they were trained on their own
    data, which the report cannot check beyond warning when ``test`` is exactly their training
    catalog). The test set is predicted once per model; the same prediction gives the metrics,
    the PIT values, the throughput and the predictions table, so the numbers in a report always
    agree. A model whose predictions table has ``z_phot_bulk`` (a Step 4
    :class:`~zphot.debias.DebiasedEstimator`) is followed by a ``NAME (bulk)`` row scoring
    that estimate.

    Parameters
    ----------
    estimators : mapping of str to PhotoZEstimator or Trained
        Label -> unfitted estimator (or fitted one wrapped in :class:`Trained`), in the order
        the report lists them.
    train : Catalog or None
        Catalog with redshifts the unfitted estimators are fitted on; None when every model is
        :class:`Trained`.
    test : Catalog
        Catalog with redshifts every model is scored on, read with the same survey.
    validation : Catalog, optional
        Passed to every ``fit`` (networks use it for early stopping). Never the test set:
        early stopping on it would leak the test redshifts into training.
    progress : callable, optional
        ``progress(description, steps_done, steps_total)`` before each step and once at the
        end; there are two steps (fit, predict) per model to fit, one per trained model.
    bin_width : float
        Width in redshift of the bins of the binned residuals (:meth:`Comparison.binned`).
    min_bin_count : int
        Least number of test galaxies in a bin for it to count toward the ``max_dz_zspec`` and
        ``max_dz_zphot`` columns.

    Returns
    -------
    Comparison

    Raises
    ------
    CatalogError
        A catalog has no (or missing) redshifts, or an estimator produced no finite estimate.
    ParameterError
        An estimator's parameters are invalid (raised by its ``fit``), ``train`` is missing
        while a model needs fitting, or ``bin_width`` is not a positive width.
    NotFittedError
        A :class:`Trained` estimator is not fitted.

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
    _bin_edges(z_test, bin_width)  # a bad width fails before any training
    to_fit = [name for name, e in estimators.items() if not isinstance(e, Trained)]
    if to_fit:
        if train is None:
            raise ParameterError(f"no training catalog to fit {', '.join(to_fit)}")
        train.require_z()
    total = len(estimators) + len(to_fit)
    report = progress or (lambda *_: None)
    results: list[ModelResult] = []
    notes: list[str] = []
    test_fingerprint: str | None = None
    step = 0
    for name, template in estimators.items():
        source = ""
        if isinstance(template, Trained):
            est = template.estimator
            est._check_fitted()
            source = template.source or "trained beforehand"
            test_fingerprint = test_fingerprint or training_fingerprint(test)
            if getattr(est, "fingerprint_", None) == test_fingerprint:
                notes.append(f"{name} is tested on the very catalog it was trained on")
                log.warning("%s: %s", name, notes[-1])
            train_seconds = math.nan
        else:
            assert train is not None
            est = clone(template)
            report(f"fitting {name}", step, total)
            step += 1
            log.debug("fitting %s on %d galaxies", name, len(train))
            t0 = time.perf_counter()
            est.fit(train, validation=validation)
            train_seconds = time.perf_counter() - t0
        report(f"predicting {name}", step, total)
        step += 1
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
                source=source,
            )
        )
        if "z_phot_bulk" in predictions.columns:
            results.append(_bulk_result(results[-1], z_test))
    report("done", total, total)
    comparison = Comparison(
        results=results,
        train_source=train.source if to_fit and train is not None else "",
        test_source=test.source,
        n_train=len(train) if to_fit and train is not None else 0,
        n_test=len(test),
        survey=test.survey.name,
        bin_width=float(bin_width),
        min_bin_count=int(min_bin_count),
        notes=notes,
    )
    for r in results:
        binned = comparison.binned(r)
        for key, by in _BINNED_KEYS.items():
            r.metrics[key] = max_abs_binned_mean(binned[binned["by"] == by], min_bin_count)
        r.metrics.update(full_range_residuals(r.z_phot, r.z_spec))
    return comparison
