"""How every command reports a problem: one line, `matgrad <command>: error: <what>`, no traceback.

That is also the format argparse uses for a bad flag (`matgrad train: error: argument --lr: ...`),
so a user sees one style whatever went wrong. Warnings read `matgrad <command>: warning: <what>`.
Commands raise UsageError for mistakes a user can make (exit status 2); cli/main.py prints it
with `error()`. A command that goes on after a problem (predict with one bad image among many)
calls `error()` itself.
"""
from __future__ import annotations

import sys
from typing import Any, TextIO


class UsageError(Exception):
    """A mistake in how the command was called: a missing file, a bad checkpoint, flags that clash."""


def message(command: str, kind: str, text: str) -> str:
    """`matgrad <command>: <kind>: <text>` (kind: "error" or "warning").

    The text is one line, except where it lists things (the folders a data set was looked for in).
    """
    return f"matgrad {command}: {kind}: {str(text).strip()}"


def error(command: str, text: str, file: TextIO | None = None) -> None:
    """Print `matgrad <command>: error: <text>` to stderr."""
    print(message(command, "error", text), file=file or sys.stderr)


def warning(command: str, text: str, file: TextIO | None = None) -> None:
    """Print `matgrad <command>: warning: <text>` to stderr."""
    print(message(command, "warning", text), file=file or sys.stderr)


def add_device_option(parser: Any) -> None:
    """`--device cpu|cuda|cuda:N|auto`, the same on train, eval and predict."""
    parser.add_argument("--device", default="auto", metavar="{auto,cpu,cuda,cuda:N}",
                        help="where to run: cpu, cuda (an NVIDIA GPU, needs matgrad[cuda]), cuda:N, or auto = cuda "
                             "when matgrad.cuda.is_available(), else cpu (default: auto)")


def pick_device(command: str, name: str | None) -> Any:
    """The device for `--device name`; a note (why auto stayed on the CPU) is printed as a warning.

    A CUDA device that cannot be used raises DeviceUnavailable, which the CLI reports in one line.
    """
    from matgrad.training.device import choose

    dev, note = choose(name)
    if note:
        warning(command, note)
    return dev


def plural(n: int, noun: str, nouns: str | None = None) -> str:
    """"1 epoch", "2 epochs", "1,000 samples": the count with the noun in the right number."""
    return f"{n:,} {noun if n == 1 else (nouns or noun + 's')}"
