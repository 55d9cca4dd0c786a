"""PyTorch's `torch.utils` layout, so `from matgrad.utils.data import DataLoader` ports as is."""
from . import data

__all__ = ["data"]
