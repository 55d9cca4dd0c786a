"""matgrad.nn: layers, losses and containers with PyTorch's API.

    model = nn.Sequential(nn.Linear(784, 1024), nn.ReLU(), nn.Linear(1024, 10), nn.Sigmoid())
    loss = nn.BCELoss()(model(x), one_hot_labels)
"""
# ruff: noqa: F401, I001  (a re-export file: every import is the public API)
from __future__ import annotations

from . import functional, init, parallel, utils
from .activation import ELU, GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, SiLU, Softmax, Softplus, Tanh
from .container import ModuleDict, ModuleList, Sequential
from .conv import Conv2d, ConvTranspose2d
from .dropout import Dropout
from .dropout import Dropout2d
from .embedding import Embedding
from .flatten import Flatten, Unflatten
from .linear import Identity, Linear
from .loss import (
    BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, L1Loss, MSELoss, NLLLoss, SmoothL1Loss,
)
from .module import Module
from .normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from .sync_batchnorm import SyncBatchNorm
from .parameter import Parameter
from .pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d

# --- breadth (issue 14) ---
from .activation import (
    CELU, GLU, SELU, Hardsigmoid, Hardswish, Hardtanh, LogSigmoid, Mish, PReLU, ReLU6, Softmin, Softsign, Threshold,
)
from .container import ParameterDict, ParameterList
from .distance import CosineSimilarity, PairwiseDistance
from .dropout import AlphaDropout
from .embedding import EmbeddingBag
from .linear import Bilinear
from .loss import (
    CosineEmbeddingLoss, GaussianNLLLoss, KLDivLoss, MarginRankingLoss, MultiLabelSoftMarginLoss, PoissonNLLLoss,
    TripletMarginLoss,
)
from .normalization import GroupNorm, InstanceNorm1d, InstanceNorm2d, InstanceNorm3d
from .padding import (
    CircularPad1d, CircularPad2d, CircularPad3d, ConstantPad1d, ConstantPad2d, ConstantPad3d, ReflectionPad1d,
    ReflectionPad2d, ReflectionPad3d, ReplicationPad1d, ReplicationPad2d, ReplicationPad3d, ZeroPad1d, ZeroPad2d,
    ZeroPad3d,
)
from .pooling import AdaptiveMaxPool2d, MaxUnpool2d
from .upsampling import (
    Fold, PixelShuffle, PixelUnshuffle, Unfold, Upsample, UpsamplingBilinear2d, UpsamplingNearest2d,
)
# --- recurrent layers (issue 20) ---
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase

# --- sequences and attention (issue 20: conv/pooling 1-d, attention, transformer) ---
from .attention import MultiheadAttention
from .conv import Conv1d
from .pooling import AdaptiveAvgPool1d, AdaptiveMaxPool1d, AvgPool1d, MaxPool1d
from .transformer import (
    Transformer, TransformerDecoder, TransformerDecoderLayer, TransformerEncoder, TransformerEncoderLayer,
)

# --- breadth 2: RMSNorm, shrinks, RReLU, margin losses, channel dropout, LP pooling, 1-d transposed conv ---
from .activation import Hardshrink, RReLU, Softmax2d, Softshrink, Tanhshrink
from .conv import ConvTranspose1d
from .dropout import Dropout1d, Dropout3d
from .loss import (
    HingeEmbeddingLoss, MultiLabelMarginLoss, MultiMarginLoss, SoftMarginLoss, TripletMarginWithDistanceLoss,
)
from .normalization import LocalResponseNorm, RMSNorm
from .pooling import LPPool1d, LPPool2d, MaxUnpool1d
from .upsampling import ChannelShuffle

# --- spatial transformers' channel dropout and lazy modules ---
from .dropout import FeatureAlphaDropout
from .lazy import LazyConv1d, LazyConv2d, LazyConvTranspose1d, LazyConvTranspose2d, LazyLinear, UninitializedParameter

# --- 3-d convolution, pooling and batch norm ---
from .conv3d import Conv3d, ConvTranspose3d
from .normalization import BatchNorm3d
from .pooling3d import AdaptiveAvgPool3d, AdaptiveMaxPool3d, AvgPool3d, LPPool3d, MaxPool3d, MaxUnpool3d

# --- lazy 3-d convolutions and norms, buffers (PyTorch 2.13's nn.Buffer) ---
from .lazy import (
    LazyBatchNorm1d, LazyBatchNorm2d, LazyBatchNorm3d, LazyConv3d, LazyConvTranspose3d, LazyInstanceNorm1d,
    LazyInstanceNorm2d, LazyInstanceNorm3d, UninitializedBuffer,
)
from .parameter import Buffer

# --- CTC loss, fractional max pooling, adaptive log-softmax ---
from .loss import CTCLoss, NLLLoss2d
from .pooling import FractionalMaxPool2d
from .pooling3d import FractionalMaxPool3d
from .adaptive import AdaptiveLogSoftmaxWithLoss
from .linear_cross_entropy import LinearCrossEntropyLoss, LinearCrossEntropyOptions
from .parallel import DataParallel
from . import modules  # torch.nn.modules
