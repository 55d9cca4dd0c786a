"""`matgrad.utils.tensorboard`: torch.utils.tensorboard, so `from matgrad.utils.tensorboard import SummaryWriter`
ports as is. The writer (writer.py) needs tensorboardX: `pip install "matgrad[tensorboard]"`.
"""
from __future__ import annotations

from .writer import SummaryWriter

__all__ = ["SummaryWriter"]
