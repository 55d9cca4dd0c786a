"""The random number generator behind every random factory, init and shuffle.

manual_seed / seed / initial_seed / get_rng_state / set_rng_state drive the global generator.
default_generator       torch.default_generator: that global generator as a Generator object
Generator()             torch.Generator: a seedable stream of its own, for `generator=` arguments
numpy_generator(g)      the NumPy Generator behind a `generator=` argument (None: the global one)
"""
from __future__ import annotations

import copy
import sys
from typing import Any

import numpy as np

from . import devices as _devices
from .devices import resolve


def _entropy_seed() -> int:
    """A 64-bit seed from the operating system's entropy."""
    return int(np.random.SeedSequence().generate_state(1, np.uint64)[0])


_initial_seed = [_entropy_seed()]  # unseeded, each process starts somewhere new (PyTorch starts at DEFAULT_SEED)
_generator = [np.random.default_rng(_initial_seed[0])]


def manual_seed(seed: int) -> np.random.Generator:
    """Make everything random in matgrad (factories, init, dropout, shuffling) reproducible; seeds every device."""
    # matgrad draws on the host and moves the numbers, so a seed gives the same values on every device;
    # the device generators (CuPy's) are seeded as torch.manual_seed does, for code that draws from them
    _generator[0] = np.random.default_rng(int(seed))
    _initial_seed[0] = int(seed)
    _seed_devices(int(seed))
    return _generator[0]


def _seed_devices(seed: int) -> None:
    """Seed the CUDA backend's generators if one is in use; never imports CuPy just for this."""
    state = _devices._cuda  # [backend, why not, looked yet]: asking cuda_backend() would import CuPy
    backend = state[0] if state[2] else (_devices.cuda_backend() if "cupy" in sys.modules else None)
    if backend is not None:
        backend.seed(seed % 2**64)


def seed(s: int | None = None) -> Any:
    """seed(s): alias of manual_seed. seed(): a fresh seed from the OS's entropy, returned (as torch.seed())."""
    if s is not None:
        return manual_seed(s)
    fresh = _entropy_seed()
    manual_seed(fresh)
    return fresh


def initial_seed() -> int:
    """The seed the global generator last started from (in a DataLoader worker: base_seed + worker id)."""
    return _initial_seed[0]


def get_rng_state() -> dict:
    """The generator's state, for checkpoints."""
    return _generator[0].bit_generator.state


def set_rng_state(state: dict) -> None:
    """Restore a state from get_rng_state()."""
    _generator[0].bit_generator.state = state


#: PyTorch's seed for a new Generator: `torch.Generator().initial_seed()` is this number.
DEFAULT_SEED = 67280421310721
_SEED_MIN, _SEED_MAX = -(1 << 63), (1 << 64) - 1


def _check_seed(seed: Any) -> int:
    """`seed` as PyTorch takes it: an int in [-2**63, 2**64); a negative one wraps to its uint64 value."""
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise RuntimeError(f"manual_seed expected a long, but got {type(seed).__name__}")
    seed = int(seed)
    if not _SEED_MIN <= seed <= _SEED_MAX:
        raise ValueError(f"Overflow when unpacking long long: seed {seed} is outside [-2**63, 2**64)")
    return seed + (1 << 64) if seed < 0 else seed


class Generator:
    """torch.Generator: a seedable stream of random numbers of its own, apart from the global one.

    Pass it as `generator=` to DataLoader, random_split, randperm and the samplers. A new Generator
    starts from PyTorch's default seed (DEFAULT_SEED), so two new ones give the same stream until
    seeded; `manual_seed(s)` returns the generator, for `Generator().manual_seed(42)`.
    Backed by a NumPy Generator (`numpy_generator()`); the numbers differ from PyTorch's.
    """

    def __init__(self, device: Any = "cpu") -> None:
        self.device = resolve(device)
        self._initial_seed = DEFAULT_SEED
        self._rng = np.random.default_rng(DEFAULT_SEED)

    def manual_seed(self, seed: int) -> Generator:
        """Restart the stream from `seed` (an int; negative ones wrap as uint64); returns self."""
        self._initial_seed = _check_seed(seed)
        self._rng = np.random.default_rng(self._initial_seed)
        return self

    def seed(self) -> int:
        """Seed from the operating system's entropy; returns the seed chosen (a 64-bit int)."""
        s = _entropy_seed()
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        """The seed the stream was last started from."""
        return self._initial_seed

    def get_state(self) -> dict:
        """A copy of the state (a dict, as matgrad.get_rng_state; PyTorch gives a uint8 tensor)."""
        return {"initial_seed": self._initial_seed, "bit_generator": copy.deepcopy(self._rng.bit_generator.state)}

    def set_state(self, new_state: dict) -> Generator:
        """Restore a state from get_state() (or a bit-generator state dict); returns self."""
        if not isinstance(new_state, dict):
            raise TypeError(f"Generator.set_state: expected a state from get_state(), got {type(new_state).__name__}")
        inner = new_state.get("bit_generator", new_state)
        rng = np.random.default_rng(0)
        try:
            rng.bit_generator.state = copy.deepcopy(inner)
        except (TypeError, ValueError, KeyError) as exc:
            raise ValueError(f"Generator.set_state: not a state from get_state(): {exc}") from None
        self._rng = rng
        self._initial_seed = int(new_state.get("initial_seed", self._initial_seed))
        return self

    def clone_state(self) -> Generator:
        """A new Generator at this one's state (PyTorch's clone_state)."""
        return Generator(self.device).set_state(self.get_state())

    def numpy_generator(self) -> np.random.Generator:
        """The NumPy Generator that draws this stream (shared: drawing from it advances this one)."""
        return self._rng

    def __repr__(self) -> str:
        return f"<matgrad.Generator device={self.device} initial_seed={self._initial_seed}>"


class _DefaultGenerator(Generator):
    """torch.default_generator: the global generator as a Generator object, the one manual_seed seeds.

    Its state is the module's (it and manual_seed, seed, get_rng_state ... act on one stream), so
    `matgrad.default_generator.manual_seed(1)` is `matgrad.manual_seed(1)`, and it can be passed as
    `generator=` anywhere. Called, it gives the NumPy Generator drawing the stream now (matgrad's own
    draws use `default_generator()`).
    """

    def __init__(self) -> None:
        self.device = resolve("cpu")

    @property
    def _rng(self) -> np.random.Generator:
        return _generator[0]

    @_rng.setter
    def _rng(self, rng: np.random.Generator) -> None:  # set_state: the global stream continues from there
        _generator[0] = rng

    @property
    def _initial_seed(self) -> int:
        return _initial_seed[0]

    @_initial_seed.setter
    def _initial_seed(self, seed: int) -> None:
        _initial_seed[0] = seed

    def manual_seed(self, seed: int) -> Generator:
        """manual_seed(seed): seeds the global stream (and the devices' generators); returns self."""
        manual_seed(_check_seed(seed))
        return self

    def seed(self) -> int:
        """Seed the global stream from the operating system's entropy; returns the seed."""
        return seed()

    def __call__(self) -> np.random.Generator:
        return _generator[0]

    def __reduce__(self) -> str:
        return "default_generator"  # pickle and copy give back this one object

    def __repr__(self) -> str:
        return f"<matgrad.default_generator device={self.device} initial_seed={_initial_seed[0]}>"


#: torch.default_generator; `default_generator()` is the NumPy Generator it draws from now.
default_generator = _DefaultGenerator()


def numpy_generator(generator: Any = None) -> np.random.Generator:
    """The NumPy Generator to draw from for a `generator=` argument.

    None: the global generator (the one manual_seed sets); a matgrad Generator: its stream;
    a numpy.random.Generator: itself; an int: a new NumPy Generator seeded by it.
    """
    if generator is None:
        return _generator[0]
    if isinstance(generator, Generator):
        return generator._rng
    if isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, (int, np.integer)) and not isinstance(generator, (bool, np.bool_)):
        return np.random.default_rng(_check_seed(generator))
    raise TypeError(
        "generator must be a matgrad.Generator, a numpy.random.Generator, an int seed or None, "
        f"got {type(generator).__name__}"
    )
