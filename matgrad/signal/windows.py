"""Window functions: torch.signal.windows (bartlett ... nuttall, `M` first, keyword `sym`) and torch's top-level
hann_window, hamming_window, blackman_window, bartlett_window, kaiser_window (`window_length`, `periodic`).

They are creation functions: the values are computed in float64 with NumPy by torch's formulas, then cast once
to the dtype asked for (default: matgrad's default dtype), so float64 results agree with torch's to rounding and
float32 ones to a unit or two in the last place (torch computes those in float32 throughout).
`requires_grad=True` gives a leaf; torch.signal.windows' results are instead the end of a small graph from
torch.linspace, whose gradients reach no user tensor either.

matgrad has no layouts other than strided: `layout` may be None (meaning strided) or an object that prints as
`torch.strided`; anything else raises as torch does for sparse layouts.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..creation import _make, _on
from ..ops.special import i0_array
from ..tensor import Tensor, get_default_dtype

__all__ = ["bartlett", "blackman", "cosine", "exponential", "gaussian", "general_cosine", "general_hamming",
           "hamming", "hann", "kaiser", "nuttall"]


# --- shared checks and output -----------------------------------------------------------------------------------
def _is_strided(layout: Any) -> bool:
    return layout is None or str(layout) in ("torch.strided", "matgrad.strided", "strided")


def _length(fn: str, name: str, n: Any) -> int:
    """The window length as an int (bools count, as Python ints, since torch takes them too)."""
    if not isinstance(n, (numbers.Integral, np.integer)):
        raise TypeError(f"{fn}(): argument '{name}' must be int, not {type(n).__name__}")
    return int(n)


def _finish(values: np.ndarray, dtype: np.dtype, device: Any, requires_grad: bool) -> Tensor:
    """The float64 window as a tensor of `dtype` on `device`."""
    return _make(values.astype(dtype), requires_grad, _on(device))


def _checks(fn: str, M: Any, dtype: Any, layout: Any) -> tuple[int, np.dtype]:  # noqa: N803 - torch's name
    """torch.signal.windows' common checks: M ≥ 0, strided, float32 or float64 (ValueError, as torch)."""
    M = _length(fn, "M", M)  # noqa: N806
    dt = np.dtype(get_default_dtype() if dtype is None else dtype)
    if M < 0:
        raise ValueError(f"{fn} requires non-negative window length, got M={M}")
    if not _is_strided(layout):
        raise ValueError(f"{fn} is implemented for strided tensors only, got: {layout}")
    if dt not in (np.float32, np.float64):
        raise ValueError(f"{fn} expects float32 or float64 dtypes, got: matgrad.{dt.name}")
    return M, dt


def _linspace(start: float, end: float, steps: int) -> np.ndarray:
    return np.linspace(start, end, steps, dtype=np.float64)


# --- torch.signal.windows ----------------------------------------------------------------------------------------
def exponential(M: int, *, center: float | None = None, tau: float = 1.0, sym: bool = True, dtype: Any = None,  # noqa: N803
                layout: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Exponential (Poisson) window: exp(-|n - center| / tau); center defaults to the middle."""
    M, dt = _checks("exponential", M, dtype, layout)  # noqa: N806
    if tau <= 0:
        raise ValueError(f"Tau must be positive, got: {tau} instead.")
    if sym and center is not None:
        raise ValueError("Center must be None for symmetric windows")
    if center is None:
        center = (M if not sym and M > 1 else M - 1) / 2.0
    k = _linspace(-center / tau, (-center + (M - 1)) / tau, M)
    return _finish(np.exp(-np.abs(k)), dt, device, requires_grad)


def cosine(M: int, *, sym: bool = True, dtype: Any = None, layout: Any = None, device: Any = None,  # noqa: N803
           requires_grad: bool = False) -> Tensor:
    """Cosine (sine) window: sin(π(n + ½) / M) (M + 1 in place of M when periodic)."""
    M, dt = _checks("cosine", M, dtype, layout)  # noqa: N806
    step = math.pi / (M + 1 if not sym and M > 1 else M) if M else 0.0
    k = _linspace(0.5 * step, (0.5 + (M - 1)) * step, M)
    return _finish(np.sin(k), dt, device, requires_grad)


def gaussian(M: int, *, std: float = 1.0, sym: bool = True, dtype: Any = None, layout: Any = None,  # noqa: N803
             device: Any = None, requires_grad: bool = False) -> Tensor:
    """Gaussian window: exp(-(n - (M - 1)/2)² / (2 std²)) (M/2 as the centre when periodic)."""
    M, dt = _checks("gaussian", M, dtype, layout)  # noqa: N806
    if std <= 0:
        raise ValueError(f"Standard deviation must be positive, got: {std} instead.")
    start = -(M if not sym and M > 1 else M - 1) / 2.0
    scale = 1 / (std * math.sqrt(2))
    k = _linspace(start * scale, (start + (M - 1)) * scale, M)
    return _finish(np.exp(-(k ** 2)), dt, device, requires_grad)


def kaiser(M: int, *, beta: float = 12.0, sym: bool = True, dtype: Any = None, layout: Any = None,  # noqa: N803
           device: Any = None, requires_grad: bool = False) -> Tensor:
    """Kaiser window: I0(β·sqrt(1 - (2n/N - 1)²)) / I0(β), N = M - 1 (M when periodic)."""
    M, dt = _checks("kaiser", M, dtype, layout)  # noqa: N806
    if beta < 0:
        raise ValueError(f"beta must be non-negative, got: {beta} instead.")
    if M <= 1:
        return _finish(np.ones(M), dt, device, requires_grad)
    beta = float(beta)
    step = 2.0 * beta / (M if not sym else M - 1)
    k = _linspace(-beta, min(beta, -beta + (M - 1) * step), M)
    # β² - k² can round below 0 at the ends; torch's clamp of the end point keeps it ≥ 0 there too
    return _finish(i0_array(np.sqrt(np.maximum(beta * beta - k * k, 0.0))) / i0_array(np.float64(beta)), dt,
                   device, requires_grad)


def general_cosine(M: int, *, a: Iterable[float], sym: bool = True, dtype: Any = None, layout: Any = None,  # noqa: N803
                   device: Any = None, requires_grad: bool = False) -> Tensor:
    """Sum of cosines: Σᵢ (-1)ⁱ aᵢ cos(2πin / N), N = M - 1 (M when periodic)."""
    M, dt = _checks("general_cosine", M, dtype, layout)  # noqa: N806
    if M <= 1:
        return _finish(np.ones(M), dt, device, requires_grad)
    if not isinstance(a, Iterable):
        raise TypeError("Coefficients must be a list/tuple")
    coefficients = [float(w) for w in a]
    if not coefficients:
        raise ValueError("Coefficients cannot be empty")
    k = _linspace(0.0, (M - 1) * 2 * math.pi / (M if not sym else M - 1), M)
    signed = np.array([(-1) ** i * w for i, w in enumerate(coefficients)])[:, None]
    return _finish((signed * np.cos(np.arange(len(coefficients))[:, None] * k)).sum(0), dt, device, requires_grad)


def general_hamming(M: int, *, alpha: float = 0.54, sym: bool = True, dtype: Any = None, layout: Any = None,  # noqa: N803
                    device: Any = None, requires_grad: bool = False) -> Tensor:
    """Generalised Hamming window: alpha - (1 - alpha) cos(2πn / N)."""
    return general_cosine(M, a=[alpha, 1.0 - alpha], sym=sym, dtype=dtype, layout=layout, device=device,
                          requires_grad=requires_grad)


def hamming(M: int, *, sym: bool = True, dtype: Any = None, layout: Any = None, device: Any = None,  # noqa: N803
            requires_grad: bool = False) -> Tensor:
    """Hamming window: general_hamming with alpha = 0.54."""
    return general_hamming(M, sym=sym, dtype=dtype, layout=layout, device=device, requires_grad=requires_grad)


def hann(M: int, *, sym: bool = True, dtype: Any = None, layout: Any = None, device: Any = None,  # noqa: N803
         requires_grad: bool = False) -> Tensor:
    """Hann window: general_hamming with alpha = 0.5."""
    return general_hamming(M, alpha=0.5, sym=sym, dtype=dtype, layout=layout, device=device,
                           requires_grad=requires_grad)


def blackman(M: int, *, sym: bool = True, dtype: Any = None, layout: Any = None, device: Any = None,  # noqa: N803
             requires_grad: bool = False) -> Tensor:
    """Blackman window: general_cosine with a = (0.42, 0.5, 0.08)."""
    _checks("blackman", M, dtype, layout)
    return general_cosine(M, a=[0.42, 0.5, 0.08], sym=sym, dtype=dtype, layout=layout, device=device,
                          requires_grad=requires_grad)


def bartlett(M: int, *, sym: bool = True, dtype: Any = None, layout: Any = None, device: Any = None,  # noqa: N803
             requires_grad: bool = False) -> Tensor:
    """Bartlett (triangular, zero at the ends) window: 1 - |2n/N - 1|."""
    M, dt = _checks("bartlett", M, dtype, layout)  # noqa: N806
    if M <= 1:
        return _finish(np.ones(M), dt, device, requires_grad)
    step = 2 / (M if not sym else M - 1)
    k = _linspace(-1.0, -1.0 + (M - 1) * step, M)
    return _finish(1 - np.abs(k), dt, device, requires_grad)


def nuttall(M: int, *, sym: bool = True, dtype: Any = None, layout: Any = None, device: Any = None,  # noqa: N803
            requires_grad: bool = False) -> Tensor:
    """Minimum 4-term Blackman-Harris window (Nuttall's): general_cosine with its four coefficients."""
    return general_cosine(M, a=[0.3635819, 0.4891775, 0.1365995, 0.0106411], sym=sym, dtype=dtype, layout=layout,
                          device=device, requires_grad=requires_grad)


# --- torch's top-level *_window functions (ATen's, with RuntimeError as there) -----------------------------------
def _window_checks(fn: str, window_length: Any, dtype: Any, layout: Any) -> tuple[int, np.dtype]:
    if isinstance(window_length, bool):  # torch takes bools for signal.windows' M, but not here
        raise TypeError(f"{fn}(): argument 'window_length' must be int, not bool")
    n = _length(fn, "window_length", window_length)
    dt = np.dtype(get_default_dtype() if dtype is None else dtype)
    if not _is_strided(layout):
        raise RuntimeError(f"{fn} is not implemented for sparse types, got layout {layout}")
    if dt.kind != "f":
        raise RuntimeError(f"{fn} expects floating point dtypes, got: matgrad.{dt.name}")
    if n < 0:
        raise RuntimeError(f"{fn} requires non-negative window_length, got window_length={n}")
    return n, dt


def _positions(n: int, periodic: bool) -> tuple[np.ndarray, int]:
    """0 .. N-1 and N, where a periodic window of n is the first n points of a symmetric one of n + 1."""
    length = n + 1 if periodic else n
    return np.arange(n, dtype=np.float64), length


def hann_window(window_length: int, periodic: bool = True, *, dtype: Any = None, layout: Any = None,
                device: Any = None, requires_grad: bool = False) -> Tensor:
    """Hann window: ½ - ½cos(2πn / (N - 1)), N = window_length (+ 1 when periodic)."""
    return _hamming("hann_window", window_length, periodic, 0.5, 0.5, dtype, layout, device, requires_grad)


def hamming_window(window_length: int, periodic: bool = True, alpha: float = 0.54, beta: float = 0.46, *,
                   dtype: Any = None, layout: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Hamming window: alpha - beta·cos(2πn / (N - 1)), N = window_length (+ 1 when periodic)."""
    return _hamming("hamming_window", window_length, periodic, alpha, beta, dtype, layout, device, requires_grad)


def _hamming(fn: str, window_length: Any, periodic: bool, alpha: float, beta: float, dtype: Any, layout: Any,
             device: Any, requires_grad: bool) -> Tensor:
    n, dt = _window_checks(fn, window_length, dtype, layout)
    if n <= 1:
        return _finish(np.ones(n), dt, device, requires_grad)
    x, length = _positions(n, periodic)
    return _finish(alpha - beta * np.cos(x * (2 * math.pi / (length - 1))), dt, device, requires_grad)


def blackman_window(window_length: int, periodic: bool = True, *, dtype: Any = None, layout: Any = None,
                    device: Any = None, requires_grad: bool = False) -> Tensor:
    """Blackman window: 0.42 - 0.5cos(2πn / (N - 1)) + 0.08cos(4πn / (N - 1))."""
    n, dt = _window_checks("blackman_window", window_length, dtype, layout)
    if n <= 1:
        return _finish(np.ones(n), dt, device, requires_grad)
    x, length = _positions(n, periodic)
    x = x * (math.pi / (length - 1))
    return _finish(0.08 * np.cos(4 * x) - 0.5 * np.cos(2 * x) + 0.42, dt, device, requires_grad)


def bartlett_window(window_length: int, periodic: bool = True, *, dtype: Any = None, layout: Any = None,
                    device: Any = None, requires_grad: bool = False) -> Tensor:
    """Bartlett window: 2n / (N - 1) up to the middle, 2 - 2n / (N - 1) after it."""
    n, dt = _window_checks("bartlett_window", window_length, dtype, layout)
    if n <= 1:
        return _finish(np.ones(n), dt, device, requires_grad)
    x, length = _positions(n, periodic)
    x = x * (2.0 / (length - 1))
    first_half = (length - 1) // 2 + 1  # torch's split point, of the symmetric window of `length`
    x[first_half:] = 2 - x[first_half:]
    return _finish(x, dt, device, requires_grad)


def kaiser_window(window_length: int, periodic: bool = True, beta: float = 12.0, *, dtype: Any = None,
                  layout: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Kaiser window: I0(β·sqrt(|1 - ((n - α)/α)²|)) / I0(β), α = (N - 1)/2 (β < 0 acts as |β|: I0 is even)."""
    n, dt = _window_checks("kaiser_window", window_length, dtype, layout)
    if n <= 1:
        return _finish(np.ones(n), dt, device, requires_grad)
    x, length = _positions(n, periodic)
    half = (length - 1) / 2.0
    beta = float(beta)
    return _finish(i0_array(beta * np.sqrt(np.abs(1 - ((x - half) / half) ** 2))) / i0_array(np.float64(beta)),
                   dt, device, requires_grad)
