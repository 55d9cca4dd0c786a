"""Rebalancing an imbalanced dataset with WeightedRandomSampler: each sample is weighted by the
inverse frequency of its class, so batches from the DataLoader come out roughly balanced."""
import torch
from torch.utils.data import DataLoader, TensorDataset, WeightedRandomSampler

torch.manual_seed(0)
counts = [900, 80, 20]  # a heavily imbalanced three-class set
labels = torch.cat([torch.full((n,), c, dtype=torch.long) for c, n in enumerate(counts)])
features = torch.randn(len(labels), 4) + labels[:, None].float()
dataset = TensorDataset(features, labels)

class_count = torch.bincount(labels)
assert class_count.tolist() == counts
sample_weights = 1.0 / class_count[labels].double()

sampler = WeightedRandomSampler(sample_weights, num_samples=len(labels), replacement=True)
assert len(sampler) == len(labels)
loader = DataLoader(dataset, batch_size=100, sampler=sampler)

seen = torch.zeros(3)
n_batches = 0
for x, y in loader:
    assert x.shape[1] == 4 and x.shape[0] == y.shape[0]
    seen += torch.bincount(y, minlength=3).float()
    n_batches += 1
assert n_batches == 10
assert seen.sum().item() == len(labels)
share = seen / seen.sum()
print("class share after resampling", share.tolist())
# Each class expects a third; 1000 draws keep every share within 0.25..0.42 with overwhelming odds.
assert bool((share > 0.25).all() and (share < 0.42).all()), share

# Plain shuffling keeps the imbalance.
plain = DataLoader(dataset, batch_size=100, shuffle=True)
plain_seen = sum(torch.bincount(y, minlength=3) for _, y in plain)
assert plain_seen.tolist() == counts

# Without replacement, each index is drawn at most once.
drawn = list(WeightedRandomSampler(sample_weights, num_samples=50, replacement=False))
assert len(drawn) == 50 and len(set(drawn)) == 50
assert all(0 <= i < len(labels) for i in drawn)
