"""matgrad's ops are silent where NumPy warns, as PyTorch's are (matgrad/__init__.py's warnings filter), and only they.

Run in a fresh interpreter: pytest restores the warning filters after collecting, which drops the one `import matgrad`
added there, so only a program of its own sees what a user's program sees.
"""
from __future__ import annotations

import json
import subprocess
import sys

PROGRAM = r'''
import json, warnings
import numpy as np
import matgrad as mg
INF = float("inf")
cases = {
    "1/0": lambda: mg.tensor([1.0]) / mg.tensor([0.0]),
    "0/0": lambda: mg.tensor([0.0]) / mg.tensor([0.0]),
    "inf-inf": lambda: mg.tensor([INF]) - mg.tensor([INF]),
    "sqrt(-1) by pow": lambda: mg.tensor([-1.0]) ** 0.5,
    "rsqrt(0)": lambda: mg.rsqrt(mg.tensor([0.0])),
    "reciprocal(0)": lambda: mg.reciprocal(mg.tensor([0.0])),
    "exp overflow": lambda: mg.exp(mg.tensor([1000.0])),
    "softmax of -inf": lambda: mg.softmax(mg.tensor([-INF] * 3), 0),
    "log_softmax of -inf": lambda: mg.log_softmax(mg.tensor([-INF] * 3), 0),
    "log backward at 0": lambda: mg.log(mg.tensor([0.0], requires_grad=True)).sum().backward(),
    "sqrt backward at 0": lambda: mg.sqrt(mg.tensor([0.0], requires_grad=True)).sum().backward(),
}
out = {}
for name, fn in cases.items():
    with warnings.catch_warnings(record=True) as caught:  # the filters as the import left them
        fn()
    out[name] = [str(w.message) for w in caught]
with warnings.catch_warnings(record=True) as caught:
    np.array([1.0]) / np.array([0.0])  # the program's own NumPy code
out["numpy"] = [str(w.message) for w in caught]
with warnings.catch_warnings(record=True) as caught:
    warnings.filterwarnings("always", category=RuntimeWarning, module="matgrad")  # the program asks for them
    mg.tensor([1.0]) / mg.tensor([0.0])
out["asked"] = [str(w.message) for w in caught]
print(json.dumps(out))
'''


def test_ops_are_silent_as_pytorchs_and_only_they():
    run = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout.splitlines()[-1])
    numpy_own, asked = out.pop("numpy"), out.pop("asked")
    assert out == {name: [] for name in out}  # every op case silent
    assert any("divide by zero" in m for m in numpy_own)  # the program's own NumPy still warns
    assert any("divide by zero" in m for m in asked)  # and a filter of its own brings matgrad's back
