"""A conv block as in image-to-image nets: F.pad in reflect mode (and nn.ReflectionPad2d) before
an unpadded convolution, then nn.GroupNorm and ReLU; trained to denoise small images."""
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)

# Reflect padding mirrors without repeating the edge.
row = torch.tensor([[[1.0, 2.0, 3.0, 4.0]]])
assert F.pad(row, (2, 1), mode="reflect").tolist() == [[[3.0, 2.0, 1.0, 2.0, 3.0, 4.0, 3.0]]]
img = torch.arange(9.0).reshape(1, 1, 3, 3)
padded = F.pad(img, (1, 1, 1, 1), mode="reflect")
assert padded.shape == (1, 1, 5, 5)
assert padded[0, 0, 0].tolist() == [4.0, 3.0, 4.0, 5.0, 4.0]
assert torch.equal(nn.ReflectionPad2d(1)(img), padded)
assert F.pad(img, (1, 1, 1, 1), mode="replicate")[0, 0, 0].tolist() == [0.0, 0.0, 1.0, 2.0, 2.0]

# GroupNorm normalises each group of channels per sample.
gn = nn.GroupNorm(num_groups=2, num_channels=4)
h = 3 + 2 * torch.randn(5, 4, 6, 6)
out = gn(h)
grouped = out.reshape(5, 2, -1)
assert torch.allclose(grouped.mean(-1), torch.zeros(5, 2), atol=1e-5)
assert torch.allclose(grouped.var(-1, unbiased=False), torch.ones(5, 2), atol=1e-3)
assert gn.weight.shape == (4,) and gn.bias.shape == (4,)
assert torch.allclose(F.group_norm(h, 2, gn.weight, gn.bias), out)


class Block(nn.Module):
    def __init__(self, c_in, c_out, groups):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 3, padding=0)
        self.norm = nn.GroupNorm(groups, c_out)

    def forward(self, x):
        return F.relu(self.norm(self.conv(F.pad(x, (1, 1, 1, 1), mode="reflect"))))


class Denoiser(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(Block(1, 8, 2), Block(8, 8, 4))
        self.out = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(8, 1, 3))

    def forward(self, x):
        return x + self.out(self.body(x))


def make_clean(n):
    """Smooth images: a horizontal and a vertical ramp with random slopes."""
    ramp = torch.linspace(-1, 1, 12)
    a, b = torch.randn(n, 1, 1, 1), torch.randn(n, 1, 1, 1)
    return a * ramp.reshape(1, 1, 1, 12) + b * ramp.reshape(1, 1, 12, 1)


model = Denoiser()
opt = torch.optim.Adam(model.parameters(), lr=5e-3)
clean = make_clean(32)
noisy = clean + 0.3 * torch.randn_like(clean)
noisy_mse = F.mse_loss(noisy, clean).item()
for step in range(60):
    loss = F.mse_loss(model(noisy), clean)
    opt.zero_grad()
    loss.backward()
    opt.step()
print("noisy mse", noisy_mse, "denoised mse", loss.item())
assert model(noisy).shape == clean.shape
assert loss.item() < 0.6 * noisy_mse
