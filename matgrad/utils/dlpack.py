"""`matgrad.utils.dlpack`: torch.utils.dlpack's names, so `from matgrad.utils.dlpack import to_dlpack` ports.

The functions are matgrad/dlpack.py's: `from_dlpack` (also `matgrad.from_dlpack`), `to_dlpack` (the
legacy capsule; also `matgrad.to_dlpack`) and the `DLDeviceType` enum `Tensor.__dlpack_device__` gives.
"""
from __future__ import annotations

from ..dlpack import DLDeviceType, from_dlpack, to_dlpack

__all__ = ["DLDeviceType", "from_dlpack", "to_dlpack"]
