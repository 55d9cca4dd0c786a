"""A character-level language model in the style of the char-RNN tutorials: nn.Embedding, a
one-layer nn.GRU and nn.LSTM (batch_first), and a Linear head predict the next character of a short
repeated text; the loss falls and greedy sampling from a seed reproduces the text."""
import torch
import torch.nn as nn

torch.manual_seed(0)
text = "the quick brown fox jumps over a lazy dog. " * 6
chars = sorted(set(text))
stoi = {ch: i for i, ch in enumerate(chars)}
itos = {i: ch for ch, i in stoi.items()}
data = torch.tensor([stoi[ch] for ch in text], dtype=torch.long)
seq_len = 24


def batches(n):
    starts = torch.randint(0, len(data) - seq_len - 1, (n,))
    x = torch.stack([data[s:s + seq_len] for s in starts.tolist()])
    y = torch.stack([data[s + 1:s + seq_len + 1] for s in starts.tolist()])
    return x, y


class CharModel(nn.Module):
    def __init__(self, vocab, embed, hidden, cell):
        super().__init__()
        self.embed = nn.Embedding(vocab, embed)
        self.rnn = cell(embed, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, x, state=None):
        out, state = self.rnn(self.embed(x), state)
        return self.head(out), state


def generate(model, prompt, n):
    model.eval()
    out = prompt
    with torch.no_grad():
        logits, state = model(torch.tensor([[stoi[c] for c in prompt]]))
        for _ in range(n):
            nxt = logits[0, -1].argmax().item()
            out += itos[nxt]
            logits, state = model(torch.tensor([[nxt]]), state)
    return out


for cell in (nn.GRU, nn.LSTM):
    model = CharModel(len(chars), 16, 48, cell)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    criterion = nn.CrossEntropyLoss()
    losses = []
    for step in range(120):
        x, y = batches(16)
        logits, _ = model(x)
        assert logits.shape == (16, seq_len, len(chars))
        loss = criterion(logits.reshape(-1, len(chars)), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(loss.item())
    first, last = sum(losses[:5]) / 5, sum(losses[-5:]) / 5
    sample = generate(model, "the q", 37)
    print(cell.__name__, "loss", round(first, 3), "->", round(last, 3), repr(sample))
    assert last < 0.3 * first, (first, last)
    assert sample == "the quick brown fox jumps over a lazy dog.", sample
