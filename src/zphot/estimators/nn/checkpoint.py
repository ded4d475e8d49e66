"""Per-epoch training checkpoints: one ``.npz`` file per training run, written atomically.

A checkpoint holds everything the next epoch depends on (weights, best weights so far,
optimiser moments and parameter groups, the learning-rate schedule, the states of the random
generators, the early-stopping state and the loss history), so a run resumed from it gives the
same bits as one never interrupted. Tensors are stored as arrays and everything else as JSON,
read with ``allow_pickle=False``: a checkpoint holds no pickled objects.

A checkpoint that cannot be read (truncated, garbage, not fitting the network) is reported in
one warning, set aside under a new name (``member0.npz.corrupt-<UTC time>``, kept for a look)
and training starts afresh. :class:`CheckpointFolder` holds a folder of checkpoints for one
``zphot train`` run: locked against a second run, and never deleted beyond zphot's own files.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import logging
import os
import time
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from ...exceptions import OverwriteError
from ...io.atomic import MARKER, atomic_path, is_zphot_folder
from ...io.lock import LOCK, OutputLock, claim_folder

__all__ = ["CHECKPOINT_FILES", "Checkpoint", "CheckpointFolder"]

#: What training writes in a checkpoint folder: per-member files and their atomic temporaries;
#: with the marker, the lock and set-aside corrupt files, these are all zphot ever puts there.
CHECKPOINT_FILES = ("member*.npz", ".member*.npz.*.tmp", f"{LOCK}.stale-*")
_OWN = (*CHECKPOINT_FILES, MARKER, LOCK, "member*.npz.corrupt-*")
# What reading a damaged .npz raises: not a zip, truncated, bad CRC, bad JSON or UTF-8, missing
# or mistyped entries. Not OSError: a file that cannot be read now (permissions, a network
# filesystem's hiccup) is not damaged, and its error is reported as it is.
_UNREADABLE = (
    EOFError,
    ValueError,
    KeyError,
    TypeError,
    AttributeError,
    zipfile.BadZipFile,
)

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
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(bytes(data[_META]).decode())
                if meta.get("format") != _FORMAT or meta.get("key") != self.key:
                    logger.info("%s: checkpoint of another run; starting afresh", path)
                    return None
                arrays = {k: data[k] for k in data.files if k != _META}
            return _decode(meta["state"], arrays)
        except _UNREADABLE as exc:
            self.set_aside(f"unreadable ({type(exc).__name__}: {exc})")
            return None

    def set_aside(self, reason: str) -> Path:
        """Rename a damaged checkpoint out of the way (never delete it) and say so once."""
        path = Path(self.path)
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        aside = path.with_name(f"{path.name}.corrupt-{stamp}")
        n = 1
        while aside.exists():
            n += 1
            aside = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
        os.rename(path, aside)
        logger.warning(
            "%s: corrupt checkpoint, %s; set aside as %s, training this member from scratch",
            path,
            " ".join(reason.split()),
            aside.name,
        )
        return aside

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


# --- the folder of one zphot train run ------------------------------------------------------

_CKPT_HINT = "pass --resume to continue from its checkpoints or --overwrite to start again"


def _is_own(folder: Path) -> bool:
    """zphot's checkpoint folder: marked, or holding only names training writes (a folder
    left by a zphot without markers), or empty."""
    names = os.listdir(folder)
    return is_zphot_folder(folder) or all(
        any(fnmatch.fnmatchcase(n, p) for p in _OWN) for n in names
    )


def _remove_files(folder: Path, patterns: tuple[str, ...]) -> None:
    for entry in folder.iterdir():
        if entry.is_file() and any(fnmatch.fnmatchcase(entry.name, p) for p in patterns):
            entry.unlink()


class CheckpointFolder:
    """A folder of checkpoints held for one ``zphot train`` run: locked against a second run,
    and afterwards cleared of zphot's files only.

    Use :meth:`open` before training and :meth:`finish` once the model is saved; a run that
    fails keeps its checkpoints (to resume), and its lock is released by
    :func:`~zphot.io.lock.release_on_error` on the command.
    """

    def __init__(self, folder: Path, lock: OutputLock, ours: bool, remove: bool) -> None:
        self.folder, self.lock, self.ours, self.remove = folder, lock, ours, remove

    @classmethod
    def open(
        cls, folder: str | os.PathLike, *, overwrite: bool, resume: bool, remove: bool
    ) -> CheckpointFolder:
        """Lock ``folder`` (created and marked as zphot's if missing).

        Parameters
        ----------
        folder : str or PathLike
            Where the run keeps its checkpoints.
        overwrite : bool
            Start again: discard the checkpoints found there, and accept a folder zphot did not
            create (its other files are never touched). Without it such a folder is refused.
        resume : bool
            Take over the lock of a run that died holding it (a kill, a power cut); so does
            ``overwrite``.
        remove : bool
            :meth:`finish` removes the checkpoint files, then the folder if that empties it
            (``zphot train``'s own ``OUT.ckpt``). A folder the user named is only locked.

        Raises
        ------
        OverwriteError
            ``folder`` is a file, or (with ``remove``, without ``overwrite``) a folder holding
            files zphot did not write.
        OutputLockedError
            Another run holds the folder, or one died holding it and neither flag was given.
        """
        folder = Path(folder)
        if folder.exists() and not folder.is_dir():
            raise OverwriteError(str(folder), f"{folder}: is a file, not a checkpoint folder")
        ours = not folder.exists() or _is_own(folder)
        if remove and not ours and not overwrite:
            raise OverwriteError(
                str(folder),
                f"{folder}: folder exists and zphot did not create it; move it away, or pass "
                "--overwrite to keep checkpoints in it (zphot then removes only its own files)",
            )
        marker = {"format": "zphot-checkpoints"}
        lock, created = claim_folder(folder, marker, str(folder), resume or overwrite, _CKPT_HINT)
        if remove and overwrite and not created:
            _remove_files(folder, CHECKPOINT_FILES)  # start again
        return cls(folder, lock, ours, remove)

    def finish(self) -> None:
        """After a successful run: remove zphot's files (``remove``) and release the lock."""
        if self.remove:
            _remove_files(self.folder, CHECKPOINT_FILES)
            if self.ours and set(os.listdir(self.folder)) <= {MARKER, LOCK}:
                (self.folder / MARKER).unlink(missing_ok=True)
        self.lock.release()
        if self.remove:
            with contextlib.suppress(OSError):  # not empty: a set-aside or a user's file stays
                self.folder.rmdir()
