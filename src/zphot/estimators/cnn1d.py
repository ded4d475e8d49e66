"""1-D convolutional network over the band sequence (bands in wavelength order)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from ..catalog.catalog import Catalog
from .base import Options
from .nn.network import FAST_TRAINING, TorchEstimator

__all__ = ["CNN1DEstimator", "CNN1DRepresentation", "ARCHITECTURES"]

ARCHITECTURES = ("deep", "paper")


class CNN1DRepresentation(nn.Module):
    """Band sequence (channels, bands) -> embedding.

    ``"paper"``: the first users' network, one convolution of 16 filters (kernel 3, padding 1,
    ReLU) on the magnitude sequence alone, max-pooling by 2, flattened; the head is the linear
    layer after it. ``"deep"``: convolutions of ``channels`` filters (kernel 3, padding 1, GELU)
    over all input channels, flattened, then dense ``hidden`` layers.
    """

    def __init__(
        self,
        n_channels: int,
        n_bands: int,
        architecture: str,
        channels: tuple[int, ...],
        hidden: tuple[int, ...],
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        if architecture == "paper":
            layers += [nn.Conv1d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool1d(2), nn.Flatten()]
            width = 16 * (n_bands // 2)
        else:
            c_in = n_channels
            for c in channels:
                layers += [nn.Conv1d(c_in, int(c), 3, padding=1), nn.GELU()]
                c_in = int(c)
            layers.append(nn.Flatten())
            width = c_in * n_bands
            for h in hidden:
                layers += [nn.Linear(width, int(h)), nn.GELU()]
                width = int(h)
        self.paper = architecture == "paper"
        self.layers = nn.Sequential(*layers)
        self.out_features = width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.paper:
            x = x[:, :1]  # the magnitude channel
        return self.layers(x)


class CNN1DEstimator(TorchEstimator):
    """1-D CNN over the bands: each band position carries its magnitude, the colour to the next
    band (0 at the last) and, when the catalog has sizes, log10 size broadcast to every band.

    Parameters
    ----------
    architecture : {"deep", "paper"}
        ``"paper"`` reproduces the first users' network (conv 1 -> 16, kernel 3, max-pool 2,
        linear); ``"deep"`` (default) is the more accurate convolution + dense stack.
    channels : tuple of int
        Filters per convolution layer (``"deep"``).
    hidden : tuple of int
        Dense layer widths after the convolutions (``"deep"``); the last is the embedding size.
    max_epochs, patience, batch_size, learning_rate, weight_decay, n_ensemble, loss,
    label_width, validation_fraction, n_jobs, device, checkpoint
        As in :class:`~zphot.estimators.mlp.MLPEstimator`.
    inputs, scaler, grid, point, random_state
        See :class:`~zphot.estimators.base.PhotoZEstimator`; ``inputs`` and ``scaler`` only
        affect the coverage model here: the sequence is built from the imputed magnitudes and
        standardised per channel and band position.

    Attributes
    ----------
    members_ : list of (CNN1DRepresentation, torch.nn.Module)
    history_ : list of dict

    See Also
    --------
    zphot.estimators.mlp.MLPEstimator

    Examples
    --------
    >>> from zphot.testing import synthetic_catalog
    >>> cat = synthetic_catalog(300, random_state=0)
    >>> est = CNN1DEstimator(architecture="paper", max_epochs=2, n_ensemble=1).fit(cat)
    >>> est.embed(cat).shape
    (300, 32)
    """

    name = "cnn1d"
    tags: ClassVar[dict[str, Any]] = {
        "network": True,
        "synthetic_tolerance": 0.02,
        "fast_params": FAST_TRAINING | {"channels": (16, 16), "hidden": (64,)},
    }
    _constraints: ClassVar[dict[str, Any]] = TorchEstimator._constraints | {
        "architecture": Options(*ARCHITECTURES),
    }

    def __init__(
        self,
        *,
        architecture: str = "deep",
        channels: tuple[int, ...] = (32, 64),
        hidden: tuple[int, ...] = (256, 256),
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
        self.architecture = architecture
        self.channels = channels
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

    def _validate_params(self) -> None:
        super()._validate_params()
        self._check_widths("channels")

    def _raw_inputs(self, catalog: Catalog) -> NDArray[np.float64]:
        mags, _ = self.preprocessing_.complete_magnitudes(catalog)
        colour = np.zeros_like(mags)
        colour[:, :-1] = -np.diff(mags, axis=1)  # m_b - m_{b+1}: redder is larger
        parts = [mags, colour]
        size = self.preprocessing_.sizes(catalog)
        if size is not None:
            log_size = np.log10(np.clip(size, 1e-3, None))
            parts.append(np.repeat(log_size[:, None], mags.shape[1], axis=1))
        return np.stack(parts, axis=1)

    def _build_representation(self) -> CNN1DRepresentation:
        n_channels, n_bands = self.input_shape_
        return CNN1DRepresentation(
            n_channels, n_bands, self.architecture, tuple(self.channels), tuple(self.hidden)
        )
