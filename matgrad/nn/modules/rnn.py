"""torch.nn.modules.rnn's names (not apply_permutation, deprecated there: use tensor.index_select(dim, perm))."""
# ruff: noqa: F401, I001  (a re-export file: every import is the public API)
from ...tensor import Tensor
from .. import init
from ..module import Module
from ..parameter import Parameter
from ..rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase
from ..utils.rnn import PackedSequence
