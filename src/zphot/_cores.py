"""How many cores this process may use, in one place."""

from __future__ import annotations

import os


def available_cores() -> int:
    """Cores this process may use: its CPU affinity (a container's or a job's share), not the
    machine's count, where the platform reports it."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1
