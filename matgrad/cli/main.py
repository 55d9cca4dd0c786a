"""`matgrad` command line: parse the arguments, run the subcommand, turn user mistakes into one line.

Exit status: 0 success, 1 training diverged (NaN/inf), 2 a usage error (bad flag, missing or
wrong file), 130 interrupted.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from typing import Sequence

from .errors import UsageError

# subcommand -> module in this package with add_parser(subparsers) and run(args) -> int
COMMANDS = {"train": "train_cmd", "eval": "eval_cmd", "predict": "predict_cmd", "data": "data_cmd",
            "explain": "explain_cmd"}


def build_parser() -> argparse.ArgumentParser:
    """The parser with every subcommand; the explainer's only where matgrad/cli/explain_cmd.py exists."""
    parser = argparse.ArgumentParser(
        prog="matgrad",
        description="Train, evaluate and explain neural networks built with matgrad (NumPy autograd).",
    )
    parser.add_argument("--version", action="version", version=f"matgrad {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in COMMANDS.values():
        if importlib.util.find_spec(f"{__package__}.{module}") is not None:  # explain_cmd may be absent
            importlib.import_module(f"{__package__}.{module}").add_parser(sub)
    return parser


def _version() -> str:
    import matgrad

    try:
        from importlib.metadata import version

        return version("matgrad")
    except Exception:  # not installed (run from a checkout)
        return getattr(matgrad, "__version__", "unknown")


def _user_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean the user asked for something that cannot be done (not a bug)."""
    from matgrad.training.build import ConfigError
    from matgrad.training.checkpoint import CheckpointError

    errors: list[type[BaseException]] = [UsageError, CheckpointError, ConfigError, FileNotFoundError,
                                         PermissionError, NotADirectoryError, IsADirectoryError]
    try:
        from matgrad.data import DatasetNotFound, IDXError  # a missing or damaged dataset file

        errors += [DatasetNotFound, IDXError]
    except ImportError:
        pass
    return tuple(errors)


def main(argv: Sequence[str] | None = None) -> int:
    """Run `matgrad ARGS` (sys.argv when argv is None); returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse reports its own errors (status 2) or --help (0)
        return int(e.code or 0)
    run = importlib.import_module(f"{__package__}.{COMMANDS[args.command]}").run
    from matgrad.memory import keep_freed_memory

    keep_freed_memory()  # this process is ours: reuse freed arrays rather than page-fault afresh
    try:
        return int(run(args) or 0)
    except _user_errors() as e:
        msg = str(e).strip() or type(e).__name__
        print(f"matgrad {args.command}: error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"matgrad {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `matgrad eval ... | head`: the reader left, nothing to report
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
