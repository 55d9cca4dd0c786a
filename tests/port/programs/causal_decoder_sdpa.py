"""A tiny causal (GPT-style) decoder: self-attention through F.scaled_dot_product_attention with
is_causal=True, checked against an explicit mask from nn.Transformer.generate_square_subsequent_mask;
trained on next-token prediction of a periodic sequence, then greedy generation continues it."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
vocab, block, d_model, n_head = 7, 16, 32, 4

# The square subsequent mask: 0 on and below the diagonal, -inf above.
m = nn.Transformer.generate_square_subsequent_mask(4)
assert m.shape == (4, 4)
assert torch.equal(m == 0, torch.tril(torch.ones(4, 4, dtype=torch.bool)))
assert bool(torch.isinf(m[0, 1])) and m[0, 1].item() < 0

# is_causal=True equals the explicit float mask and the attention written out by hand.
q, k, v = torch.randn(3, 2, 5, 8).unbind(0)
causal = F.scaled_dot_product_attention(q, k, v, is_causal=True)
masked = F.scaled_dot_product_attention(q, k, v, attn_mask=nn.Transformer.generate_square_subsequent_mask(5))
by_hand = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(8) + nn.Transformer.generate_square_subsequent_mask(5),
                        dim=-1) @ v
assert torch.allclose(causal, masked, atol=1e-5) and torch.allclose(causal, by_hand, atol=1e-5)
assert torch.allclose(causal[:, 0], v[:, 0], atol=1e-6)  # the first position sees only itself


class CausalSelfAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        q, k, v = (t.view(B, T, n_head, C // n_head).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.proj(y.transpose(1, 2).contiguous().view(B, T, C))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention()
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model))

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class TinyGPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok = nn.Embedding(vocab, d_model)
        self.pos = nn.Embedding(block, d_model)
        self.blocks = nn.Sequential(Block(), Block())
        self.ln = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab)

    def forward(self, idx):
        x = self.tok(idx) + self.pos(torch.arange(idx.shape[1]))
        return self.head(self.ln(self.blocks(x)))


pattern = torch.tensor([0, 1, 2, 3, 4, 5, 6, 5, 4, 3, 2, 1])  # period 12
stream = pattern.repeat(20)


def get_batch(n):
    starts = torch.randint(0, len(stream) - block - 1, (n,)).tolist()
    x = torch.stack([stream[s:s + block] for s in starts])
    y = torch.stack([stream[s + 1:s + block + 1] for s in starts])
    return x, y


model = TinyGPT()
# Causality: changing a later token leaves earlier outputs unchanged.
with torch.no_grad():
    x, _ = get_batch(2)
    x2 = x.clone()
    x2[:, 10] = (x2[:, 10] + 1) % vocab
    assert torch.allclose(model(x)[:, :10], model(x2)[:, :10], atol=1e-5)

optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
for step in range(150):
    x, y = get_batch(32)
    loss = F.cross_entropy(model(x).view(-1, vocab), y.view(-1))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
print("final loss", loss.item())
assert loss.item() < 0.3

model.eval()
idx = pattern[:6].unsqueeze(0)
with torch.no_grad():
    for _ in range(10):
        nxt = model(idx[:, -block:])[:, -1].argmax(-1, keepdim=True)
        idx = torch.cat([idx, nxt], dim=1)
print("generated", idx[0].tolist())
assert idx[0].tolist() == stream[:16].tolist()
