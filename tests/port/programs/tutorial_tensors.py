"""Tensors: the "Learn the Basics" tutorial's first page, checked as it goes."""
import numpy as np
import torch

torch.manual_seed(0)

# Initializing a tensor: from data, from NumPy, from another tensor, with shapes.
data = [[1, 2], [3, 4]]
x_data = torch.tensor(data)
assert x_data.shape == (2, 2)
assert x_data.dtype == torch.int64

np_array = np.array(data)
x_np = torch.from_numpy(np_array)
assert torch.equal(x_np, x_data)

x_ones = torch.ones_like(x_data)
assert x_ones.sum().item() == 4
x_rand = torch.rand_like(x_data, dtype=torch.float)
assert x_rand.dtype == torch.float32
assert ((x_rand >= 0) & (x_rand < 1)).all()

shape = (2, 3,)
rand_tensor = torch.rand(shape)
ones_tensor = torch.ones(shape)
zeros_tensor = torch.zeros(shape)
assert rand_tensor.shape == torch.Size([2, 3])
assert ones_tensor.sum() == 6 and zeros_tensor.abs().sum() == 0

# Attributes.
tensor = torch.rand(3, 4)
print(f"Shape of tensor: {tensor.shape}")
print(f"Datatype of tensor: {tensor.dtype}")
print(f"Device tensor is stored on: {tensor.device}")
assert tensor.shape == (3, 4)
assert tensor.dtype == torch.float32
assert str(tensor.device) == "cpu"

# Indexing and slicing.
tensor = torch.ones(4, 4)
tensor[:, 1] = 0
assert tensor[0].tolist() == [1.0, 0.0, 1.0, 1.0]
assert tensor[:, 0].sum() == 4
assert tensor[..., -1].sum() == 4
assert tensor[:, 1].sum() == 0

# Joining.
t1 = torch.cat([tensor, tensor, tensor], dim=1)
assert t1.shape == (4, 12)
t2 = torch.stack([tensor, tensor])
assert t2.shape == (2, 4, 4)

# Arithmetic: three ways to a matrix product and to an elementwise product.
y1 = tensor @ tensor.T
y2 = tensor.matmul(tensor.T)
y3 = torch.rand_like(y1)
torch.matmul(tensor, tensor.T, out=y3)
assert torch.allclose(y1, y2) and torch.allclose(y1, y3)
assert y1[0, 0].item() == 3.0

z1 = tensor * tensor
z2 = tensor.mul(tensor)
z3 = torch.rand_like(tensor)
torch.mul(tensor, tensor, out=z3)
assert torch.equal(z1, z2) and torch.equal(z1, z3)

# Single-element tensors.
agg = tensor.sum()
agg_item = agg.item()
assert isinstance(agg_item, float) and agg_item == 12.0

# In-place operations.
tensor.add_(5)
assert tensor[0, 0].item() == 6.0 and tensor[0, 1].item() == 5.0

# Bridge with NumPy: a tensor on the CPU and its NumPy array share memory.
t = torch.ones(5)
n = t.numpy()
t.add_(1)
assert n.tolist() == [2.0] * 5

n = np.ones(5)
t = torch.from_numpy(n)
np.add(n, 1, out=n)
assert t.tolist() == [2.0] * 5
assert t.dtype == torch.float64

# A few more everyday operations.
a = torch.arange(12).reshape(3, 4)
assert a.sum(dim=0).tolist() == [12, 15, 18, 21]
assert a.max().item() == 11
assert a.argmax(dim=1).tolist() == [3, 3, 3]
assert a.t().shape == (4, 3)
assert a.float().mean().item() == 5.5
assert a.unsqueeze(0).shape == (1, 3, 4)
assert a.view(-1).shape == (12,)
b = torch.linspace(0, 1, steps=5)
assert torch.allclose(b, torch.tensor([0.0, 0.25, 0.5, 0.75, 1.0]))
print("tensors: ok")
