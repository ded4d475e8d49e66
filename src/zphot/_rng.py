"""Seeds to random generators, in one place.

Every random step in zphot takes ``random_state`` (int | Generator | None). Child streams come from
``(seed, index)`` rather than from call order, so results do not depend on chunking or on how many
processes share the work.
"""

from __future__ import annotations

import numpy as np

RandomState = int | np.random.Generator | None


def as_generator(random_state: RandomState) -> np.random.Generator:
    """Return a numpy Generator for ``random_state`` (an existing Generator is passed through)."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    return np.random.default_rng(random_state)


def as_seed(random_state: RandomState) -> int:
    """Return an integer seed (drawn from a Generator when one is given), for torch and LightGBM."""
    if random_state is None:
        return 0
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**31 - 1))
    return int(random_state)


def child_generator(seed: int, index: int) -> np.random.Generator:
    """The generator of object ``index`` under run seed ``seed``: independent of call order."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(index)]))


def torch_generator(seed: int):  # noqa: ANN201 - torch is imported lazily
    """A seeded ``torch.Generator``; zphot never touches torch's global seed."""
    import torch

    return torch.Generator().manual_seed(int(seed))
