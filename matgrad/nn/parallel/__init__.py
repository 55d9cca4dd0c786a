"""torch.nn.parallel's names: DistributedDataParallel (over MPI; see matgrad.distributed)."""
from .distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
