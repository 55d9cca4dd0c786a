"""The `run` fixture: each exported model run by both runners (tests/onnx/runners.py)."""
from __future__ import annotations

import pytest

from .runners import RUNNERS


@pytest.fixture(params=sorted(RUNNERS))
def run(request):
    """Runs an exported model: each runner skips where its package is not installed."""
    return RUNNERS[request.param]
