"""The random number generator behind every random factory, init and shuffle."""
from __future__ import annotations

import numpy as np

_generator = [np.random.default_rng()]


def manual_seed(seed: int) -> np.random.Generator:
    """Make everything random in matgrad (factories, init, dropout, shuffling) reproducible."""
    _generator[0] = np.random.default_rng(int(seed))
    return _generator[0]


def seed(s: int) -> np.random.Generator:
    """Alias of manual_seed."""
    return manual_seed(s)


def default_generator() -> np.random.Generator:
    """The generator in use now."""
    return _generator[0]


def get_rng_state() -> dict:
    """The generator's state, for checkpoints."""
    return _generator[0].bit_generator.state


def set_rng_state(state: dict) -> None:
    """Restore a state from get_rng_state()."""
    _generator[0].bit_generator.state = state
