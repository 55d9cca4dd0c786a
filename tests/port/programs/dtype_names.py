"""dtype names and conversions as PyTorch code spells them: torch.float, torch.long, .long(), .float(),
.double(), .to(torch.float64), .type(...), and the dtypes losses and indexing expect."""
import numpy as np
import torch
import torch.nn.functional as F

torch.manual_seed(0)

assert torch.float is torch.float32
assert torch.double is torch.float64
assert torch.half is torch.float16
assert torch.long is torch.int64
assert torch.int is torch.int32
assert torch.short is torch.int16
print(torch.float32, torch.int64, torch.bool)
assert torch.get_default_dtype() == torch.float32

# Factories infer dtypes the way PyTorch does.
assert torch.tensor([1, 2, 3]).dtype == torch.long
assert torch.tensor([1.0, 2.0]).dtype == torch.float
assert torch.tensor([True, False]).dtype == torch.bool
assert torch.zeros(2, dtype=torch.float64).dtype == torch.double
assert torch.arange(5).dtype == torch.int64
assert torch.arange(5.0).dtype == torch.float32
assert torch.from_numpy(np.zeros(3, dtype=np.int32)).dtype == torch.int32
assert torch.tensor(np.float64(1.5)).dtype == torch.float64

# Conversions.
x = torch.tensor([1.7, -2.2, 3.5])
assert x.long().tolist() == [1, -2, 3]
assert x.int().dtype == torch.int32
assert x.double().dtype == torch.float64
assert x.half().dtype == torch.float16
assert x.to(torch.float64).dtype == torch.float64
assert x.to(dtype=torch.long).dtype == torch.long
assert x.type(torch.int64).dtype == torch.int64
assert x.bool().tolist() == [True, True, True]
assert torch.tensor([0, 1]).bool().tolist() == [False, True]
assert x.long().float().tolist() == [1.0, -2.0, 3.0]
assert x.is_floating_point() and not x.long().is_floating_point()
assert (x > 0).dtype == torch.bool
assert (x > 0).float().sum().item() == 2.0
assert (x > 0).sum().item() == 2
assert torch.tensor([1, 2]).float().mean().item() == 1.5
assert x.to(torch.float64).type_as(x).dtype == torch.float32

# Type promotion in arithmetic.
assert (torch.tensor([1, 2]) * 1.5).dtype == torch.float32
assert (torch.tensor([1, 2]) + torch.tensor([1.0, 2.0], dtype=torch.float64)).dtype == torch.float64
assert (torch.tensor([1, 2]) / 2).dtype == torch.float32

# Losses want float inputs and long class targets.
logits = torch.randn(6, 4, requires_grad=True)
targets = torch.tensor([0, 3, 1, 1, 2, 0])
assert targets.dtype == torch.long
F.cross_entropy(logits, targets).backward()
assert logits.grad.dtype == torch.float32

labels = (torch.rand(6) > 0.5).float()
probs = torch.sigmoid(torch.randn(6))
loss = F.binary_cross_entropy(probs, labels)
assert loss.dtype == torch.float

# A model in double precision.
model = torch.nn.Linear(3, 2).double()
assert model.weight.dtype == torch.float64
out = model(torch.randn(4, 3, dtype=torch.double))
assert out.dtype == torch.float64
model = model.to(torch.float32)
assert model(torch.randn(4, 3)).dtype == torch.float32

# Integer tensors index; bool tensors mask.
values = torch.arange(10.0)
assert values[torch.tensor([1, 3])].tolist() == [1.0, 3.0]
assert values[values > 6].tolist() == [7.0, 8.0, 9.0]
print("dtypes: ok")
