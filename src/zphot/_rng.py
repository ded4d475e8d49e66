"""Seeds to random generators, in one place.

Every random step in zphot takes ``random_state`` (int | Generator | None). Child streams come from
``(seed, name, index...)`` rather than from call order or from arithmetic on the seed, so results
do not depend on chunking or on how many processes share the work, and two uses of one run seed
never read the same stream.

Two kinds of child stream exist:

- **named** streams, ``child_generator(seed, "galaxy", i)``: the name is mapped to a fixed integer
  (:data:`STREAMS`) and passed with the indices as the SeedSequence's ``spawn_key``, so the
  entropy stays integers, each name has its own family of streams and a named stream never
  equals a numbered one (its assembled entropy is longer, see below);
- **numbered** streams, ``child_generator(seed, k)`` (entropy ``[seed, k]``), kept because the
  networks' validation folds (``k = 0``) and members (``k = 1 + m``) and the mock catalogs
  (``k = 0, 1, 2``) were drawn from them and their results must not change. Stream 0 is the
  run seed's own stream: ``child_generator(seed, 0)`` draws what ``default_rng(seed)`` draws.

numpy pads the run entropy to the pool size (4 words) before appending a spawn key, so a named
stream's entropy is ``[seed, 0, 0, 0, id, *index]`` (at least 5 words) while a numbered one has
at most 4 words for any seed below 2**64: the two families cannot coincide.
"""

from __future__ import annotations

import numpy as np

from .exceptions import ParameterError

__all__ = [
    "RandomState",
    "STREAMS",
    "as_generator",
    "child_generator",
    "child_seed",
    "torch_generator",
]

RandomState = int | np.random.Generator | None

#: Every named stream and its fixed id, with the number of indices it takes. Ids are never
#: reused or renumbered: changing one changes every result drawn from that stream.
STREAMS: dict[str, tuple[int, int]] = {
    # images/simulate.py: bulge fraction, sizes and shapes of a real catalog's galaxies.
    "structure": (1001, 0),
    # images/render.py: galaxy i's centring offset and per-band pixel noise.
    "galaxy": (1002, 1),
    # images/field.py: the galaxies' positions on the simulated field.
    "positions": (1003, 0),
    # images/field.py: band k's pixel noise on the simulated field.
    "band-noise": (1004, 1),
    # debias/estimator.py: cross-fitting fold f's Steps 1-3 (its network's seed).
    "fold": (1005, 1),
    # debias/estimator.py: the partition of the training rows into cross-fitting folds.
    "fold-split": (1006, 0),
    # debias/estimator.py: Step 2's flat (z, magnitude) subset.
    "balance": (1007, 0),
    # debias/estimator.py: Step s's head retraining (initialisation, validation rows, batches).
    "head": (1008, 1),
    # images/estimator.py: ensemble member m's augmentation (flips, rotations, shifts).
    "augment": (1009, 1),
}


def as_generator(random_state: RandomState) -> np.random.Generator:
    """Return a numpy Generator for ``random_state`` (an existing Generator is passed through)."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    return np.random.default_rng(random_state)


def _sequence(seed: int, stream: str | int, index: tuple[int, ...]) -> np.random.SeedSequence:
    if isinstance(stream, str):
        if stream not in STREAMS:
            raise ParameterError(
                f"unknown random stream {stream!r}; add it to zphot._rng.STREAMS "
                f"(known: {', '.join(STREAMS)})"
            )
        ident, arity = STREAMS[stream]
        if len(index) != arity:
            raise ParameterError(
                f"random stream {stream!r} takes {arity} index(es), got {len(index)}"
            )
        return np.random.SeedSequence(int(seed), spawn_key=(ident, *(int(i) for i in index)))
    if index:
        raise ParameterError(f"numbered random stream {stream} takes no index, got {index}")
    return np.random.SeedSequence([int(seed), int(stream)])


def child_generator(seed: int, stream: str | int, *index: int) -> np.random.Generator:
    """The generator of ``stream`` (a name of :data:`STREAMS` with its indices, or a number)
    under run seed ``seed``: independent of call order.

    >>> a = child_generator(0, "galaxy", 1).random()
    >>> a == child_generator(0, "galaxy", 1).random() != child_generator(0, "structure").random()
    True
    """
    return np.random.default_rng(_sequence(seed, stream, index))


def child_seed(seed: int, stream: str | int, *index: int) -> int:
    """An integer seed in [0, 2**62) drawn from :func:`child_generator`'s stream: the seed of a
    nested estimator (``random_state``) or of a torch generator (:func:`torch_generator`)."""
    return int(child_generator(seed, stream, *index).integers(0, 2**62))


def torch_generator(seed: int):  # noqa: ANN201 - torch is imported lazily
    """A seeded ``torch.Generator``; zphot never touches torch's global seed."""
    import torch

    return torch.Generator().manual_seed(int(seed))
