"""torch.nn.modules.loss's names, with `_Loss` and `_WeightedLoss` (the bases custom losses subclass)."""
# ruff: noqa: F401, I001  (a re-export file: every import is the public API)
from ...tensor import Tensor
from .. import functional as F
from ..distance import PairwiseDistance
from ..linear import Linear
from ..linear_cross_entropy import LinearCrossEntropyLoss, LinearCrossEntropyOptions
from ..loss import (
    BCELoss, BCEWithLogitsLoss, CosineEmbeddingLoss, CrossEntropyLoss, CTCLoss, GaussianNLLLoss, HingeEmbeddingLoss,
    HuberLoss, KLDivLoss, L1Loss, MarginRankingLoss, MSELoss, MultiLabelMarginLoss, MultiLabelSoftMarginLoss,
    MultiMarginLoss, NLLLoss, NLLLoss2d, PoissonNLLLoss, SmoothL1Loss, SoftMarginLoss, TripletMarginLoss,
    TripletMarginWithDistanceLoss, _Loss, _WeightedLoss,
)
from ..module import Module
