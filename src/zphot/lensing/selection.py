"""Background selection behind a lens and the summaries a shear measurement needs.

A source is selected when its probability of lying behind ``z_lens + dz`` exceeds ``p_min``
(``method="probability"``) or when its point estimate does (``method="point"``). The summaries
of a selection are the PDF averages ⟨β⟩ and ⟨β²⟩ (the reduced-shear correction uses
⟨β²⟩/⟨β⟩², Seitz & Schneider 1997), the effective source redshift, ⟨Σcrit⁻¹⟩ and, with true
redshifts, the true ⟨β⟩, the contamination (selected sources truly at z < z_lens + delta) and
the completeness (selected true background / all true background).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._rng import RandomState, as_generator
from ..exceptions import ParameterError
from ..pdf.grid import RedshiftGrid
from .efficiency import beta, effective_redshift, pdf_average, sigma_crit_inv

__all__ = [
    "SELECTION_METHODS",
    "prob_above",
    "select_background",
    "SelectionSummary",
    "summarise_selection",
    "stacked_nz",
    "truth_metrics",
]

SELECTION_METHODS = ("probability", "point")


def prob_above(probs: NDArray[np.float64], grid: RedshiftGrid, z_cut: float) -> NDArray:
    """P(z > z_cut) per row, taking probability as uniform inside each bin.

    Rows are normalised first; the bin holding ``z_cut`` contributes the fraction of its width
    above the cut.
    """
    probs = np.asarray(probs, dtype=np.float64)
    edges = grid.edges
    frac = np.clip((edges[1:] - z_cut) / grid.width, 0.0, 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (probs @ frac) / probs.sum(axis=1)


def select_background(
    p_behind: NDArray[np.float64],
    z_point: NDArray[np.float64],
    z_cut: float,
    method: str = "probability",
    p_min: float = 0.9,
) -> NDArray[np.bool_]:
    """Which sources count as background: P(z > z_cut) > p_min, or z_point > z_cut."""
    if method not in SELECTION_METHODS:
        raise ParameterError(
            f"selection method must be one of {', '.join(SELECTION_METHODS)}, got {method!r}"
        )
    if not 0.0 <= p_min < 1.0:
        raise ParameterError(f"p_min must be in [0, 1), got {p_min}")
    if method == "point":
        return np.asarray(z_point, dtype=np.float64) > z_cut
    return np.asarray(p_behind, dtype=np.float64) > p_min


@dataclass
class SelectionSummary:
    """What ``zphot lensing`` reports for one lens redshift (``lens.json``)."""

    z_lens: float
    dz: float
    method: str
    p_min: float
    cosmology: str
    n_sources: int
    n_selected: int
    beta_mean: float
    beta2_mean: float
    beta2_ratio: float
    z_eff: float
    sigma_crit_inv_mean: float
    sigma_crit_inv_unit: str
    truth: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        return {k: v for k, v in d.items() if k != "truth"} | d["truth"]


def _mean(values: NDArray[np.float64], weight: NDArray[np.float64] | None) -> float:
    if len(values) == 0:
        return float("nan")
    return float(np.average(values, weights=weight))


def summarise_selection(
    probs: NDArray[np.float64],
    grid: RedshiftGrid,
    selected: NDArray[np.bool_],
    z_lens: float,
    *,
    dz: float = 0.1,
    method: str = "probability",
    p_min: float = 0.9,
    cosmology: Any = "Planck18",
    z_true: NDArray[np.float64] | None = None,
    delta: float = 0.02,
    weight: NDArray[np.float64] | None = None,
) -> SelectionSummary:
    """⟨β⟩, ⟨β²⟩, z_eff and ⟨Σcrit⁻¹⟩ of the selected rows (optionally weighted per row).

    ⟨β²⟩ is the selection's mean of ∫ p_i β² dz, the second moment over sources and their
    redshift uncertainty alike. With ``z_true``: ``beta_true`` (β at the true redshifts),
    ``beta_bias`` (⟨β⟩ / beta_true − 1), ``contamination`` and ``completeness`` (see module).
    """
    sel = np.asarray(selected, dtype=bool)
    w = None if weight is None else np.asarray(weight, dtype=np.float64)[sel]
    b = beta(z_lens, grid.centres, cosmology)
    p = np.asarray(probs)[sel]
    beta_i = pdf_average(p, b)
    beta2_i = pdf_average(p, b**2)
    sci_i = pdf_average(p, sigma_crit_inv(z_lens, grid.centres, cosmology))
    b1, b2 = _mean(beta_i, w), _mean(beta2_i, w)
    name = cosmology if isinstance(cosmology, str) else getattr(cosmology, "name", str(cosmology))
    summary = SelectionSummary(
        z_lens=float(z_lens),
        dz=float(dz),
        method=method,
        p_min=float(p_min),
        cosmology=str(name),
        n_sources=int(len(sel)),
        n_selected=int(sel.sum()),
        beta_mean=b1,
        beta2_mean=b2,
        beta2_ratio=b2 / b1**2 if b1 > 0 else float("nan"),
        z_eff=effective_redshift(b1, z_lens, cosmology),
        sigma_crit_inv_mean=_mean(sci_i, w),
        sigma_crit_inv_unit="pc2 / solMass",
    )
    if z_true is not None:
        summary.truth = truth_metrics(z_true, sel, z_lens, b1, delta, cosmology, weight)
    return summary


def truth_metrics(
    z_true: NDArray[np.float64],
    selected: NDArray[np.bool_],
    z_lens: float,
    beta_mean: float,
    delta: float = 0.02,
    cosmology: Any = "Planck18",
    weight: NDArray[np.float64] | None = None,
) -> dict[str, float]:
    """beta_true, beta_bias, contamination and completeness of a selection (rows with a finite
    true redshift only; background means z_true >= z_lens + delta)."""
    z = np.asarray(z_true, dtype=np.float64)
    known = np.isfinite(z)
    sel = np.asarray(selected, dtype=bool) & known
    w = np.ones(len(z)) if weight is None else np.asarray(weight, dtype=np.float64)
    behind = known & (z >= z_lens + delta)
    bt = _mean(beta(z_lens, z[sel], cosmology), w[sel])
    n_sel, n_bg = w[sel].sum(), w[behind].sum()
    return {
        "delta": float(delta),
        "n_true": int(known.sum()),
        "beta_true": bt,
        "beta_bias": beta_mean / bt - 1.0 if bt > 0 else float("nan"),
        "contamination": float(w[sel & ~behind].sum() / n_sel) if n_sel > 0 else float("nan"),
        "completeness": float(w[sel & behind].sum() / n_bg) if n_bg > 0 else float("nan"),
    }


def stacked_nz(
    probs: NDArray[np.float64],
    n_boot: int = 100,
    random_state: RandomState = 0,
    weight: NDArray[np.float64] | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The mean of the rows' normalised PDFs (per bin) and its bootstrap standard error.

    Each bootstrap draws the galaxies again with replacement (multinomial counts, seeded), so
    the error is that of the sample, not of each PDF.
    """
    p = np.asarray(probs, dtype=np.float64)
    p = p / p.sum(axis=1, keepdims=True)
    w = np.ones(len(p)) if weight is None else np.asarray(weight, dtype=np.float64)
    if len(p) == 0:
        nan = np.full(p.shape[1], np.nan)
        return nan, nan
    stack = (w @ p) / w.sum()
    rng = as_generator(random_state)
    counts = rng.multinomial(len(p), np.full(len(p), 1.0 / len(p)), size=int(n_boot)) * w
    boots = (counts @ p) / counts.sum(axis=1, keepdims=True)
    return stack, boots.std(axis=0, ddof=1) if n_boot > 1 else np.zeros_like(stack)
