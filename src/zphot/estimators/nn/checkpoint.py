"""Per-epoch training checkpoints: one ``.npz`` file per training run, written atomically.

A checkpoint holds everything the next epoch depends on (weights, best weights so far,
optimiser moments and parameter groups, the learning-rate schedule, the states of the random
generators, the early-stopping state and the loss history), so a run resumed from it gives the
same bits as one never interrupted. Tensors are stored as arrays and everything else as JSON,
read with ``allow_pickle=False``: a checkpoint holds no pickled objects.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from ...io.atomic import atomic_path

__all__ = ["Checkpoint"]

logger = logging.getLogger(__name__)

_META = "__meta__"
_FORMAT = 1


@dataclass(frozen=True)
class Checkpoint:
    """Where one training run saves its state after every epoch, and what it must match.

    Parameters
    ----------
    path : pathlib.Path
        The checkpoint file (``.npz``; its folder is created). It is rewritten atomically after
        each epoch and kept, marked finished, when training ends: training again with the same
        ``key`` then restores the final weights without running an epoch.
    key : str
        What a saved state must match to be resumed (e.g. a hash of the parameters and the
        training data). A file with another key, or none, means training starts afresh.
    generators : mapping of str to torch.Generator
        Random generators besides the batch order that training draws from (e.g. data
        augmentation); their states are saved and restored with the rest.
    """

    path: Path
    key: str
    generators: Mapping[str, torch.Generator] = field(default_factory=dict)

    def load(self) -> dict[str, Any] | None:
        """The saved state (tensors as ``torch.Tensor``), or None when there is none to resume."""
        path = Path(self.path)
        if not path.exists():
            return None
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(bytes(data[_META]).decode())
            if meta.get("format") != _FORMAT or meta.get("key") != self.key:
                logger.info("%s: checkpoint of another run; starting afresh", path)
                return None
            arrays = {k: data[k] for k in data.files if k != _META}
        return _decode(meta["state"], arrays)

    def save(self, state: Mapping[str, Any]) -> None:
        """Write ``state`` (nested dicts, lists, tuples, tensors, JSON scalars) atomically."""
        path = Path(self.path)
        arrays: dict[str, NDArray] = {}
        meta = {"format": _FORMAT, "key": self.key, "state": _encode(dict(state), arrays)}
        arrays[_META] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path, overwrite=True) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, **arrays)


# A state_dict is a tree of dicts (optimiser states keyed by int), lists, tuples (AdamW's
# betas), tensors and scalars. JSON keeps the scalars exactly (floats by their shortest repr);
# tensors, int-keyed dicts and tuples are tagged so they come back as they went in.


def _encode(obj: Any, arrays: dict[str, NDArray]) -> Any:
    if isinstance(obj, torch.Tensor):
        name = f"a{len(arrays)}"
        arrays[name] = obj.detach().cpu().numpy().copy()
        return {"__array__": name}
    if isinstance(obj, Mapping):
        if all(isinstance(k, str) for k in obj):
            return {k: _encode(v, arrays) for k, v in obj.items()}
        return {"__pairs__": [[_encode(k, arrays), _encode(v, arrays)] for k, v in obj.items()]}
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v, arrays) for v in obj]}
    if isinstance(obj, list):
        return [_encode(v, arrays) for v in obj]
    if obj is None or isinstance(obj, bool | int | float | str):
        return obj
    raise TypeError(f"cannot store {type(obj).__name__} in a checkpoint")


def _decode(obj: Any, arrays: Mapping[str, NDArray]) -> Any:
    if isinstance(obj, list):
        return [_decode(v, arrays) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if "__array__" in obj:
        return torch.from_numpy(np.array(arrays[obj["__array__"]]))
    if "__pairs__" in obj:
        return {_decode(k, arrays): _decode(v, arrays) for k, v in obj["__pairs__"]}
    if "__tuple__" in obj:
        return tuple(_decode(v, arrays) for v in obj["__tuple__"])
    return {k: _decode(v, arrays) for k, v in obj.items()}
