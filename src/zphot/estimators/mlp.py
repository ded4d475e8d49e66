"""Fully connected network on the preprocessor's features: zphot's most accurate default."""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from .nn.network import FAST_TRAINING, TorchEstimator

__all__ = ["MLPEstimator", "MLPRepresentation"]


class MLPRepresentation(nn.Module):
    """Features -> embedding: ``Linear -> GELU`` per width in ``hidden``."""

    def __init__(self, n_inputs: int, hidden: tuple[int, ...]) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = n_inputs
        for h in hidden:
            layers += [nn.Linear(width, int(h)), nn.GELU()]
            width = int(h)
        self.layers = nn.Sequential(*layers)
        self.out_features = width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class MLPEstimator(TorchEstimator):
    """Multi-layer perceptron: classification over the redshift bins (softmax PDF) or Gaussian
    regression, with early stopping and an optional seed ensemble.

    Parameters
    ----------
    hidden : tuple of int
        Widths of the hidden layers; the last is the embedding size.
    max_epochs : int
        Epochs at most (the one-cycle learning-rate schedule spans them).
    patience : int
        Early stopping: epochs without a lower validation loss before training stops; the
        weights of the best epoch are restored either way.
    batch_size : int
    learning_rate : float
        Peak learning rate (AdamW, one-cycle schedule).
    weight_decay : float
        AdamW weight decay.
    n_ensemble : int
        Members trained with different seeds (and validation folds); their PDFs are averaged.
    loss : {"classification", "regression"}
        ``"classification"``: cross-entropy over the bins of ``grid_``, the softmax is the PDF.
        ``"regression"``: Gaussian negative log-likelihood of a predicted mean and
        log-variance; the PDF is that Gaussian integrated over the grid's bins.
    label_width : float
        Classification labels are Gaussians of this sigma, in units of ``1 + z``, integrated
        over the bins (``0``: hard one-bin labels). On SDSS, hard labels over-fit the
        fine-grid softmax within about ten epochs (the validation loss turns up and early
        stopping ends training with a worse model); smoothed labels do not.
    validation_fraction : float
        Without a ``validation`` catalog in ``fit``, each member holds out this fraction of the
        training set (a different seeded fold per member) for early stopping.
    output : {"bins", "magnitude"}
        ``"magnitude"``: the output module of Lin et al. (2022), factorised over
        reference-band magnitude cells (K redshift heads + a magnitude head); what
        ``zphot debias`` builds on.
    magnitude_cells : dict, optional
        Cells for ``output="magnitude"``: ``width`` (mag, default 0.5), ``cells_per_head``
        (2), ``coverage`` (0.99 of the training magnitudes); or ``m_min``, ``m_max``,
        ``n_cells`` explicitly.
    n_jobs : int, optional
        torch threads during fit and predict (default: the cores this process may use).
    device : {"auto", "cpu", "cuda", "cuda:N"}
        Where the network trains: ``"auto"`` takes a GPU when torch sees one, else the CPU
        (see :mod:`zphot.estimators.nn.device`); the fitted network predicts on the CPU.
    checkpoint : str, optional
        Folder for per-epoch checkpoints (default: none). Fitting again with the same
        parameters and data resumes from the last finished epoch (members already trained are
        restored), with the same result as an uninterrupted fit; ``zphot train`` uses
        ``OUT.ckpt`` unless this is set.
    inputs, scaler, grid, point, random_state
        See :class:`~zphot.estimators.base.PhotoZEstimator`.

    Attributes
    ----------
    members_ : list of (MLPRepresentation, torch.nn.Module)
        (representation, head) per ensemble member.
    history_ : list of dict
        Per member: ``train_loss``, ``val_loss`` (per epoch), ``best_epoch``, ``stopped_early``.

    See Also
    --------
    zphot.estimators.cnn1d.CNN1DEstimator, zphot.estimators.gat.GATEstimator

    Notes
    -----
    Defaults were chosen on the SDSS public split (``benchmarks/sdss_networks.py``; the
    measured figures are in BENCHMARKS.md, "SDSS public split"). Twenty epochs beat sixty:
    longer training over-fits the fine-grid softmax and adds outliers. Labels smoothed by
    0.005 (1 + z) and the PDF median as the point estimate give fewer outliers than the mode,
    which sits on the peak of skewed PDFs. Wider or deeper networks, residual blocks, other
    batch sizes, learning rates, bin widths and small ensembles all land on the same
    sigma_NMAD, so the default is one member (the cheapest to train and to predict), and
    ``n_ensemble`` stays available.

    Examples
    --------
    >>> from zphot.testing import synthetic_catalog
    >>> cat = synthetic_catalog(500, random_state=0)
    >>> est = MLPEstimator(hidden=(32, 32), max_epochs=5, n_ensemble=1).fit(cat)
    >>> est.predict(cat).shape, est.embed(cat).shape
    ((500,), (500, 32))
    """

    name = "mlp"
    tags: ClassVar[dict[str, Any]] = {
        "network": True,
        "synthetic_tolerance": 0.02,
        "fast_params": FAST_TRAINING | {"hidden": (64, 64)},
    }
    _standardise_inputs = False

    def __init__(
        self,
        *,
        hidden: tuple[int, ...] = (256, 256, 256),
        max_epochs: int = 20,
        patience: int = 5,
        batch_size: int = 256,
        learning_rate: float = 3e-3,
        weight_decay: float = 1e-2,
        n_ensemble: int = 1,
        loss: str = "classification",
        label_width: float = 0.005,
        validation_fraction: float = 0.1,
        output: str = "bins",
        magnitude_cells: dict | None = None,
        n_jobs: int | None = None,
        device: str = "auto",
        checkpoint: str | None = None,
        inputs: str = "colours",
        scaler: str = "standard",
        grid: tuple[float, float, int] | None = None,
        point: str = "median",
        random_state: int = 0,
    ) -> None:
        self.hidden = hidden
        self.max_epochs = max_epochs
        self.patience = patience
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.n_ensemble = n_ensemble
        self.loss = loss
        self.label_width = label_width
        self.validation_fraction = validation_fraction
        self.output = output
        self.magnitude_cells = magnitude_cells
        self.n_jobs = n_jobs
        self.device = device
        self.checkpoint = checkpoint
        self.inputs = inputs
        self.scaler = scaler
        self.grid = grid
        self.point = point
        self.random_state = random_state

    def _build_representation(self) -> MLPRepresentation:
        return MLPRepresentation(self.input_shape_[0], tuple(self.hidden))
