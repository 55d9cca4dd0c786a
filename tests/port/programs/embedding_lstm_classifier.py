"""Sequence classification as in the NLP tutorials: nn.Embedding with a bag-of-words mean, then an
nn.LSTM(batch_first=True) whose last hidden state feeds a Linear; synthetic token sequences."""
import torch
import torch.nn as nn

torch.manual_seed(0)
vocab, seq_len = 6, 12


def make_data(n):
    tokens = torch.randint(0, vocab, (n, seq_len))
    # Positive when token 1 appears more often than token 2.
    labels = ((tokens == 1).sum(dim=1) > (tokens == 2).sum(dim=1)).long()
    return tokens, labels


class BagOfWords(nn.Module):
    def __init__(self, vocab_size, embed_dim, num_class):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.fc = nn.Linear(embed_dim, num_class)

    def forward(self, text):
        return self.fc(self.embedding(text).mean(dim=1))


class LSTMClassifier(nn.Module):
    def __init__(self, vocab_size, embed_dim, hidden_dim, num_class):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.lstm = nn.LSTM(embed_dim, hidden_dim, batch_first=True)
        self.fc = nn.Linear(hidden_dim, num_class)

    def forward(self, text):
        embedded = self.embedding(text)
        output, (h_n, c_n) = self.lstm(embedded)
        assert output.shape == (text.shape[0], text.shape[1], h_n.shape[-1])
        return self.fc(h_n[-1])


def train(model, steps, lr):
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    criterion = nn.CrossEntropyLoss()
    for step in range(steps):
        tokens, labels = make_data(64)
        optimizer.zero_grad()
        loss = criterion(model(tokens), labels)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
    model.eval()
    tokens, labels = make_data(500)
    with torch.no_grad():
        return (model(tokens).argmax(1) == labels).float().mean().item()


emb = nn.Embedding(vocab, 4)
assert emb(torch.tensor([[0, 5], [1, 1]])).shape == (2, 2, 4)
assert torch.equal(emb(torch.tensor([3]))[0], emb.weight[3])

bow_acc = train(BagOfWords(vocab, 8, 2), 300, 1e-2)
print("bag of words accuracy", bow_acc)
assert bow_acc > 0.85

lstm_acc = train(LSTMClassifier(vocab, 8, 24, 2), 300, 1e-2)
print("LSTM accuracy", lstm_acc)
assert lstm_acc > 0.85
