"""Seeds from one place (zphot._rng): named streams are distinct and stable, no two uses of a run
seed share a stream, and the torch helper is reproducible."""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import numpy as np
import pytest

from zphot._rng import STREAMS, child_generator, child_seed, torch_generator
from zphot.exceptions import ParameterError

SRC = Path(__file__).resolve().parents[1] / "src" / "zphot"


def _first_words(gen: np.random.Generator) -> tuple[int, ...]:
    return tuple(int(v) for v in gen.integers(0, 2**63, size=4))


def _every_stream(seed: int) -> dict[tuple, tuple[int, ...]]:
    """First draws of every named stream (indices 0-4 where it takes one), of the numbered
    streams 0-9 (the networks' folds and members, the mock catalogs)."""
    out = {}
    for name, (_, arity) in STREAMS.items():
        for index in itertools.product(range(5), repeat=arity):
            out[(name, *index)] = _first_words(child_generator(seed, name, *index))
    for k in range(10):
        out[(k,)] = _first_words(child_generator(seed, k))
    return out


@pytest.mark.parametrize("seed", [0, 1, 42, 2**40 + 7])
def test_named_streams_differ_from_each_other_and_from_numbered_ones(seed: int) -> None:
    draws = _every_stream(seed)
    # Stream 0 is the seed's own stream (default_rng(seed)); everything else is distinct.
    assert draws[(0,)] == _first_words(np.random.default_rng(seed))
    assert len(set(draws.values())) == len(draws)


def test_stream_ids_are_unique_and_fixed() -> None:
    ids = [ident for ident, _ in STREAMS.values()]
    assert len(set(ids)) == len(ids)
    # Stable: a named stream is numpy's SeedSequence with the name's id as spawn key, derived
    # here from numpy directly; a changed id or derivation changes every result drawn from it.
    expected = np.random.default_rng(np.random.SeedSequence(7, spawn_key=(1002, 3))).random(3)
    np.testing.assert_array_equal(child_generator(7, "galaxy", 3).random(3), expected)
    assert STREAMS["structure"] == (1001, 0) and STREAMS["galaxy"] == (1002, 1)


def test_numbered_streams_keep_the_network_seeds() -> None:
    # The networks' member seeds were int(default_rng(SeedSequence([seed, 1 + m])).integers(0,
    # 2**62)) before the helper existed; child_seed must give the same numbers (bit-identical
    # catalog results).
    for seed, m in [(0, 0), (0, 4), (123, 1)]:
        old = int(np.random.default_rng(np.random.SeedSequence([seed, 1 + m])).integers(0, 2**62))
        assert child_seed(seed, 1 + m) == old


def test_member_seed_uses_the_numbered_stream() -> None:
    from zphot.estimators.mlp import MLPEstimator

    est = MLPEstimator(random_state=5)
    assert [est._member_seed(m) for m in range(3)] == [child_seed(5, 1 + m) for m in range(3)]


def test_wrong_stream_use_is_refused() -> None:
    with pytest.raises(ParameterError, match="unknown random stream 'nope'"):
        child_generator(0, "nope")
    with pytest.raises(ParameterError, match="'galaxy' takes 1 index"):
        child_generator(0, "galaxy")
    with pytest.raises(ParameterError, match="numbered random stream 3 takes no index"):
        child_generator(0, 3, 1)


def test_child_seed_is_in_range_and_varies_with_the_index() -> None:
    seeds = [child_seed(0, "fold", f) for f in range(20)]
    assert len(set(seeds)) == 20 and all(0 <= s < 2**62 for s in seeds)


def test_torch_generator_is_reproducible_and_leaves_the_global_seed_alone() -> None:
    torch = pytest.importorskip("torch")
    state = torch.random.get_rng_state()
    a = torch.rand(5, generator=torch_generator(3))
    b = torch.rand(5, generator=torch_generator(3))
    c = torch.rand(5, generator=torch_generator(4))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert torch.equal(torch.random.get_rng_state(), state)
    # Same as seeding a torch generator by hand (what the helper replaced).
    assert torch.equal(a, torch.rand(5, generator=torch.Generator().manual_seed(3)))


# --- static checks over the package source ---------------------------------------------------


def _calls(name: str) -> list[tuple[Path, ast.Call]]:
    out = []
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                f = node.func
                called = f.id if isinstance(f, ast.Name) else getattr(f, "attr", None)
                if called == name:
                    out.append((path, node))
    return out


def test_each_named_stream_is_used_in_one_module_only() -> None:
    users: dict[str, set[str]] = {}
    for fn in ("child_generator", "child_seed"):
        for path, call in _calls(fn):
            arg = call.args[1] if len(call.args) > 1 else None
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                users.setdefault(arg.value, set()).add(path.relative_to(SRC).as_posix())
    assert set(users) == set(STREAMS), "every named stream is used, and only those"
    shared = {name: files for name, files in users.items() if len(files) > 1}
    assert not shared, f"streams used by several modules: {shared}"


def test_numbered_streams_only_where_results_must_not_change() -> None:
    # The networks' folds and members and the mock catalogs keep their numbered streams; any
    # other random step takes a named one.
    allowed = {"estimators/nn/network.py", "sim/mock.py"}
    numbered = set()
    for fn in ("child_generator", "child_seed"):
        for path, call in _calls(fn):
            arg = call.args[1] if len(call.args) > 1 else None
            if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                numbered.add(path.relative_to(SRC).as_posix())
    assert numbered - {"_rng.py"} <= allowed


def test_no_torch_generator_seeded_outside_rng() -> None:
    seeded = {p.relative_to(SRC).as_posix() for p, _ in _calls("manual_seed")}
    assert seeded == {"_rng.py"}


def test_no_seed_arithmetic() -> None:
    # A seed plus an offset (seed + 1, seed + 1000 * (f + 1), noise_seed + k) lands on another
    # use's stream; child streams are named instead.
    found = []
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub):
                for side in (node.left, node.right):
                    name = side.id if isinstance(side, ast.Name) else getattr(side, "attr", "")
                    if "seed" in name:
                        found.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert not found, found
