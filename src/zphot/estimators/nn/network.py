"""What every zphot network shares: representation + head members, seeded initialisation,
ensembles, early-stopped (optionally checkpointed) training, save/load of state_dicts as
arrays, and ``embed``.

A network is ``head(representation(x))``. The representation turns one galaxy's inputs into an
embedding vector; the head turns the embedding into redshift-bin logits (or a Gaussian's mean
and log-variance for ``loss="regression"``). Keeping the two apart is what lets the bias
correction (Lin et al. 2022) freeze the representation and retrain only the head, whatever the
architecture.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from ..._rng import child_generator, child_seed, torch_generator
from ...catalog.catalog import Catalog
from ...exceptions import ParameterError
from ...features.cells import MagnitudeCells
from ...pdf.grid import RedshiftGrid
from ..base import Interval, Options, PhotoZEstimator
from .checkpoint import Checkpoint
from .device import check_device, resolve_device
from .heads import FactorisedLoss, MagnitudeFactorisedHead
from .summary import summarise_probs
from .train import (
    INFERENCE_BLOCK,
    ClassificationLoss,
    GaussianNLLLoss,
    TrainSettings,
    WeightedLoss,
    forward_rows,
    torch_threads,
    train_network,
)

__all__ = [
    "TorchEstimator",
    "BinHead",
    "GaussianHead",
    "Member",
    "init_parameters",
    "LOSSES",
    "FAST_TRAINING",
]

logger = logging.getLogger(__name__)

#: Rows per float64 sub-block of :meth:`TorchEstimator._summary` (6.5 MB at 400 bins).
SUMMARY_ROWS = 2048

LOSSES = ("classification", "regression")
#: ``bins``: one softmax over the grid. ``magnitude``: Lin et al. (2022)'s output module
#: factorised over reference-band magnitude cells (K redshift heads + a K-way magnitude head).
OUTPUTS = ("bins", "magnitude")
_CELL_KEYS = {"width", "cells_per_head", "coverage", "m_min", "m_max", "n_cells"}

#: Training settings for the contract suite's ``fast_params`` (1,000 synthetic galaxies): small
#: batches so a dozen epochs give enough steps, one member, and one thread, since models this
#: small gain nothing from threads while OpenMP's spin-waiting makes two threads on a busy
#: 2-core machine many times slower.
FAST_TRAINING: dict[str, Any] = {"max_epochs": 12, "batch_size": 32, "n_ensemble": 1, "n_jobs": 1}


class BinHead(nn.Module):
    """Embedding -> one logit per redshift bin; the softmax of the logits is the PDF."""

    def __init__(self, n_embed: int, n_bins: int) -> None:
        super().__init__()
        self.linear = nn.Linear(n_embed, n_bins)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.linear(h)


class GaussianHead(nn.Module):
    """Embedding -> (mean, log-variance) of a Gaussian in z.

    The linear layer works on standardised redshift (``z_offset``, ``z_scale`` from the
    training set, kept as buffers so they travel with the state_dict), which keeps its outputs
    near unit scale whatever the survey's redshift range.
    """

    def __init__(self, n_embed: int, z_offset: float = 0.0, z_scale: float = 1.0) -> None:
        super().__init__()
        self.linear = nn.Linear(n_embed, 2)
        self.register_buffer("z_offset", torch.tensor(float(z_offset)))
        self.register_buffer("z_scale", torch.tensor(float(z_scale)))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        out = self.linear(h)
        mean = self.z_offset + self.z_scale * out[:, 0]
        log_var = out[:, 1] + 2.0 * torch.log(self.z_scale)
        return torch.stack([mean, log_var], dim=1)


class Member(nn.Module):
    """One ensemble member: ``head(rep(x))`` (state_dict keys start ``rep.`` or ``head.``)."""

    def __init__(self, rep: nn.Module, head: nn.Module) -> None:
        super().__init__()
        self.rep = rep
        self.head = head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.rep(x))


def init_parameters(module: nn.Module, generator: torch.Generator) -> None:
    """(Re)initialise every parameter of ``module`` from ``generator``, never the global seed.

    Linear and convolution layers get PyTorch's default scheme (Kaiming-uniform weights with
    ``a = sqrt(5)``, biases uniform in +-1/sqrt(fan_in)); any other module that owns parameters
    must define ``init_parameters(generator)`` itself. A module that defines it initialises
    all of its submodules too (they are not visited again). Modules are visited depth first in
    registration order, as ``module.modules()`` lists them.
    """
    if isinstance(module, nn.Linear | nn.Conv1d):
        nn.init.kaiming_uniform_(module.weight, a=math.sqrt(5), generator=generator)
        if module.bias is not None:
            bound = 1.0 / math.sqrt(module.weight[0].numel())
            nn.init.uniform_(module.bias, -bound, bound, generator=generator)
        return
    if hasattr(module, "init_parameters"):
        module.init_parameters(generator)
        return
    if any(True for _ in module.parameters(recurse=False)):
        raise TypeError(f"{type(module).__name__} has parameters but no init_parameters(generator)")
    for child in module.children():
        init_parameters(child, generator)


class TorchEstimator(PhotoZEstimator):
    """Base of the torch networks: an ensemble of (representation, head) members.

    A subclass defines ``_build_representation()`` (a module with an ``out_features``
    attribute, built from ``input_shape_`` and its own parameters) and, when its inputs are not
    the preprocessor's scaled features, ``_raw_inputs(catalog)``. Such inputs are standardised
    per column (per channel and position) with training statistics before entering the network
    (``_standardise_inputs``); the preprocessor's features are already scaled by ``scaler``.

    Ensemble members differ in their seed and, without a ``validation`` catalog, in the fold
    of the training set (``validation_fraction`` of it) each holds out for early stopping, so
    together they see all of it.

    With the ``checkpoint`` parameter (a folder; None: off), each member's training state is
    saved there after every epoch (``member{i}.npz``, see
    :class:`~zphot.estimators.nn.checkpoint.Checkpoint`) and kept after the fit. Fitting again
    with the same parameters (``n_jobs`` and ``checkpoint`` aside) and the same data resumes
    from the last finished epoch, and members already trained are restored without training,
    so killing a fit and running it again loses at most one epoch; the result is the same, to
    the bit, as an uninterrupted fit.

    Attributes
    ----------
    members_ : list of (torch.nn.Module, torch.nn.Module)
        ``(representation, head)`` per ensemble member, in eval mode.
    history_ : list of dict
        Per member: ``train_loss`` and ``val_loss`` per epoch, ``best_epoch`` (the epoch whose
        weights were kept) and ``stopped_early``.
    input_shape_ : tuple of int
        Shape of one galaxy's network input.
    """

    tags: ClassVar[dict[str, Any]] = {"network": True, "synthetic_tolerance": 0.02}
    takes_sample_weight: ClassVar[bool] = True
    _constraints: ClassVar[dict[str, Any]] = {
        "max_epochs": Interval(1, None, integer=True),
        "patience": Interval(1, None, integer=True),
        "batch_size": Interval(1, None, integer=True),
        "learning_rate": Interval(1e-6, 1.0),
        "weight_decay": Interval(0.0, 1.0),
        "n_ensemble": Interval(1, 100, integer=True),
        "loss": Options(*LOSSES),
        "label_width": Interval(0.0, 0.5),
        "validation_fraction": Interval(0.01, 0.5),
        "output": Options(*OUTPUTS),
    }
    _standardise_inputs: ClassVar[bool] = True
    #: bfloat16 autocast on a GPU (:class:`~zphot.estimators.nn.train.TrainSettings`). A
    #: parameter of ``image-cnn`` only, whose convolutions gain from it; the catalog networks
    #: are small enough that a GPU step is bound by its launch latency, not arithmetic.
    mixed_precision: bool = False

    # --- for subclasses --------------------------------------------------------------------

    def _build_representation(self) -> nn.Module:
        raise NotImplementedError

    def _raw_inputs(self, catalog: Catalog) -> NDArray[np.float64]:
        """One galaxy per row (any trailing shape) before standardisation; NaN is allowed."""
        x, _ = self.preprocessing_.transform(catalog)
        return x

    @contextlib.contextmanager
    def _training_generators(
        self, member: Member, index: int
    ) -> Iterator[dict[str, torch.Generator]]:
        """Set up the random generators, besides the batch order, that training ``member``
        (ensemble member ``index``) draws from, and yield them by name so checkpoints save
        and restore their states; undo the set-up afterwards. Default: none."""
        yield {}

    # --- validation ------------------------------------------------------------------------

    def _validate_params(self) -> None:
        super()._validate_params()
        name = type(self).__name__
        n_jobs = self.n_jobs
        if n_jobs is not None and not Interval(1, None, integer=True).ok(n_jobs):
            raise ParameterError(
                f"{name}: parameter 'n_jobs' must be None or a positive integer, got {n_jobs!r}"
            )
        check_device(self.device, name)
        checkpoint = self.checkpoint
        if checkpoint is not None and not isinstance(checkpoint, str | os.PathLike):
            raise ParameterError(
                f"{name}: parameter 'checkpoint' must be None or a folder path, got {checkpoint!r}"
            )
        self._check_widths("hidden")
        if self.output == "magnitude":
            if self.loss != "classification":
                raise ParameterError(f"{name}: output='magnitude' needs loss='classification'")
            cells = self.magnitude_cells
            if cells is not None and not (isinstance(cells, dict) and set(cells) <= _CELL_KEYS):
                raise ParameterError(
                    f"{name}: parameter 'magnitude_cells' must be None or a dict with keys "
                    f"among {sorted(_CELL_KEYS)}, got {cells!r}"
                )

    def _check_widths(self, pname: str) -> None:
        """A layer-width parameter must be a non-empty sequence of positive integers."""
        widths = getattr(self, pname)
        if widths is not None and not (
            isinstance(widths, list | tuple)
            and len(widths) > 0
            and all(Interval(1, 65536, integer=True).ok(w) for w in widths)
        ):
            raise ParameterError(
                f"{type(self).__name__}: parameter '{pname}' must be a non-empty sequence of "
                f"positive integers (layer widths), got {widths!r}"
            )

    # --- inputs ----------------------------------------------------------------------------

    def _inputs(self, catalog: Catalog) -> torch.Tensor:
        """Standardised float32 network inputs; rows with no measured band become zeros."""
        raw = self._raw_inputs(catalog)
        x = (raw - self.input_offset_) / self.input_scale_
        x = np.where(np.isfinite(x), x, 0.0)
        return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))

    def _fit_input_scaling(self, catalog: Catalog) -> None:
        raw = self._raw_inputs(catalog)
        ok = np.isfinite(raw.reshape(len(raw), -1)).all(axis=1)
        ref = raw[ok] if ok.any() else np.zeros_like(raw[:1])
        if self._standardise_inputs:
            self.input_offset_ = ref.mean(axis=0)
            std = ref.std(axis=0)
            self.input_scale_ = np.where(std > 1e-12, std, 1.0)
        else:
            self.input_offset_, self.input_scale_ = np.zeros(raw.shape[1:]), np.ones(raw.shape[1:])
        self.input_shape_ = tuple(int(s) for s in raw.shape[1:])

    # --- members ---------------------------------------------------------------------------

    def _build_member(self, z_offset: float = 0.0, z_scale: float = 1.0) -> Member:
        """A fresh (uninitialised) member; construction never draws from torch's global seed."""
        with torch.random.fork_rng(devices=[]):
            rep = self._build_representation()
            if self._factorised():
                head: nn.Module = MagnitudeFactorisedHead(
                    rep.out_features, self.grid_.n_bins, self.cells_.n_heads
                )
            elif self.loss == "regression":
                head: nn.Module = GaussianHead(rep.out_features, z_offset, z_scale)
            else:
                head = BinHead(rep.out_features, self.grid_.n_bins)
        return Member(rep, head)

    def _loss(
        self, weighted: bool = False
    ) -> ClassificationLoss | GaussianNLLLoss | FactorisedLoss | WeightedLoss:
        edges = torch.from_numpy(self.grid_.edges)
        if self._factorised():
            cells = np.arange(self.cells_.n_cells)
            return FactorisedLoss(
                torch.from_numpy(self.cells_.membership(cells)),
                torch.from_numpy(self.cells_.head(cells)),
                ClassificationLoss(edges, self.label_width),
                weighted=weighted,
            )
        if self.loss == "regression":
            inner: ClassificationLoss | GaussianNLLLoss = GaussianNLLLoss()
        else:
            inner = ClassificationLoss(edges, self.label_width)
        return WeightedLoss(inner) if weighted else inner

    # --- magnitude-factorised output (Lin et al. 2022) ---------------------------------------

    def _factorised(self) -> bool:
        return self.output == "magnitude"

    def magnitude_cell(self, catalog: Catalog) -> NDArray[np.int64]:
        """Each galaxy's reference-band magnitude cell (imputed where missing)."""
        mags, _ = self.preprocessing_.complete_magnitudes(catalog)
        return self.cells_.cell(mags[:, self.preprocessing_.ref_index_])

    def _fit_cells(self, catalog: Catalog) -> None:
        opts = dict(self.magnitude_cells or {})
        if {"m_min", "m_max", "n_cells"} <= set(opts):
            self.cells_ = MagnitudeCells(
                float(opts["m_min"]),
                float(opts["m_max"]),
                int(opts["n_cells"]),
                int(opts.get("cells_per_head", 2)),
            )
        else:
            mags, _ = self.preprocessing_.complete_magnitudes(catalog)
            self.cells_ = MagnitudeCells.from_magnitudes(
                mags[:, self.preprocessing_.ref_index_],
                width=float(opts.get("width", 0.5)),
                cells_per_head=int(opts.get("cells_per_head", 2)),
                coverage=float(opts.get("coverage", 0.99)),
            )

    def _targets(
        self, catalog: Catalog, z: NDArray[np.float64], weight: NDArray | None = None
    ) -> torch.Tensor:
        """What the loss compares outputs with: z, or (z, magnitude cell) when factorised;
        with sample weights, (z, weight) or (z, weight, cell)."""
        cols = [z] if weight is None else [z, weight]
        if self._factorised():
            cols.append(self.magnitude_cell(catalog))
        if len(cols) == 1:
            return torch.from_numpy(np.asarray(z, dtype=np.float32))
        return torch.from_numpy(np.column_stack(cols).astype(np.float32))

    def _member_seed(self, index: int) -> int:
        # Stream 0 draws the validation folds; member m uses stream 1 + m, so adding members
        # never changes the earlier ones.
        return child_seed(self._seed(), 1 + index)

    def _validation_folds(self, n: int) -> list[NDArray[np.int64]]:
        k = max(2, min(n, round(1.0 / self.validation_fraction)))
        perm = child_generator(self._seed(), 0).permutation(n)
        return [np.sort(f) for f in np.array_split(perm, k)]

    def _fit(self, catalog: Catalog, z: NDArray[np.float64], validation: Catalog | None) -> None:
        with torch_threads(self.n_jobs):
            self._fit_input_scaling(catalog)
            x = self._inputs(catalog)
            if self._factorised():
                self._fit_cells(catalog)
            weight = getattr(self, "_sample_weight", None)
            zt = self._targets(catalog, z, weight)
            if validation is not None:
                self._check_bands(validation)
                x_val = self._inputs(validation)
                z_v = validation.require_z()
                z_val = self._targets(
                    validation, z_v, None if weight is None else np.ones(len(z_v))
                )
            else:
                folds = self._validation_folds(len(catalog))
            settings = TrainSettings(
                max_epochs=int(self.max_epochs),
                patience=int(self.patience),
                batch_size=int(self.batch_size),
                learning_rate=float(self.learning_rate),
                weight_decay=float(self.weight_decay),
                mixed_precision=bool(self.mixed_precision),
            )
            loss = self._loss(weighted=weight is not None)
            device = resolve_device(self.device, self.name)
            folder = self.checkpoint
            data = (x, zt) if validation is None else (x, zt, x_val, z_val)
            key = self._run_key(*data) if folder is not None else ""
            self.members_: list[tuple[nn.Module, nn.Module]] = []
            self.history_: list[dict] = []
            for m in range(int(self.n_ensemble)):
                gen = torch_generator(self._member_seed(m))
                member = self._build_member(float(np.mean(z)), float(np.std(z)) or 1.0)
                init_parameters(member, gen)
                if validation is None:
                    held = folds[m % len(folds)]
                    keep = np.setdiff1d(np.arange(len(catalog)), held)
                    xt, ztr = x[keep], zt[keep]
                    xv, zv = x[held], zt[held]
                else:
                    xt, ztr, xv, zv = x, zt, x_val, z_val
                with self._training_generators(member, m) as generators:
                    ckpt = (
                        Checkpoint(Path(folder) / f"member{m}.npz", key, generators)
                        if folder is not None
                        else None
                    )
                    hist = train_network(
                        member, loss, xt, ztr, xv, zv, settings, gen, checkpoint=ckpt, device=device
                    )
                logger.info(
                    "%s member %d: best epoch %d of %d, validation loss %.5f",
                    self.name,
                    m,
                    hist["best_epoch"] + 1,
                    len(hist["val_loss"]),
                    hist["val_loss"][hist["best_epoch"]],
                )
                self.members_.append((member.rep, member.head))
                self.history_.append(hist)

    def _run_key(self, *tensors: torch.Tensor) -> str:
        """What a checkpoint must match to be resumed: estimator, parameters (``n_jobs``,
        ``device`` and ``checkpoint`` aside: a run may resume elsewhere) and training data."""
        where = ("checkpoint", "n_jobs", "device")
        params = {k: v for k, v in self.get_params().items() if k not in where}
        h = hashlib.sha256(json.dumps([self.name, params], sort_keys=True, default=str).encode())
        for t in tensors:
            h.update(np.ascontiguousarray(t.numpy()).tobytes())
        return h.hexdigest()

    # --- prediction ------------------------------------------------------------------------

    def _member_probs(self, out: torch.Tensor, head: nn.Module) -> NDArray[np.float64]:
        if isinstance(head, MagnitudeFactorisedHead):
            return head.mixture(out).numpy()
        if self.loss == "regression":
            return _gaussian_bins(out.double().numpy(), self.grid_)
        return torch.softmax(out.double(), dim=1).numpy()

    def _predict_probs(self, catalog: Catalog) -> NDArray[np.float64]:
        # Block by block (the blocks forward_rows uses, so results are the same bits), so the
        # float64 temporaries stay a few tens of MB instead of several copies of (n, n_bins).
        with torch_threads(self.n_jobs):
            x = self._inputs(catalog)
            probs = np.empty((len(x), self.grid_.n_bins))
            members = [(Member(rep, head), head) for rep, head in self.members_]
            for start in range(0, len(x), INFERENCE_BLOCK):
                xb = x[start : start + INFERENCE_BLOCK]
                block = self._member_probs(forward_rows(members[0][0], xb), members[0][1])
                for member, head in members[1:]:
                    block += self._member_probs(forward_rows(member, xb), head)
                if len(members) > 1:
                    block /= len(members)
                probs[start : start + INFERENCE_BLOCK] = block
        return probs

    def _summary(
        self, catalog: Catalog, kind: str, quantiles: Sequence[float] = ()
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """As :meth:`PhotoZEstimator._summary`, straight from the logits for softmax heads.

        A plain classification head (``output="bins"``) gets its point estimate and
        quantiles per inference block in torch
        (:func:`~zphot.estimators.nn.summary.summarise_probs`), never building the
        (n, n_bins) float64 PDF array; the block's logits are those of :meth:`_predict_probs`,
        bit for bit. Regression and magnitude-factorised heads, and subclasses that build
        their PDF differently, take the PDF route.
        """
        if not self._summarises_logits():
            return super()._summary(catalog, kind, quantiles)
        self._check_fitted()
        self._check_bands(catalog)
        n = len(catalog)
        if n == 0:
            return super()._summary(catalog, kind, quantiles)
        out = np.empty((n, 1 + len(quantiles)))
        with torch_threads(self.n_jobs):
            x = self._inputs(catalog)
            _, valid = self.preprocessing_.complete_magnitudes(catalog)
            invalid = torch.from_numpy(~valid)
            members = [Member(rep, head) for rep, head in self.members_]
            for start in range(0, n, INFERENCE_BLOCK):
                xb = x[start : start + INFERENCE_BLOCK]
                logits = [forward_rows(member, xb) for member in members]
                # float64 work in sub-blocks that stay in cache (a block's (rows, bins) float64
                # arrays are tens of MB, and each fresh one costs page faults); the same
                # operations, in the same order, as _member_probs and _predict_probs.
                for lo in range(0, len(xb), SUMMARY_ROWS):
                    sub = slice(lo, lo + SUMMARY_ROWS)
                    p = torch.softmax(logits[0][sub].double(), dim=1)
                    for more in logits[1:]:
                        p += torch.softmax(more[sub].double(), dim=1)
                    if len(members) > 1:
                        p /= len(members)
                    rows = slice(start + lo, start + lo + len(p))
                    block = summarise_probs(p, invalid[rows], self.grid_, kind, quantiles)
                    out[rows] = block.numpy()
        return out[:, 0], out[:, 1:]

    def _summarises_logits(self) -> bool:
        """Whether :meth:`_summary` may work from logits: softmax heads, PDF path not changed."""
        cls = type(self)
        return (
            self.loss == "classification"
            and not self._factorised()
            and cls.predict_pdf is PhotoZEstimator.predict_pdf
            and cls._predict_probs is TorchEstimator._predict_probs
            and cls._member_probs is TorchEstimator._member_probs
        )

    def embed(self, catalog: Catalog) -> NDArray[np.float32]:
        """The representation's embedding of each galaxy, from ensemble member 0.

        Member 0 alone (not all members concatenated) so the embedding's size does not change
        with ``n_ensemble`` and matches the one head a bias correction retrains.

        Returns
        -------
        ndarray, shape (n, d), float32
            ``d`` is the representation's ``out_features``.
        """
        self._check_fitted()
        self._check_bands(catalog)
        with torch_threads(self.n_jobs):
            out = forward_rows(self.representation_, self._inputs(catalog))
        return out.numpy()

    @property
    def representation_(self) -> nn.Module:
        """Ensemble member 0's representation module (features -> embedding)."""
        self._check_fitted()
        return self.members_[0][0]

    @property
    def head_(self) -> nn.Module:
        """Ensemble member 0's head module (embedding -> bin logits)."""
        self._check_fitted()
        return self.members_[0][1]

    # --- persistence -----------------------------------------------------------------------

    def _get_state(self) -> tuple[dict, dict[str, NDArray]]:
        meta = {
            "n_members": len(self.members_),
            "input_shape": list(self.input_shape_),
            "magnitude_cells": self.cells_.to_dict() if self._factorised() else None,
            "history": self.history_,
        }
        arrays = {"input.offset": self.input_offset_, "input.scale": self.input_scale_}
        for i, (rep, head) in enumerate(self.members_):
            for k, v in Member(rep, head).state_dict().items():
                arrays[f"m{i}.{k}"] = v.detach().numpy().copy()
        return meta, arrays

    def _set_state(self, meta: dict, arrays: dict[str, NDArray]) -> None:
        from ..modelcheck import fail

        shape = tuple(int(s) for s in meta["input_shape"])
        n_members = int(meta["n_members"])
        if not (shape and all(0 < s <= 100_000 for s in shape) and math.prod(shape) <= 10**7):
            raise fail(None, "state.input_shape", f"is not a network input shape: {list(shape)}")
        if not 1 <= n_members <= 1000:
            raise fail(None, "state.n_members", f"must be in [1, 1000], got {n_members}")
        self.input_shape_ = shape
        if meta.get("magnitude_cells"):
            self.cells_ = MagnitudeCells(**meta["magnitude_cells"])
        self.input_offset_, self.input_scale_ = arrays["input.offset"], arrays["input.scale"]
        if self.input_offset_.shape != self.input_scale_.shape:
            raise fail(None, "arrays.state.input.offset", "and input.scale differ in shape")
        self.history_ = meta["history"]
        self.members_ = []
        for i in range(n_members):
            member = self._build_member()
            prefix = f"m{i}."
            state = {k[len(prefix) :]: arrays[k] for k in list(arrays) if k.startswith(prefix)}
            _check_state_dict(member, state, prefix)
            member.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in state.items()})
            member.eval()
            self.members_.append((member.rep, member.head))


def _check_state_dict(member: nn.Module, state: dict[str, NDArray], prefix: str) -> None:
    """Saved weights match the network the parameters build: names, shapes and dtypes.

    Checked before torch sees them, so a truncated or foreign array is a one-line error
    naming the entry rather than torch's multi-line size-mismatch report.
    """
    from ..modelcheck import fail

    want = member.state_dict()
    for name in sorted(set(want) ^ set(state)):
        where = "missing from the file" if name in want else "not a weight of this network"
        raise fail(None, f"arrays.state.{prefix}{name}", f"is {where}")
    for name, tensor in want.items():
        got = state[name]
        if tuple(got.shape) != tuple(tensor.shape) or str(got.dtype) != str(tensor.dtype)[6:]:
            raise fail(
                None,
                f"arrays.state.{prefix}{name}",
                f"is {got.dtype} {list(got.shape)}, the network needs "
                f"{str(tensor.dtype)[6:]} {list(tensor.shape)}",
            )


def _gaussian_bins(out: NDArray[np.float64], grid: RedshiftGrid) -> NDArray[np.float64]:
    """Bin probabilities of N(mean, exp(log_var)) per row; mass beyond the grid goes to the
    end bins, so a mean outside the grid still gives a PDF peaked at that end."""
    from scipy.special import ndtr

    mean, sd = out[:, :1], np.exp(0.5 * out[:, 1:2])
    cdf = ndtr((grid.edges[None, :] - mean) / sd)
    p = np.diff(cdf, axis=1)
    p[:, 0] += cdf[:, 0]
    p[:, -1] += 1.0 - cdf[:, -1]
    return p
