"""The training loop every zphot network shares: seeded mini-batches, one-cycle schedule, early
stopping on a validation set with the best weights restored, a per-epoch loss history, and
optional per-epoch checkpoints from which an interrupted run resumes exactly.

The loop knows nothing about the architecture: it takes a module mapping an input tensor
``(n, ...)`` to outputs, the redshifts, and a loss ``loss(outputs, z) -> scalar``. Randomness
comes only from the ``torch.Generator`` it is given (shuffling) and any the module holds
itself; the global torch seed is never read or set.

The one-cycle schedule (warm-up over the first ``WARMUP_FRACTION`` of the steps, then cosine
decay to a small rate over ``max_epochs``) gets most of its gain in the last, low-rate epochs,
so with a patient early stop most runs go the full length; the stop guards against
over-fitting on small training sets. Epochs without improvement count only once the warm-up is
over: while the rate rises the validation loss may rise with it, and a stop there leaves an
unfinished network (seen on SDSS with the gat and with zphot debias's Step 2 head retraining,
both stopped within the first fifth of their epochs).
"""

from __future__ import annotations

import contextlib
import copy
import logging
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
from torch import nn

from ..._cores import available_cores
from .checkpoint import Checkpoint

__all__ = [
    "TrainSettings",
    "ClassificationLoss",
    "GaussianNLLLoss",
    "train_network",
    "evaluate_loss",
    "forward_rows",
    "torch_threads",
    "PAD_ROWS",
    "INFERENCE_BLOCK",
]

logger = logging.getLogger(__name__)

#: Rows per inference block. Predictions are computed in blocks padded to a multiple of
#: ``PAD_ROWS``: CPU matrix kernels pick other code paths (with other rounding) for very short
#: batches, so padding keeps every galaxy's result independent of how many share its call.
PAD_ROWS = 64
INFERENCE_BLOCK = 16384
#: Share of the one-cycle schedule spent raising the learning rate (torch's default).
WARMUP_FRACTION = 0.3


@dataclass(frozen=True)
class TrainSettings:
    """Optimisation settings of one training run (taken from the estimator's parameters).

    Parameters
    ----------
    max_epochs : int
        Passes over the training set at most; the one-cycle learning-rate schedule spans them.
    patience : int
        Stop after this many epochs without a lower validation loss, counted from the end of
        the learning rate's warm-up at the earliest.
    batch_size : int
    learning_rate : float
        Peak learning rate of the one-cycle schedule (AdamW).
    weight_decay : float
        AdamW's decoupled weight decay.
    mixed_precision : bool
        On a GPU, run the forward passes under bfloat16 autocast (the weights, the optimiser
        and the losses stay in float32). Ignored on the CPU, whose results never change.
    """

    max_epochs: int
    patience: int
    batch_size: int
    learning_rate: float
    weight_decay: float
    mixed_precision: bool = False


class ClassificationLoss:
    """Cross-entropy of bin logits against hard or Gaussian-smoothed redshift labels.

    Parameters
    ----------
    edges : torch.Tensor, shape (n_bins + 1,)
        Bin edges of the redshift grid.
    label_width : float
        Standard deviation of the Gaussian label in units of ``1 + z`` (``0``: the one bin
        holding ``z``). A smoothed label tells the network that neighbouring bins are nearly
        right, which regularises the fine-grid softmax and gives smoother PDFs.
    """

    def __init__(self, edges: torch.Tensor, label_width: float) -> None:
        self.edges = edges.to(torch.float64)
        self.label_width = float(label_width)
        self.n_bins = len(edges) - 1

    def targets(self, z: torch.Tensor) -> torch.Tensor:
        """Soft label rows (n, n_bins) for redshifts ``z``: each bin's Gaussian probability."""
        z = z.to(torch.float64)
        sigma = self.label_width * (1.0 + z)
        cdf = torch.special.ndtr((self.edges[None, :] - z[:, None]) / sigma[:, None])
        t = cdf[:, 1:] - cdf[:, :-1]
        # A label beyond the grid's ends puts its mass in the end bin rather than vanishing.
        t[:, 0] += cdf[:, 0]
        t[:, -1] += 1.0 - cdf[:, -1]
        return t.to(torch.float32)

    def bins(self, z: torch.Tensor) -> torch.Tensor:
        w = (self.edges[-1] - self.edges[0]) / self.n_bins
        i = torch.floor((z.to(torch.float64) - self.edges[0]) / w)
        return i.clamp(0, self.n_bins - 1).to(torch.int64)

    def rows(self, logits: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """The loss of each row."""
        if self.label_width == 0.0:
            return nn.functional.cross_entropy(logits, self.bins(z), reduction="none")
        return -(self.targets(z) * torch.log_softmax(logits, dim=1)).sum(dim=1)

    def __call__(self, logits: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return self.rows(logits, z).mean()


class GaussianNLLLoss:
    """Negative log-likelihood of ``z`` under N(mean, exp(log_var)) from a two-column output."""

    def rows(self, out: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """The loss of each row."""
        mean, log_var = out[:, 0], out[:, 1]
        return 0.5 * (log_var + (z - mean) ** 2 * torch.exp(-log_var))

    def __call__(self, out: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return self.rows(out, z).mean()


class WeightedLoss:
    """Weighted mean of a per-row loss; target rows are ``(z, weight)`` (sample weights)."""

    def __init__(self, inner: ClassificationLoss | GaussianNLLLoss) -> None:
        self.inner = inner

    def __call__(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        w = target[:, 1].to(out.dtype)
        return (w * self.inner.rows(out, target[:, 0])).sum() / w.sum().clamp_min(1e-12)


@contextlib.contextmanager
def torch_threads(n_jobs: int | None) -> Iterator[None]:
    """Run torch on ``n_jobs`` threads (default: the cores this process may use), then restore.

    torch's thread count is process-wide; restoring it keeps one estimator's ``n_jobs`` from
    leaking into the caller's other torch work.
    """
    if n_jobs is None:
        n_jobs = available_cores()
    before = torch.get_num_threads()
    torch.set_num_threads(int(n_jobs))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def forward_rows(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Apply ``module`` (switched to eval mode, no gradients) to ``x`` row-block by row-block.

    Each block is padded with zero rows to a multiple of :data:`PAD_ROWS`, so a row's output
    does not depend on the batch it came in (a contract every zphot estimator keeps).
    """
    module.eval()
    n = x.shape[0]
    outs = []
    with torch.no_grad():
        # An empty input still runs one padded block, so the output has the right trailing shape.
        for start in range(0, max(n, 1), INFERENCE_BLOCK):
            block = x[start : start + INFERENCE_BLOCK]
            m = block.shape[0]
            padded_len = PAD_ROWS * max(1, math.ceil(m / PAD_ROWS))
            if padded_len != m:
                pad = block.new_zeros((padded_len - m, *block.shape[1:]))
                block = torch.cat([block, pad])
            outs.append(module(block)[:m])
    return torch.cat(outs)


def evaluate_loss(
    module: nn.Module,
    loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    z: torch.Tensor,
    device: torch.device | None = None,
    mixed_precision: bool = False,
) -> float:
    """Mean loss of ``module`` over ``(x, z)`` in eval mode (what early stopping watches); the
    inputs go to ``device`` (the module's) block by block, the loss is computed on the CPU."""
    was_training = module.training
    module.eval()
    total = 0.0
    with torch.no_grad():
        for start in range(0, len(x), INFERENCE_BLOCK):
            xb, zb = x[start : start + INFERENCE_BLOCK], z[start : start + INFERENCE_BLOCK]
            total += float(loss(_forward(module, xb, device, mixed_precision), zb)) * len(xb)
    module.train(was_training)
    return total / max(len(x), 1)


def train_network(
    module: nn.Module,
    loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    z: torch.Tensor,
    x_val: torch.Tensor,
    z_val: torch.Tensor,
    settings: TrainSettings,
    generator: torch.Generator,
    progress: Callable[[int, float, float], None] | None = None,
    checkpoint: Checkpoint | None = None,
    device: torch.device | None = None,
) -> dict:
    """Train ``module`` in place and leave it holding the weights of its best validation epoch.

    Parameters
    ----------
    module : torch.nn.Module
        Maps ``x`` rows to outputs that ``loss`` understands.
    loss : callable
        ``loss(outputs, z) -> scalar tensor`` (mean over the batch).
    x, z : torch.Tensor
        Training inputs ``(n, ...)`` (float32) and redshifts ``(n,)``.
    x_val, z_val : torch.Tensor
        Validation set watched by early stopping.
    settings : TrainSettings
    generator : torch.Generator
        The source of randomness of the loop (batch order); the module may draw from more
        generators of its own (name them in ``checkpoint.generators``).
    progress : callable, optional
        Called as ``progress(epoch, train_loss, val_loss)`` after each epoch (0-based), once
        that epoch's checkpoint is written.
    checkpoint : Checkpoint, optional
        Save the training state after every epoch, and resume from a saved state with the
        same key (an unfinished one continues with the next epoch, a finished one restores the
        final weights at once). On the CPU the result is the same, to the bit, as training
        without interruption; on a GPU, to its rounding (cuDNN's convolution gradients are
        not deterministic).
    device : torch.device, optional
        Where the module trains (:func:`~zphot.estimators.nn.device.resolve_device`; default
        the CPU). On a GPU the inputs are copied there once when they fit (see
        :func:`_on_device`), else each batch is gathered on the host and copied; losses are
        computed on the CPU, and the module is back on the CPU when this returns.

    Returns
    -------
    dict
        ``train_loss``, ``val_loss`` and ``epoch_seconds`` (one float per epoch run),
        ``best_epoch`` (0-based index of the restored weights) and ``stopped_early``.

    """
    n = len(x)
    device = device or torch.device("cpu")
    module.to(device)  # before the optimiser: its state lives beside the parameters
    x, x_val = _on_device(x, x_val, device)
    opt, schedule = _optimiser(module, settings, steps_per_epoch=math.ceil(n / settings.batch_size))
    # The first epoch that starts at or after the rate's peak.
    warmup_end = math.ceil(WARMUP_FRACTION * settings.max_epochs)
    generators = {"batches": generator} | dict(checkpoint.generators if checkpoint else {})
    run = _fresh_run(module)
    saved = checkpoint.load() if checkpoint is not None else None
    if saved is not None:
        run = _resume(checkpoint, saved, (module, opt, schedule, generators), run)
    while not run["finished"] and run["epoch"] < settings.max_epochs:
        epoch = run["epoch"]
        t0 = time.perf_counter()
        order = torch.randperm(n, generator=generator)
        train_loss = _train_epoch(module, loss, (x, z, order), settings, opt, schedule, device)
        val_loss = evaluate_loss(module, loss, x_val, z_val, device, settings.mixed_precision)
        _record_epoch(run, module, train_loss, val_loss, t0, warmup_end, settings)
        if checkpoint is not None:
            _save(checkpoint, run, (module, opt, schedule, generators))
        if progress is not None:
            progress(epoch, train_loss, val_loss)
    module.load_state_dict(run["best_state"])
    module.to("cpu")
    module.eval()
    return run["history"]


def _save(checkpoint: Checkpoint, run: dict, parts: tuple) -> None:
    """Save the run record and (module, optimiser, schedule, generators) after an epoch."""
    module, opt, schedule, generators = parts
    checkpoint.save(
        {
            "run": run,
            "model": module.state_dict(),
            "optimizer": opt.state_dict(),
            "schedule": schedule.state_dict(),
            "generators": {name: g.get_state() for name, g in generators.items()},
        }
    )


def _optimiser(
    module: nn.Module, settings: TrainSettings, steps_per_epoch: int
) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler]:
    """AdamW with the one-cycle learning-rate schedule over ``max_epochs`` (module docstring)."""
    opt = torch.optim.AdamW(
        module.parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay
    )
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        opt,
        max_lr=settings.learning_rate,
        total_steps=settings.max_epochs * steps_per_epoch,
        pct_start=WARMUP_FRACTION,
    )
    return opt, schedule


def _fresh_run(module: nn.Module) -> dict:
    """The state of a run before its first epoch (what a checkpoint saves as ``run``)."""
    return {
        "epoch": 0,  # epochs done
        "finished": False,
        "best_val": math.inf,
        "best_state": _copy_state(module),
        "history": {
            "train_loss": [],
            "val_loss": [],
            "epoch_seconds": [],
            "best_epoch": 0,
            "stopped_early": False,
        },
    }


def _train_epoch(
    module: nn.Module,
    loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    data: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    settings: TrainSettings,
    opt: torch.optim.Optimizer,
    schedule: torch.optim.lr_scheduler.LRScheduler,
    device: torch.device,
) -> float:
    """One pass over the rows of ``data = (x, z, order)`` in that order, a step per batch; the
    mean training loss."""
    x, z, order = data
    module.train()
    running = 0.0
    for start in range(0, len(x), settings.batch_size):
        rows = order[start : start + settings.batch_size]
        xb = x[_to(rows, x.device)]
        value = loss(_forward(module, xb, device, settings.mixed_precision), z[rows])
        opt.zero_grad(set_to_none=True)
        value.backward()
        opt.step()
        schedule.step()
        running += float(value.detach()) * len(rows)
    return running / len(x)


def _record_epoch(
    run: dict,
    module: nn.Module,
    train_loss: float,
    val_loss: float,
    t0: float,
    warmup_end: int,
    settings: TrainSettings,
) -> None:
    """Add the epoch to the history, keep the weights if best, and decide on stopping early
    (epochs without improvement count from ``warmup_end`` on)."""
    history, epoch = run["history"], run["epoch"]
    history["train_loss"].append(train_loss)
    history["val_loss"].append(val_loss)
    history["epoch_seconds"].append(round(time.perf_counter() - t0, 2))
    logger.info("epoch %d: train %.5f, validation %.5f", epoch, train_loss, val_loss)
    if val_loss < run["best_val"]:
        run["best_val"], history["best_epoch"] = val_loss, epoch
        run["best_state"] = _copy_state(module)
    elif epoch - max(history["best_epoch"], warmup_end) >= settings.patience:
        history["stopped_early"] = True
    run["epoch"] = epoch + 1
    run["finished"] = history["stopped_early"] or run["epoch"] >= settings.max_epochs


def _to(t: torch.Tensor, device: torch.device | None) -> torch.Tensor:
    """``t`` on ``device`` (itself, not a copy, when it is there already: the CPU path keeps
    its exact arithmetic)."""
    return t if device is None else t.to(device, non_blocking=True)


def _forward(
    module: nn.Module, xb: torch.Tensor, device: torch.device | None, mixed_precision: bool
) -> torch.Tensor:
    """``module(xb)`` on ``device``, returned on the CPU in float32 for the loss; under
    bfloat16 autocast when ``mixed_precision`` and the device is a GPU."""
    xb = _to(xb, device)
    amp = mixed_precision and xb.device.type == "cuda"
    with torch.autocast("cuda", dtype=torch.bfloat16, enabled=amp):
        out = module(xb)
    return out.float().cpu() if amp else out.cpu()


#: Share of the GPU's free memory the training inputs may take to be copied there once.
_RESIDENT_SHARE = 0.5


def _on_device(
    x: torch.Tensor, x_val: torch.Tensor, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """The training and validation inputs where batches are drawn from.

    On the CPU, themselves. On a GPU, copies there when both fit in half of its free memory
    (a catalog's colours always do; 20,000 five-band 64x64 stamps take 1.6 GB): batches are
    then gathered on the GPU and nothing waits for the host, which is what keeps a GPU busy
    here, rather than loader worker processes (the data are already in memory, decoded).
    Inputs too large stay on the host and each batch is copied as it is drawn.
    """
    if device.type != "cuda":
        return x, x_val
    free, _ = torch.cuda.mem_get_info(device)
    if (x.nbytes + x_val.nbytes) > _RESIDENT_SHARE * free:
        logger.info("training inputs (%.1f GB) stay on the host", (x.nbytes + x_val.nbytes) / 1e9)
        return x, x_val
    return x.to(device), x_val.to(device)


_RUN_KEYS = {"epoch", "finished", "best_val", "best_state", "history"}


def _restore(state: dict, parts: tuple) -> None:
    module, opt, schedule, generators = parts
    module.load_state_dict(state["model"])
    opt.load_state_dict(state["optimizer"])
    schedule.load_state_dict(state["schedule"])
    for name, g in generators.items():
        g.set_state(state["generators"][name])


def _resume(checkpoint: Checkpoint, saved: dict, parts: tuple, fresh: dict) -> dict:
    """Load a saved state into (module, optimiser, schedule, generators) and return its run
    record. A state that does not fit them (a damaged or edited file with the right key) is
    set aside and everything is put back as it was, so training starts from ``fresh``."""
    module, opt, schedule, generators = parts
    initial = {
        "model": _copy_state(module),
        "optimizer": copy.deepcopy(opt.state_dict()),
        "schedule": copy.deepcopy(schedule.state_dict()),
        "generators": {name: g.get_state() for name, g in generators.items()},
    }
    try:
        _restore(saved, parts)
        run = saved["run"]
        if not isinstance(run, dict) or not set(run) >= _RUN_KEYS:
            raise KeyError(f"run record lacks {sorted(_RUN_KEYS - set(run or ()))}")
        shapes = {k: (v.shape, v.dtype) for k, v in module.state_dict().items()}
        if {k: (v.shape, v.dtype) for k, v in run["best_state"].items()} != shapes:
            raise ValueError("its best weights do not have the network's shapes")
    except (KeyError, TypeError, ValueError, RuntimeError, IndexError, AttributeError) as exc:
        checkpoint.set_aside(f"its state does not fit this network ({exc})")
        _restore(initial, parts)
        return fresh
    logger.info("%s: resuming after epoch %d", checkpoint.path, run["epoch"])
    return run


def _copy_state(module: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}
