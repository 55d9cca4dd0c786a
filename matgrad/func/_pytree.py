"""A small pytree: nested tuples, lists and dicts whose leaves are anything else (usually Tensors)."""
from __future__ import annotations

from typing import Any

#: a leaf's spec; a container's is (type, keys, child specs)
LEAF: Any = None


def tree_flatten(tree: Any) -> tuple[list[Any], Any]:
    """(the leaves in order, the structure to rebuild them with)."""
    if isinstance(tree, (tuple, list)):
        leaves: list[Any] = []
        specs = []
        for child in tree:
            sub, spec = tree_flatten(child)
            leaves.extend(sub)
            specs.append(spec)
        return leaves, (type(tree), None, tuple(specs))
    if isinstance(tree, dict):
        leaves, specs = [], []
        for key in tree:
            sub, spec = tree_flatten(tree[key])
            leaves.extend(sub)
            specs.append(spec)
        return leaves, (type(tree), tuple(tree), tuple(specs))
    return [tree], LEAF


def _num_leaves(spec: Any) -> int:
    return 1 if spec is LEAF else sum(_num_leaves(s) for s in spec[2])


def tree_unflatten(leaves: list[Any], spec: Any) -> Any:
    """The inverse of tree_flatten."""
    if spec is LEAF:
        return leaves[0]
    kind, keys, specs = spec
    children, start = [], 0
    for s in specs:
        n = _num_leaves(s)
        children.append(tree_unflatten(leaves[start:start + n], s))
        start += n
    if keys is not None:
        return kind(zip(keys, children))
    if kind not in (tuple, list) and hasattr(kind, "_fields"):  # a namedtuple
        return kind(*children)
    return kind(children)


def tree_map(fn: Any, tree: Any) -> Any:
    leaves, spec = tree_flatten(tree)
    return tree_unflatten([fn(x) for x in leaves], spec)


def broadcast_prefix(prefix: Any, tree: Any) -> list[Any] | None:
    """One value of `prefix` per leaf of `tree`, where prefix is a tree whose leaves stand for whole subtrees
    of `tree` (None where the structures do not match)."""
    if not isinstance(prefix, (tuple, list, dict)):
        return [prefix] * len(tree_flatten(tree)[0])
    if isinstance(prefix, dict):
        if not isinstance(tree, dict) or set(prefix) != set(tree):
            return None
        pairs = [(prefix[k], tree[k]) for k in tree]
    else:
        if type(prefix) is not type(tree) or len(prefix) != len(tree):
            return None
        pairs = list(zip(prefix, tree))
    out: list[Any] = []
    for p, t in pairs:
        sub = broadcast_prefix(p, t)
        if sub is None:
            return None
        out.extend(sub)
    return out
