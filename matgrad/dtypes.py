"""NumPy's dtypes under PyTorch's names, so `dtype=matgrad.float32` reads as in torch."""
import numpy as np

float16 = half = np.dtype("float16")
float32 = np.dtype("float32")
float64 = double = np.dtype("float64")
int8, int16, int32 = np.dtype("int8"), np.dtype("int16"), np.dtype("int32")
int64 = long = np.dtype("int64")
uint8 = np.dtype("uint8")
bool_ = np.dtype("bool")

__all__ = ["float16", "half", "float32", "float64", "double", "int8", "int16", "int32",
           "int64", "long", "uint8", "bool_"]
