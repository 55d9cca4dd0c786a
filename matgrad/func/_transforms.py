"""torch.func's autodiff transforms (grad, grad_and_value, vjp, jvp, jacrev, jacfwd, hessian) on matgrad's
reverse-mode engine.

Each transform runs `func` on fresh differentiable copies of its inputs and differentiates with
matgrad.autograd.grad. Inside another transform (or where an input already requires grad) the results
stay on the graph (create_graph=True), so transforms compose: grad(grad(f)), jacrev(grad(f)), vmap(grad(f)).
At the top level, with no input requiring grad, results come back detached as torch's do. One difference:
torch also keeps the graph where only a tensor the function closes over requires grad; matgrad cannot see
those and returns detached results then (pass such tensors as arguments to differentiate through them).
"""
from __future__ import annotations

import contextlib
import functools
from typing import Any, Callable, Iterator

from ..autograd import grad_mode
from ..autograd.functional import _autograd_grad, _zeros_like
from ..ops.join import stack
from ..tensor import Tensor
from ._pytree import tree_flatten, tree_unflatten

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian"]

_depth = [0]  # how many transforms are running now: inside one, results must keep their graph


@contextlib.contextmanager
def _transform() -> Iterator[None]:
    _depth[0] += 1
    try:
        with grad_mode.enable_grad():  # as torch: a transform differentiates even under no_grad
            yield
    finally:
        _depth[0] -= 1


def _keep_graph(*trees: Any) -> bool:
    """Whether the results must stay differentiable: inside another transform, or an input requires grad."""
    if not grad_mode.is_grad_enabled():
        return False
    if _depth[0] > 0:
        return True
    return any(isinstance(x, Tensor) and x.requires_grad for tree in trees for x in tree_flatten(tree)[0])


def _detach(tree: Any, keep: bool) -> Any:
    if keep:
        return tree
    leaves, spec = tree_flatten(tree)
    return tree_unflatten([x.detach() if isinstance(x, Tensor) else x for x in leaves], spec)


def _differentiable(x: Any) -> Tensor:
    """A fresh tensor to differentiate with respect to (a view that keeps an outer graph where there is one)."""
    if not isinstance(x, Tensor):
        raise ValueError(f"Thing passed to transform API must be Tensor, got {type(x)}")
    return x.view_as(x) if x.requires_grad else x.detach().requires_grad_()


def _check_argnums(argnums: Any, num_args: int) -> Any:
    """argnums made non-negative, with torch's errors."""
    def one(argnum: Any) -> int:
        if not isinstance(argnum, int) or isinstance(argnum, bool):
            raise RuntimeError(f"argnum must be int, got: {type(argnum)}")
        if -num_args <= argnum < num_args:
            return argnum % num_args
        raise RuntimeError(f"Got argnum={argnum}, but only {num_args} positional inputs")

    if isinstance(argnums, int):
        return one(argnums)
    if isinstance(argnums, tuple):
        if not argnums:
            raise RuntimeError("argnums must be non-empty")
        if len(set(argnums)) != len(argnums):
            raise RuntimeError(f"argnums elements must be unique, got {argnums}")
        return tuple(one(a) for a in argnums)
    raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")


def _prepare(args: tuple[Any, ...], argnums: Any) -> tuple[tuple[Any, ...], list[Tensor], Any]:
    """(args with differentiable copies at argnums, those copies flat, their structure)."""
    argnums = _check_argnums(argnums, len(args))
    chosen = args[argnums] if isinstance(argnums, int) else tuple(args[i] for i in argnums)
    flat, spec = tree_flatten(chosen)
    flat = [_differentiable(x) for x in flat]
    new = tree_unflatten(flat, spec)
    args = list(args)
    for i, value in ([(argnums, new)] if isinstance(argnums, int) else zip(argnums, new)):
        args[i] = value
    return tuple(args), flat, spec


def _split_aux(output: Any, has_aux: bool, api: str) -> tuple[Any, Any]:
    if not has_aux:
        return output, None
    if not (isinstance(output, tuple) and len(output) == 2):
        raise RuntimeError(f"{api}: output of function f should be a tuple: (output, aux) if has_aux is True")
    return output


def _grads(outputs: Any, inputs: list[Tensor], seeds: Any = None, create_graph: bool = False) -> list[Tensor]:
    """d outputs / d inputs (retaining the graph), zeros where nothing reaches an input."""
    found = _autograd_grad(tuple(outputs), tuple(inputs), seeds, create_graph=create_graph, retain_graph=True)
    return [g if g is not None else _zeros_like(x) for g, x in zip(found, inputs)]


def grad_and_value(func: Callable[..., Any], argnums: Any = 0, has_aux: bool = False) -> Callable[..., Any]:
    """A function returning (gradient of func's scalar output with respect to the argnums, that output);
    with has_aux=True func returns (output, aux) and the function returns (gradient, (output, aux))."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        keep = _keep_graph(args, kwargs)
        with _transform():
            args, flat, spec = _prepare(args, argnums)
            output, aux = _split_aux(func(*args, **kwargs), has_aux, "grad_and_value(f)(*args)")
            if not isinstance(output, Tensor):
                raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a Tensor, got "
                                   f"{type(output)}")
            if output.dim() != 0:
                raise RuntimeError("grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, got "
                                   f"tensor with {output.dim()} dims. Maybe you wanted to use the vjp or jacrev "
                                   "APIs instead?")
            grads = tree_unflatten(_grads([output], flat, create_graph=keep), spec)
        grads, output, aux = _detach(grads, keep), _detach(output, keep), _detach(aux, keep)
        return (grads, (output, aux)) if has_aux else (grads, output)

    return wrapper


def grad(func: Callable[..., Any], argnums: Any = 0, has_aux: bool = False) -> Callable[..., Any]:
    """A function returning the gradient of func's scalar output with respect to the argnums (a tuple for a
    tuple of argnums; pytrees of tensors keep their structure); with has_aux=True, (gradient, aux)."""
    gv = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        grads, value = gv(*args, **kwargs)
        return (grads, value[1]) if has_aux else grads

    return wrapper


def _check_tensors(flat: list[Any], api: str, what: str) -> None:
    for x in flat:
        if not isinstance(x, Tensor):
            raise RuntimeError(f"{api}: Expected {what} to be a Tensor or a pytree of Tensors, got an element of "
                               f"type {type(x)}")


def vjp(func: Callable[..., Any], *primals: Any, has_aux: bool = False) -> tuple[Any, ...]:
    """(func(*primals), vjp_fn) where vjp_fn(cotangents) returns the tuple of vᵀ·J per primal; with
    has_aux=True func returns (output, aux) and so does vjp a third item, aux. vjp_fn may be called again."""
    keep = _keep_graph(primals)
    with _transform():
        flat, spec = tree_flatten(primals)
        diff = [_differentiable(x) for x in flat]
        output, aux = _split_aux(func(*tree_unflatten(diff, spec)), has_aux, "vjp(f, *primals)")
        flat_out, out_spec = tree_flatten(output)
        _check_tensors(flat_out, "vjp(f, *primals)", "f(*primals)'s output")

    def vjp_fn(cotangents: Any, *, retain_graph: bool = True, create_graph: bool | None = None) -> tuple[Any, ...]:
        """vᵀ·J for the cotangents v (shaped as the output): one gradient per primal."""
        flat_ct, ct_spec = tree_flatten(cotangents)
        if ct_spec != out_spec:
            raise RuntimeError("Expected pytree structure of cotangents to be the same as pytree structure of "
                               f"outputs to the function. cotangents: {ct_spec}, primal output: {out_spec}")
        _check_tensors(flat_ct, "vjp_fn", "cotangents")
        for ct, out in zip(flat_ct, flat_out):
            if tuple(ct.shape) != tuple(out.shape):
                raise RuntimeError(f"Mismatch in shape: grad_output has a shape of {ct.shape} and output has a "
                                   f"shape of {out.shape}.")
        if create_graph is None:
            create_graph = keep or _keep_graph(cotangents)
        with _transform():
            grads = _grads(flat_out, diff, flat_ct, create_graph=create_graph)
        return _detach(tree_unflatten(grads, spec), create_graph)

    output = _detach(output, keep)
    return (output, vjp_fn, _detach(aux, keep)) if has_aux else (output, vjp_fn)


def jvp(func: Callable[..., Any], primals: Any, tangents: Any, *, strict: bool = False,
        has_aux: bool = False) -> tuple[Any, ...]:
    """(func(*primals), J·tangents); with has_aux=True, (output, jvp_out, aux).

    matgrad has reverse mode only: J·t is computed by the double-backward trick (two reverse passes).
    strict is accepted as torch's (which does not implement strict=True either).
    """
    api = "jvp(f, primals, tangents)"
    if strict:
        raise RuntimeError(f"{api}: strict=True is not supported.")
    for name, value in (("primals", primals), ("tangents", tangents)):
        if not isinstance(value, tuple):
            raise RuntimeError(f"{api}: Expected {name} to be a tuple. E.g. it should be valid to call "
                               "f(*primals).")
    flat_p, spec = tree_flatten(primals)
    flat_t, t_spec = tree_flatten(tangents)
    if spec != t_spec:
        raise RuntimeError(f"{api}: Expected primals and tangents to have the same python structure. For example, "
                           f"if primals is a tuple of 3 tensors, tangents also must be. Got primals with structure "
                           f"{spec} and tangents with structure {t_spec}")
    _check_tensors(flat_p, api, "primals")
    _check_tensors(flat_t, api, "tangents")
    for p, t in zip(flat_p, flat_t):
        if tuple(p.shape) != tuple(t.shape):
            raise RuntimeError(f"{api}: Expected primals and tangents to have the same shape. Got a primal of shape "
                               f"{tuple(p.shape)} and a tangent of shape {tuple(t.shape)}.")
    keep = _keep_graph(primals, tangents)
    with _transform():
        diff = [_differentiable(x) for x in flat_p]
        output, aux = _split_aux(func(*tree_unflatten(diff, spec)), has_aux, api)
        flat_out, out_spec = tree_flatten(output)
        _check_tensors(flat_out, api, "f(*primals)'s output")
        # Jᵀu as a function of a dummy cotangent u; its gradient with respect to u, seeded with t, is J·t
        dummies = [_zeros_like(o, requires_grad=True) for o in flat_out]
        jt_u = _autograd_grad(tuple(flat_out), tuple(diff), tuple(dummies), create_graph=True, retain_graph=True)
        used = [(g, t) for g, t in zip(jt_u, flat_t) if g is not None and g.requires_grad]
        if used:
            jvp_out = _grads([g for g, _ in used], dummies, [t for _, t in used], create_graph=keep)
        else:
            jvp_out = [_zeros_like(o) for o in flat_out]
        jvp_out = tree_unflatten(jvp_out, out_spec)
    output, jvp_out = _detach(output, keep), _detach(jvp_out, keep)
    return (output, jvp_out, _detach(aux, keep)) if has_aux else (output, jvp_out)


def jacrev(func: Callable[..., Any], argnums: Any = 0, *, has_aux: bool = False, chunk_size: int | None = None,
           _preallocate_and_copy: bool = False) -> Callable[..., Any]:
    """A function returning the Jacobian of func with respect to the argnums, one reverse pass per output
    element: for an output of shape O and an input of shape I a tensor of shape O + I, nested as the outputs
    (outside) and the argnums' inputs (inside). chunk_size is checked and otherwise has no effect."""
    if chunk_size is not None and not (isinstance(chunk_size, int) and chunk_size > 0):
        raise ValueError("jacrev: `chunk_size` should be greater than 0.")

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        keep = _keep_graph(args, kwargs)
        with _transform():
            args, flat, spec = _prepare(args, argnums)
            output, aux = _split_aux(func(*args, **kwargs), has_aux, "jacrev(f, ...)(*args)")
            flat_out, out_spec = tree_flatten(output)
            _check_tensors(flat_out, "jacrev(f, ...)(*args)", "f(*args)'s output")
            jacs = [tree_unflatten(_jacobian_of(out, flat, keep), spec) for out in flat_out]
        result = _detach(tree_unflatten(jacs, out_spec), keep)
        return (result, _detach(aux, keep)) if has_aux else result

    return wrapper


def _jacobian_of(out: Tensor, inputs: list[Tensor], keep: bool) -> list[Tensor]:
    """d out / d input for each input, shaped out.shape + input.shape."""
    n = int(out.array.size)
    if n == 0:
        return [_zeros_like(x).reshape(-1)[:0].reshape(tuple(out.shape) + tuple(x.shape)) for x in inputs]
    flat_out = out.reshape(-1)
    rows = [_grads([flat_out[j]], inputs, create_graph=keep) for j in range(n)]
    return [stack([r[k] for r in rows]).reshape(tuple(out.shape) + tuple(x.shape)) for k, x in enumerate(inputs)]


def jacfwd(func: Callable[..., Any], argnums: Any = 0, has_aux: bool = False, *,
           randomness: str = "error") -> Callable[..., Any]:
    """The Jacobian as jacrev gives it. matgrad has no forward mode: this computes it in reverse mode (same
    values and structure as torch's jacfwd). randomness is checked and otherwise has no effect."""
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or 'same'. Got "
                           f"{randomness}")
    return jacrev(func, argnums, has_aux=has_aux)


def hessian(func: Callable[..., Any], argnums: Any = 0) -> Callable[..., Any]:
    """A function returning the Hessian of func's output with respect to the argnums: jacfwd(jacrev(func))."""
    return jacfwd(jacrev(func, argnums), argnums)
