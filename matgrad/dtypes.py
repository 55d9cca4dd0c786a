"""NumPy's dtypes under PyTorch's names, so `dtype=matgrad.float32` (or `matgrad.float`) reads as in torch.

`matgrad.float`, `int`, `bool` shadow Python's builtins only as attributes of the matgrad module,
as `torch.float` does; inside matgrad's own code the builtins are untouched.
"""
import numpy as np

float16 = half = np.dtype("float16")
float32 = np.dtype("float32")
float64 = double = np.dtype("float64")
int8, int16, int32 = np.dtype("int8"), np.dtype("int16"), np.dtype("int32")
short = int16
int64 = long = np.dtype("int64")
uint8 = np.dtype("uint8")
bool_ = np.dtype("bool")

#: PyTorch's names that are also Python builtins: exported as matgrad.float, matgrad.int, matgrad.bool.
TORCH_NAMES = {"float": float32, "int": int32, "bool": bool_}

#: PyTorch's legacy type strings (`Tensor.type()`), by dtype.
TYPE_NAMES = {
    float16: "HalfTensor", float32: "FloatTensor", float64: "DoubleTensor", int8: "CharTensor",
    int16: "ShortTensor", int32: "IntTensor", int64: "LongTensor", uint8: "ByteTensor", bool_: "BoolTensor",
}

__all__ = ["float16", "half", "float32", "float64", "double", "int8", "int16", "short", "int32",
           "int64", "long", "uint8", "bool_"]
