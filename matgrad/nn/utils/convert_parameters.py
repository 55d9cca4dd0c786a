"""Flatten parameters into one vector and back (for line searches, second-order methods...)."""
from __future__ import annotations

from typing import Iterable

import numpy as np

from ...ops.join import cat
from ...ops.shape import reshape
from ...tensor import Tensor


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters, flattened and concatenated in order, as one 1-D tensor (differentiable)."""
    params = list(parameters)
    if not params:
        raise ValueError("parameters_to_vector: got no parameters")
    return cat([reshape(p, (-1,)) for p in params])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of `vec` into each parameter's values, in place."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected vec to be a Tensor, but got: {type(vec).__name__}")
    params = list(parameters)
    total = sum(p.array.size for p in params)
    if vec.ndim != 1 or vec.shape[0] != total:
        raise ValueError(
            f"vector_to_parameters: vec has shape {vec.shape} but the parameters hold {total} values; "
            "expected a 1-D tensor of that length"
        )
    i = 0
    for p in params:
        n = p.array.size
        np.copyto(p.array, vec.array[i:i + n].reshape(p.array.shape), casting="unsafe")
        i += n
