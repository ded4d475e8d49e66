"""Lin et al. (2022) bias correction on top of any zphot network estimator.

Step 1 trains the network with a magnitude-factorised output module. Steps 2 and 3 freeze the
representation and retrain only the redshift heads at a nearly flat (z, magnitude)
distribution, then on an extended grid with soft (optionally shifted) labels: the mode of the
resulting PDF is the *individual* estimate, flat in z_spec. Step 4 calibrates the mean
residual in (magnitude, z_photo) cells from out-of-fold predictions: the *bulk* estimate, flat
in z_photo. From the same out-of-fold predictions, the Step 4 model also fits a smooth shift of
the individual estimate that removes what Steps 2-3 leave of the z_spec-binned residual at the
ends of the range, and recalibrates the Steps 1-3 PDF (PIT remapping) so it stays trustworthy.

References
----------
Lin, Q., Fouchez, D., Pasquet, J. et al. 2022, A&A 662, A36, "Photometric redshift estimation
with convolutional neural networks and galaxy images: Case study of resolving biases in
data-driven methods".
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch
from numpy.typing import NDArray
from scipy.ndimage import gaussian_filter1d

from .._rng import child_generator, child_seed, torch_generator
from ..catalog.catalog import Catalog
from ..estimators.base import Interval, Options, PhotoZEstimator, SurveySpec
from ..estimators.nn.heads import FactorisedLoss, MagnitudeFactorisedHead
from ..estimators.nn.network import TorchEstimator, _check_state_dict, init_parameters
from ..estimators.nn.train import (
    ClassificationLoss,
    TrainSettings,
    forward_rows,
    torch_threads,
    train_network,
)
from ..estimators.registry import estimator_class, get_estimator
from ..exceptions import ParameterError
from ..metrics.pdf import pit
from ..metrics.point import sigma_nmad
from ..pdf.batch import PDFBatch
from ..pdf.grid import RedshiftGrid
from .balance import balance_weights, balanced_subset
from .calibrate import PITRecalibration, ResidualCalibration, SpecResidualCalibration
from .labels import fit_sigma1, local_sigma2, shifted_labels, soft_labels

__all__ = ["DebiasedEstimator", "LABEL_VARIANTS"]

LABEL_VARIANTS = ("soft", "soft-shifted", "hard-shifted")


@dataclass
class _Stages:
    """What Steps 1-3 produce on one training set (the full one, or a cross-fitting fold)."""

    network: TorchEstimator
    heads: dict[int, MagnitudeFactorisedHead] = field(default_factory=dict)
    grids: dict[int, RedshiftGrid] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)


@dataclass
class _HeadData:
    """What Steps 2 and 3 retrain the redshift heads on (one training set)."""

    embedding: torch.Tensor  # the frozen representation's output, one row per galaxy
    cell: NDArray[np.int64]  # each galaxy's magnitude cell
    membership: torch.Tensor  # cell -> heads weights, for the factorised loss
    cell_head: torch.Tensor  # cell -> its own head
    learning_rate: float
    flat_rows: NDArray[np.int64]  # Step 2's balanced subset
    n_th: int  # its per-cell threshold
    fit_rows: NDArray[np.int64]  # the rows the heads train on (all when weighted)
    weight_columns: list[NDArray[np.float64]]  # [balance weights] when weighted, else []

    @property
    def weighted(self) -> bool:
        return bool(self.weight_columns)


def _cell_densities(
    sub_z: NDArray, sub_cell: NDArray, net: TorchEstimator, grid: RedshiftGrid
) -> NDArray[np.float64]:
    """Each magnitude cell's flat-subset density on the extended ``grid`` (zero beyond the
    range): what truncates the Gaussian and shifts labels outward at the edges."""
    density = np.zeros((net.cells_.n_cells, grid.n_bins))
    for c in range(net.cells_.n_cells):
        h = np.histogram(sub_z[sub_cell == c], grid.edges)[0].astype(float)
        density[c] = gaussian_filter1d(h, 1.0) / max(h.sum(), 1.0)
    return density


class DebiasedEstimator(PhotoZEstimator):
    """A network estimator with the four bias-correction steps of Lin et al. (2022).

    Parameters
    ----------
    base : str
        The network estimator whose representation is used (``mlp``, ``cnn1d``, ``gat``...).
    base_params : dict, optional
        Its parameters; ``output="magnitude"`` and ``n_ensemble=1`` are imposed (one head to
        retrain). Parameters not given take the base's ``factorised_params`` tag first (the
        gat trains its factorised output for 60 epochs, image-cnn for 40), then its own
        defaults.
    steps : int
        How many steps the fitted model applies (1-4); ``zphot debias`` saves one per step.
    magnitude_cells : dict, optional
        Passed to the network (``width`` in mag, ``cells_per_head``; default 0.5 and 2 over the
        central 99% of the reference-band magnitudes).
    kept_fraction : float
        Step 2: N_th is chosen so the flat subset keeps this fraction of the training set
        (the paper's fixed N_th = 200 keeps 99% of SDSS and does nothing).
    n_th : int, optional
        A fixed N_th instead.
    balance : {"weights", "subset"}
        How Steps 2-3 reach the flat (z, magnitude) distribution: every galaxy weighted by
        min(1, N_th / its cell's count), or the paper's random subset of at most N_th per
        cell. The expected distribution is the same; weights let the heads see every galaxy.
        On held-out SDSS training galaxies (``benchmarks/sdss_debias_settings.py``) weights
        gave the smaller Step 3 scatter and z_spec-binned bias, at a longer head training
        (figures in BENCHMARKS.md, "Steps 2-3 settings").
    balance_bin_width : float
        Width of the redshift bins of Step 2's (z, magnitude) grid. Coarser than the PDF grid
        so that cells hold enough galaxies for a threshold to mean something on samples of
        tens of thousands.
    labels : {"soft", "soft-shifted", "hard-shifted"}
        Step 3's labels: a Gaussian of width sigma_1 at z_spec, the same Gaussian at the
        shifted redshift (the paper's choice), or a one-bin label at the shifted redshift. On
        the SDSS split (``benchmarks/sdss_debias.py``) unshifted soft labels gave the smaller
        scatter and z_spec-binned bias at the same n(z) fidelity (figures in BENCHMARKS.md,
        ``mlp`` representation): with the grid already extended, shifting moved more faint
        low-z galaxies onto catastrophic high-z estimates than it removed edge pull. Hence the
        default.
    n_extra : int, optional
        Step 3 extends the grid by this many bins on each side (default: half the bins).
    head_epochs : int
        Epochs of each head-only retraining (Steps 2 and 3).
    head_learning_rate_factor : float
        Head learning rate relative to the network's (the paper: 1/5).
    n_folds : int
        Cross-fitting folds for Step 4 and the PDF recalibration (honest residuals).
    calibration_bin : float
        Step 4's z_photo bin width (and the bin width of the individual view's z_spec
        calibration).
    individual_smoothing : float or None
        Stretch penalty of the individual view's z_spec calibration
        (:class:`~zphot.debias.calibrate.SpecResidualCalibration`, fitted with Step 4):
        smaller flattens the z_spec-binned residuals more and costs more sigma_NMAD. ``None``:
        no calibration, the individual estimate is Step 3's mode in every model. The default
        20 was chosen on out-of-fold SDSS training estimates (fitted on one half, scored on the
        other; see BENCHMARKS.md).
    inputs, scaler, grid, point, random_state
        See :class:`~zphot.estimators.base.PhotoZEstimator`; ``point`` gives the individual
        estimate (the paper: the mode).

    Attributes
    ----------
    network_ : TorchEstimator
        The Step 1 network (representation + magnitude-factorised head).
    heads_ : dict
        Output module per step (2, 3) with frozen magnitude head.
    step_grids_ : dict
        Grid of each step (Step 3's is extended).
    info_ : dict
        N_th, subset size, sigma_1 per head, label variant.
    calibration_ : ResidualCalibration
        Step 4's table (steps == 4).
    spec_calibration_ : SpecResidualCalibration
        The individual view's z_spec calibration (steps == 4, ``individual_smoothing`` set).
    oof_z_phot_ : ndarray
        Out-of-fold Step 3 estimates of the training galaxies, what Step 4 and the z_spec
        calibration are fitted on (steps == 4; after ``fit`` only, not saved), as
        scikit-learn's forests keep ``oob_prediction_``.
    recalibration_ : PITRecalibration
        PDF recalibration of the final step's PDFs (steps == 4).
    """

    name = "debiased"
    tags: ClassVar[dict[str, Any]] = {
        "network": True,
        "synthetic_tolerance": 0.05,
        "recalibrated_pdf": True,
        # Steps 1-3 only: Step 4's cross-fitting multiplies the cost by n_folds + 1; it has
        # its own test (tests/debias/test_estimator.py).
        "fast_params": {
            "base_params": {"hidden": (64, 64), "max_epochs": 15, "batch_size": 64},
            "head_epochs": 10,
            "steps": 3,
            "kept_fraction": 0.5,
        },
    }
    _constraints: ClassVar[dict[str, Any]] = {
        "steps": Interval(1, 4, integer=True),
        "kept_fraction": Interval(0.01, 1.0),
        "balance_bin_width": Interval(1e-4, 1.0),
        "labels": Options(*LABEL_VARIANTS),
        "balance": Options("subset", "weights"),
        "head_epochs": Interval(1, None, integer=True),
        "head_learning_rate_factor": Interval(1e-4, 10.0),
        "n_folds": Interval(2, 20, integer=True),
        "calibration_bin": Interval(1e-4, 1.0),
    }

    def __init__(
        self,
        *,
        base: str = "mlp",
        base_params: dict | None = None,
        steps: int = 4,
        magnitude_cells: dict | None = None,
        kept_fraction: float = 1 / 3,
        n_th: int | None = None,
        balance_bin_width: float = 0.01,
        labels: str = "soft",
        balance: str = "weights",
        n_extra: int | None = None,
        head_epochs: int = 40,
        head_learning_rate_factor: float = 0.2,
        n_folds: int = 3,
        calibration_bin: float = 0.01,
        individual_smoothing: float | None = 20.0,
        inputs: str = "colours",
        scaler: str = "standard",
        grid: tuple[float, float, int] | None = None,
        point: str = "mode",
        random_state: int = 0,
    ) -> None:
        self.base = base
        self.base_params = base_params
        self.steps = steps
        self.magnitude_cells = magnitude_cells
        self.kept_fraction = kept_fraction
        self.n_th = n_th
        self.balance_bin_width = balance_bin_width
        self.labels = labels
        self.balance = balance
        self.n_extra = n_extra
        self.head_epochs = head_epochs
        self.head_learning_rate_factor = head_learning_rate_factor
        self.n_folds = n_folds
        self.calibration_bin = calibration_bin
        self.individual_smoothing = individual_smoothing
        self.inputs = inputs
        self.scaler = scaler
        self.grid = grid
        self.point = point
        self.random_state = random_state

    def _validate_params(self) -> None:
        super()._validate_params()
        cls = estimator_class(self.base)
        if not (isinstance(cls, type) and issubclass(cls, TorchEstimator)):
            raise ParameterError(
                f"DebiasedEstimator: parameter 'base' must name a network estimator "
                f"(mlp, cnn1d, gat...), got {self.base!r}"
            )
        if self.individual_smoothing is not None and not Interval(0, None).ok(
            self.individual_smoothing
        ):
            raise ParameterError(
                "DebiasedEstimator: parameter 'individual_smoothing' must be None or a "
                f"non-negative number, got {self.individual_smoothing!r}"
            )
        for pname in ("n_th", "n_extra"):
            v = getattr(self, pname)
            if v is not None and not Interval(1, None, integer=True).ok(v):
                raise ParameterError(
                    f"DebiasedEstimator: parameter '{pname}' must be None or a positive "
                    f"integer, got {v!r}"
                )

    # --- Steps 1-3 -----------------------------------------------------------------------

    def _network(self, seed: int) -> TorchEstimator:
        params = estimator_class(self.base).tags.get("factorised_params", {}) | dict(
            self.base_params or {}
        )
        params.update(
            output="magnitude",
            magnitude_cells=self.magnitude_cells,
            n_ensemble=1,
            inputs=self.inputs,
            scaler=self.scaler,
            grid=(self.grid_.z_min, self.grid_.z_max, self.grid_.n_bins),
            random_state=seed,
        )
        return get_estimator(self.base, **params)

    def _train_head(
        self,
        head: MagnitudeFactorisedHead,
        loss: FactorisedLoss,
        emb: torch.Tensor,
        targets: torch.Tensor,
        lr: float,
        rng: np.random.Generator,
    ) -> dict:
        """Retrain the redshift heads only (the magnitude head stays frozen), early-stopped on
        a tenth of the rows; ``rng`` (the step's own stream) draws those rows, then the seed
        of the batch order."""
        head.mag_head.requires_grad_(False)
        perm = rng.permutation(len(emb))
        n_val = max(1, len(emb) // 10)
        val, tr = np.sort(perm[:n_val]), np.sort(perm[n_val:])
        settings = TrainSettings(
            max_epochs=int(self.head_epochs),
            patience=5,
            batch_size=32,
            learning_rate=lr,
            weight_decay=0.0,
        )
        gen = torch_generator(int(rng.integers(0, 2**62)))
        return train_network(
            head, loss, emb[tr], targets[tr], emb[val], targets[val], settings, gen
        )

    def _run_steps(
        self, catalog: Catalog, z: NDArray, validation: Catalog | None, seed: int
    ) -> _Stages:
        """Steps 1-3 on one training set, each run from its own random stream of ``seed``."""
        net = self._network(seed).fit(catalog, validation=validation)
        stages = _Stages(network=net)
        stages.heads[1], stages.grids[1] = net.head_, self.grid_
        if self.steps < 2:
            return stages
        data = self._head_data(net, catalog, z, seed)
        stages.info.update(
            n_th=data.n_th,
            subset_size=int(len(data.flat_rows)),
            n_train=int(len(z)),
            balance=self.balance,
        )
        head2 = self._step2(net, data, z, seed)
        stages.heads[2], stages.grids[2] = head2, self.grid_
        if self.steps < 3:
            return stages
        head3, extended, sigma1 = self._step3(net, data, head2, z, seed)
        stages.heads[3], stages.grids[3] = head3, extended
        stages.info.update(
            sigma1=sigma1.tolist(),
            n_extra=int((extended.n_bins - self.grid_.n_bins) // 2),
            labels=self.labels,
        )
        return stages

    def _head_data(self, net: TorchEstimator, catalog: Catalog, z: NDArray, seed: int) -> _HeadData:
        """What Steps 2 and 3 retrain the heads on: the frozen embedding, the magnitude cells
        and Step 2's nearly flat (z, magnitude) distribution: the balanced subset, or every
        galaxy weighted so that each cell counts at most N_th."""
        with torch_threads(net.n_jobs):
            embedding = torch.from_numpy(net.embed(catalog))
        cells = net.cells_
        cell = net.magnitude_cell(catalog)
        z_bin = np.floor((z - self.grid_.z_min) / float(self.balance_bin_width)).astype(np.int64)
        flat_rows, n_th = balanced_subset(
            z_bin, cell, self.n_th, self.kept_fraction, child_generator(seed, "balance")
        )
        weighted = self.balance == "weights"
        return _HeadData(
            embedding=embedding,
            cell=cell,
            membership=torch.from_numpy(cells.membership(np.arange(cells.n_cells))),
            cell_head=torch.from_numpy(cells.head(np.arange(cells.n_cells))),
            learning_rate=float(net.learning_rate) * float(self.head_learning_rate_factor),
            flat_rows=flat_rows,
            n_th=n_th,
            fit_rows=np.arange(len(z)) if weighted else flat_rows,
            weight_columns=[balance_weights(z_bin, cell, n_th)] if weighted else [],
        )

    def _step2(
        self, net: TorchEstimator, data: _HeadData, z: NDArray, seed: int
    ) -> MagnitudeFactorisedHead:
        """Step 2: the same heads, fine-tuned at the nearly flat (z, magnitude) distribution."""
        head = copy.deepcopy(net.head_)
        z_loss = ClassificationLoss(torch.from_numpy(self.grid_.edges), float(net.label_width))
        loss = FactorisedLoss(data.membership, data.cell_head, z_loss, weighted=data.weighted)
        rows = data.fit_rows
        targets = np.column_stack([z[rows], *data.weight_columns, data.cell[rows]])
        with torch_threads(net.n_jobs):
            self._train_head(
                head,
                loss,
                data.embedding[rows],
                torch.from_numpy(targets.astype(np.float32)),
                data.learning_rate,
                child_generator(seed, "head", 2),
            )
        return head

    def _step3(
        self,
        net: TorchEstimator,
        data: _HeadData,
        head2: MagnitudeFactorisedHead,
        z: NDArray,
        seed: int,
    ) -> tuple[MagnitudeFactorisedHead, RedshiftGrid, NDArray[np.float64]]:
        """Step 3: extended grid, fresh redshift heads, soft (optionally shifted) labels.
        Returns the heads, the extended grid and sigma_1 per head."""
        extended = self.grid_.extended(self.n_extra or self.grid_.n_bins // 2)
        sigma1, sigma2 = self._label_widths(net, data, head2, z)
        rows = data.fit_rows
        fit_z, fit_cell = z[rows], data.cell[rows]
        if self.labels == "soft":
            label_z = fit_z
        else:
            density = _cell_densities(z[data.flat_rows], data.cell[data.flat_rows], net, extended)
            label_z = shifted_labels(fit_z, density[fit_cell], sigma2, extended)
        if self.labels == "hard-shifted":
            width = np.full(len(fit_z), 1e-6)
        else:
            width = sigma1[net.cells_.head(fit_cell)]
        label = soft_labels(label_z, width, extended)
        n_heads = net.cells_.n_heads
        head = MagnitudeFactorisedHead(net.head_.z_heads.in_features, extended.n_bins, n_heads)
        rng = child_generator(seed, "head", 3)
        init_parameters(head, torch_generator(int(rng.integers(0, 2**62))))
        head.mag_head.load_state_dict(net.head_.mag_head.state_dict())
        loss = FactorisedLoss(data.membership, data.cell_head, None, weighted=data.weighted)
        targets = np.column_stack([label, *data.weight_columns, fit_cell]).astype(np.float32)
        with torch_threads(net.n_jobs):
            self._train_head(
                head,
                loss,
                data.embedding[rows],
                torch.from_numpy(targets),
                data.learning_rate,
                rng,
            )
        return head, extended, sigma1

    def _label_widths(
        self, net: TorchEstimator, data: _HeadData, head2: MagnitudeFactorisedHead, z: NDArray
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """sigma_1 per head and sigma_2 per fitted galaxy, from Step 2's estimates. Both are
        measured on the flat subset in either balance mode: they describe the flat
        distribution the labels are made for."""
        cells, grid = net.cells_, self.grid_
        with torch_threads(net.n_jobs):
            out2 = forward_rows(head2, data.embedding[data.flat_rows])
        z_logits, _ = head2.split(out2)
        sub_z = z[data.flat_rows]
        own = cells.head(data.cell[data.flat_rows])
        sigma1 = np.full(cells.n_heads, np.nan)
        sigma2_head = np.zeros((cells.n_heads, grid.n_bins))
        for k in range(cells.n_heads):
            sel = own == k
            if sel.sum() < 10:
                continue
            zp = grid.centres[z_logits[sel, k].argmax(1).numpy()]
            sigma1[k] = fit_sigma1(zp, sub_z[sel], grid)
            sigma2_head[k] = local_sigma2(zp, sub_z[sel], grid, sigma1[k])
        # Sparse heads borrow the median dispersion of the others.
        fill = float(np.nanmedian(sigma1)) if np.isfinite(sigma1).any() else grid.width
        sigma1 = np.where(np.isfinite(sigma1), sigma1, fill)
        fit_z = z[data.fit_rows]
        fit_own = cells.head(data.cell[data.fit_rows])
        sigma2 = sigma2_head[fit_own, grid.bin_index(fit_z)]
        return sigma1, np.where(sigma2 > 0, sigma2, sigma1[fit_own])

    # --- fit -----------------------------------------------------------------------------

    def _fit(self, catalog: Catalog, z: NDArray[np.float64], validation: Catalog | None) -> None:
        seed = self._seed()
        stages = self._run_steps(catalog, z, validation, seed)
        self.network_ = stages.network
        self.heads_ = {k: v for k, v in stages.heads.items() if k > 1}
        self.step_grids_ = stages.grids
        self.info_ = stages.info
        self.base_grid_ = self.grid_
        last = min(int(self.steps), 3)
        if self.steps >= 4:
            self._fit_calibrations(catalog, z, validation, seed, last)
        self.grid_ = self.step_grids_[last]

    def _fit_calibrations(
        self, catalog: Catalog, z: NDArray, validation: Catalog | None, seed: int, last: int
    ) -> None:
        """Step 4, the z_spec calibration and the PDF recalibration, from cross-fitted
        (out-of-fold) predictions."""
        from ..catalog.split import kfold_indices

        z_oof = np.empty(len(z))
        pit_oof = np.empty(len(z))
        split = kfold_indices(len(z), int(self.n_folds), child_seed(seed, "fold-split"))
        for f, (tr, te) in enumerate(split):
            st = self._run_steps(catalog.take(tr), z[tr], validation, child_seed(seed, "fold", f))
            pdf = _stage_pdf(st.network, st.heads.get(last), st.grids[last], catalog.take(te))
            z_oof[te] = pdf.point(self.point)
            pit_oof[te] = pit(pdf.probs, pdf.grid.edges, z[te])
        cell = self.network_.magnitude_cell(catalog)
        self.calibration_ = ResidualCalibration(float(self.calibration_bin)).fit(
            z_oof, z, cell, self.network_.cells_.n_cells
        )
        self.recalibration_ = PITRecalibration().fit(pit_oof)
        if self.individual_smoothing is not None:
            self.spec_calibration_ = SpecResidualCalibration(
                float(self.calibration_bin), float(self.individual_smoothing)
            ).fit(z_oof, z)
        self.info_["oof_sigma_nmad"] = sigma_nmad(z_oof, z)
        self.oof_z_phot_ = z_oof

    # --- prediction ----------------------------------------------------------------------

    def _last(self) -> int:
        return min(int(self.steps), 3)

    def raw_pdf(self, catalog: Any, *, survey: SurveySpec = None) -> PDFBatch:
        """The PDF of Steps 1-3 before recalibration (its mode is the individual estimate)."""
        catalog = self._input(catalog, survey)
        self._check_bands(catalog)
        last = self._last()
        return _stage_pdf(self.network_, self.heads_.get(last), self.step_grids_[last], catalog)

    def _predict_probs(self, catalog: Catalog) -> NDArray[np.float64]:
        pdf = self.raw_pdf(catalog)
        if self.steps >= 4:
            pdf = self.recalibration_.apply(pdf)
        return pdf.probs

    def predict_raw(self, catalog: Any, *, survey: SurveySpec = None) -> NDArray[np.float64]:
        """``point`` (mode) of the Step 1-3 PDF before recalibration: Step 3's estimate.

        Inputs here and in :meth:`predict`, :meth:`predict_bulk` and :meth:`raw_pdf` are those
        of :meth:`~zphot.estimators.base.PhotoZEstimator.predict_pdf`."""
        catalog = self._input(catalog, survey)
        if len(catalog) == 0:
            return np.empty(0)
        return self.raw_pdf(catalog).point(self.point)

    def predict(self, catalog: Any, *, survey: SurveySpec = None) -> NDArray[np.float64]:
        """The individual estimate: Step 3's (:meth:`predict_raw`), and in a Step 4 model
        shifted by the z_spec calibration (``individual_smoothing``) where one was fitted."""
        return self._individual(self.predict_raw(catalog, survey=survey))

    def predict_bulk(self, catalog: Any, *, survey: SurveySpec = None) -> NDArray[np.float64]:
        """The bulk estimate (Step 4): Step 3's minus its (magnitude, z_photo) cell's mean
        residual."""
        catalog = self._input(catalog, survey)
        return self._bulk(self.predict_raw(catalog), catalog)

    def _individual(self, raw: NDArray[np.float64]) -> NDArray[np.float64]:
        cal = getattr(self, "spec_calibration_", None)
        return cal.apply(raw) if cal is not None and self.steps >= 4 else raw

    def _bulk(self, raw: NDArray[np.float64], catalog: Catalog) -> NDArray[np.float64]:
        if self.steps < 4:
            raise ParameterError("the bulk estimate needs a Step 4 model (steps=4)")
        return self.calibration_.apply(raw, self.network_.magnitude_cell(catalog))

    def _prediction_frame(self, catalog: Catalog, pdf: PDFBatch | None) -> pd.DataFrame:
        """As for every estimator, with ``z_phot`` the individual estimate and, at Step 4,
        ``z_phot_bulk``; intervals come from the (recalibrated) PDF. Step 3's estimate is
        computed once and serves both views."""
        table = super()._prediction_frame(catalog, pdf)
        if len(catalog):
            raw = self.predict_raw(catalog)
            table["z_phot"] = self._individual(raw)
            if self.steps >= 4:
                table.insert(
                    table.columns.get_loc("z_phot") + 1, "z_phot_bulk", self._bulk(raw, catalog)
                )
        return table

    def at_step(self, step: int) -> DebiasedEstimator:
        """The fitted model as it stands after ``step`` (what ``zphot debias`` saves)."""
        self._check_fitted()
        if not 1 <= step <= int(self.steps):
            raise ParameterError(f"step must be in [1, {self.steps}], got {step}")
        view = copy.copy(self)
        view.steps = step
        view.heads_ = {k: v for k, v in self.heads_.items() if k <= step}
        view.grid_ = self.step_grids_[min(step, 3)]
        if step < 4:
            for attr in ("calibration_", "recalibration_", "spec_calibration_"):
                view.__dict__.pop(attr, None)
        return view

    # --- persistence ---------------------------------------------------------------------

    def _get_state(self) -> tuple[dict, dict[str, NDArray]]:
        net_common, net_common_arrays = self.network_._common_state()
        net_meta, net_arrays = self.network_._get_state()
        meta: dict[str, Any] = {
            "network": {
                "estimator": self.network_.name,
                "params": _jsonable_params(self.network_.get_params()),
                "common": net_common,
                "state": net_meta,
            },
            "base_grid": self.base_grid_.to_dict(),
            "step_grids": {str(k): g.to_dict() for k, g in self.step_grids_.items()},
            "heads": {str(k): [h.n_bins, h.n_heads] for k, h in self.heads_.items()},
            "info": self.info_,
        }
        arrays = {f"net.common.{k}": v for k, v in net_common_arrays.items()}
        arrays |= {f"net.state.{k}": v for k, v in net_arrays.items()}
        for k, head in self.heads_.items():
            for name, v in head.state_dict().items():
                arrays[f"head{k}.{name}"] = v.detach().numpy().copy()
        if self.steps >= 4:
            cal_meta, cal_arrays = self.calibration_.get_state()
            rec_meta, rec_arrays = self.recalibration_.get_state()
            meta |= {"calibration": cal_meta, "recalibration": rec_meta}
            arrays |= {f"cal.{k}": v for k, v in cal_arrays.items()}
            arrays |= {f"rec.{k}": v for k, v in rec_arrays.items()}
            if getattr(self, "spec_calibration_", None) is not None:
                spec_meta, spec_arrays = self.spec_calibration_.get_state()
                meta["spec_calibration"] = spec_meta
                arrays |= {f"spec.{k}": v for k, v in spec_arrays.items()}
        return meta, arrays

    def _set_state(self, meta: dict, arrays: dict[str, NDArray]) -> None:
        def sub(prefix: str) -> dict[str, NDArray]:
            return {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}

        nm = meta["network"]
        params = nm["params"]
        net = estimator_class(nm["estimator"])(**params)
        net._restore_common(nm["common"], sub("net.common."))
        net._set_state(nm["state"], sub("net.state."))
        self.network_ = net
        self.base_grid_ = RedshiftGrid(**meta["base_grid"])
        self.step_grids_ = {int(k): RedshiftGrid(**g) for k, g in meta["step_grids"].items()}
        self.info_ = meta["info"]
        self.heads_ = {}
        for k, (n_bins, n_heads) in meta["heads"].items():
            head = MagnitudeFactorisedHead(net.head_.z_heads.in_features, n_bins, n_heads)
            weights = sub(f"head{k}.")
            _check_state_dict(head, weights, f"head{k}.")
            head.load_state_dict({n: torch.from_numpy(np.array(v)) for n, v in weights.items()})
            head.eval()
            self.heads_[int(k)] = head
        if "calibration" in meta:
            self.calibration_ = ResidualCalibration.from_state(meta["calibration"], sub("cal."))
            self.recalibration_ = PITRecalibration.from_state(meta["recalibration"], sub("rec."))
        if "spec_calibration" in meta:
            self.spec_calibration_ = SpecResidualCalibration.from_state(
                meta["spec_calibration"], sub("spec.")
            )


def _jsonable_params(params: dict) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}


def _stage_pdf(
    net: TorchEstimator, head: MagnitudeFactorisedHead | None, grid: RedshiftGrid, catalog: Catalog
) -> PDFBatch:
    """PDF of a stage: the Step 1 network itself, or its frozen representation + a new head."""
    if head is None:
        return net.predict_pdf(catalog)
    with torch_threads(net.n_jobs):
        emb = torch.from_numpy(net.embed(catalog))
        probs = head.mixture(forward_rows(head, emb)).numpy()
    _, valid = net.preprocessing_.complete_magnitudes(catalog)
    probs[~valid] = 1.0
    return PDFBatch.normalised(probs, grid)
