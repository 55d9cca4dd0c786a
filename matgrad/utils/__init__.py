"""PyTorch's `torch.utils` layout, so `from matgrad.utils.data import DataLoader` ports as is."""
from . import checkpoint, data

__all__ = ["checkpoint", "data"]
