"""A lock per output: which zphot run writes a folder (pid and host), and whether it still runs.

A run that fills a folder over minutes or hours (a streamed predict's work folder, a network's
checkpoint folder) holds :data:`LOCK` in it. A second run to the same output is refused while
the owner lives; a lock whose owner died (same host, pid gone or reused) is taken over only
where the caller allows it (``--resume`` / ``--overwrite``); a lock from another host cannot
be checked from here, so it is refused with the file to delete once that run is known to be
over.

The lock is a file created with ``O_CREAT | O_EXCL`` rather than a ``filelock`` lock: its
``FileLock`` (``flock``) vanishes with its process and its ``SoftFileLock`` breaks a dead
owner's lock by itself, while zphot must notice a dead owner and leave the choice to the user
(a killed run's parts are resumable), and must name the owner in its message.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

from ..exceptions import OutputLockedError

__all__ = [
    "LOCK",
    "Owner",
    "OutputLock",
    "claim_folder",
    "held",
    "release_on_error",
]

#: The lock file's name inside the folder it guards.
LOCK = "_zphot.lock"

#: What a dead owner's message suggests, unless the caller says otherwise.
RESUME_HINT = "pass --resume to continue it or --overwrite to start again"

# The locks each thread holds, so that :func:`release_on_error` can release those a failed call
# took without the call having to wrap its whole body in ``try``.
_local = threading.local()

F = TypeVar("F", bound=Callable[..., Any])


def _held_locks() -> list[OutputLock]:
    if not hasattr(_local, "held"):
        _local.held = []
    return _local.held


def _start_token(pid: int) -> str | None:
    """When process ``pid`` started (Linux clock ticks since boot), to tell a reused pid from
    the owner; None where /proc is not available. A zombie counts as gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # the command name may hold spaces
    return "zombie" if fields[0] == "Z" else fields[19]


@dataclass(frozen=True)
class Owner:
    """Who holds a lock: pid, host, process start token and the time it was taken (UTC)."""

    pid: int
    host: str
    start: str | None
    since: str

    @classmethod
    def me(cls) -> Owner:
        pid = os.getpid()
        since = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
        return cls(pid, socket.gethostname(), _start_token(pid), since)

    @classmethod
    def read(cls, path: Path) -> Owner | None:
        """The owner recorded in lock file ``path``; None if it is empty or unreadable (a run
        killed between creating the file and writing it)."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            owner = cls(int(data["pid"]), str(data["host"]), data.get("start"), str(data["since"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return owner if owner.pid > 0 else None

    def state(self) -> str:
        """``alive``, ``dead`` (same host, process gone or pid reused) or ``unknown`` (another
        host)."""
        if self.host != socket.gethostname():
            return "unknown"
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return "dead"
        except PermissionError:
            pass  # it exists, under another user
        now = _start_token(self.pid)
        if now == "zombie" or (self.start is not None and now is not None and now != self.start):
            return "dead"
        return "alive"

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host}, since {self.since}"


class OutputLock:
    """A held lock file; :meth:`release` removes it if it is still this process's."""

    def __init__(self, path: Path, owner: Owner) -> None:
        self.path, self.owner = path, owner

    @classmethod
    def acquire(
        cls, path: str | os.PathLike, target: str, takeover: bool, hint: str = RESUME_HINT
    ) -> OutputLock:
        """Create lock file ``path`` for this process, for the output named ``target``.

        Raises
        ------
        OutputLockedError
            The owner still runs, or runs on another host, or died and ``takeover`` is false
            (the message then ends with ``hint``).
        """
        path = Path(path)
        me = Owner.me()
        for _ in range(3):  # a lock that vanishes or appears meanwhile: look again
            if _create(path, me):
                lock = cls(path, me)
                _held_locks().append(lock)
                return lock
            owner = Owner.read(path)
            state = "dead" if owner is None else owner.state()
            who = "unknown owner" if owner is None else owner.describe()
            if state == "alive":
                raise OutputLockedError(
                    str(target),
                    f"{target}: another zphot run is writing it ({who}); wait for it to "
                    "finish, or stop it first",
                )
            if state == "unknown":
                raise OutputLockedError(
                    str(target),
                    f"{target}: locked by a zphot run on another host ({who}), which cannot be "
                    f"checked from here; once that run is over, delete {path} and run again",
                )
            if not takeover:
                raise OutputLockedError(
                    str(target),
                    f"{target}: a zphot run writing it stopped without finishing ({who}); {hint}",
                )
            _remove_stale(path, owner)
        raise OutputLockedError(str(target), f"{target}: its lock {path} keeps changing; retry")

    def release(self) -> None:
        """Remove the lock file, unless another run has taken it over meanwhile."""
        if Owner.read(self.path) == self.owner:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
        with contextlib.suppress(ValueError):
            _held_locks().remove(self)


def release_on_error(func: F) -> F:
    """Decorate a function that takes locks: if it raises (an error, Ctrl-C), the locks it
    took and still holds are released. On success it releases them itself."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        before = len(_held_locks())
        try:
            return func(*args, **kwargs)
        except BaseException:
            for lock in _held_locks()[before:]:
                lock.release()
            raise

    return wrapper  # type: ignore[return-value]


def _create(path: Path, owner: Owner) -> bool:
    """Create ``path`` holding ``owner``; False if it exists. O_EXCL makes exactly one of two
    simultaneous runs succeed."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(asdict(owner)))
        fh.flush()
        os.fsync(fh.fileno())
    return True


def _remove_stale(path: Path, owner: Owner | None) -> None:
    """Remove a dead owner's lock. It is first renamed to a name of this process's own, so two
    runs taking over at once cannot both remove it; one that turns out to be another's fresh
    lock is put back."""
    aside = path.with_name(f"{path.name}.stale-{os.getpid()}")
    try:
        os.rename(path, aside)
    except FileNotFoundError:
        return
    if Owner.read(aside) != owner:
        with contextlib.suppress(FileExistsError):
            os.link(aside, path)
    aside.unlink()


@contextlib.contextmanager
def held(path: str | os.PathLike, target: str, takeover: bool) -> Iterator[OutputLock]:
    """:meth:`OutputLock.acquire` as a context: released however the block ends."""
    lock = OutputLock.acquire(path, target, takeover)
    try:
        yield lock
    finally:
        lock.release()


def claim_folder(
    folder: str | os.PathLike,
    marker: dict,
    target: str,
    takeover: bool,
    hint: str = RESUME_HINT,
) -> tuple[OutputLock, bool]:
    """Lock ``folder`` for this run, creating it if missing; return the lock and whether this
    call created the folder.

    A new folder is built under a temporary name with zphot's marker (``marker`` written as
    :data:`~zphot.io.atomic.MARKER`) and the lock inside, then renamed into place, so another
    run never sees it half made: it finds the folder locked, or no folder. An existing folder
    gets the lock of :meth:`OutputLock.acquire`; what it holds is the caller's business.
    """
    from .atomic import MARKER, atomic_path

    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(3):
        if folder.exists():
            return OutputLock.acquire(folder / LOCK, target, takeover, hint), False
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".new", dir=folder.parent))
        with atomic_path(tmp / MARKER) as part:
            part.write_text(json.dumps(marker, indent=1), encoding="utf-8")
        lock = OutputLock.acquire(tmp / LOCK, target, takeover=False)
        try:
            os.rename(tmp, folder)  # fails if another run's folder (never empty) appeared
        except OSError:
            lock.release()
            shutil.rmtree(tmp)
            continue
        lock.path = folder / LOCK
        return lock, True
    raise OutputLockedError(str(target), f"{target}: {folder} keeps appearing and vanishing; retry")
