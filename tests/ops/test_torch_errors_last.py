"""The last places where matgrad's error types differ from PyTorch 2.13's, and small semantics around them
(test_torch_errors.py and test_torch_errors_more.py have the others).

1. RuntimeError where matgrad said ValueError: cat / stack / split / chunk, the checks of the products and
   decompositions in matgrad/ops/linalg.py and of matgrad.linalg (PyTorch's key phrase in each message);
   split_size 0 is allowed on an empty dim, negative split sizes are refused.
2. F.glu, Tensor.stride, spectral_norm, gradient and matrix_norm take their dims through tensor.wrap_dim.
3. Tensor.div_ takes rounding_mode; two bools under //, %, fmod, remainder (and div's rounding modes) are
   PyTorch's NotImplementedError, not an int8 answer.
4. nn.Hardtanh(min_val >= max_val) is PyTorch's AssertionError.

Each error is raised by matgrad (its message matching the pattern) and, where PyTorch is installed, the same
call raises the same type there; values are computed here with NumPy and compared with PyTorch when present.
"""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
import matgrad.nn.functional as F
import matgrad.nn.utils.parametrizations  # noqa: F401  (L.nn.utils.parametrizations below)
from tests.helpers import check_op
from tests.ops.test_torch_errors_more import _raises_like_torch

try:
    import torch
    import torch.nn.functional as TF
    import torch.nn.utils.parametrizations  # noqa: F401
except ImportError:  # the comparisons skip cleanly without PyTorch
    torch = TF = None


def _z(L, *shape):
    return L.zeros(*shape, dtype=L.float64)


def _eye(L, n=2):
    return L.eye(n, dtype=L.float64)


# --- 1. error types ---------------------------------------------------------------------------------
ERRORS = [  # (id, call on a library, PyTorch's error type, the phrase matgrad's message must hold)
    # joining and splitting
    ("cat_sizes", lambda L: L.cat([_z(L, 2, 3), _z(L, 2, 4)]), RuntimeError,
     r"Sizes of tensors must match except in dimension 0.*tensor 1 has shape \(2, 4\)"),
    ("cat_ndim", lambda L: L.cat([_z(L, 2, 3), _z(L, 2)]), RuntimeError,
     "Tensors must have same number of dimensions: got 2 and 1"),
    ("cat_0d", lambda L: L.cat([_z(L, 2), L.tensor(1.0)]), RuntimeError,
     r"zero-dimensional tensor \(at position 1\) cannot be concatenated"),
    ("cat_0d_before_dim", lambda L: L.cat([L.tensor(1.0)], 4), RuntimeError, "zero-dimensional tensor"),
    ("cat_empty", lambda L: L.cat([]), ValueError, "expected a non-empty list of Tensors"),
    ("cat_a_tensor", lambda L: L.cat(_z(L, 2, 3)), TypeError, "must be a tuple or list of Tensors, not Tensor"),
    ("concat_sizes", lambda L: L.concat([_z(L, 2, 3), _z(L, 3, 3)], 1), RuntimeError, "Sizes of tensors must match"),
    ("stack_sizes", lambda L: L.stack([_z(L, 2, 3), _z(L, 3)]), RuntimeError,
     r"stack expects each tensor to be equal size: tensor 1 has shape \(3,\)"),
    ("stack_empty", lambda L: L.stack([]), RuntimeError, "stack expects a non-empty TensorList"),
    ("stack_a_tensor", lambda L: L.stack(_z(L, 2, 3)), TypeError, "not Tensor"),
    ("stack_dim_before_sizes", lambda L: L.stack([_z(L, 2, 3), _z(L, 3)], 4), IndexError,
     r"\[-3, 2\], but got 4"),
    ("hstack_empty", lambda L: L.hstack([]), RuntimeError, "hstack expects a non-empty TensorList"),
    ("vstack_empty", lambda L: L.vstack([]), RuntimeError, "vstack expects a non-empty TensorList"),
    ("dstack_empty", lambda L: L.dstack([]), RuntimeError, "dstack expects a non-empty TensorList"),
    ("column_stack_empty", lambda L: L.column_stack([]), RuntimeError, "column_stack expects a non-empty"),
    ("hstack_sizes", lambda L: L.hstack([_z(L, 2, 3), _z(L, 3, 3)]), RuntimeError,
     "Sizes of tensors must match except in dimension 1"),
    ("split_sum", lambda L: L.split(_z(L, 2, 3), [1, 1], 1), RuntimeError,
     r"split_with_sizes expects split_sizes to sum exactly to 3 \(input tensor's size at dimension 1\)"),
    ("split_sum_method", lambda L: _z(L, 3).split([1, 1]), RuntimeError, "sum exactly to 3"),
    ("split_negative_section", lambda L: L.split(_z(L, 2, 3), [4, -1], 1), RuntimeError,
     r"split_sizes have only non-negative entries, but got split_sizes=\[4, -1\]"),
    ("split_size_0", lambda L: L.split(_z(L, 2, 3), 0, 1), RuntimeError,
     "split_size can only be 0 if dimension size is 0, but got dimension size of 3"),
    ("split_size_negative", lambda L: L.split(_z(L, 2, 0), -1, 1), RuntimeError,
     "split expects split_size be non-negative, but got split_size=-1"),
    ("split_size_method", lambda L: _z(L, 4).split(0), RuntimeError, "split_size can only be 0"),
    ("split_float_sections", lambda L: L.split(_z(L, 2, 3), [1.0, 2], 1), TypeError, "must be int, not float"),
    ("split_bool_sections", lambda L: L.split(_z(L, 2, 3), [True, 2], 1), TypeError, "must be int, not bool"),
    ("chunk_0", lambda L: L.chunk(_z(L, 2, 3), 0), RuntimeError, "chunk expects `chunks` to be greater than 0, got: 0"),
    ("chunk_negative", lambda L: _z(L, 4).chunk(-1), RuntimeError, "greater than 0, got: -1"),
    ("chunk_0_empty", lambda L: L.chunk(_z(L, 0), 0), RuntimeError, "greater than 0"),
    ("chunk_0_before_dim", lambda L: L.chunk(_z(L, 2, 3), 0, 5), RuntimeError, "greater than 0"),
    ("chunk_float", lambda L: L.chunk(_z(L, 4), 2.0), TypeError, "argument 'chunks' must be int, not float"),
    ("chunk_bool", lambda L: L.chunk(_z(L, 4), True), TypeError, "argument 'chunks' must be int, not bool"),
    # matgrad/ops/linalg.py
    ("diag_3d", lambda L: L.diag(_z(L, 2, 2, 2)), RuntimeError, r"diag\(\): Supports 1D or 2D tensors. Got 3D"),
    ("diag_0d", lambda L: L.diag(L.tensor(1.0)), RuntimeError, "Got 0D"),
    ("outer_self", lambda L: L.outer(_z(L, 2, 2), _z(L, 2)), RuntimeError, "Expected 1-D argument self, but got 2-D"),
    ("outer_vec2", lambda L: L.outer(_z(L, 2), L.tensor(1.0)), RuntimeError, "Expected 1-D argument vec2, but got 0-D"),
    ("ger", lambda L: L.ger(_z(L, 2), _z(L, 2, 1)), RuntimeError, "Expected 1-D argument vec2"),
    ("mv_ranks", lambda L: L.mv(_z(L, 2, 2), _z(L, 2, 2)), RuntimeError, "vector \\+ matrix @ vector expected"),
    ("mv_sizes", lambda L: L.mv(_z(L, 2, 3), _z(L, 2)), RuntimeError, r"size mismatch, got mat \(2x3\), vec \(2\)"),
    ("addmm_mat1", lambda L: L.addmm(_z(L, 2, 2), _z(L, 2), _z(L, 2, 2)), RuntimeError,
     "mat1 must be a matrix, got 1-D tensor"),
    ("addmm_mat2", lambda L: L.addmm(_z(L, 2, 2), _z(L, 2, 2), _z(L, 2)), RuntimeError,
     "mat2 must be a matrix, got 1-D tensor"),
    ("addmm_sizes", lambda L: L.addmm(_z(L, 2, 2), _z(L, 2, 3), _z(L, 2, 2)), RuntimeError,
     r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 2x2\)"),
    ("addmm_input", lambda L: L.addmm(_z(L, 3, 3), _z(L, 2, 2), _z(L, 2, 2)), RuntimeError,
     r"input of shape \(3, 3\) does not broadcast"),
    ("baddbmm_batch1", lambda L: L.baddbmm(_z(L, 2, 2, 2), _z(L, 2, 2), _z(L, 2, 2, 2)), RuntimeError,
     "batch1 must be a 3D tensor"),
    ("baddbmm_batch2_4d", lambda L: L.baddbmm(_z(L, 2, 2, 2), _z(L, 2, 2, 2), _z(L, 2, 2, 2, 2)), RuntimeError,
     "batch2 must be a 3D tensor"),
    ("baddbmm_batch2_2d", lambda L: L.baddbmm(_z(L, 2, 2, 2), _z(L, 2, 2, 2), _z(L, 2, 2)), IndexError,
     "batch2 must be a 3D tensor"),
    ("baddbmm_sizes", lambda L: L.baddbmm(_z(L, 2, 2, 2), _z(L, 2, 2, 3), _z(L, 2, 2, 2)), RuntimeError,
     "cannot be multiplied"),
    ("baddbmm_input", lambda L: L.baddbmm(_z(L, 3, 2, 2), _z(L, 2, 2, 2), _z(L, 2, 2, 2)), RuntimeError,
     "does not broadcast"),
    ("addbmm_batch1", lambda L: L.addbmm(_z(L, 2, 2), _z(L, 2, 2), _z(L, 2, 2, 2)), RuntimeError,
     "batch1 must be a 3D tensor"),
    ("addbmm_batch2_1d", lambda L: L.addbmm(_z(L, 2, 2), _z(L, 2, 2, 2), _z(L, 2)), IndexError,
     "batch2 must be a 3D tensor"),
    ("addbmm_batches", lambda L: L.addbmm(_z(L, 2, 2), _z(L, 3, 2, 2), _z(L, 2, 2, 2)), RuntimeError,
     "cannot be multiplied"),
    ("addmv_ranks", lambda L: L.addmv(_z(L, 2), _z(L, 2), _z(L, 2)), RuntimeError, "vector \\+ matrix @ vector"),
    ("addmv_sizes", lambda L: L.addmv(_z(L, 2), _z(L, 2, 3), _z(L, 2)), RuntimeError, "size mismatch"),
    ("addmv_input", lambda L: L.addmv(_z(L, 3), _z(L, 2, 2), _z(L, 2)), RuntimeError, "does not broadcast"),
    ("einsum_ellipses", lambda L: L.einsum("......->", _z(L, 2)), RuntimeError, "more than one ellipsis"),
    ("einsum_subscript", lambda L: L.einsum("i1->", _z(L, 2)), RuntimeError, "invalid subscript"),
    ("einsum_operands", lambda L: L.einsum("i,j->", _z(L, 2)), RuntimeError, "2 operand"),
    ("einsum_ndim", lambda L: L.einsum("ij->", _z(L, 2)), RuntimeError,
     r"number of subscripts in the equation \(2\) does not match the number of dimensions \(1\)"),
    ("einsum_output_unknown", lambda L: L.einsum("i->j", _z(L, 2)), RuntimeError, "output subscript j does not"),
    ("einsum_output_twice", lambda L: L.einsum("i->ii", _z(L, 2)), RuntimeError, "more than once in the output"),
    ("einsum_repeated", lambda L: L.einsum("ii->", _z(L, 2, 3)), RuntimeError, "repeated for operand 0"),
    ("einsum_broadcast", lambda L: L.einsum("i,i->", _z(L, 2), _z(L, 3)), RuntimeError,
     "subscript i has size 3 for operand 1 which does not broadcast"),
    ("einsum_no_operand", lambda L: L.einsum("i->"), ValueError, "einsum"),  # a Python-level check in both
    ("det_1d", lambda L: L.det(_z(L, 2)), RuntimeError, "linalg.det: The input tensor A must have at least 2 dim"),
    ("det_not_square", lambda L: L.det(_z(L, 2, 3)), RuntimeError, "square matrices, but they are 2 by 3"),
    ("inverse_1d", lambda L: L.inverse(_z(L, 3)), RuntimeError, "at least 2 dimensions"),
    ("cdist_1d", lambda L: L.cdist(_z(L, 3), _z(L, 2, 3)), RuntimeError, "cdist only supports at least 2D tensors"),
    ("cdist_columns", lambda L: L.cdist(_z(L, 2, 3), _z(L, 2, 4)), RuntimeError, "same number of columns"),
    ("cdist_p", lambda L: L.cdist(_z(L, 2, 3), _z(L, 2, 3), p=-1), RuntimeError, "non-negative p values"),
    ("cdist_batch", lambda L: L.cdist(_z(L, 2, 2, 3), _z(L, 3, 2, 3)), RuntimeError, "batch dimensions"),
    ("cross_ndim", lambda L: L.cross(_z(L, 3), _z(L, 2, 3), dim=-1), RuntimeError, "same number of dimensions"),
    ("cross_no_3", lambda L: L.cross(_z(L, 2), _z(L, 2)), RuntimeError, "no dimension of size 3"),
    ("cross_length", lambda L: L.cross(_z(L, 2, 4), _z(L, 2, 4), dim=1), RuntimeError, "must have length 3"),
    ("cross_broadcast", lambda L: L.cross(_z(L, 2, 3), _z(L, 4, 3), dim=1), RuntimeError, "broadcast"),
    ("tensordot_negative", lambda L: L.tensordot(_z(L, 2), _z(L, 2), -1), RuntimeError, "dims >= 0"),
    ("tensordot_too_many", lambda L: L.tensordot(_z(L, 2), _z(L, 2), 2), RuntimeError, "dims=2"),
    ("tensordot_lengths", lambda L: L.tensordot(_z(L, 2, 2), _z(L, 2, 2), ([0, 1], [0])), RuntimeError,
     "both dimension lists should have same length"),
    ("tensordot_sizes", lambda L: L.tensordot(_z(L, 2, 3), _z(L, 2, 2), ([1], [0])), RuntimeError,
     "contracted dimensions need to match"),
    ("tensordot_string", lambda L: L.tensordot(_z(L, 2, 3), _z(L, 2, 3), "a"), RuntimeError,
     "tensordot expects dims to be int or"),
    ("tensordot_one_list", lambda L: L.tensordot(_z(L, 2, 3), _z(L, 2, 3), ([0],)), ValueError, "pair"),
    ("inner", lambda L: L.inner(_z(L, 2, 3), _z(L, 2)), RuntimeError, "last dimension"),
    ("vdot_ranks", lambda L: L.vdot(_z(L, 2, 2), _z(L, 2)), RuntimeError, "1D tensors expected, but got 2D and 1D"),
    ("vdot_sizes", lambda L: L.vdot(_z(L, 2), _z(L, 3)), RuntimeError, "inconsistent tensor size"),
    ("cov_3d", lambda L: L.cov(_z(L, 2, 2, 2)), RuntimeError, "two or fewer dimensions"),
    ("cov_fweights_2d", lambda L: L.cov(_z(L, 2, 3), fweights=L.ones(3, 1, dtype=L.int64)), RuntimeError,
     "fweights to have one or fewer dimensions"),
    ("cov_fweights_numel", lambda L: L.cov(_z(L, 2, 3), fweights=L.ones(2, dtype=L.int64)), RuntimeError,
     "same numel"),
    ("cov_fweights_float", lambda L: L.cov(_z(L, 2, 3), fweights=L.ones(3)), RuntimeError,
     "fweights to have integral dtype"),
    ("cov_aweights_int", lambda L: L.cov(_z(L, 2, 3), aweights=L.ones(3, dtype=L.int64)), RuntimeError,
     "aweights to have floating point dtype"),
    ("cov_negative", lambda L: L.cov(_z(L, 2, 3), aweights=-L.ones(3, dtype=L.float64)), RuntimeError,
     "aweights cannot be negative"),
    # matgrad.linalg
    *[(f"linalg_{name}_1d", (lambda n: lambda L: getattr(L.linalg, n)(_z(L, 3)))(name), RuntimeError,
       "at least 2 dimensions")
      for name in ("det", "inv", "inv_ex", "slogdet", "cholesky", "cholesky_ex", "eigh", "eigvalsh", "svd", "svdvals",
                   "qr", "matrix_rank", "matrix_exp", "lu", "cond", "matrix_norm")],
    ("linalg_pinv_1d", lambda L: L.linalg.pinv(_z(L, 3)), RuntimeError, "linalg.pinv"),
    ("linalg_lu_factor_1d", lambda L: L.linalg.lu_factor(_z(L, 3)), RuntimeError, "lu_factor"),
    ("linalg_matrix_power_1d", lambda L: L.linalg.matrix_power(_z(L, 3), 2), RuntimeError, "at least 2 dimensions"),
    *[(f"linalg_{name}_not_square", (lambda n: lambda L: getattr(L.linalg, n)(_z(L, 2, 3)))(name), RuntimeError,
       "must be batches of square matrices, but they are 2 by 3 matrices")
      for name in ("det", "inv", "slogdet", "cholesky", "eigh", "eigvalsh", "matrix_exp")],
    ("linalg_matrix_norm_int_dim", lambda L: L.linalg.matrix_norm(_z(L, 3, 3), dim=0), TypeError, "dim"),
    ("linalg_matrix_norm_3_dims", lambda L: L.linalg.matrix_norm(_z(L, 3, 3), dim=(0, 1, 1)), RuntimeError,
     "dim must be a 2-tuple. Got 0 1 1"),
    ("linalg_matrix_norm_same_dims", lambda L: L.linalg.matrix_norm(_z(L, 3, 3), dim=(0, -2)), RuntimeError,
     r"dims must be different. Got \(0, 0\)"),
    ("linalg_matrix_norm_dim_range", lambda L: L.linalg.matrix_norm(_z(L, 3, 3), dim=(0, 2)), IndexError,
     r"Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)"),
    ("linalg_matrix_norm_float_dim", lambda L: L.linalg.matrix_norm(_z(L, 3, 3), dim=(0, 1.0)), TypeError, "float"),
    ("linalg_norm_dim_range", lambda L: L.linalg.norm(_z(L, 3, 3), dim=(0, 2)), IndexError, "out of range"),
    ("linalg_solve_1d", lambda L: L.linalg.solve(_z(L, 2), _z(L, 2)), RuntimeError, "at least 2 dimensions"),
    ("linalg_solve_shapes", lambda L: L.linalg.solve(_eye(L), _z(L, 3, 1)), RuntimeError,
     r"Incompatible shapes of A and B for the equation AX = B \(2x2 and 3x1\)"),
    ("linalg_solve_batch", lambda L: L.linalg.solve(_eye(L).expand(2, 2, 2), _z(L, 3, 2, 1)), RuntimeError,
     "batch"),
    ("linalg_solve_vector_right", lambda L: L.linalg.solve(_eye(L), _z(L, 2), left=False), RuntimeError,
     "left=False"),
    ("linalg_multi_dot_1", lambda L: L.linalg.multi_dot([_z(L, 2, 2)]), RuntimeError, "at least 2 tensors but got 1"),
    ("linalg_multi_dot_3d", lambda L: L.linalg.multi_dot([_z(L, 2, 2), _z(L, 2, 2, 2)]), RuntimeError,
     "must be 1D or 2D but got 3D"),
    ("linalg_multi_dot_middle", lambda L: L.linalg.multi_dot([_z(L, 2, 2), _z(L, 2), _z(L, 2, 2)]), RuntimeError,
     "tensor 1 must be 2D but got 1D"),
    ("linalg_multi_dot_sizes", lambda L: L.linalg.multi_dot([_z(L, 2, 3), _z(L, 2, 2)]), RuntimeError,
     r"tensors 0 and 1 with shapes \[2, 3\] and \[2, 2\] cannot be multiplied"),
    ("linalg_cross_ndim", lambda L: L.linalg.cross(_z(L, 3), _z(L, 2, 3)), RuntimeError, "same number of dimensions"),
    ("linalg_eigh_uplo", lambda L: L.linalg.eigh(_eye(L), UPLO="X"), RuntimeError, "'L' or 'U'"),
    ("linalg_eigvalsh_uplo", lambda L: L.linalg.eigvalsh(_eye(L), UPLO="X"), RuntimeError, "'L' or 'U'"),
    ("linalg_qr_mode", lambda L: L.linalg.qr(_eye(L), mode="x"), RuntimeError, "unrecognized mode 'x'"),
    ("linalg_lstsq_driver", lambda L: L.linalg.lstsq(_eye(L), _eye(L), driver="x"), RuntimeError,
     "parameter `driver` should be one of"),
    ("linalg_lstsq_ndim", lambda L: L.linalg.lstsq(_eye(L), _z(L, 2, 2, 2)), RuntimeError, r"input.dim\(\) must be"),
    ("linalg_lstsq_rows", lambda L: L.linalg.lstsq(_eye(L), _z(L, 3, 2)), RuntimeError, r"input.size\(-2\) should"),
    ("linalg_solve_triangular_b", lambda L: L.linalg.solve_triangular(_eye(L), _z(L, 2), upper=True), RuntimeError,
     "The input tensor B must have at least 2 dimensions"),
    ("linalg_solve_triangular_shapes", lambda L: L.linalg.solve_triangular(_eye(L), _z(L, 3, 2), upper=True),
     RuntimeError, "Incompatible shapes"),
    ("linalg_lu_solve_batch",
     lambda L: L.linalg.lu_solve(*(t.expand(2, *t.shape) for t in L.linalg.lu_factor(_eye(L))), _z(L, 3, 2, 1)),
     RuntimeError, "batch"),
    ("linalg_householder_1d", lambda L: L.linalg.householder_product(_z(L, 2), _z(L, 1)), RuntimeError,
     "input must have at least 2 dimensions"),
    ("linalg_householder_tau_0d", lambda L: L.linalg.householder_product(_z(L, 2, 2), L.tensor(1.0, dtype=L.float64)),
     IndexError, "tau must have at least 1 dimension"),
    ("linalg_householder_wide", lambda L: L.linalg.householder_product(_z(L, 2, 3), _z(L, 1)), RuntimeError,
     "greater than or equal to input.shape"),
    ("linalg_householder_tau", lambda L: L.linalg.householder_product(_z(L, 3, 2), _z(L, 3)), RuntimeError,
     "greater than or equal to tau.shape"),
    ("linalg_householder_batch", lambda L: L.linalg.householder_product(_z(L, 2, 3, 2), _z(L, 3, 1)), RuntimeError,
     "batch dimensions of tau"),
    ("linalg_tensorinv", lambda L: L.linalg.tensorinv(_z(L, 2, 3), 1), RuntimeError, "prod"),
    ("linalg_tensorsolve", lambda L: L.linalg.tensorsolve(_z(L, 2, 3), _z(L, 2)), RuntimeError, "prod"),
    # 2. dims through wrap_dim
    ("glu_dim", lambda L: L.nn.functional.glu(_z(L, 2, 4), 2), IndexError, r"\[-2, 1\], but got 2"),
    ("glu_negative_dim", lambda L: L.nn.functional.glu(_z(L, 2, 4), -3), IndexError, r"\[-2, 1\], but got -3"),
    ("glu_float_dim", lambda L: L.nn.functional.glu(_z(L, 2, 4), 1.0), TypeError, "must be int, not float"),
    ("glu_odd", lambda L: L.nn.functional.glu(_z(L, 2, 3), -1), RuntimeError, "Halving dimension must be even"),
    ("stride_dim", lambda L: _z(L, 2, 3).stride(2), IndexError, r"\[-2, 1\], but got 2"),
    ("stride_negative_dim", lambda L: _z(L, 2, 3).stride(-3), IndexError, r"\[-2, 1\], but got -3"),
    ("stride_float", lambda L: _z(L, 2, 3).stride(1.0), TypeError, "must be int, not float"),
    ("stride_bool", lambda L: _z(L, 2, 3).stride(True), TypeError, "must be int, not bool"),
    ("stride_0d", lambda L: L.tensor(1.0).stride(0), IndexError, "Dimension specified as 0 but tensor has no dim"),
    ("stride_0d_any", lambda L: L.tensor(1.0).stride(5), IndexError, "Dimension specified as 5"),
    ("stride_0d_float", lambda L: L.tensor(1.0).stride(1.0), TypeError, "must be int, not float"),
    ("spectral_norm_dim", lambda L: L.nn.utils.parametrizations.spectral_norm(L.nn.Linear(3, 2), dim=2),
     IndexError, r"\[-2, 1\], but got 2"),
    ("spectral_norm_negative_dim", lambda L: L.nn.utils.parametrizations.spectral_norm(L.nn.Linear(3, 2), dim=-3),
     IndexError, "but got -3"),
    ("spectral_norm_float_dim", lambda L: L.nn.utils.parametrizations.spectral_norm(L.nn.Linear(3, 2), dim=1.0),
     TypeError, "must be int, not float"),
    ("gradient_dim", lambda L: L.gradient(_z(L, 2, 3), dim=2), IndexError, r"\[-2, 1\], but got 2"),
    ("gradient_dims", lambda L: L.gradient(_z(L, 2, 3), dim=[0, -3]), IndexError, "but got -3"),
    ("gradient_float_dim", lambda L: L.gradient(_z(L, 2, 3), dim=1.0), TypeError, "float"),
    ("gradient_float_in_dims", lambda L: L.gradient(_z(L, 2, 3), dim=(1.0,)), TypeError, "float"),
    ("gradient_bool_dim", lambda L: L.gradient(_z(L, 2, 3), dim=True), TypeError, "bool"),
    ("gradient_repeated_dim", lambda L: L.gradient(_z(L, 2, 3), dim=[0, -2]), RuntimeError,
     "dim 0 appears multiple times"),
    # 3. two bools have no floor division or remainder
    *[(f"bool_{name}", call, NotImplementedError, rf'"{kernel}" not implemented for \'Bool\'')
      for name, kernel, call in [
          ("floordiv", "div_floor_cpu", lambda L: L.tensor([True, False]) // L.tensor([True, True])),
          ("floor_divide_python_bool", "div_floor_cpu", lambda L: L.floor_divide(L.tensor([True]), True)),
          ("rfloordiv_python_bool", "div_floor_cpu", lambda L: True // L.tensor([True])),
          ("mod", "remainder_cpu", lambda L: L.tensor([True, False]) % L.tensor([True, True])),
          ("remainder", "remainder_cpu", lambda L: L.remainder(L.tensor([True]), L.tensor(True))),
          ("remainder_python_bool", "remainder_cpu", lambda L: L.remainder(True, L.tensor([True]))),
          ("fmod", "fmod_cpu", lambda L: L.fmod(L.tensor([True]), L.tensor([True]))),
          ("fmod_method", "fmod_cpu", lambda L: L.tensor([True]).fmod(True)),
          ("floor_divide_", "div_floor_cpu", lambda L: L.tensor([True]).floor_divide_(L.tensor([True]))),
          ("remainder_", "remainder_cpu", lambda L: L.tensor([True]).remainder_(L.tensor([True]))),
          ("ifloordiv", "div_floor_cpu", lambda L: L.tensor([True]).__ifloordiv__(L.tensor([True]))),
          ("empty", "div_floor_cpu", lambda L: L.zeros(0, dtype=L.bool) // L.zeros(0, dtype=L.bool)),
          ("div_floor", "div_floor_cpu", lambda L: L.div(L.tensor([True]), L.tensor([True]), rounding_mode="floor")),
          ("div_trunc", "div_trunc_cpu", lambda L: L.div(L.tensor([True]), True, rounding_mode="trunc")),
      ]],
    ("div__bad_rounding_mode", lambda L: L.ones(2).div_(2, rounding_mode="round"), (ValueError, RuntimeError),
     "rounding_mode"),
    ("div__positional_rounding_mode", lambda L: L.ones(2).div_(2, "floor"), TypeError, None),
    # 4. Hardtanh
    ("hardtanh_equal", lambda L: L.nn.Hardtanh(1.0, 1.0), AssertionError,
     r"max_val \(1.0\) must be greater than min_val \(1.0\)"),
    ("hardtanh_reversed", lambda L: L.nn.Hardtanh(2, 1), AssertionError, r"max_val \(1\) must be greater"),
]


@pytest.mark.filterwarnings("ignore:Using torch.cross without specifying the dim")  # PyTorch's, before its error
@pytest.mark.parametrize("call, exc, pattern", [pytest.param(c, e, p, id=i) for i, c, e, p in ERRORS])
def test_the_error_is_torchs(call, exc, pattern):
    _raises_like_torch(call, exc, pattern)


def test_matgrad_linalg_gives_no_value_error_for_a_shape():
    """The README's promise: every wrong shape in matgrad.linalg is a RuntimeError (an IndexError for a dim)."""
    for name in ("det", "inv", "solve", "cholesky", "eigh", "svd", "qr", "pinv", "lstsq", "matrix_exp", "lu_factor"):
        fn = getattr(mg.linalg, name)
        args = (_z(mg, 3), _z(mg, 3)) if name in ("solve", "lstsq") else (_z(mg, 3),)
        with pytest.raises(RuntimeError) as info:
            fn(*args)
        assert not isinstance(info.value, ValueError)


# --- 1. what still works next to the errors -----------------------------------------------------------
def _same(got, want_np, want_torch=None):
    got = got.numpy() if hasattr(got, "numpy") else np.asarray(got)
    np.testing.assert_array_equal(got, want_np)
    if want_torch is not None:
        np.testing.assert_array_equal(got, want_torch.numpy())


def test_split_sizes_pytorch_accepts():
    x = np.arange(6.0).reshape(2, 3)
    for L in [mg] + ([torch] if torch is not None else []):
        t = L.tensor(x)
        assert [tuple(p.shape) for p in L.split(L.zeros(2, 0), 0, 1)] == [(2, 0)]  # 0 on an empty dim: one piece
        assert [tuple(p.shape) for p in L.split(t, [3, 0], 1)] == [(2, 3), (2, 0)]  # a zero section
        pieces = L.split(t, L.tensor(2), 1)  # a 0-d integer tensor is a size
        np.testing.assert_array_equal(pieces[0].numpy(), x[:, :2])
        np.testing.assert_array_equal(pieces[1].numpy(), x[:, 2:])
        assert [tuple(p.shape) for p in L.chunk(t, L.tensor(2), 1)] == [(2, 2), (2, 1)]
        assert [tuple(p.shape) for p in L.chunk(L.zeros(0, 2), 3)] == [(0, 2)] * 3
        np.testing.assert_array_equal(L.stack([t, t], -1).numpy(), np.stack([x, x], -1))
        np.testing.assert_array_equal(L.stack([L.tensor(1.0), L.tensor(2.0)]).numpy(), [1.0, 2.0])


def test_products_with_fitting_shapes_still_work():
    rng = np.random.default_rng(0)
    m, v, w = rng.standard_normal((2, 3)), rng.standard_normal(3), rng.standard_normal(2)
    np.testing.assert_allclose(mg.mv(mg.tensor(m), mg.tensor(v)).numpy(), m @ v, rtol=1e-12)
    np.testing.assert_allclose(mg.outer(mg.tensor(w), mg.tensor(v)).numpy(), np.outer(w, v), rtol=1e-12)
    np.testing.assert_allclose(mg.diag(mg.tensor(v), 1).numpy(), np.diag(v, 1))
    chain = [rng.standard_normal(3), rng.standard_normal((3, 2)), rng.standard_normal(2)]
    np.testing.assert_allclose(mg.linalg.multi_dot([mg.tensor(c) for c in chain]).numpy(),
                               chain[0] @ chain[1] @ chain[2], rtol=1e-12)


def test_matrix_norm_and_gradient_take_a_bool_in_a_dim_list_as_pytorch():
    x = np.arange(6.0).reshape(2, 3)
    got = mg.linalg.matrix_norm(mg.tensor(x), dim=(0, True)).item()
    np.testing.assert_allclose(got, np.linalg.norm(x), rtol=1e-12)
    grads = mg.gradient(mg.tensor(x), dim=[0, True])
    np.testing.assert_allclose(grads[1].numpy(), np.gradient(x, axis=1))
    if torch is not None:
        assert torch.linalg.matrix_norm(torch.tensor(x), dim=(0, True)).item() == pytest.approx(got, rel=1e-12)
        np.testing.assert_allclose(torch.gradient(torch.tensor(x), dim=[0, True])[1].numpy(), grads[1].numpy())


def test_stride_and_spectral_norm_dims():
    x = mg.zeros(2, 3, 4)
    assert x.stride(-1) == 1 and x.stride(0) == 12 and x.stride(mg.tensor(1)) == 4 and x.stride(np.int64(-2)) == 4
    assert mg.tensor(1.0).stride() == ()
    layer = mg.nn.utils.parametrizations.spectral_norm(mg.nn.Linear(3, 2), dim=-1)
    assert layer.parametrizations.weight[0].dim == 1
    if torch is not None:
        t = torch.zeros(2, 3, 4)
        assert (t.stride(-1), t.stride(0), t.stride(torch.tensor(1)), t.stride(np.int64(-2))) == (1, 12, 4, 4)
        tl = torch.nn.utils.parametrizations.spectral_norm(torch.nn.Linear(3, 2), dim=-1)
        assert tl.parametrizations.weight[0].dim == 1


# --- 2. glu's dim: values and gradients ----------------------------------------------------------------
@pytest.mark.parametrize("dim", [0, -2, 1, -1])
def test_glu_any_dim_gradcheck_and_torch(dim):
    check_op(lambda x: F.glu(x, dim), (4, 6), torch_fn=None if TF is None else (lambda x: TF.glu(x, dim)))


# --- 3. div_ with rounding_mode; bools with numbers ---------------------------------------------------
@pytest.mark.parametrize("mode", ["floor", "trunc"])
def test_div__rounding_mode_values(mode):
    a = np.array([[5.0, -7.0, 3.5], [-0.5, 9.0, -2.25]])
    b = np.array([2.0, 2.0, -1.5])
    rounded = np.floor if mode == "floor" else np.trunc
    got = mg.tensor(a).div_(mg.tensor(b), rounding_mode=mode)  # a broadcast divisor
    np.testing.assert_array_equal(got.numpy(), rounded(a / b))
    ints = mg.tensor([5, -7, 3]).div_(2, rounding_mode=mode)
    assert ints.dtype == mg.int64
    np.testing.assert_array_equal(ints.numpy(), rounded(np.array([5, -7, 3]) / 2))
    np.testing.assert_array_equal(mg.tensor(a).divide_(2.0, rounding_mode=mode).numpy(), rounded(a / 2))
    same = mg.tensor(a)
    assert same.div_(3.0, rounding_mode=mode) is same  # in place: the tensor itself comes back
    np.testing.assert_allclose(mg.tensor(a).div_(4.0).numpy(), a / 4.0)  # no rounding_mode: true division
    if torch is not None:
        np.testing.assert_array_equal(torch.tensor(a).div_(torch.tensor(b), rounding_mode=mode).numpy(),
                                      rounded(a / b))
        np.testing.assert_array_equal(torch.tensor([5, -7, 3]).div_(2, rounding_mode=mode).numpy(), ints.numpy())


@pytest.mark.parametrize("mode", ["floor", "trunc"])
def test_div__rounding_mode_gradient(mode):
    """Piecewise constant: the gradient is 0 to both operands (gradcheck away from the steps), as PyTorch's."""
    check_op(lambda x, y: (x * 1).div_(y, rounding_mode=mode), (3, 4), (4,), positive=True, second=False)


def test_bool_with_numbers_still_divides():
    b = [True, False, True]
    for L in [mg] + ([torch] if torch is not None else []):
        t = L.tensor(b)
        q = t // 2
        assert str(q.dtype).endswith("int64")
        np.testing.assert_array_equal(q.numpy(), np.array(b, np.int64) // 2)
        np.testing.assert_array_equal(L.fmod(t, 2.0).numpy(), np.fmod(np.array(b, np.float32), 2.0))
        np.testing.assert_array_equal((3 % L.tensor([True, True])).numpy(), [0, 0])
        np.testing.assert_array_equal((L.tensor([5, -7]) // L.tensor([True, True])).numpy(), [5, -7])


# --- 4. Hardtanh ---------------------------------------------------------------------------------------
def test_hardtanh_bounds_in_order_still_build():
    layer = mg.nn.Hardtanh(-2.0, 0.5)
    np.testing.assert_array_equal(layer(mg.tensor([-3.0, 0.0, 1.0])).numpy(), np.float32([-2.0, 0.0, 0.5]))
    assert mg.nn.ReLU6()(mg.tensor([7.0])).item() == 6.0


def test_cat_leaves_out_1d_empty_tensors_as_pytorch():
    """cat([tensor([]), x]): PyTorch's legacy rule skips shape-(0,) tensors beside others (the accumulate idiom)."""
    x = mg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    out = mg.cat([mg.tensor([]), x, mg.tensor([]), x * 2])
    assert out.shape == (4, 3)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((2, 3), 3.0))
    assert mg.cat([mg.tensor([]), mg.tensor([])]).shape == (0,) and mg.cat([mg.tensor([]), mg.ones(3)]).shape == (3,)
    if torch is not None:
        assert tuple(torch.cat([torch.tensor([]), torch.ones(2, 3), torch.tensor([])]).shape) == (2, 3)
