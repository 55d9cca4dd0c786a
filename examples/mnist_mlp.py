"""The seed recipe, written the way a PyTorch user would: 784 -> 1024 ReLU -> 10 sigmoid, BCE, SGD momentum.

    python examples/mnist_mlp.py --data /path/to/mnist [--epochs 10]    # without --data: the 8x8 digits set
"""
import argparse
import time

import matgrad as torch  # the only change from the PyTorch version
import matgrad.nn.functional as F
from matgrad import nn, optim
from matgrad.data import DataLoader, TensorDataset, load_dataset

ap = argparse.ArgumentParser()
ap.add_argument("--data", help="folder with the MNIST IDX files (default: use the built-in digits set)")
ap.add_argument("--epochs", type=int, default=10)
ap.add_argument("--lr", type=float, default=1.0)
args = ap.parse_args()

name = "mnist" if args.data else "digits"
X, y, info = load_dataset(name, args.data, train=True)
X_test, y_test, _ = load_dataset(name, args.data, train=False)
torch.manual_seed(0)
loader = DataLoader(TensorDataset(X, y), batch_size=256, shuffle=True)

model = nn.Sequential(nn.Linear(info.num_features, 1024), nn.ReLU(), nn.Linear(1024, 10), nn.Sigmoid())
for m in model.modules():
    if isinstance(m, nn.Linear):
        nn.init.xavier_uniform_(m.weight)
        nn.init.zeros_(m.bias)
loss_fn = nn.BCELoss()
optimizer = optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)

for epoch in range(1, args.epochs + 1):
    start, total = time.perf_counter(), 0.0
    model.train()
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(xb), F.one_hot(yb, 10).float())
        loss.backward()
        optimizer.step()
        total += loss.item() * len(yb)
    model.eval()
    with torch.no_grad():
        accuracy = (model(X_test).argmax(dim=1) == y_test).float().mean().item()
    print(f"epoch {epoch}  {name}  train loss {total / len(y):.4f}  test accuracy {accuracy:.2%}  "
          f"{time.perf_counter() - start:.1f} s")
