"""Metric learning with nn.TripletMarginLoss: an embedding net pulls an anchor toward a positive of
its class and pushes it from a negative of another class; afterwards nearest-centroid classification
in the embedding space works."""
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
n_classes, dim_in = 5, 16
prototypes = 2.0 * torch.randn(n_classes, dim_in)


def make_data(n_per_class):
    xs = [prototypes[c] + 2.0 * torch.randn(n_per_class, dim_in) for c in range(n_classes)]
    ys = [torch.full((n_per_class,), c, dtype=torch.long) for c in range(n_classes)]
    return torch.cat(xs), torch.cat(ys)


def sample_triplets(x, y, n):
    anchor_idx = torch.randint(0, len(x), (n,))
    positives, negatives = [], []
    for i in anchor_idx.tolist():
        same = (y == y[i]).nonzero().flatten()
        other = (y != y[i]).nonzero().flatten()
        positives.append(same[torch.randint(0, len(same), (1,))])
        negatives.append(other[torch.randint(0, len(other), (1,))])
    return x[anchor_idx], x[torch.cat(positives)], x[torch.cat(negatives)]


embed = nn.Sequential(nn.Linear(dim_in, 32), nn.ReLU(), nn.Linear(32, 8))
criterion = nn.TripletMarginLoss(margin=1.0, p=2)

# The loss is max(d(a, p) - d(a, n) + margin, 0), averaged.
a, p_, n_ = torch.zeros(2, 3), torch.ones(2, 3), 2 * torch.ones(2, 3)
by_hand = F.relu(F.pairwise_distance(a, p_) - F.pairwise_distance(a, n_) + 1.0).mean()
assert torch.allclose(criterion(a, p_, n_), by_hand, atol=1e-4)
assert criterion(a, a, 10 * p_).item() == 0.0

train_x, train_y = make_data(40)
test_x, test_y = make_data(20)
opt = torch.optim.Adam(embed.parameters(), lr=5e-3)
losses = []
for step in range(150):
    anchor, positive, negative = sample_triplets(train_x, train_y, 64)
    loss = criterion(embed(anchor), embed(positive), embed(negative))
    opt.zero_grad()
    loss.backward()
    opt.step()
    losses.append(loss.item())
first, last = sum(losses[:10]) / 10, sum(losses[-10:]) / 10
print("triplet loss", first, "->", last)
assert last < 0.5 * first

with torch.no_grad():
    train_emb, test_emb = embed(train_x), embed(test_x)
    centroids = torch.stack([train_emb[train_y == c].mean(0) for c in range(n_classes)])
    pred = torch.cdist(test_emb, centroids).argmin(dim=1)
    acc = (pred == test_y).float().mean().item()
print("nearest-centroid accuracy", acc)
assert acc > 0.8  # chance is 0.2
