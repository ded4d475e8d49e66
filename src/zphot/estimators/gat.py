"""Graph attention network: each galaxy is a small fully connected graph of its bands.

Every band is a node carrying that band's magnitude, its error and its (log) effective
wavelength; a catalog with sizes adds a size node. Graph attention layers (Velickovic et al.
2018) let each node weigh the others, attention and mean pooling read the graph out, and dense
layers give the embedding.

References
----------
Velickovic, P. et al. 2018, "Graph Attention Networks", ICLR, arXiv:1710.10903.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from ..catalog.catalog import Catalog
from ..exceptions import CatalogError
from .base import Interval
from .nn.network import FAST_TRAINING, TorchEstimator

__all__ = ["GATEstimator", "DenseGATLayer", "GATRepresentation"]


class DenseGATLayer(nn.Module):
    """Multi-head graph attention on a batch of graphs with the same node count.

    Computes, per head, ``h = W x``, scores ``e_ij = LeakyReLU(a_dst . h_i + a_src . h_j)``
    for every edge j -> i allowed by ``adj``, ``alpha_ij = softmax_j(e_ij)`` and
    ``x'_i = sum_j alpha_ij h_j``; heads are concatenated (or averaged) and a bias added. This
    is torch_geometric's ``GATConv`` (Velickovic et al. 2018) on dense tensors ``(n, nodes, F)``,
    so a batch is a few matrix products instead of a scatter over an edge list.

    Parameters
    ----------
    in_features, out_features : int
        Node feature sizes; the output has ``heads * out_features`` features when ``concat``.
    heads : int
    concat : bool
        Concatenate the heads (else average them).
    negative_slope : float
        LeakyReLU slope of the attention scores.

    Attributes
    ----------
    weight : Parameter, shape (heads * out_features, in_features)
        ``W`` (torch_geometric's ``lin.weight``).
    att_src, att_dst : Parameter, shape (heads, out_features)
    bias : Parameter
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        heads: int = 1,
        concat: bool = True,
        negative_slope: float = 0.2,
    ) -> None:
        super().__init__()
        self.heads, self.out_features = heads, out_features
        self.concat, self.negative_slope = concat, negative_slope
        self.weight = nn.Parameter(torch.empty(heads * out_features, in_features))
        self.att_src = nn.Parameter(torch.empty(heads, out_features))
        self.att_dst = nn.Parameter(torch.empty(heads, out_features))
        self.bias = nn.Parameter(torch.empty(heads * out_features if concat else out_features))

    def init_parameters(self, generator: torch.Generator) -> None:
        """Glorot-uniform weights and attention vectors, zero bias (as torch_geometric)."""
        for p in (self.weight, self.att_src, self.att_dst):
            fan_in, fan_out = p.shape[-1], p.shape[-2]
            bound = math.sqrt(6.0 / (fan_in + fan_out))
            nn.init.uniform_(p, -bound, bound, generator=generator)
        nn.init.zeros_(self.bias)

    def forward(self, x: torch.Tensor, adj: torch.Tensor | None = None) -> torch.Tensor:
        """``x``: (n, nodes, in_features); ``adj``: optional bool (nodes, nodes), ``adj[i, j]``
        allowing the edge j -> i (default: fully connected with self-loops)."""
        n, nodes, _ = x.shape
        h = (x @ self.weight.T).view(n, nodes, self.heads, self.out_features)
        score_src = (h * self.att_src).sum(-1)  # (n, nodes, heads)
        score_dst = (h * self.att_dst).sum(-1)
        e = score_dst[:, :, None, :] + score_src[:, None, :, :]  # (n, i, j, heads)
        e = nn.functional.leaky_relu(e, self.negative_slope)
        if adj is not None:
            e = e.masked_fill(~adj[None, :, :, None], float("-inf"))
        alpha = torch.softmax(e, dim=2)
        out = torch.einsum("nijh,njhc->nihc", alpha, h)
        if self.concat:
            out = out.reshape(n, nodes, self.heads * self.out_features)
        else:
            out = out.mean(dim=2)
        return out + self.bias


class GATRepresentation(nn.Module):
    """Node features (n, nodes, F) -> embedding.

    ``layers`` graph attention layers (``heads`` x ``width`` features, GELU, each with a linear
    skip connection so a node keeps its own value beside the attention-weighted mix of the
    others), a readout concatenating mean pooling and attention pooling (softmax over nodes of a
    learned score), then dense ``hidden`` layers.
    """

    def __init__(
        self, n_features: int, width: int, heads: int, layers: int, hidden: tuple[int, ...]
    ) -> None:
        super().__init__()
        d = width * heads
        self.gat = nn.ModuleList()
        self.skip = nn.ModuleList()
        f_in = n_features
        for _ in range(layers):
            self.gat.append(DenseGATLayer(f_in, width, heads))
            self.skip.append(nn.Linear(f_in, d, bias=False))
            f_in = d
        self.act = nn.GELU()
        self.gate = nn.Linear(d, 1)
        dense: list[nn.Module] = []
        size = 2 * d
        for h in hidden:
            dense += [nn.Linear(size, int(h)), nn.GELU()]
            size = int(h)
        self.dense = nn.Sequential(*dense)
        self.out_features = size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for gat, skip in zip(self.gat, self.skip, strict=True):
            x = self.act(gat(x) + skip(x))
        weights = torch.softmax(self.gate(x), dim=1)  # (n, nodes, 1)
        pooled = torch.cat([x.mean(dim=1), (weights * x).sum(dim=1)], dim=1)
        return self.dense(pooled)


class GATEstimator(TorchEstimator):
    """Graph attention network over the bands of each galaxy.

    Node features: the band's magnitude, log10 of its error (``catalog.errors``, floored by the
    survey) and log10 of its effective wavelength, each standardised over all band nodes (so
    differences between nodes stay colours); with sizes, one more node holds the standardised
    log10 size, marked by a fourth "is size" feature.

    Parameters
    ----------
    width : int
        Features per attention head.
    heads : int
        Attention heads per layer (concatenated).
    layers : int
        Graph attention layers.
    hidden : tuple of int
        Dense layers after the readout; the last is the embedding size.
    max_epochs, patience, batch_size, learning_rate, weight_decay, n_ensemble, loss,
    label_width, validation_fraction, n_jobs, device, checkpoint
        As in :class:`~zphot.estimators.mlp.MLPEstimator`.
    inputs, scaler, grid, point, random_state
        See :class:`~zphot.estimators.base.PhotoZEstimator` (``inputs`` and ``scaler`` only
        affect the coverage model here).

    Attributes
    ----------
    members_ : list of (GATRepresentation, torch.nn.Module)
    history_ : list of dict
    wavelengths_ : ndarray
        Effective wavelengths (Angstrom) of the training bands, in training band order.

    Raises
    ------
    CatalogError
        At fit, when a band of the survey has no ``wavelength``.

    Examples
    --------
    >>> from zphot.testing import synthetic_catalog
    >>> cat = synthetic_catalog(300, random_state=0)
    >>> est = GATEstimator(width=8, heads=2, hidden=(32,), max_epochs=2, n_ensemble=1).fit(cat)
    >>> est.embed(cat).shape
    (300, 32)
    """

    name = "gat"
    tags: ClassVar[dict[str, Any]] = {
        "network": True,
        "synthetic_tolerance": 0.02,
        "fast_params": FAST_TRAINING | {"width": 8, "heads": 2, "hidden": (64,)},
        # With the magnitude-factorised output (Steps 1-3 of zphot debias) the attention layers
        # need three times the epochs of the plain output (held-out SDSS training galaxies,
        # benchmarks/sdss_debias_settings.py --base gat; figures in BENCHMARKS.md, "Step 1
        # epochs for the gat").
        "factorised_params": {"max_epochs": 60},
    }
    _constraints: ClassVar[dict[str, Any]] = TorchEstimator._constraints | {
        "width": Interval(1, 4096, integer=True),
        "heads": Interval(1, 64, integer=True),
        "layers": Interval(1, 16, integer=True),
    }

    def __init__(
        self,
        *,
        width: int = 32,
        heads: int = 4,
        layers: int = 3,
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
        self.width = width
        self.heads = heads
        self.layers = layers
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

    def _wavelengths(self) -> NDArray[np.float64]:
        missing = [b.name for b in self.survey_.bands if b.wavelength is None]
        if missing:
            raise CatalogError(
                f"survey '{self.survey_.name}': band(s) {', '.join(missing)} have no "
                "wavelength; the gat network uses it as a node feature: add "
                "'wavelength = <Angstrom>' to those bands in the survey TOML"
            )
        return np.array([self.survey_.band(b).wavelength for b in self.bands_], dtype=np.float64)

    def _raw_inputs(self, catalog: Catalog) -> NDArray[np.float64]:
        mags, _ = self.preprocessing_.complete_magnitudes(catalog)
        n, n_bands = mags.shape
        errs = np.log10(catalog.errors(self.bands_))
        wave = np.broadcast_to(np.log10(self.wavelengths_), (n, n_bands))
        nodes = np.stack([mags, errs, wave], axis=2)  # (n, bands, 3)
        size = self.preprocessing_.sizes(catalog)
        if size is None:
            return nodes
        # The size node: log10 size, no error or wavelength (0, left unscaled), and a fourth
        # feature telling the node kinds apart.
        size_node = np.zeros((n, 1, 4))
        size_node[:, 0, 0] = np.log10(np.clip(size, 1e-3, None))
        size_node[:, 0, 3] = 1.0
        return np.concatenate([np.pad(nodes, ((0, 0), (0, 0), (0, 1))), size_node], axis=1)

    def _fit_input_scaling(self, catalog: Catalog) -> None:
        self.wavelengths_ = self._wavelengths()
        raw = self._raw_inputs(catalog)
        ok = np.isfinite(raw).all(axis=(1, 2))
        ref = raw[ok] if ok.any() else np.zeros_like(raw[:1])
        n_bands = len(self.bands_)
        offset, scale = np.zeros(raw.shape[1:]), np.ones(raw.shape[1:])
        bands = ref[:, :n_bands, :3]
        std = bands.std(axis=(0, 1))
        offset[:n_bands, :3] = bands.mean(axis=(0, 1))
        scale[:n_bands, :3] = np.where(std > 1e-12, std, 1.0)
        if raw.shape[1] > n_bands:
            s = ref[:, n_bands, 0]
            offset[n_bands, 0], scale[n_bands, 0] = s.mean(), s.std() if s.std() > 1e-12 else 1.0
        self.input_offset_, self.input_scale_ = offset, scale
        self.input_shape_ = tuple(int(s) for s in raw.shape[1:])

    def _get_state(self) -> tuple[dict, dict[str, NDArray]]:
        meta, arrays = super()._get_state()
        return meta, arrays | {"wavelengths": self.wavelengths_}

    def _set_state(self, meta: dict, arrays: dict[str, NDArray]) -> None:
        super()._set_state(meta, arrays)
        self.wavelengths_ = arrays["wavelengths"]

    def _build_representation(self) -> GATRepresentation:
        return GATRepresentation(
            self.input_shape_[1],
            int(self.width),
            int(self.heads),
            int(self.layers),
            tuple(self.hidden),
        )
