"""Port a PyTorch program to matgrad the way the README promises a user can: change its import lines
and nothing else.

    import torch                        ->  import matgrad as torch
    import torch as th                  ->  import matgrad as th
    import torch.nn as nn               ->  import matgrad.nn as nn
    import torch.nn                     ->  import matgrad.nn, matgrad as torch   (binds `torch` as before)
    from torch import nn, optim         ->  from matgrad import nn, optim
    from torch.utils.data import X      ->  from matgrad.utils.data import X

Import statements are found with `ast`, so text that only looks like an import (in a docstring, a
string, a comment) is left alone, and so are modules that merely start with "torch" (torchvision).
Every other line is kept byte for byte, and the file keeps its number of lines, so a traceback from
the ported program points at the same line as in the original.
"""
from __future__ import annotations

import ast
import re

SOURCE = "torch"
TARGET = "matgrad"


def _is_torch(module: str | None) -> bool:
    return module is not None and (module == SOURCE or module.startswith(SOURCE + "."))


def _ported(module: str) -> str:
    return TARGET + module[len(SOURCE):]


def _import_clause(alias: ast.alias) -> str:
    """One `name [as asname]` clause of an `import` statement, ported."""
    if not _is_torch(alias.name):
        return alias.name if alias.asname is None else f"{alias.name} as {alias.asname}"
    if alias.asname is not None:
        return f"{_ported(alias.name)} as {alias.asname}"
    if alias.name == SOURCE:
        return f"{TARGET} as {SOURCE}"
    # `import torch.nn` binds the name `torch` and loads torch.nn: load matgrad.nn and bind `torch`.
    return f"{_ported(alias.name)}, {TARGET} as {SOURCE}"


def _split_comment(line: str) -> tuple[str, str]:
    """(code, trailing comment) of a line holding an import statement (no strings on such lines)."""
    at = line.find("#")
    return (line, "") if at < 0 else (line[:at].rstrip(), "  " + line[at:])


def rewrite_imports(source: str) -> str:
    """`source` with its torch imports turned into matgrad imports; all other lines unchanged."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and _is_torch(node.module):
            # The module name sits on the statement's first line, right after `from`.
            i = node.lineno - 1
            pattern = re.compile(r"(\bfrom\s+)" + re.escape(node.module) + r"(\s+import\b)")
            target = _ported(node.module)
            lines[i], n = pattern.subn(lambda m, t=target: m.group(1) + t + m.group(2), lines[i], count=1)
            if n != 1:
                raise ValueError(f"line {node.lineno}: cannot find 'from {node.module} import' to rewrite")
        elif isinstance(node, ast.Import) and any(_is_torch(a.name) for a in node.names):
            first, last = node.lineno - 1, node.end_lineno - 1
            head = lines[first]
            indent = head[: len(head) - len(head.lstrip())]
            end = lines[last]
            newline = end[len(end.rstrip("\r\n")):]
            _, comment = _split_comment(end.rstrip("\r\n"))
            rest = end.rstrip("\r\n")[node.end_col_offset:]  # `; more code` after the statement, if any
            if rest.strip() and not rest.strip().startswith("#"):
                raise ValueError(f"line {node.lineno}: other code shares the line with the import")
            clauses = ", ".join(_import_clause(a) for a in node.names)
            lines[first] = f"{indent}import {clauses}{comment}{newline}"
            for j in range(first + 1, last + 1):  # a statement continued with backslashes
                lines[j] = newline or "\n"
    return "".join(lines)


def import_lines(source: str) -> set[int]:
    """The 1-based numbers of the lines that belong to import statements in `source`."""
    found: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.update(range(node.lineno, node.end_lineno + 1))
    return found
