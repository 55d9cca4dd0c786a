"""A k-nearest-neighbour classifier with no training: torch.cdist for all pairwise distances, topk
for the k closest, and a majority vote over their labels; three Gaussian blobs in 2-D."""
import torch

torch.manual_seed(0)
centers = torch.tensor([[0.0, 0.0], [4.0, 0.0], [2.0, 3.5]])


def make_blobs(n_per_class):
    xs, ys = [], []
    for label, center in enumerate(centers):
        xs.append(center + 0.8 * torch.randn(n_per_class, 2))
        ys.append(torch.full((n_per_class,), label, dtype=torch.long))
    return torch.cat(xs), torch.cat(ys)


def knn_predict(train_x, train_y, query, k):
    dists = torch.cdist(query, train_x)  # (queries, train)
    knn_dists, knn_idx = dists.topk(k, dim=1, largest=False)
    assert knn_dists.shape == (len(query), k)
    assert bool((knn_dists[:, 1:] >= knn_dists[:, :-1]).all()), "topk returns sorted distances"
    votes = torch.zeros(len(query), len(centers))
    votes.scatter_add_(1, train_y[knn_idx], torch.ones(len(query), k))
    return votes.argmax(dim=1)


train_x, train_y = make_blobs(60)
test_x, test_y = make_blobs(40)

# cdist agrees with the distance written out by hand.
d = torch.cdist(test_x[:5], train_x[:7])
manual = ((test_x[:5, None, :] - train_x[None, :7, :]) ** 2).sum(-1).sqrt()
assert torch.allclose(d, manual, atol=1e-5)

# With k=1 each training point is its own nearest neighbour.
assert torch.equal(knn_predict(train_x, train_y, train_x, 1), train_y)

values, indices = torch.topk(torch.tensor([3.0, 1.0, 4.0, 1.5, 9.0]), 2)
assert values.tolist() == [9.0, 4.0] and indices.tolist() == [4, 2]

for k in (1, 5, 9):
    pred = knn_predict(train_x, train_y, test_x, k)
    acc = (pred == test_y).float().mean().item()
    print("k =", k, "accuracy", acc)
    assert acc > 0.9, (k, acc)
