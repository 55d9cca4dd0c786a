"""The comparison both distribution test files make: a value and its parameter gradients, matgrad's against torch's."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from tests.helpers import assert_close


def assert_matches_torch(got: Any, ggrads: Sequence[Any], want: Any, tgrads: Sequence[Any], rtol: float, atol: float,
                         what: str) -> None:
    """Equal values (and dtypes); each parameter's gradient equal (to rtol·10), or absent (or zero) in both."""
    assert got.dtype == want.dtype
    assert_close(got, want, rtol=rtol, atol=atol, err_msg=what)
    for i, (g, t) in enumerate(zip(ggrads, tgrads)):
        if t is None or not np.any(t):
            assert g is None or not np.any(g), f"param {i}: torch has no gradient"
            continue
        assert g is not None, f"param {i}: matgrad has no gradient"
        assert_close(g, t, rtol=rtol * 10, atol=atol, err_msg=f"gradient of param {i} of {what}")
