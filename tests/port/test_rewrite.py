"""The port rewriter changes import lines and nothing else."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.port.rewrite import import_lines, rewrite_imports

PROGRAMS = sorted((Path(__file__).resolve().parent / "programs").glob("*.py"))


@pytest.mark.parametrize(("before", "after"), [
    ("import torch\n", "import matgrad as torch\n"),
    ("import torch as th\n", "import matgrad as th\n"),
    ("import torch.nn as nn\n", "import matgrad.nn as nn\n"),
    ("import torch.nn.functional as F\n", "import matgrad.nn.functional as F\n"),
    ("import torch.optim as optim\n", "import matgrad.optim as optim\n"),
    ("import torch.nn\n", "import matgrad.nn, matgrad as torch\n"),
    ("from torch import nn, optim\n", "from matgrad import nn, optim\n"),
    ("from torch import nn as tnn\n", "from matgrad import nn as tnn\n"),
    ("from torch.utils.data import DataLoader, Dataset\n", "from matgrad.utils.data import DataLoader, Dataset\n"),
    ("from torch.optim.lr_scheduler import StepLR\n", "from matgrad.optim.lr_scheduler import StepLR\n"),
    ("from torch.autograd import Function\n", "from matgrad.autograd import Function\n"),
    ("import numpy as np, torch\n", "import numpy as np, matgrad as torch\n"),
    ("import torch  # the library\n", "import matgrad as torch  # the library\n"),
    ("import torch\r\n", "import matgrad as torch\r\n"),
    ("def f():\n    import torch.nn.functional as F\n    return F\n",
     "def f():\n    import matgrad.nn.functional as F\n    return F\n"),
    ("from torch.nn import (\n    Linear,\n    ReLU,\n)\n", "from matgrad.nn import (\n    Linear,\n    ReLU,\n)\n"),
    ("import torch, \\\n    numpy\n", "import matgrad as torch, numpy\n\n"),
])
def test_rewrites_import_statements(before: str, after: str) -> None:
    assert rewrite_imports(before) == after
    compile(after, "<ported>", "exec")


@pytest.mark.parametrize("source", [
    "import torchvision\n",
    "import torchvision.transforms as T\n",
    "from torchvision import datasets\n",
    "import numpy as np\n",
    "from . import torch\n",
    "x = 1  # import torch\n",
    '"""Run with:\nimport torch\nfrom torch import nn\n"""\n',
    "s = 'import torch'\n",
    "y = torch.tensor([1.0])\n",
    "torch.save(model.state_dict(), 'import torch.pt')\n",
])
def test_leaves_everything_else_alone(source: str) -> None:
    assert rewrite_imports(source) == source


def test_refuses_code_sharing_a_line_with_an_import() -> None:
    with pytest.raises(ValueError, match="shares the line"):
        rewrite_imports("import torch; x = torch.ones(2)\n")


@pytest.mark.parametrize("program", PROGRAMS, ids=[p.stem for p in PROGRAMS])
def test_only_import_lines_of_each_program_change(program: Path) -> None:
    before = program.read_text(encoding="utf-8")
    after = rewrite_imports(before)
    old, new = before.splitlines(), after.splitlines()
    assert len(old) == len(new)
    imports = import_lines(before)
    changed = {i for i, (a, b) in enumerate(zip(old, new), start=1) if a != b}
    assert changed, "a program in the corpus must import torch"
    assert changed <= imports, f"non-import lines changed: {sorted(changed - imports)}"
    # Every torch import was ported, and nothing still names the torch module in an import.
    for i in changed:
        assert "matgrad" in new[i - 1]
    for i in imports:
        stripped = new[i - 1].split("#")[0]
        assert not stripped.lstrip().startswith(("import torch", "from torch")), new[i - 1]
    # Lines outside imports are identical, including every use of the name `torch`.
    assert [line for i, line in enumerate(old, 1) if i not in imports] == \
           [line for i, line in enumerate(new, 1) if i not in imports]
    compile(after, str(program), "exec")
