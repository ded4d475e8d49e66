"""Atomic file output: write to a temporary name in the target folder, fsync, then ``os.replace``.

A crash or an error mid-write leaves the previous file (or nothing) in place, never half a file;
the old file is never deleted first.

``overwrite`` means "replace the file I am writing", never "delete what is there": a folder is
replaced only where zphot created it (it holds zphot's marker, :data:`MARKER`, and only files
zphot writes there), and an output is never one of the run's inputs, with or without
``overwrite`` (:func:`check_not_input` compares resolved real paths).
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from ..exceptions import OverwriteError, ParameterError

__all__ = [
    "MARKER",
    "atomic_path",
    "check_not_input",
    "check_own_folder",
    "check_writable",
    "is_zphot_folder",
    "replace_path",
]

#: The file that marks a folder zphot created (a JSON object whose ``format`` starts with
#: ``zphot-``; a streamed run's manifest is one). Only such folders may ever be replaced.
MARKER = "_zphot.json"

PathLike = str | os.PathLike


def is_zphot_folder(path: PathLike) -> bool:
    """Whether ``path`` is a folder that zphot created: it holds zphot's :data:`MARKER`."""
    marker = Path(path) / MARKER
    try:
        data = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and str(data.get("format", "")).startswith("zphot-")


def check_own_folder(path: PathLike, own: Sequence[str]) -> None:
    """Refuse to replace folder ``path`` unless zphot created it and every entry is zphot's.

    ``own`` holds glob patterns of the names zphot writes in such a folder; a single other
    entry (a file a user put there) keeps the whole folder.
    """
    path = Path(path)
    if not is_zphot_folder(path):
        raise OverwriteError(
            str(path),
            f"{path}: is a folder zphot did not create (no {MARKER}); --overwrite replaces only "
            "files and folders zphot wrote: choose another path",
        )
    for entry in sorted(os.listdir(path)):
        if not any(fnmatch.fnmatchcase(entry, pattern) for pattern in own):
            raise OverwriteError(
                str(path),
                f"{path}: holds '{entry}', which zphot did not write; not replacing the folder: "
                "move that file out or choose another path",
            )


def check_writable(
    path: PathLike, overwrite: bool, folder_files: Sequence[str] | None = None
) -> Path:
    """Refuse an existing ``path`` unless ``overwrite``; create its parent folder.

    An existing folder is never replaced by a file. Where the output may itself be a folder,
    ``folder_files`` lists (as glob patterns) what zphot writes in it, and an existing folder
    is replaced only if zphot created it and holds nothing else (:func:`check_own_folder`).
    """
    path = Path(path)
    if path.is_dir():
        if not overwrite:
            raise OverwriteError(str(path))
        if folder_files is None:
            raise OverwriteError(
                str(path),
                f"{path}: is a folder; zphot writes a file here and never replaces a folder: "
                "choose another path",
            )
        check_own_folder(path, folder_files)
    elif (path.exists() or path.is_symlink()) and not overwrite:
        raise OverwriteError(str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def check_not_input(
    outputs: Mapping[str, PathLike | None], inputs: Mapping[str, PathLike | None]
) -> None:
    """Refuse an output that is an input, holds one, or lies inside an input dataset folder.

    Keys are what the user called each path (``--out``, ``--catalog``) so the message speaks
    their words. Real paths are compared (symbolic links and ``..`` resolved), and two outputs
    may not be the same file either. Applies with or without ``overwrite``: replacing a file
    while reading it loses it.
    """
    real_in = {k: Path(os.path.realpath(v)) for k, v in inputs.items() if v is not None}
    seen: dict[Path, str] = {}
    for label, out in outputs.items():
        if out is None:
            continue
        real = Path(os.path.realpath(out))
        if real in seen:
            raise ParameterError(f"{out}: given as both {seen[real]} and {label}; use two paths")
        seen[real] = label
        for in_label, src in real_in.items():
            if real == src:
                reason = f"{label} is the same file as {in_label}"
            elif real in src.parents:
                reason = f"{label} holds {in_label} ({inputs[in_label]})"
            elif src.is_dir() and src in real.parents:
                reason = f"{label} lies inside the {in_label} folder ({inputs[in_label]})"
            else:
                continue
            raise ParameterError(
                f"{out}: {reason}; writing there would change the input: choose another path"
            )


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` atomically.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> with atomic_path(out) as tmp:
    ...     _ = tmp.write_text("hello")
    >>> out.read_text()
    'hello'
    """
    path = check_writable(path, overwrite)  # never a folder: os.replace cannot put a file there
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    # mkstemp creates the file 0600; give it the permissions a plain open() would.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def replace_path(src: Path, dst: Path) -> None:
    """Move ``src`` (a file or folder) to ``dst``, replacing what is there without deleting it
    first: an existing ``dst`` is moved aside, then removed once ``src`` is in place.

    A folder is replaced only if zphot created it (:func:`is_zphot_folder`);
    callers check that it holds only zphot's files before they start.
    """
    if dst.is_dir() and not is_zphot_folder(dst):
        raise OverwriteError(str(dst), f"{dst}: is a folder zphot did not create; not replacing it")
    if not dst.exists():
        os.replace(src, dst)
        return
    aside = dst.parent / f".{dst.name}.zphot-old-{os.getpid()}"
    os.replace(dst, aside)
    os.replace(src, dst)
    if aside.is_dir():
        shutil.rmtree(aside)
    else:
        aside.unlink()
