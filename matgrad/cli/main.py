"""`matgrad` command line: parse the arguments, run the subcommand, turn user mistakes into one line.

Exit status: 0 success, 1 training diverged (NaN/inf), 2 a usage error (bad flag, missing or
wrong file), 130 interrupted. Every problem is reported as `matgrad <command>: error: ...`
(see errors.py), never as a traceback; NumPy's RuntimeWarnings (overflow, division by zero)
are not shown: the commands check for non-finite values themselves and say what they mean.
"""
from __future__ import annotations

import argparse
import sys
import warnings
from typing import Sequence

import numpy as np

from . import data_cmd, eval_cmd, explain_cmd, export_cmd, predict_cmd, train_cmd
from .errors import UsageError, error

# subcommand -> module with add_parser(subparsers) and run(args) -> int
COMMANDS = {"train": train_cmd, "eval": eval_cmd, "predict": predict_cmd, "data": data_cmd,
            "explain": explain_cmd, "export": export_cmd}


def build_parser() -> argparse.ArgumentParser:
    """The parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="matgrad",
        description="Train, evaluate and explain neural networks built with matgrad (NumPy autograd).",
    )
    parser.add_argument("--version", action="version", version=f"matgrad {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in COMMANDS.values():
        module.add_parser(sub)
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("matgrad")
    except PackageNotFoundError:  # run from a checkout that was never installed
        import matgrad

        return matgrad.__version__


def _user_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean the user asked for something that cannot be done (not a bug)."""
    from matgrad.data import DatasetNotFound, IDXError  # a missing or damaged dataset file
    from matgrad.training.checkpoint import CheckpointError
    from matgrad.training.config import ConfigError
    from matgrad.training.device import DeviceUnavailable

    return (UsageError, CheckpointError, ConfigError, DatasetNotFound, IDXError, DeviceUnavailable,
            FileNotFoundError, PermissionError, NotADirectoryError, IsADirectoryError)


def main(argv: Sequence[str] | None = None) -> int:
    """Run `matgrad ARGS` (sys.argv when argv is None); returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse reports its own errors (status 2) or --help (0)
        return int(e.code or 0)
    run = COMMANDS[args.command].run
    from matgrad.memory import keep_freed_memory

    keep_freed_memory()  # this process is ours: reuse freed arrays rather than page-fault afresh
    from matgrad.denormal import get_flush_denormal, set_flush_denormal

    # subnormal floats (below 1.2e-38 in float32) cost Intel CPUs a microcode assist per operation, and training
    # does not depend on them: flushed to zero, as TensorFlow's CPU kernels do (matgrad/denormal.py); off again
    # when done, since main() also runs inside other programs (and the tests)
    flushed = not get_flush_denormal() and set_flush_denormal(True)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            return int(run(args) or 0)
    except _user_errors() as e:
        error(args.command, str(e).strip() or type(e).__name__)
        return 2
    except KeyboardInterrupt:
        print(f"matgrad {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `matgrad eval ... | head`: the reader left, nothing to report
        sys.stderr.close()
        return 0
    finally:
        if flushed:
            set_flush_denormal(False)


if __name__ == "__main__":
    sys.exit(main())
