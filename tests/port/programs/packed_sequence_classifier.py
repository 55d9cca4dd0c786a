"""Classifying variable-length sequences: pad_sequence to batch them, pack_padded_sequence so the
LSTM skips the padding, pad_packed_sequence to unpack, and the final hidden state (the state at each
sequence's true last step) into a Linear. Task: is the sum of the sequence positive?"""
import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence

torch.manual_seed(0)


def make_batch(n):
    lengths = torch.randint(3, 15, (n,))
    seqs = [torch.randn(int(length), 1) for length in lengths]
    labels = torch.tensor([int(s.sum() > 0) for s in seqs])
    return pad_sequence(seqs, batch_first=True), lengths, labels


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(1, 16, batch_first=True)
        self.fc = nn.Linear(16, 2)

    def forward(self, padded, lengths):
        packed = pack_padded_sequence(padded, lengths, batch_first=True, enforce_sorted=False)
        packed_out, (h_n, c_n) = self.lstm(packed)
        return self.fc(h_n[-1]), packed_out


# pad_sequence pads at the end, to the longest.
padded = pad_sequence([torch.ones(2), torch.ones(4), torch.ones(1)], batch_first=True)
assert padded.tolist() == [[1, 1, 0, 0], [1, 1, 1, 1], [1, 0, 0, 0]]

model = Classifier()

# The packed run sees only the real steps: padding more does not change the result.
x, lengths, _ = make_batch(5)
longer = torch.cat([x, torch.randn(5, 4, 1)], dim=1)
with torch.no_grad():
    logits_a, packed_out = model(x, lengths)
    logits_b, _ = model(longer, lengths)
assert torch.allclose(logits_a, logits_b, atol=1e-6)
out, out_lengths = pad_packed_sequence(packed_out, batch_first=True)
assert out_lengths.tolist() == lengths.tolist()
assert out.shape == (5, int(lengths.max()), 16)
for i, length in enumerate(lengths.tolist()):
    assert out[i, length:].abs().sum().item() == 0.0

optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
criterion = nn.CrossEntropyLoss()
for step in range(200):
    x, lengths, labels = make_batch(32)
    logits, _ = model(x, lengths)
    loss = criterion(logits, labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

model.eval()
x, lengths, labels = make_batch(500)
with torch.no_grad():
    acc = (model(x, lengths)[0].argmax(1) == labels).float().mean().item()
print("loss", loss.item(), "accuracy", acc)
assert acc > 0.9
