"""What a comparison of estimators produces, as plain data: the results table's columns, one
:class:`ModelResult` per model and the :class:`Comparison` that holds them.

Running the comparison (:mod:`~zphot.report.compare`), drawing it
(:mod:`~zphot.report.plots`) and writing it (:mod:`~zphot.report.write`) all read these types;
none of them is needed to build or inspect one, so a comparison can be re-rendered without
training again.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..estimators.base import PhotoZEstimator
from ..exceptions import ParameterError
from ..metrics import FULL_RANGE_BINS, binned_residuals, dz

__all__ = [
    "BIN_WIDTH",
    "BULK_NOTE",
    "COLUMNS",
    "SUMMARY_MIN_COUNT",
    "Column",
    "Comparison",
    "ModelResult",
    "Trained",
]

#: Default width in redshift of the bins of the binned-residual tables and curves.
BIN_WIDTH = 0.02
#: Default least number of test galaxies in a bin for it to count toward the max |mean dz|
#: columns: the standard error of a bin mean is about sigma / sqrt(n), so 200 galaxies keep it
#: several times below typical biases.
SUMMARY_MIN_COUNT = 200
#: More bins than this is a mistyped --bin-width, not a diagnostic.
_MAX_BINS = 10_000


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
