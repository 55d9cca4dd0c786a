"""matgrad: deep learning on NumPy, with backpropagation you can see.

Tensors record the operations done on them; `backward()` applies the chain rule in
matrix form. The API mirrors PyTorch's, so `import matgrad as torch` ports most code.
"""
from __future__ import annotations

from . import autograd, dtypes
from .autograd import (
    capture, enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled, no_grad, set_grad_enabled,
)
from .autograd.gradcheck import gradcheck, gradgradcheck
from .autograd.anomaly_mode import is_anomaly_check_nan_enabled, is_anomaly_enabled
from .creation import (
    arange, as_tensor, empty, eye, from_numpy, full, full_like, linspace, ones, ones_like, rand,
    rand_like, randint, randn, randn_like, randperm, tensor, zeros, zeros_like, numel, is_tensor,
)
from .dtypes import (
    bool_, double, float16, float32, float64, half, int8, int16, int32, int64, long, short, uint8,
)
from .ops.activation import clamp, clip, elu, gelu, leaky_relu, relu, sigmoid, softplus, tanh
from .ops.arithmetic import (
    add, div, divide, mul, multiply, neg, negative, pow, sub, subtract, true_divide,
)
from .ops.binary import masked_fill, maximum, minimum, where
from .ops.compare import (
    allclose, bitwise_and, bitwise_not, bitwise_or, bitwise_xor, eq, equal, ge, greater,
    greater_equal, gt, isclose, isfinite, isinf, isnan, le, less, less_equal, logical_and,
    logical_not, logical_or, lt, ne, not_equal,
)
from .ops.indexing import flip, getitem
from .ops.join import cat, concat, concatenate, pad, stack
from .ops.matmul import bmm, dot, matmul, mm
from .ops.reduction import (
    all, amax, amin, any, argmax, argmin, logsumexp, max, mean, min, prod, std, sum, var, norm,
)
from .ops.shape import (
    broadcast_to, expand, flatten, permute, reshape, squeeze, swapaxes, swapdims, t, transpose,
    unsqueeze, view,
)
from .ops.softmax import log_softmax, softmax
from .ops.unary import (
    abs, absolute, cos, erf, exp, expm1, log, log1p, reciprocal, rsqrt, sign, sin, sqrt, square,
)
from .random import Generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state
# math ops (issue 14): cumulative, linear algebra, rounding, trigonometry, division's relatives
from .ops.arithmetic import arctan2, atan2, floor_divide, fmod, lerp, remainder
from .ops.cumulative import cummax, cummin, cumprod, cumsum, logcumsumexp
from .ops.linalg import (
    addmm, baddbmm, cdist, det, diag, dist, einsum, ger, inverse, mv, outer, trace, tril, triu,
)
from .ops.reduction import std_mean, var_mean
from .ops.repeat import repeat_interleave, roll
from .ops.unary import (
    acos, acosh, arccos, arccosh, arcsin, arcsinh, arctan, arctanh, asin, asinh, atan, atanh, ceil, cosh,
    exp2, fix, floor, frac, log10, log2, nan_to_num, round, sinh, tan, trunc,
)
# more of torch's math: addcmul/addcdiv, nan-aware reductions, products, differences, special functions
from .ops.arithmetic import (
    addcdiv, addcmul, copysign, float_power, gcd, hypot, lcm, ldexp, logaddexp, logaddexp2, xlogy,
)
from .ops.activation import clamp_max, clamp_min
from .ops.binary import fmax, fmin, heaviside
from .ops.cumulative import cumulative_trapezoid, diff, trapezoid, trapz
from .ops.linalg import corrcoef, cov, cross, inner, kron, tensordot, vdot
from .ops.reduction import nanmean, nansum
from .ops.unary import deg2rad, erfc, frexp, logit, positive, rad2deg, sgn, signbit, sinc
# indexing, sorting, sampling, tensor info (issue 14)
from .creation import (
    BoolTensor, ByteTensor, CharTensor, DoubleTensor, FloatTensor, HalfTensor, IntTensor, LongTensor, ShortTensor,
    is_complex, is_floating_point, logspace,
)
from .ops.random_ops import bernoulli, multinomial, normal
from .ops.scatter import (
    gather, index_add, index_fill, index_select, masked_scatter, masked_select, scatter, scatter_add, take_along_dim,
)
from .ops.sort import (
    argsort, bincount, count_nonzero, histc, kthvalue, median, mode, msort, quantile, sort, topk, unique,
    unique_consecutive,
)
from .ops.views import (
    broadcast_shapes, broadcast_tensors, meshgrid, narrow, narrow_copy, select, split_with_sizes, unflatten,
)
# shape, joining, indexing and creation functions (issue 14)
from .creation import empty_like, randint_like, tril_indices, triu_indices
from .ops.indexing import fliplr, flipud, rot90, take
from .ops.join import (
    block_diag, column_stack, dstack, hstack, row_stack, vstack,
)
from .ops.repeat import tile
from .ops.scatter import index_copy, scatter_reduce, select_scatter, slice_scatter
from .ops.shape import atleast_1d, atleast_2d, atleast_3d, clone, moveaxis, movedim, ravel
from .ops.sort import bucketize, isin, searchsorted, unravel_index
from .ops.views import cartesian_prod, combinations, diag_embed, diagflat, vander
from .tensor import Size
from .dlpack import from_dlpack, to_dlpack
from .tensor import Tensor, get_default_dtype, install_methods, set_default_dtype
from .memory import keep_freed_memory
from .devices import device, get_default_device, set_default_device
from . import cuda
from .threads import get_num_threads, set_num_threads
# torch's constants and type objects (torch.pi, finfo, dtype, channels_last, default_generator ...) and its small
# modules: torch.version, torch.cpu, torch.accelerator, torch.return_types, torch.types
from .constants import e, inf, nan, newaxis, pi
from .dtypes import dtype
from .finfo import finfo, iinfo
from .memory_format import channels_last, channels_last_3d, contiguous_format, memory_format, preserve_format
from .random import default_generator
from .cuda import OutOfMemoryError
from . import accelerator, cpu, return_types, types, version
from .amp import GradScaler

install_methods()

# Subpackages, reachable as attributes like torch.nn and torch.optim.
from . import data, nn, onnx, optim, utils  # noqa: E402
from . import func  # noqa: E402  (torch.func's counterpart)
from .func import vmap  # noqa: E402  (torch.vmap is torch.func.vmap)
from . import linalg  # noqa: E402  (torch.linalg's counterpart)
from . import special  # noqa: E402  (torch.special's counterpart)
from . import distributions  # noqa: E402  (torch.distributions' counterpart)
from . import explain, viz  # noqa: E402  (explain is callable: matgrad.explain(output))
from .ops.special import digamma, erfinv, lgamma, polygamma  # noqa: E402
from .serialization import load, save  # noqa: E402
# mixed precision (torch.amp): autocast regions, GradScaler; also registers matgrad.cuda.amp
from . import amp  # noqa: E402
from .amp import autocast, get_autocast_dtype, is_autocast_cache_enabled, is_autocast_enabled  # noqa: E402
from .amp import set_autocast_dtype, set_autocast_enabled  # noqa: E402


from .ops.indexing import argwhere, nonzero  # noqa: E402
from .ops.out import accepts_out  # noqa: E402
# the torch functions that were still missing: complex-part identities, old linear algebra, nan-aware order
# statistics, Bessel i0, mvlgamma, poisson (range is set below, with the builtins' names)
from .ops.binary import nextafter  # noqa: E402
from .ops.compare import is_nonzero, isneginf, isposinf, isreal, logical_xor  # noqa: E402
from .ops.linalg import addbmm, addmv, renorm  # noqa: E402
from .ops.random_ops import poisson  # noqa: E402
from .ops.reduction import aminmax  # noqa: E402
from .ops.sort import nanmedian, nanquantile  # noqa: E402
from .ops.special import i0, mvlgamma  # noqa: E402
from .ops.unary import conj, real, resolve_conj, resolve_neg  # noqa: E402
from .legacy_linalg import (  # noqa: E402
    chain_matmul, cholesky, logdet, matrix_exp, matrix_power, pinverse, svd,
)
from .legacy_linalg import lu, lu_solve, lu_unpack, orgqr, qr, triangular_solve  # noqa: E402
# bit shifts, igamma, addr, cholesky_solve/inverse, and torch's functions that are Tensor methods (torch.sin_(x)
# is x.sin_(), torch.is_signed(x) is x.is_signed() ...)
from ._methods import addr, adjoint, cholesky_inverse, cholesky_solve  # noqa: E402
# the view functions: the same views as the Tensor methods (split's pieces, diagonal ...), not copies
from ._methods import chunk, diagonal, dsplit, hsplit, split, tensor_split, unbind, vsplit  # noqa: E402
from .linalg import slogdet  # noqa: E402
# as_strided, index_reduce, diagonal_scatter, histogram, the *_copy functions, angle, nonzero_static, layouts
from .ops.copies import (  # noqa: E402
    alias_copy, as_strided_copy, detach_copy, diagonal_copy, expand_copy, permute_copy, select_copy, slice_copy,
    split_copy, split_with_sizes_copy, squeeze_copy, t_copy, transpose_copy, unbind_copy, unfold_copy,
    unsqueeze_copy, view_copy,
)
from .ops.scatter import diagonal_scatter, index_reduce  # noqa: E402
from .ops.sort import histogram, histogramdd  # noqa: E402
from .ops.strided import as_strided, as_strided_scatter  # noqa: E402
from ._methods import angle, conj_physical, conj_physical_, nonzero_static  # noqa: E402
from .tensor import layout, strided  # noqa: E402
from .ops.join import chunk as unsafe_chunk, split as unsafe_split  # noqa: E402
from .nn.functional import hardshrink, prelu  # noqa: E402
# torch's top-level nn functions with torch's signatures (torch.conv2d, torch.dropout(input, p, train), ...)
from .nn.functional_aliases import (  # noqa: E402
    adaptive_avg_pool1d, adaptive_max_pool1d, affine_grid_generator, alpha_dropout, alpha_dropout_, avg_pool1d,
    batch_norm, bilinear, binary_cross_entropy_with_logits, celu, celu_, channel_shuffle, constant_pad_nd, conv1d,
    conv2d, conv3d, conv_transpose1d, conv_transpose2d, conv_transpose3d, convolution, cosine_embedding_loss,
    cosine_similarity, ctc_loss, dropout, dropout_, embedding, embedding_bag, feature_alpha_dropout,
    feature_alpha_dropout_, feature_dropout, feature_dropout_, grid_sampler, group_norm, hinge_embedding_loss,
    instance_norm, kl_div, layer_norm, margin_ranking_loss, max_pool1d, max_pool1d_with_indices, max_pool2d,
    max_pool3d, native_batch_norm, native_channel_shuffle, native_layer_norm, pairwise_distance, pdist, pixel_shuffle,
    pixel_unshuffle, poisson_nll_loss, rms_norm, rrelu, rrelu_, rsub, selu, selu_, threshold, threshold_,
    triplet_margin_loss,
)
from .ops.bitwise import bitwise_left_shift, bitwise_right_shift  # noqa: E402
from .nn.conv_tbc import conv_tbc  # noqa: E402
from .ops.special import igamma, igammac  # noqa: E402
# window functions (and torch.signal), dtype promotion, small creation functions and process settings
from . import signal  # noqa: E402  (torch.signal's counterpart)
from .signal.windows import (  # noqa: E402
    bartlett_window, blackman_window, hamming_window, hann_window, kaiser_window,
)
from .promotion import can_cast, promote_types, result_type  # noqa: E402
from .creation_more import (  # noqa: E402
    asarray, empty_strided, fill, frombuffer, get_num_interop_threads, gradient, is_storage, is_warn_always_enabled,
    scalar_tensor, set_flush_denormal, set_num_interop_threads, set_warn_always, typename,
)
# torch.testing, torch.backends (flags accepted, no effect on NumPy), torch.compiler (no compiler: compile returns
# the model itself; `compile` is set at the end, out of __all__, as it is also a builtin)
from . import backends, compiler, testing  # noqa: E402
from . import profiler  # noqa: E402  (torch.profiler: profile, record_function, schedule)
from . import jit  # noqa: E402  (torch.jit: no TorchScript; script/trace return the model as it is)
from .backends import (  # noqa: E402
    are_deterministic_algorithms_enabled, get_deterministic_debug_mode, get_float32_matmul_precision,
    is_deterministic_algorithms_warn_only_enabled, set_deterministic_debug_mode, set_float32_matmul_precision,
    use_deterministic_algorithms,
)


def _method_as_function(name: str) -> object:
    """torch.<name>(input, ...): input.<name>(...)."""
    def function(input, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(input).__name__}")
        return getattr(input, name)(*args, **kwargs)
    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"input.{name}(...): see Tensor.{name}."
    return function


for _name in (
    "abs_", "acos_", "acosh_", "addmv_", "arccos_", "arccosh_", "arcsin_", "arcsinh_", "arctan_", "arctanh_", "asin_",
    "asinh_", "atan_", "atanh_", "ceil_", "clamp_", "clamp_max_", "clamp_min_", "clip_", "cos_", "cosh_", "deg2rad_",
    "detach", "detach_", "erf_", "erfc_", "exp2_", "exp_", "expm1_", "fill_", "fix_", "floor_", "frac_", "gcd_",
    "get_device", "i0_", "index_put", "index_put_", "is_conj", "is_inference", "is_neg", "is_same_size", "is_signed",
    "lcm_", "ldexp_", "log10_", "log1p_", "log2_", "log_", "logit_", "nan_to_num_", "neg_", "negative_", "put",
    "rad2deg_", "reciprocal_", "relu_", "round_", "rsqrt_", "sigmoid_", "sin_", "sinc_", "sinh_", "sqrt_",
    "square_", "tan_", "tanh_", "trunc_", "xlogy_", "zero_",
):
    globals()[_name] = _method_as_function(_name)
del _name

# PyTorch's out= on the top-level functions that take it most (Tensor's operators stay unwrapped)
add, sub, mul, div, matmul, mm, bmm, cat, stack = (  # noqa: A001
    accepts_out(f) for f in (add, sub, mul, div, matmul, mm, bmm, cat, stack))

__version__ = "0.1.0"

# the names of Python's own modules (types, signal) stay out, so `from matgrad import *` never hides them
__all__ = [name for name in dir() if not name.startswith("_") and name not in ("types", "signal")]

# PyTorch's dtype names that are also builtins, as torch.float is. Set last, and kept out of __all__,
# so `from matgrad import *` never hides Python's float, int and bool.
float = dtypes.TORCH_NAMES["float"]  # noqa: A001
int = dtypes.TORCH_NAMES["int"]  # noqa: A001
bool = dtypes.TORCH_NAMES["bool"]  # noqa: A001
# torch.range (deprecated there; end inclusive), kept out of __all__ for the same reason
from .creation import range_ as range  # noqa: E402, A001
# torch.compile: returns the model as it is (matgrad has no compiler; see matgrad/compiler.py)
from .compiler import compile  # noqa: E402, A001
# torch.multiprocessing, kept out of __all__ so `from matgrad import *` never hides Python's multiprocessing
from . import multiprocessing  # noqa: E402

import warnings as _warnings  # noqa: E402

# PyTorch's ops are silent where NumPy warns (1/0 is inf, 0/0 and inf - inf are nan, exp(1000) is inf): so are
# matgrad's. The filter matches only NumPy's floating-point RuntimeWarnings raised in matgrad's own modules, costs
# nothing while no warning is raised, and a filter of the user's own (added later, so first) takes precedence:
# warnings.filterwarnings("default", category=RuntimeWarning, module="matgrad") shows them again.
_warnings.filterwarnings("ignore", message=r"(divide by zero|invalid value|overflow|underflow) encountered",
                         category=RuntimeWarning, module=r"matgrad(\.|$)")
