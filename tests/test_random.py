"""matgrad.random: the global generator (manual_seed) and Generator, compared with torch.Generator."""
from __future__ import annotations

import pickle

import numpy as np
import pytest

import matgrad as mg
from matgrad import random as mgr
from matgrad.random import Generator, numpy_generator


def _draws(g, n=5):
    return numpy_generator(g).random(n).tolist()


def test_new_generator_starts_from_torchs_default_seed():
    torch = pytest.importorskip("torch")
    assert Generator().initial_seed() == torch.Generator().initial_seed() == mgr.DEFAULT_SEED
    assert _draws(Generator()) == _draws(Generator())  # two new ones: the same stream, as in torch
    assert str(Generator().device) == str(torch.Generator().device) == "cpu"


def test_manual_seed_returns_self_and_reproduces():
    g = Generator()
    assert g.manual_seed(42) is g and g.initial_seed() == 42
    first = _draws(g)
    assert _draws(g) != first  # the stream moves on
    assert _draws(g.manual_seed(42)) == first
    assert _draws(Generator().manual_seed(43)) != first


def test_seed_values_and_errors_match_torch():
    torch = pytest.importorskip("torch")
    for s in (0, 1, 2**63, 2**64 - 1, -1, -(2**63)):
        assert Generator().manual_seed(s).initial_seed() == torch.Generator().manual_seed(s).initial_seed()
    for bad in (2**64, -(2**63) - 1, 1.5, "3"):
        with pytest.raises(Exception) as ours:
            Generator().manual_seed(bad)
        with pytest.raises(Exception) as theirs:
            torch.Generator().manual_seed(bad)
        assert type(ours.value) is type(theirs.value)


def test_seed_picks_a_fresh_seed():
    g = Generator()
    s = g.seed()
    assert isinstance(s, int) and 0 <= s < 2**64 and g.initial_seed() == s
    assert _draws(g) == _draws(Generator().manual_seed(s))


def test_get_state_set_state_round_trip():
    g = Generator().manual_seed(7)
    _draws(g)
    state = g.get_state()
    ahead = _draws(g)
    assert _draws(g.set_state(state)) == ahead
    other = Generator().set_state(state)
    assert other.initial_seed() == 7 and _draws(other) == ahead
    assert _draws(g.clone_state()) == _draws(g)
    state["bit_generator"]["state"]["state"] = 0  # a copy: editing it leaves the generator alone
    assert _draws(Generator().set_state(g.get_state())) == _draws(g)
    assert _draws(pickle.loads(pickle.dumps(g))) == _draws(g.clone_state())
    with pytest.raises(TypeError):
        g.set_state([1, 2])
    with pytest.raises(ValueError):
        g.set_state({"bit_generator": {"bit_generator": "nonsense"}})


def test_generator_is_independent_of_global_seed():
    g = Generator().manual_seed(1)
    mg.manual_seed(0)
    a = _draws(g)
    mg.rand(10)
    g.manual_seed(1)
    mg.manual_seed(123)
    assert _draws(g) == a


def test_global_manual_seed_unchanged():
    mg.manual_seed(3)
    a = mg.rand(4).tolist()
    mg.manual_seed(3)
    assert mg.rand(4).tolist() == a
    assert numpy_generator(None) is mgr.default_generator()


def test_numpy_generator_accepts_every_form():
    g = Generator().manual_seed(2)
    assert numpy_generator(g) is g.numpy_generator()
    rng = np.random.default_rng(0)
    assert numpy_generator(rng) is rng
    assert numpy_generator(5).random() == np.random.default_rng(5).random()
    for bad in ("5", 1.5, True, object()):
        with pytest.raises(TypeError, match="generator must be"):
            numpy_generator(bad)


def test_cuda_generator_refused_here():
    with pytest.raises(RuntimeError, match="CUDA"):
        Generator(device="cuda")


def test_initial_seed_and_seed_without_argument():
    mg.manual_seed(1234)
    assert mgr.initial_seed() == 1234
    s = mgr.seed()
    assert isinstance(s, int) and mgr.initial_seed() == s
    a = mg.rand(3).tolist()
    mg.manual_seed(s)
    assert mg.rand(3).tolist() == a


@pytest.mark.parametrize("draw", [
    lambda g: mg.rand(3, 2, generator=g), lambda g: mg.randn(4, generator=g, dtype=mg.float64),
    lambda g: mg.randint(0, 9, (5,), generator=g), lambda g: mg.randint(9, (5,), generator=g),
    lambda g: mg.rand_like(mg.ones(2, 3), generator=g), lambda g: mg.randn_like(mg.ones(3), generator=g),
    lambda g: mg.randint_like(mg.ones(4), 7, generator=g),
])
def test_factories_take_a_generator(draw):
    """torch.rand/randn/randint(_like)(..., generator=g): the draws come from g alone, and repeat with its seed."""
    mg.manual_seed(123)
    before = mg.get_rng_state()
    first = draw(mg.Generator().manual_seed(7)).numpy()
    assert np.array_equal(mg.get_rng_state(), before)  # the global generator did not move
    np.testing.assert_array_equal(draw(mg.Generator().manual_seed(7)).numpy(), first)
    assert not np.array_equal(draw(mg.Generator().manual_seed(8)).numpy(), first)


def test_like_factories_take_requires_grad():
    t = mg.rand_like(mg.ones(2), requires_grad=True)
    assert t.requires_grad and t.is_leaf and mg.randn_like(mg.ones(2), requires_grad=True).requires_grad
