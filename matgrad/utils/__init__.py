"""PyTorch's `torch.utils` layout, so `from matgrad.utils.data import DataLoader` ports as is."""
from . import benchmark, checkpoint, data, dlpack, hooks

# (torch.utils.benchmark: Timer, Measurement, Compare). utils.tensorboard loads tensorboardX: imported when asked for
__all__ = ["benchmark", "checkpoint", "data", "dlpack", "hooks"]
