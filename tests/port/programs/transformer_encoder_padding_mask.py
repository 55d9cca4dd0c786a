"""A tiny Transformer encoder classifier over padded token sequences: nn.Embedding plus a learned
position embedding, nn.TransformerEncoder of nn.TransformerEncoderLayer(batch_first=True) with a
src_key_padding_mask, and a masked mean-pool. Task: does token 1 appear more often than token 2?"""
import torch
import torch.nn as nn

torch.manual_seed(0)
vocab, max_len, pad = 5, 12, 0


def make_batch(n):
    lengths = torch.randint(4, max_len + 1, (n,))
    tokens = torch.randint(1, vocab, (n, max_len))
    mask = torch.arange(max_len)[None, :] >= lengths[:, None]  # True at padding
    tokens = tokens.masked_fill(mask, pad)
    labels = ((tokens == 1).sum(1) > (tokens == 2).sum(1)).long()
    return tokens, mask, labels


class Encoder(nn.Module):
    def __init__(self, d_model=32, nhead=4, layers=2):
        super().__init__()
        self.embed = nn.Embedding(vocab, d_model, padding_idx=pad)
        self.pos = nn.Parameter(0.02 * torch.randn(1, max_len, d_model))
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=64, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=layers)
        self.fc = nn.Linear(d_model, 2)

    def forward(self, tokens, mask):
        h = self.encoder(self.embed(tokens) + self.pos[:, :tokens.shape[1]], src_key_padding_mask=mask)
        keep = (~mask).unsqueeze(-1).float()
        return self.fc((h * keep).sum(1) / keep.sum(1))


model = Encoder()

# The mask works: what sits at padded positions does not change the output.
tokens, mask, _ = make_batch(8)
model.eval()
with torch.no_grad():
    other = tokens.masked_fill(mask, 3)
    assert torch.allclose(model(tokens, mask), model(other, mask), atol=1e-5)
model.train()

optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
criterion = nn.CrossEntropyLoss()
losses = []
for step in range(150):
    tokens, mask, labels = make_batch(64)
    loss = criterion(model(tokens, mask), labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())

model.eval()
tokens, mask, labels = make_batch(500)
with torch.no_grad():
    acc = (model(tokens, mask).argmax(1) == labels).float().mean().item()
print("loss", sum(losses[:10]) / 10, "->", sum(losses[-10:]) / 10, "accuracy", acc)
assert acc > 0.85
