"""Compare estimators on one split: metrics table, figures and a self-contained HTML report.

:func:`compare` fits and scores (no printing, a ``progress`` callback for long runs);
:meth:`Comparison.write` writes ``results.md``, ``results.csv``, per-model predictions, PNG
figures and ``report.html``.
"""

from .compare import COLUMNS, Column, Comparison, ModelResult, compare, loss_history

__all__ = ["COLUMNS", "Column", "Comparison", "ModelResult", "compare", "loss_history"]
