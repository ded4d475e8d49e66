"""``image-cnn``: photometric redshifts from multi-band galaxy stamps (Pasquet et al. 2019).

The estimator follows the zphot contract (``fit(catalog)``, ``predict_pdf(catalog)``,
``save``/``load``) with catalogs whose rows point at stamps (columns ``stamp_row`` and
optionally ``stamp_file``; see :mod:`zphot.images.store`): the HDF5 files of
``zphot simulate images``, or a user's NumPy/FITS cube attached with
:func:`zphot.images.store.attach_stamps`. Magnitudes still matter: they define the bands, the
coverage flag and, with ``scalars="colours"``, scalar inputs concatenated before the dense
layers.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

import numpy as np
import torch
from numpy.typing import NDArray

from .._rng import child_seed, torch_generator
from ..catalog.catalog import Catalog
from ..estimators.base import Options
from ..estimators.nn.network import Member, TorchEstimator
from ..exceptions import ParameterError
from .network import ImageRepresentation
from .store import stamp_columns, stamps_in_bands

__all__ = ["ImageCNNEstimator"]

SCALARS = ("none", "colours")
_BORDER = 3  # pixels along each edge used to measure the sky noise


class ImageCNNEstimator(TorchEstimator):
    """Inception CNN on multi-band stamps; classification over redshift bins (softmax PDF).

    Pixels are scaled per band as asinh(flux / sigma_sky) with sigma_sky the training set's
    robust noise level at the stamp borders, which keeps faint outskirts and bright cores in
    one numeric range, as a survey's asinh magnitudes do.

    Parameters
    ----------
    widths : tuple of int
        Branch width of each inception block
        (see :class:`~zphot.images.network.ImageRepresentation`).
    hidden : tuple of int
        Dense layers after the convolutional features (+ scalars); the last is the embedding.
    scalars : {"none", "colours"}
        ``"colours"``: the preprocessor's features (colours and reference magnitude, scaled
        by ``scaler``) enter before the dense layers, as E(B-V) did in Pasquet et al.
    augment : bool
        Random flips and 90-degree rotations of the training stamps.
    device : {"auto", "cpu", "cuda", "cuda:N"}
        Where the network trains: ``"auto"`` takes a GPU when torch sees one, else the CPU
        (see :mod:`zphot.estimators.nn.device`); the fitted network predicts on the CPU.
    mixed_precision : bool
        On a GPU, forward passes under bfloat16 autocast (faster convolutions; weights and
        losses stay float32). No effect on the CPU.
    checkpoint : str, optional
        Folder for per-epoch checkpoints (default: none; ``zphot train`` uses ``OUT.ckpt``).
        Fitting again with the same parameters and data resumes from the last finished epoch
        (members already trained are reused), so killing ``zphot train`` and re-running the
        same command loses at most one epoch.
    max_epochs, patience, batch_size, learning_rate, weight_decay, n_ensemble, loss,
    label_width, validation_fraction, output, magnitude_cells
        As in :class:`~zphot.estimators.mlp.MLPEstimator` (``output="magnitude"`` gives the
        Lin et al. 2022 output module that ``zphot debias`` builds on).
    n_jobs : int, optional
        torch threads (default 1: on two shared cores one thread per process was up to 20x
        faster than two for these small convolutions; ``None`` uses every core).
    inputs, scaler, grid, point, random_state
        See :class:`~zphot.estimators.base.PhotoZEstimator`.

    Attributes
    ----------
    members_ : list of (ImageRepresentation, torch.nn.Module)
    history_ : list of dict
    pixel_sigma_ : ndarray, shape (bands,)
        Sky noise per band (nanomaggies per pixel) that scales the asinh stretch.

    References
    ----------
    Pasquet, J., Bertin, E., Treyer, M., Arnouts, S. & Fouchez, D. 2019, A&A 621, A26.

    Examples
    --------
    >>> est = ImageCNNEstimator(widths=(8,), hidden=(32,), max_epochs=2)
    >>> est.get_params()["scalars"]
    'none'
    """

    name = "image-cnn"
    tags: ClassVar[dict[str, Any]] = {
        "network": True,
        "needs_images": True,
        # On the image contract data of tests/images (colours in the pixels and as scalars).
        "synthetic_tolerance": 0.03,
        "fast_params": {
            "widths": (4,),
            "hidden": (64,),
            "scalars": "colours",
            "max_epochs": 12,
            "batch_size": 32,
            "n_ensemble": 1,
        },
        "skip_checks": {
            name: "fits need stamps and synthetic_catalog has none; the same check runs on "
            "stamp catalogs in tests/images/test_contract_images.py"
            for name in (
                "check_clone_is_unfitted",
                "check_fit_returns_self_without_side_effects",
                "check_pdf_valid",
                "check_recovers_synthetic_redshift",
                "check_same_seed_same_output",
                "check_rows_independent",
                "check_columns_matched_by_name",
                "check_missing_band_error",
                "check_nan_band_imputed",
                "check_save_load_round_trip",
                "check_load_refuses_bad_files",
                "check_empty_and_one_row",
                "check_out_of_coverage",
            )
        },
        # The magnitude-factorised output (Steps 1-3 of zphot debias) trains its six heads
        # more slowly than one softmax: 40 epochs beat 20 on held-out SDSS stamps
        # (benchmarks/sdss_debias_settings.py --stamps ...; figures in BENCHMARKS.md,
        # "image-cnn representation").
        "factorised_params": {"max_epochs": 40},
    }
    _constraints: ClassVar[dict[str, Any]] = TorchEstimator._constraints | {
        "scalars": Options(*SCALARS),
        "augment": Options(True, False),
        "mixed_precision": Options(True, False),
    }

    def __init__(
        self,
        *,
        widths: tuple[int, ...] = (16, 24, 32),
        hidden: tuple[int, ...] = (256,),
        scalars: str = "none",
        augment: bool = True,
        checkpoint: str | None = None,
        max_epochs: int = 20,
        patience: int = 4,
        batch_size: int = 128,
        learning_rate: float = 2e-3,
        weight_decay: float = 1e-4,
        n_ensemble: int = 1,
        loss: str = "classification",
        label_width: float = 0.01,
        validation_fraction: float = 0.1,
        output: str = "bins",
        magnitude_cells: dict | None = None,
        n_jobs: int | None = 1,
        device: str = "auto",
        mixed_precision: bool = False,
        inputs: str = "colours",
        scaler: str = "standard",
        grid: tuple[float, float, int] | None = None,
        point: str = "median",
        random_state: int = 0,
    ) -> None:
        self.widths = widths
        self.hidden = hidden
        self.scalars = scalars
        self.augment = augment
        self.checkpoint = checkpoint
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
        self.mixed_precision = mixed_precision
        self.inputs = inputs
        self.scaler = scaler
        self.grid = grid
        self.point = point
        self.random_state = random_state

    # --- parameters ------------------------------------------------------------------------

    def _validate_params(self) -> None:
        super()._validate_params()
        self._check_widths("widths")
        if len(self.widths) > 4:
            raise ParameterError(
                f"{type(self).__name__}: parameter 'widths' takes at most 4 blocks, "
                f"got {self.widths!r}"
            )

    # --- inputs ----------------------------------------------------------------------------

    def _stamps(self, catalog: Catalog) -> NDArray[np.float32]:
        return stamps_in_bands(catalog, tuple(self.bands_))

    def _scalar_features(self, catalog: Catalog) -> NDArray[np.float64]:
        if self.scalars == "none":
            return np.zeros((len(catalog), 0))
        x, _ = self.preprocessing_.transform(catalog)
        return x

    def _fit_input_scaling(self, catalog: Catalog) -> None:
        stamps = self._stamps(catalog)
        if stamps.shape[-1] % 4 or stamps.shape[-1] != stamps.shape[-2]:
            raise ParameterError(
                f"{catalog.source}: stamps must be square with a side divisible by 4, got "
                f"{stamps.shape[-2:]}"
            )
        b = _BORDER
        edge = np.concatenate(
            [
                stamps[:, :, :b, :].reshape(len(stamps), stamps.shape[1], -1),
                stamps[:, :, -b:, :].reshape(len(stamps), stamps.shape[1], -1),
            ],
            axis=2,
        )
        edge = np.moveaxis(edge, 1, 0).reshape(stamps.shape[1], -1)
        med = np.median(edge, axis=1, keepdims=True)
        sigma = 1.4826 * np.median(np.abs(edge - med), axis=1)
        self.pixel_sigma_ = np.where(sigma > 0, sigma, 1.0).astype(np.float64)
        scal = self._scalar_features(catalog)
        ok = np.isfinite(scal).all(axis=1)
        ref = scal[ok] if ok.any() else np.zeros((1, scal.shape[1]))
        self.input_offset_ = ref.mean(axis=0)
        std = ref.std(axis=0)
        self.input_scale_ = np.where(std > 1e-12, std, 1.0)
        self.input_shape_ = tuple(int(s) for s in stamps.shape[1:])
        self.n_scalars_ = int(scal.shape[1])

    def _inputs(self, catalog: Catalog) -> torch.Tensor:
        stamps = self._stamps(catalog)
        n = len(catalog)
        pix = np.arcsinh(stamps / self.pixel_sigma_[None, :, None, None].astype(np.float32))
        scal = (self._scalar_features(catalog) - self.input_offset_) / self.input_scale_
        scal = np.where(np.isfinite(scal), scal, 0.0).astype(np.float32)
        x = np.empty((n, int(np.prod(self.input_shape_)) + self.n_scalars_), dtype=np.float32)
        x[:, : pix[0].size if n else 0] = pix.reshape(n, -1)
        x[:, x.shape[1] - self.n_scalars_ :] = scal
        return torch.from_numpy(x)

    def _build_representation(self) -> ImageRepresentation:
        n_bands, size, _ = self.input_shape_
        return ImageRepresentation(
            n_bands, size, tuple(self.widths), tuple(self.hidden), self.n_scalars_, self.augment
        )

    # --- training --------------------------------------------------------------------------

    @contextlib.contextmanager
    def _training_generators(
        self, member: Member, index: int
    ) -> Iterator[dict[str, torch.Generator]]:
        """The augmentation's generator (member ``index``'s own stream), dropped after
        training."""
        member.rep.generator = torch_generator(child_seed(self._seed(), "augment", index))
        try:
            yield {"augment": member.rep.generator}
        finally:
            member.rep.generator = None

    # --- persistence -----------------------------------------------------------------------

    def prediction_columns(self, available: Sequence[str], path: str) -> dict[str, Any]:
        """The stamp pointers (row, file, bands) that streamed prediction must read."""
        return stamp_columns(list(available), path)

    def _get_state(self) -> tuple[dict, dict[str, NDArray]]:
        meta, arrays = super()._get_state()
        meta["n_scalars"] = self.n_scalars_
        arrays["input.pixel_sigma"] = self.pixel_sigma_
        return meta, arrays

    def _set_state(self, meta: dict, arrays: dict[str, NDArray]) -> None:
        self.n_scalars_ = int(meta["n_scalars"])
        self.pixel_sigma_ = arrays["input.pixel_sigma"]
        super()._set_state(meta, arrays)
