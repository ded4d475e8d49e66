"""Which device a network trains on: a GPU when torch sees one, otherwise the CPU.

``device="auto"`` (every network's default) takes the first CUDA GPU torch can use and says
so when it falls back to the CPU; ``"cpu"`` and ``"cuda"`` (or ``"cuda:N"``) are explicit, and
an explicit GPU that torch cannot see is an error, not a silent fallback. Training moves each
batch to the device as it is drawn from pinned host memory; the losses are computed on the CPU
from the outputs (a batch of logits is small), so a loss never needs to know the device, and
the fitted network is moved back to the CPU, where it is saved and predicts: a model or a
checkpoint written on one device loads on any other.
"""

from __future__ import annotations

import logging
import re

import torch

from ...exceptions import ParameterError

__all__ = ["DEVICE_CHOICES", "check_device", "resolve_device"]

logger = logging.getLogger(__name__)

#: What the ``device`` parameter accepts (``cuda:N`` names one GPU).
DEVICE_CHOICES = ("auto", "cpu", "cuda", "cuda:N")
_PATTERN = re.compile(r"auto|cpu|cuda(:\d+)?")


def check_device(device: object, owner: str) -> None:
    """Refuse a ``device`` parameter that is not one of :data:`DEVICE_CHOICES`."""
    if not (isinstance(device, str) and _PATTERN.fullmatch(device)):
        raise ParameterError(
            f"{owner}: parameter 'device' must be one of {', '.join(DEVICE_CHOICES)}, "
            f"got {device!r}"
        )


def resolve_device(device: str, owner: str = "network") -> torch.device:
    """The torch device for ``device`` (see :data:`DEVICE_CHOICES`).

    Raises
    ------
    ParameterError
        A GPU is asked for by name and torch sees none (a CPU build, or no driver).
    """
    check_device(device, owner)
    available = torch.cuda.is_available()
    if device == "auto":
        if available:
            return torch.device("cuda")
        logger.info("%s: torch sees no CUDA GPU; training on the CPU", owner)
        return torch.device("cpu")
    if device.startswith("cuda") and not available:
        build = "a CPU-only build" if torch.version.cuda is None else f"CUDA {torch.version.cuda}"
        raise ParameterError(
            f"{owner}: device={device!r} but torch {torch.__version__} ({build}) sees no CUDA "
            "GPU; use device='auto' or 'cpu', or install a CUDA build of torch"
        )
    return torch.device(device)
