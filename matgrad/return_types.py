"""torch.return_types: the named tuples that max, sort, topk, kthvalue, ... return, under torch's names.

    values, indices = matgrad.max(x, dim=0)
    isinstance(x.max(0), matgrad.return_types.max)     # True, as in torch

Each is the namedtuple type the op itself builds (in matgrad.ops, matgrad.linalg, matgrad.legacy_linalg),
with torch's field names. torch.slogdet and torch.linalg.slogdet return one type here (torch has two,
`slogdet` and `linalg_slogdet`, with the same fields): both names refer to it.
"""
from __future__ import annotations

from .legacy_linalg import LuUnpackResult as lu_unpack
from .legacy_linalg import QrResult as qr
from .legacy_linalg import SvdResult as svd
from .legacy_linalg import TriangularSolveResult as triangular_solve
from .linalg import CholeskyExResult as linalg_cholesky_ex
from .linalg import EighResult as linalg_eigh
from .linalg import InvExResult as linalg_inv_ex
from .linalg import LstsqResult as linalg_lstsq
from .linalg import LuFactorExResult as linalg_lu_factor_ex
from .linalg import LuFactorResult as linalg_lu_factor
from .linalg import LuResult as linalg_lu
from .linalg import QrResult as linalg_qr
from .linalg import SlogdetResult as linalg_slogdet
from .linalg import SolveExResult as linalg_solve_ex
from .linalg import SvdResult as linalg_svd
from .ops.cumulative import CummaxResult as cummax
from .ops.cumulative import CumminResult as cummin
from .ops.reduction import AminmaxResult as aminmax
from .ops.reduction import MaxResult as max  # noqa: A004 - torch's name
from .ops.reduction import MinResult as min  # noqa: A004 - torch's name
from .ops.sort import HistogramddResult as histogramdd
from .ops.sort import HistogramResult as histogram
from .ops.sort import KthvalueResult as kthvalue
from .ops.sort import MedianResult as median
from .ops.sort import ModeResult as mode
from .ops.sort import NanMedianResult as nanmedian
from .ops.sort import SortResult as sort
from .ops.sort import TopkResult as topk
from .ops.unary import FrexpResult as frexp

slogdet = linalg_slogdet  # torch.slogdet's (see the module docstring)

__all__ = ["aminmax", "cummax", "cummin", "frexp", "histogram", "histogramdd", "kthvalue", "linalg_cholesky_ex",
           "linalg_eigh", "linalg_inv_ex", "linalg_lstsq", "linalg_lu", "linalg_lu_factor", "linalg_lu_factor_ex",
           "linalg_qr", "linalg_slogdet", "linalg_solve_ex", "linalg_svd", "lu_unpack", "max", "median", "min",
           "mode", "nanmedian", "qr", "slogdet", "sort", "svd", "topk", "triangular_solve"]

#: Every type above, as torch.return_types.all_return_types lists its own.
all_return_types = [globals()[name] for name in dict.fromkeys(__all__) if name != "slogdet"]
