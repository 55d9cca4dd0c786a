"""Run `matgrad` in a fresh Python process, optionally as on an install without the `[cli]` extra."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Sequence

REPO = Path(__file__).resolve().parents[2]


def run_matgrad(*argv: str, block: Sequence[str] = (), terminal: bool = False,
                timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """`matgrad ARGV` in a subprocess whose stdout and stderr are pipes (not terminals).

    `block`: modules made unimportable (`sys.modules[name] = None`), as when `pip install matgrad`
    left out tqdm, matplotlib or Pillow. `terminal`: the command believes its output is a
    terminal (so it would draw a progress bar).
    """
    code = "\n".join([
        "import sys",
        *(f"sys.modules[{name!r}] = None" for name in block),
        "from matgrad.cli import main, train_cmd",
        *(["train_cmd._interactive = lambda: True"] if terminal else []),
        f"sys.exit(main.main({list(argv)!r}))",
    ])
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout,
                          cwd=REPO)
