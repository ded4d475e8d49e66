"""Compare estimators on one split: metrics table, figures and a self-contained HTML report.

:func:`compare` fits and scores (no printing, a ``progress`` callback for long runs) and returns
a :class:`Comparison` (:mod:`~zphot.report.results`); :func:`write_report` writes
``results.md``, ``results.csv``, per-model predictions, PNG figures, binned residual tables and
``report.html``. Models trained beforehand are wrapped in :class:`Trained` and only scored.
"""

from .compare import compare
from .results import COLUMNS, Column, Comparison, ModelResult, Trained
from .scoring import loss_history
from .write import write_report

__all__ = [
    "COLUMNS",
    "Column",
    "Comparison",
    "ModelResult",
    "Trained",
    "compare",
    "loss_history",
    "write_report",
]
