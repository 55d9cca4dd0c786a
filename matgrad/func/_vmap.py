"""torch.func.vmap as a Python loop, and stack_module_state for ensembles."""
from __future__ import annotations

import functools
from typing import Any, Callable, Sequence

from .. import random as _random
from ..ops.join import stack
from ..tensor import Tensor
from ._pytree import broadcast_prefix, tree_flatten, tree_unflatten

__all__ = ["vmap", "stack_module_state"]


def _name(func: Any) -> str:
    if isinstance(func, functools.partial):
        return f"functools.partial({_name(func.func)}, ...)"
    return getattr(func, "__name__", repr(func))


def vmap(func: Callable[..., Any], in_dims: Any = 0, out_dims: Any = 0, randomness: str = "error", *,
         chunk_size: int | None = None) -> Callable[..., Any]:
    """func mapped over a dimension of its inputs: calls func once per index of the mapped dimension, on the
    slices, and stacks the results along out_dims.

    Correct, not fast: this is a loop of Python calls (torch batches the operations instead), so a function
    that cannot run on one unbatched slice cannot be vmapped here either. in_dims gives, per positional
    argument (nested as the arguments are), the dimension to map or None to pass the argument whole; kwargs
    are never mapped. randomness: 'same' replays the random state for each slice; 'different' and 'error'
    both let each slice draw its own numbers (the loop cannot detect random calls to raise on them).
    chunk_size is checked and otherwise has no effect. Composes with grad and the other transforms.
    """
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or 'same'. Got "
                           f"{randomness}")
    if chunk_size is not None and not (isinstance(chunk_size, int) and chunk_size > 0):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got {chunk_size})")

    @functools.wraps(func)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        name = _name(func)
        flat_args, args_spec = tree_flatten(args)
        flat_dims = _in_dims_per_leaf(name, in_dims, args, args_spec)
        size = _batch_size(name, in_dims, flat_args, flat_dims)
        state = _random.get_rng_state() if randomness == "same" else None
        outputs = []
        for i in range(size):
            sliced = [x if d is None else x.select(d, i) for x, d in zip(flat_args, flat_dims)]
            if state is not None:
                _random.set_rng_state(state)
            outputs.append(func(*tree_unflatten(sliced, args_spec), **kwargs))
        return _stack_outputs(name, outputs, out_dims)

    return wrapped


def _in_dims_per_leaf(name: str, in_dims: Any, args: tuple[Any, ...], args_spec: Any) -> list[Any]:
    if not isinstance(in_dims, (int, tuple)) and in_dims is not None:
        raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): expected `in_dims` to be int or a "
                         f"(potentially nested) tuple matching the structure of inputs, got: {type(in_dims)}.")
    if not args:
        raise ValueError(f"vmap({name})(<inputs>): got no inputs. Maybe you forgot to add inputs, or you are "
                         "trying to vmap over a function with no inputs. The latter is unsupported.")
    flat_dims = broadcast_prefix(in_dims, args)
    if flat_dims is None:
        raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): in_dims is not compatible with the "
                         f"structure of `inputs`. in_dims has structure {tree_flatten(in_dims)[1]} but inputs has "
                         f"structure {args_spec}.")
    return flat_dims


def _batch_size(name: str, in_dims: Any, flat_args: list[Any], flat_dims: list[Any]) -> int:
    """The mapped size, checking each in_dim against its argument; flat_dims is made non-negative in place."""
    sizes = []
    for k, (x, d) in enumerate(zip(flat_args, flat_dims)):
        if d is None:
            continue
        if not isinstance(d, int) or isinstance(d, bool):
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} for an input but "
                             "in_dim must be either an integer dimension or None.")
        if not isinstance(x, Tensor):
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} for an input but "
                             f"the input is of type {type(x)}. We cannot vmap over non-Tensor arguments, please "
                             "use None as the respective in_dim")
        if not -x.dim() <= d < x.dim():
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} for some input, but "
                             f"that input is a Tensor of dimensionality {x.dim()} so expected in_dim to satisfy "
                             f"-{x.dim()} <= in_dim < {x.dim()}.")
        flat_dims[k] = d % x.dim()
        sizes.append(int(x.shape[flat_dims[k]]))
    if not sizes:
        raise ValueError("vmap: Expected at least one Tensor to vmap over")
    if len(set(sizes)) > 1:
        raise ValueError(f"vmap: Expected all tensors to have the same size in the mapped dimension, got sizes "
                         f"{sizes} for the mapped dimension")
    if sizes[0] == 0:
        raise ValueError(f"vmap({name}): the mapped dimension has size 0; matgrad's vmap calls the function once "
                         "per index, so it needs at least one")
    return sizes[0]


def _stack_outputs(name: str, outputs: list[Any], out_dims: Any) -> Any:
    flat0, out_spec = tree_flatten(outputs[0])
    flats = [flat0]
    for out in outputs[1:]:
        flat, spec = tree_flatten(out)
        if spec != out_spec:
            raise ValueError(f"vmap({name}, ...): `{name}` returned outputs of different structures for different "
                             "slices of the mapped dimension")
        flats.append(flat)
    for x in flat0:
        if not isinstance(x, Tensor):
            raise ValueError(f"vmap({name}, ...): `{name}` must only return Tensors, got type {type(x)}. Did you "
                             "mean to set out_dims= to None for output?")
    if not isinstance(out_dims, (int, tuple, list, dict)) and out_dims is not None:
        raise ValueError(f"vmap({name}, ..., out_dims={out_dims}): `out_dims` must be an int, None or a python "
                         "collection of ints representing where in the outputs the vmapped dimension should "
                         "appear.")
    flat_out_dims = broadcast_prefix(out_dims, outputs[0])
    if flat_out_dims is None and isinstance(out_dims, tuple) and len(out_dims) == 1:
        flat_out_dims = broadcast_prefix(out_dims[0], outputs[0])  # torch lets (d,) stand for one output
    if flat_out_dims is None:
        raise ValueError(f"vmap({name}, ..., out_dims={out_dims})(<inputs>): out_dims is not compatible with the "
                         f"structure of `outputs`. out_dims has structure {tree_flatten(out_dims)[1]} but outputs "
                         f"has structure {out_spec}.")
    result = []
    for k, d in enumerate(flat_out_dims):
        column = [flat[k] for flat in flats]
        if d is None:
            result.append(column[0])  # torch requires such an output not to depend on the mapped inputs
            continue
        ndim = column[0].dim() + 1
        if not isinstance(d, int) or not -ndim <= d < ndim:
            raise ValueError(f"vmap({name}, ..., out_dims={out_dims}): Dimension out of range (expected to be in "
                             f"range of [{-ndim}, {ndim - 1}], but got {d})")
        result.append(stack(column, dim=d))
    return tree_unflatten(result, out_spec)


def stack_module_state(models: Sequence[Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(params, buffers): each model's parameters and buffers stacked on a new first axis, by name. The
    stacked parameters are new leaves (requires_grad as the models' are) to optimize and vmap over."""
    models = list(models)
    if len(models) == 0:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if not (all(m.training for m in models) or all(not m.training for m in models)):
        raise RuntimeError("stack_module_state: Expected all models to have the same training/eval mode.")
    if not all(type(m) is type(models[0]) for m in models):
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")

    def stacked(tensors: tuple[Tensor, ...], name: str) -> Tensor:
        all_grad = all(t.requires_grad for t in tensors)
        if not all_grad and any(t.requires_grad for t in tensors):
            raise RuntimeError(f"Expected {name} from each model to have the same .requires_grad")
        result = stack(tensors)
        return result.detach().requires_grad_() if all_grad else result

    all_params = [dict(m.named_parameters()) for m in models]
    all_buffers = [dict(m.named_buffers()) for m in models]
    params = {k: stacked(tuple(p[k] for p in all_params), k) for k in all_params[0]}
    buffers = {k: stacked(tuple(b[k] for b in all_buffers), k) for k in all_buffers[0]}
    return params, buffers
