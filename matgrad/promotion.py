"""torch's dtype promotion as functions: result_type, promote_types, can_cast.

They use the rule matgrad's ops use (matgrad.ops.arithmetic's `_promote`: the higher category of bool < integer <
float wins, and within one category NumPy's promotion, which is torch's for the dtypes matgrad has), so
`result_type(a, b)` is the dtype `a + b` comes out as. result_type ranks its operands as torch does: tensors with
dimensions first, then 0-d tensors, then Python numbers; a lower rank only counts when it is of a higher category
(a float32 tensor plus a float64 0-d tensor stays float32, an int32 tensor plus a float64 0-d tensor is float64,
an int32 tensor plus 2.5 is the default float dtype, an int32 0-d tensor plus 5 stays int32).

Here (unlike in this package's dtypes module) Tensor is known, which is why these live on their own: dtypes.py
is below tensor.py in the import order.
"""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from . import dtypes as _dtypes
from .ops.arithmetic import _category, _promote
from .tensor import Tensor, get_default_dtype

__all__ = ["result_type", "promote_types", "can_cast"]

#: Python's types that torch takes as dtypes (torch.promote_types(torch.float32, float) is float64)
_PYTHON_TYPES = {float: np.dtype(np.float64), int: np.dtype(np.int64), bool: np.dtype(np.bool_)}


def _dtype_arg(fn: str, name: str, position: int, value: Any) -> np.dtype:
    """A dtype argument as NumPy's dtype; strings and other objects are a TypeError, as in torch."""
    if isinstance(value, _dtypes.dtype):
        return value.dtype
    if isinstance(value, type) and value in _PYTHON_TYPES:
        return _PYTHON_TYPES[value]
    if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
        dt = np.dtype(value)
        if dt not in _dtypes.dtype._interned:
            raise TypeError(f"{fn}(): matgrad has no {dt.name} dtype (no complex, bfloat16 or wide unsigned types); "
                            "use one of float16/32/64, int8/16/32/64, uint8 or bool")
        return dt
    raise TypeError(f"{fn}(): argument '{name}' (position {position}) must be matgrad.dtype, "
                    f"not {type(value).__name__}")


def promote_types(type1: Any, type2: Any) -> _dtypes.dtype:
    """The smallest dtype both `type1` and `type2` convert to without leaving their category (torch's table)."""
    return _dtypes.of(_promote(_dtype_arg("promote_types", "type1", 1, type1),
                               _dtype_arg("promote_types", "type2", 2, type2)))


def can_cast(from_: Any, to: Any) -> bool:
    """Whether torch's casting rules allow `from_` to `to`: never down a category (float to int or bool, int to
    bool); narrowing within one (float64 to float16, int64 to uint8) is allowed."""
    src = _dtype_arg("can_cast", "from_", 1, from_)
    dst = _dtype_arg("can_cast", "to", 2, to)
    return _category(src) <= _category(dst)


def _scalar_dtype(x: Any) -> np.dtype:
    """The dtype a Python (or NumPy) number counts as: bool, int64, or the default float dtype."""
    if isinstance(x, (bool, np.bool_)):
        return np.dtype(np.bool_)
    if isinstance(x, (numbers.Integral, np.integer)):
        return np.dtype(np.int64)
    if isinstance(x, (numbers.Real, np.floating)):
        return np.dtype(get_default_dtype())
    if isinstance(x, numbers.Complex):
        raise TypeError("result_type(): matgrad has no complex dtypes; give real numbers")
    raise TypeError(f"result_type(): expected a Tensor or a number, got {type(x).__name__}")


def _combine(higher: np.dtype | None, lower: np.dtype | None) -> np.dtype | None:
    """torch's combine_categories: a lower-ranked dtype counts only if its category is higher (or higher is bool)."""
    if higher is None:
        return lower
    if lower is None or _category(higher) == 2:
        return higher
    if higher.kind == "b" or _category(lower) == 2:
        return _promote(higher, lower)
    return higher


def result_type(tensor1: Any, tensor2: Any) -> _dtypes.dtype:
    """The dtype an arithmetic op on `tensor1` and `tensor2` (Tensors or numbers) returns, by torch's rules."""
    ranks: list[np.dtype | None] = [None, None, None]  # tensors with dims, 0-d tensors, Python numbers
    for x in (tensor1, tensor2):
        if isinstance(x, Tensor):
            rank, dt = (0 if x.ndim else 1), x.array.dtype
        else:
            rank, dt = 2, _scalar_dtype(x)
        ranks[rank] = _promote(ranks[rank], dt)
    return _dtypes.of(_combine(ranks[0], _combine(ranks[1], ranks[2])))
