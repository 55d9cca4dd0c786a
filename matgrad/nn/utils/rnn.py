"""Variable-length sequences for the recurrent layers, with PyTorch's API.

    padded = pad_sequence([a, b, c])                      # (T, B, *), shorter ones padded
    packed = pack_padded_sequence(padded, [5, 3, 2])      # only the valid steps, time-major
    out, h_n = nn.LSTM(8, 16)(packed)                     # each sequence runs to its own length
    out, lengths = pad_packed_sequence(out)               # back to (T, B, 16)

A PackedSequence holds `data` (sum of lengths, *): step 0 of every sequence, then step 1 of
every sequence still running, and so on, longest first; `batch_sizes[t]` is how many sequences
run at step t. All of these are differentiable (gathers with an index), so gradients flow back
to the padded or listed inputs.
"""
from __future__ import annotations

from typing import Any, NamedTuple, Sequence

import numpy as np

from ...creation import as_tensor, full, tensor
from ...dtypes import int64
from ...ops.join import cat
from ...ops.scatter import index_select
from ...ops.shape import reshape, transpose
from ...tensor import Tensor

__all__ = [
    "PackedSequence", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence", "pack_sequence",
    "unpad_sequence", "unpack_sequence", "invert_permutation",
]


class PackedSequence(NamedTuple):
    """(data, batch_sizes, sorted_indices, unsorted_indices), as PyTorch's.

    batch_sizes is an int64 Tensor; the index tensors are None when the batch was given sorted.
    """

    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None = None
    unsorted_indices: Tensor | None = None

    def to(self, *args: Any, **kwargs: Any) -> PackedSequence:
        data = self.data.to(*args, **kwargs)
        return self if data is self.data else self._replace(data=data)

    def cpu(self) -> PackedSequence:
        return self

    def double(self) -> PackedSequence:
        return self._replace(data=self.data.double())

    def float(self) -> PackedSequence:
        return self._replace(data=self.data.float())

    @property
    def is_cuda(self) -> bool:
        return False

    def is_pinned(self) -> bool:
        return False


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The permutation q with q[p[i]] = i (None stays None)."""
    if permutation is None:
        return None
    p = np.asarray(as_tensor(permutation).array, dtype=np.int64)
    inv = np.empty_like(p)
    inv[p] = np.arange(p.size, dtype=np.int64)
    return tensor(inv, dtype=int64)


def _lengths_array(lengths: Any) -> np.ndarray:
    if isinstance(lengths, Tensor):
        arr = np.asarray(lengths.array)
    else:
        arr = np.asarray([int(v.item()) if isinstance(v, Tensor) else int(v) for v in lengths])
    if arr.ndim != 1:
        raise ValueError(f"lengths: expected a 1-D sequence of lengths, got shape {tuple(arr.shape)}")
    return arr.astype(np.int64)


def _batch_sizes(lengths: np.ndarray) -> np.ndarray:
    """batch_sizes[t] = how many of the (sorted, decreasing) lengths exceed t."""
    steps = np.arange(int(lengths[0]) if lengths.size else 0)
    return (lengths[None, :] > steps[:, None]).sum(axis=1).astype(np.int64)


def pack_padded_sequence(input: Any, lengths: Any, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch (T, B, *) — (B, T, *) with batch_first — whose sequences have these lengths.

    With enforce_sorted=True the lengths must be decreasing; with False they are sorted here and
    the order is kept in sorted_indices / unsorted_indices (so the layers give h_n in your order).
    """
    x = as_tensor(input)
    lens = _lengths_array(lengths)
    if x.ndim < 2:
        raise ValueError(f"pack_padded_sequence: input must have at least 2 dimensions (T, B, *), got shape "
                         f"{tuple(x.shape)}")
    if x.array.size == 0:  # PyTorch's check: a PackedSequence holds at least one step
        raise RuntimeError(f"Cannot pack empty tensors (pack_padded_sequence got input of shape {tuple(x.shape)})")
    b_dim = 0 if batch_first else 1
    if lens.size != x.shape[b_dim]:
        raise ValueError(f"pack_padded_sequence: expected `lengths` of {x.shape[b_dim]} entries (the batch size of "
                         f"input of shape {tuple(x.shape)}), got {lens.size}")
    if lens.size and lens.min() <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in 'lengths' "
                           f"that is <= 0 (lengths {lens.tolist()})")
    if enforce_sorted:
        if np.any(np.diff(lens) > 0):
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You can pass "
                "`enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to sidestep this requirement "
                f"if you do not need ONNX exportability. (lengths {lens.tolist()})")
        order, sorted_indices = np.arange(lens.size), None
    else:
        order = np.argsort(-lens, kind="stable")
        sorted_indices = tensor(order.astype(np.int64), dtype=int64)
    slens = lens[order]
    T = x.shape[1 - b_dim]
    if slens.size and slens[0] > T:
        raise RuntimeError(f"pack_padded_sequence: a length {int(slens[0])} exceeds the {T} time steps of input "
                           f"of shape {tuple(x.shape)}")
    bs = _batch_sizes(slens)
    B = x.shape[b_dim]
    # row of the flattened (T·B, *) (or (B·T, *)) input for each packed row
    if batch_first:
        idx = np.concatenate([order[:n] * T + t for t, n in enumerate(bs)]) if bs.size else np.zeros(0, np.int64)
    else:
        idx = np.concatenate([t * B + order[:n] for t, n in enumerate(bs)]) if bs.size else np.zeros(0, np.int64)
    flat = reshape(x, (T * B,) + tuple(x.shape[2:]))
    data = index_select(flat, 0, tensor(idx.astype(np.int64), dtype=int64))
    return PackedSequence(data, tensor(bs, dtype=int64), sorted_indices, invert_permutation(sorted_indices))


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple[Tensor, Tensor]:
    """Undo pack_padded_sequence: (padded (T, B, *) or (B, T, *), lengths) in the original batch order."""
    data = as_tensor(sequence.data)
    bs = np.asarray(as_tensor(sequence.batch_sizes).array, dtype=np.int64)
    B = int(bs[0]) if bs.size else 0
    T = bs.size
    if total_length is not None:
        if total_length < T:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in input, but got "
                f"total_length={total_length} and max sequence length being {T}")
        T = int(total_length)
    slens = (bs[None, :] > np.arange(B)[:, None]).sum(axis=1)  # lengths, sorted order
    offsets = np.concatenate([[0], np.cumsum(bs)])
    unsorted = (np.arange(B) if sequence.unsorted_indices is None
                else np.asarray(as_tensor(sequence.unsorted_indices).array, dtype=np.int64))
    n = data.shape[0]
    # for each output (t, b): the packed row, or n (the padding row)
    pos = np.full((T, B), n, dtype=np.int64)
    for t in range(bs.size):
        pos[t, :bs[t]] = offsets[t] + np.arange(bs[t])
    pos = pos[:, unsorted]  # batch column j is the sequence given j-th
    if batch_first:
        pos = pos.T
    pad = full((1,) + tuple(data.shape[1:]), padding_value, dtype=data.dtype)
    rows = index_select(cat([data, pad], 0), 0, tensor(pos.reshape(-1), dtype=int64))
    padded = reshape(rows, pos.shape + tuple(data.shape[1:]))
    return padded, tensor(slens[unsorted].astype(np.int64), dtype=int64)


def pad_sequence(sequences: Any, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack sequences of shape (L_i, *) into (T, B, *) (or (B, T, *)), padding to the longest."""
    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    if isinstance(sequences, Tensor):
        sequences = list(sequences.unbind(0))
    seqs = [as_tensor(s) for s in sequences]
    if not seqs:
        raise RuntimeError("pad_sequence: received an empty list of sequences")
    tail = tuple(seqs[0].shape[1:])
    for i, s in enumerate(seqs):
        if s.ndim == 0 or tuple(s.shape[1:]) != tail:
            raise RuntimeError(f"pad_sequence: sequence {i} has shape {tuple(s.shape)}, but sequence 0 has "
                               f"{tuple(seqs[0].shape)}; all must be (L_i, *) with the same trailing dimensions")
    lens = [s.shape[0] for s in seqs]
    T, B = max(lens), len(seqs)
    n = sum(lens)
    starts = np.concatenate([[0], np.cumsum(lens)])
    pos = np.full((B, T), n, dtype=np.int64)
    for b, L in enumerate(lens):
        if padding_side == "right":
            pos[b, :L] = starts[b] + np.arange(L)
        else:
            pos[b, T - L:] = starts[b] + np.arange(L)
    if not batch_first:
        pos = pos.T
    dtype = seqs[0].dtype
    pad = full((1,) + tail, padding_value, dtype=dtype)
    rows = index_select(cat(seqs + [pad], 0), 0, tensor(pos.reshape(-1), dtype=int64))
    return reshape(rows, pos.shape + tail)


def unpad_sequence(padded_sequences: Tensor, lengths: Any, batch_first: bool = False) -> list[Tensor]:
    """The list of sequences (L_i, *) from a padded batch."""
    x = padded_sequences if batch_first else transpose(padded_sequences, 0, 1)
    lens = _lengths_array(lengths)
    return [x[b, :int(L)] for b, L in enumerate(lens)]


def pack_sequence(sequences: Sequence[Any], enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences (L_i, *) (decreasing lengths unless enforce_sorted=False)."""
    lengths = [as_tensor(s).shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """The list of sequences from a PackedSequence, in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
