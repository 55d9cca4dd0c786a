"""torch.nn.parallel's names: DistributedDataParallel (over MPI; see matgrad.distributed) and DataParallel."""
from .data_parallel import DataParallel
from .distributed import DistributedDataParallel

__all__ = ["DataParallel", "DistributedDataParallel"]
